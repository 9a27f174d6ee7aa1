"""PDG particle properties for the e+e- observables, as compiled (numba) functions of a PDG code.

Three times the electric charge (:func:`charge3`, from the quark content for hadrons), the
heaviest open flavour of a hadron (:func:`heavy_flavour`, 4 = c, 5 = b), whether a code is a
baryon (:func:`is_baryon`), and which production-level count column of
:data:`simulators.observables.FEATURE_NAMES` (offset from ``n_k0s``) a species feeds
(:func:`_species_slot`). :func:`build_property_table` packs all four into one int16 per |PDG id|
below ``_TABLE_SIZE`` (bits 0-4 slot + 1, bits 5-7 heavy flavour, ``CHARGED_BIT``,
``BARYON_BIT``), and :func:`particle_props` reads it, falling back to the functions for larger
codes; the event kernel in :mod:`simulators.observables` uses only those two.
"""

from __future__ import annotations

import numpy as np

try:
    from numba import njit
except ImportError as err:  # pragma: no cover - depends on the environment
    raise ImportError("simulators.pdg needs numba: pip install 'advopt[pythia]'") from err


@njit(cache=True, inline="always")
def _quark_charge3(q):
    # 3 x electric charge of quark flavour q = 1..6 (d u s c b t)
    return 2 if (q % 2 == 0) else -1


@njit(cache=True)
def charge3(pid):
    """Three times the electric charge of a PDG particle code (0 for unknown/neutral)."""
    a = abs(pid)
    if a == 11 or a == 13 or a == 15:
        c = -3
    elif a == 24:
        c = 3
    elif a == 37:
        c = 3
    elif a < 100 or a >= 1000000000:
        if 1 <= a <= 6:
            c = _quark_charge3(a)
        else:
            c = 0
    else:
        code = a % 10000
        q1 = (code // 1000) % 10
        q2 = (code // 100) % 10
        q3 = (code // 10) % 10
        if q2 == 0 or q3 == 0 or q2 > 6 or q3 > 6 or q1 > 6:
            c = 0
        elif q1 == 0:  # meson, HepPID convention
            if q2 == 3 or q2 == 5:
                c = _quark_charge3(q3) - _quark_charge3(q2)
            else:
                c = _quark_charge3(q2) - _quark_charge3(q3)
        else:  # baryon
            c = _quark_charge3(q1) + _quark_charge3(q2) + _quark_charge3(q3)
    return -c if pid < 0 else c


@njit(cache=True)
def heavy_flavour(pid):
    """Heaviest quark (4 = c, 5 = b) of an open-flavour hadron; 0 otherwise (incl. onia)."""
    a = abs(pid)
    if a < 100 or a >= 1000000:
        return 0
    code = a % 10000
    q1 = (code // 1000) % 10
    q2 = (code // 100) % 10
    q3 = (code // 10) % 10
    if q3 == 0:
        return 0
    if q1 == 0:  # meson: q2 heavier; quarkonium (q2 == q3) has no open flavour
        return q2 if (q2 >= 4 and q2 != q3) else 0
    return q1 if q1 >= 4 else 0


@njit(cache=True)
def _species_slot(a):
    """Production-level count column offset (from n_k0s) for |pid| a; -1 if not counted."""
    if a == 310:
        return 0
    if a == 3122:
        return 1
    if a == 221:
        return 2
    if a == 331:
        return 3
    if a == 113 or a == 213:
        return 4
    if a == 223:
        return 5
    if a == 323:
        return 6
    if a == 313:
        return 7
    if a == 333:
        return 8
    if a == 3222 or a == 3112:
        return 9
    if a == 3312:
        return 10
    if a == 3334:
        return 11
    if a == 2224:
        return 12
    if a == 3114 or a == 3214 or a == 3224:
        return 13
    if a == 3314 or a == 3324:
        return 14
    if a == 411 or a == 421 or a == 431:
        return 15
    if a == 413 or a == 423 or a == 433:
        return 16
    if a == 511 or a == 521 or a == 531:
        return 17
    if a == 513 or a == 523 or a == 533:
        return 18
    return -1


_TABLE_SIZE = 1 << 17     # |PDG id| below this use the lookup table, others the functions
CHARGED_BIT = 1 << 8
BARYON_BIT = 1 << 9


@njit(cache=True)
def is_baryon(pid):
    """True for a baryon PDG code (including excited states); diquarks need |status| >= 81 cut."""
    a = abs(pid)
    return a < 1000000 and (a % 10000) >= 1000 and (a // 10) % 10 != 0


@njit(cache=True)
def build_property_table():
    """int16 per |PDG id|: bits 0-4 species slot + 1, bits 5-7 heavy flavour, bit 8 charged, bit 9 baryon."""
    table = np.zeros(_TABLE_SIZE, np.int16)
    for a in range(_TABLE_SIZE):
        v = _species_slot(a) + 1
        v |= heavy_flavour(a) << 5
        if charge3(a) != 0:
            v |= CHARGED_BIT
        if is_baryon(a):
            v |= BARYON_BIT
        table[a] = v
    return table


_TABLE_CACHE: list[np.ndarray] = []


def property_table() -> np.ndarray:
    """:func:`build_property_table`, built once per process (the analyses' kernels take it)."""
    if not _TABLE_CACHE:
        _TABLE_CACHE.append(build_property_table())
    return _TABLE_CACHE[0]


@njit(cache=True, inline="always")
def particle_props(table, pid):
    a = abs(pid)
    if a < _TABLE_SIZE:
        return table[a]
    v = _species_slot(a) + 1
    v |= heavy_flavour(a) << 5
    if charge3(a) != 0:
        v |= CHARGED_BIT
    if is_baryon(a):
        v |= BARYON_BIT
    return v
