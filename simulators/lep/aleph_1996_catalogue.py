"""The catalogue of ALEPH_1996_S3486095 (simulators/lep/aleph_1996.py): its histograms in the
compiled kernel's numbering, the identified species and the entries not filled."""

from __future__ import annotations

import numpy as np

NAME = "ALEPH_1996_S3486095"


def _p(d: int, y: int = 1) -> str:
    return f"/{NAME}/d{d:02d}-x01-y{y:02d}"


# -- internal histogram indices (the kernel's numbering; booked slots are looked up) -------
H_S, H_A, H_1MT, H_TMIN, H_Y3, H_RHO, H_C, H_O = range(8)
H_XP, H_YT, H_PTIN, H_PTOUT = 8, 9, 10, 11
H_R2 = 12  # R2..R5 at 12..15
H_LNXP, H_NCH, H_MEAN_NCH = 16, 17, 18
H_WIN = 19  # |y_T| <= 0.5, 1.0, 1.5, 2.0 at 19..22
H_MEAN_NCH24, H_MEAN_NCH44 = 23, 24
H_SPEC0 = 25

INTERNAL: list[tuple[str, str]] = [
    (_p(1), "density"), (_p(2), "density"), (_p(3), "density"), (_p(4), "density"),
    (_p(5), "density"), (_p(6), "density"), (_p(7), "density"), (_p(8), "density"),
    (_p(9), "density"), (_p(10), "density"), (_p(11), "density"), (_p(12), "density"),
    (_p(13), "mean"), (_p(14), "mean"), (_p(15), "mean"), (_p(16), "mean"),
    (_p(17), "density"), (_p(18), "density"), (_p(19, 1), "mean"),
    (_p(20, 1), "mean"), (_p(21, 1), "mean"), (_p(22, 1), "mean"), (_p(23, 1), "mean"),
    (_p(24, 1), "mean"), (_p(44, 1), "mean"),
]

# Species: (name, |PDG ids|, spectrum table or None, variable, x_p cut, d44 y-index or None)
# variable: 0 = x_p, 1 = x_E, 2 = ln(1/x_p). Species 4 (photon) counts final-state photons.
_VAR_XP, _VAR_XE, _VAR_LNXP = 0, 1, 2
_SPECIES: list[tuple[str, tuple[int, ...], int | None, int, float, int | None]] = [
    ("pi+-", (211,), 25, _VAR_XP, 0.0, None),
    ("K+-", (321,), 26, _VAR_XP, 0.0, None),
    ("p", (2212,), 27, _VAR_XP, 0.0, None),
    ("gamma", (22,), 28, _VAR_LNXP, 0.0, None),
    ("pi0", (111,), 29, _VAR_XP, 0.0, 2),
    ("eta", (221,), 30, _VAR_XE, 0.1, 3),
    ("eta'", (331,), 31, _VAR_XE, 0.1, 4),
    ("K0S+K0L", (130, 310), 32, _VAR_XP, 0.0, 5),
    ("Lambda", (3122,), 33, _VAR_XP, 0.0, 11),
    ("Xi-", (3312,), 34, _VAR_XE, 0.0, 13),
    ("Sigma(1385)+-", (3114, 3224), 35, _VAR_XE, 0.0, 14),
    ("Xi(1530)0", (3324,), 36, _VAR_XE, 0.0, 15),
    ("rho0", (113,), 37, _VAR_XP, 0.0, 6),
    ("omega", (223,), 38, _VAR_XP, 0.0, 7),
    ("K*0", (313,), 39, _VAR_XP, 0.0, 10),
    ("phi", (333,), 40, _VAR_XP, 0.0, 8),
    ("K*+-", (323,), 43, _VAR_XE, 0.0, 9),
    ("Sigma0", (3212,), None, _VAR_XP, 0.0, 12),
    ("Omega-", (3334,), None, _VAR_XP, 0.0, 16),
]
GAMMA = 1 + [s[0] for s in _SPECIES].index("gamma")

for _name, _ids, _table, _var, _cut, _mean in _SPECIES:
    if _table is not None:
        INTERNAL.append((_p(_table), "density"))
for _name, _ids, _table, _var, _cut, _mean in _SPECIES:
    if _mean is not None:
        INTERNAL.append((_p(44, _mean), "mean"))

PATHS: tuple[str, ...] = tuple(path for path, _ in INTERNAL)
N_INTERNAL = len(PATHS)

#: Reference entries not filled, with the reason (see the module docstring).
UNSUPPORTED: dict[str, str] = {
    _p(19, 2): "dispersion D of N_ch (6.425): sqrt(<n^2> - <n>^2), not a mean of a per-event fill",
    _p(19, 3): "<N_ch>/D (3.255): a ratio of moments",
    _p(19, 4): "<n(n-1)>/<n>^2 of N_ch (1.0466): a ratio of moments",
    _p(20, 2): "dispersion of N_ch in |y_T| <= 0.5: not a mean of a per-event fill",
    _p(21, 2): "dispersion of N_ch in |y_T| <= 1.0: not a mean of a per-event fill",
    _p(22, 2): "dispersion of N_ch in |y_T| <= 1.5: not a mean of a per-event fill",
    _p(23, 2): "dispersion of N_ch in |y_T| <= 2.0: not a mean of a per-event fill",
    _p(24, 2): "dispersion of N_ch (6.425, second determination): not a mean of a per-event fill",
    _p(41): "spectrum in a GeV variable (0-10 GeV, integral 0.83 per event): species/variable not identified",
    _p(42): "spectrum in a GeV variable (1-10 GeV, integral 0.049 per event): species/variable not identified",
}

_SPECIES_TABLE_SIZE = 4000


def _species_arrays():
    table = np.zeros(_SPECIES_TABLE_SIZE, np.int8)
    spec_hist = np.full(len(_SPECIES) + 1, -1, np.int64)
    mean_hist = np.full(len(_SPECIES) + 1, -1, np.int64)
    var = np.zeros(len(_SPECIES) + 1, np.int64)
    cut = np.zeros(len(_SPECIES) + 1)
    for s, (_, ids, tab, v, c, mean) in enumerate(_SPECIES, start=1):
        for a in ids:
            table[a] = s
        if tab is not None:
            spec_hist[s] = PATHS.index(_p(tab))
        if mean is not None:
            mean_hist[s] = PATHS.index(_p(44, mean))
        var[s] = v
        cut[s] = c
    return table, spec_hist, mean_hist, var, cut


SPECIES_TABLE, SPEC_HIST, MEAN_HIST, SPEC_VAR, SPEC_CUT = _species_arrays()
