"""DELPHI_1996_S3430090: DELPHI's event shapes, jet rates, inclusive charged spectra and
identified-hadron rates at the Z (Z. Phys. C73 (1996) 11), as compiled kernels.

Fills the histograms of ``DELPHI_1996_S3430090.yoda`` (paths without ``/REF``) from Pythia
event records (:class:`advopt.histograms.analysis.EventRecord`), following the publication
(its HEPData record) and Rivet's analysis of the same name (learnt from, not copied). The
compiled fill is :func:`simulators.lep.delphi_fill.fill_chunk`.

Which particles count
---------------------
* **Charged particles**: final state (``status > 0``) with non-zero charge, after the
  generator's decays (K0S and Lambda decay; their products count). Events with fewer than two
  are not accepted (not in ``Fills.n_events``, nothing filled), Rivet's leptonic-event veto.
* **y01 / y02**: the reference file has two versions of d01-d06 and d11-d32. HEPData: the
  first "from charged particles", the second "from charged plus neutral particles". y01 uses
  the charged particles; y02 every visible final-state particle (charged plus neutral, no
  neutrinos) for the event shapes, the jet rates and the axes, while the spectra d01-d06 y02
  stay charged-particle spectra (they integrate to 21.06, the charged multiplicity) measured
  against those charged-plus-neutral axes. Rivet's analysis fills y01 only.
* **Identified hadrons** (d36-d40): every hadron of the species *produced* in the event,
  including those that decayed, particle plus antiparticle (:mod:`simulators.lep.species`).

Histograms (one line per family; definitions in :mod:`simulators.lep.shapes`)
----------------------------------------------------------------------------
* d11 1-T, d12 thrust major M, d13 thrust minor m, d14 oblateness M - m (exact thrust axes).
* d15 S = 3/2 (l2 + l3), d16 A = 3/2 l3, d17 P = l2 - l3 (quadratic momentum tensor).
* d18 C, d19 D (linearised tensor). d20 / d21 / d22 heavy / light / difference hemisphere
  M^2 / E_vis^2 (thrust hemispheres, E_vis of the set); d23-d26 B_max, B_min, B_sum, B_diff.
  Event shapes: each accepted event fills its value once, kind "density" = count / (N width),
  Rivet's scale(1/N) of a histogram whose area is one (unit area).
* d27/d29/d31 Durham and d28/d30/d32 Jade D_2, D_3, D_4: the y at which the event goes from
  n + 1 to n jets (running maximum of the merge sequence, FastJet's exclusive_ymerge_max(n);
  E-scheme, Q = E_vis of the set), filled once per event that has >= n + 1 particles;
  "density" over all accepted events (Rivet divides by the events with >= n + 1 particles: the
  same up to the ~1e-5 of Z events with fewer than 5 charged particles).
* d01 / d02 |p_T^in| / |p_T^out| w.r.t. the thrust axes (|p.n_major|, |p.n_minor|); d03 / d04
  the same w.r.t. the sphericity axes (eigenvectors of l2, l3); d05 / d06 |rapidity| along the
  thrust / sphericity axis, 1/2 ln((E + p_L) / (E - p_L)); d07 x_p = |p| / E_beam; d08
  ln(1/x_p). Every charged particle fills once, kind "density": per-event spectra integrating
  to the mean charged multiplicity (Rivet normalises them to that).
* d33 EEC: every unordered charged pair fills cos(chi_ij) with weight E_i E_j / E_vis^2; d34
  AEEC on cos chi in [-1, 0): the pair adds +w at cos chi when cos chi < 0, -w at -cos chi
  otherwise (EEC(pi - chi) - EEC(chi)). "density": per event, per unit cos chi (Rivet's 1/N).
* d35 mean charged multiplicity; d36-d40 mean multiplicities of pi+-, pi0, K+-, K0 (K0S +
  K0L), eta, eta', D+, D0, B+ + B0 (d36 y01-y09), f0(980) (d37), rho0, K*+-, K*0, phi, D*+-
  (d38 y01-y05), f2(1270), K2*0(1430) (d39), p, Lambda, Xi-, Omega-, Delta++, Sigma(1385)+-,
  Xi(1530)0, Lambda_b (d40 y01-y08): kind "mean", the event's count, filled where the booked
  bin (its x is sqrt(s), [90.7, 91.7)) holds the generated sqrt(s).

Differences from Rivet's analysis: d36-y09 (title "B+/B-/B0") counts B+ and B0 (Rivet adds
B_s); d40-y06 (title "Sigma(1385)+/Sigma(1385)-") counts both charges (Rivet only Sigma*-).

Left out (:data:`UNSUPPORTED`): d09 / d10 (mean |p_T^out| and mean p_T against x_p) are
profiles, a ratio of two sums per x_p bin (sum of p_T over sum of particles), not a mean over
events of one per-event fill; d41-d56, identified-hadron spectra from other LEP papers that
the reference file carries without titles (not in Rivet's analysis; species and variables
not identifiable from the file).
"""

from __future__ import annotations

from simulators.lep import delphi_fill as df
from simulators.lep.common import BookedAnalysis
from simulators.lep.species import species_map
from simulators.pdg import CHARGED_BIT, property_table

NAME = "DELPHI_1996_S3430090"


def _p(d: int, y: int = 1) -> str:
    return f"/{NAME}/d{d:02d}-x01-y{y:02d}"


#: (d, y, title, |PDG ids|) of the identified-hadron mean multiplicities.
SPECIES: tuple[tuple[int, int, str, tuple[int, ...]], ...] = (
    (36, 1, "pi+-", (211,)), (36, 2, "pi0", (111,)), (36, 3, "K+-", (321,)),
    (36, 4, "K0 (K0S + K0L)", (130, 310)), (36, 5, "eta", (221,)), (36, 6, "eta'", (331,)),
    (36, 7, "D+", (411,)), (36, 8, "D0", (421,)), (36, 9, "B+ + B0", (511, 521)),
    (37, 1, "f0(980)", (9010221,)),
    (38, 1, "rho0", (113,)), (38, 2, "K*(892)+-", (323,)), (38, 3, "K*(892)0", (313,)),
    (38, 4, "phi", (333,)), (38, 5, "D*(2010)+-", (413,)),
    (39, 1, "f2(1270)", (225,)), (39, 2, "K2*(1430)0", (315,)),
    (40, 1, "p", (2212,)), (40, 2, "Lambda", (3122,)), (40, 3, "Xi-", (3312,)),
    (40, 4, "Omega-", (3334,)), (40, 5, "Delta++", (2224,)),
    (40, 6, "Sigma(1385)+-", (3114, 3224)), (40, 7, "Xi(1530)0", (3324,)),
    (40, 8, "Lambda_b0", (5122,)),
)


def _internal() -> list[tuple[str, str]]:
    """(path, kind) in the kernel's internal numbering (:mod:`simulators.lep.delphi_fill`)."""
    out: list[tuple[str, str]] = []
    for s in range(df.N_SETS):
        out += [(_p(11 + k, s + 1), "density") for k in range(df.N_SHAPES)]
        for n in range(3):  # D_2, D_3, D_4: Durham d27/d29/d31, Jade d28/d30/d32
            out += [(_p(27 + 2 * n, s + 1), "density"), (_p(28 + 2 * n, s + 1), "density")]
    for s in range(df.N_SETS):
        out += [(_p(1 + k, s + 1), "density") for k in range(6)]
    out += [(_p(7), "density"), (_p(8), "density"), (_p(33), "density"), (_p(34), "density"),
            (_p(35), "mean")]
    out += [(_p(d, y), "mean") for d, y, _, _ in SPECIES]
    return out


_INTERNAL = _internal()
PATHS: tuple[str, ...] = tuple(path for path, _ in _INTERNAL)
assert PATHS[df.H_SPEC] == _p(1) and PATHS[df.H_XP] == _p(7) and PATHS[df.H_NCH] == _p(35)
assert PATHS[df.PER_SET + df.H_RATES + 1] == _p(28, 2) and PATHS[df.H_SPECIES] == _p(36, 1)
_KEYS, _FIRST, _TARGETS = species_map([ids for _, _, _, ids in SPECIES])

#: Reference entries not filled, with the reason (see the module docstring).
UNSUPPORTED: dict[str, str] = {
    _p(9): "profile: mean |p_T^out| (thrust) per x_p bin, a ratio of sums over particles, not a per-event mean",
    _p(10): "profile: mean p_T per x_p bin, a ratio of sums over particles, not a per-event mean",
    **{_p(d): "identified-hadron spectrum from another LEP paper, untitled in the reference file: "
              "species and variable not identifiable" for d in range(41, 57)},
}


class Delphi1996(BookedAnalysis):
    """DELPHI_1996_S3430090 (see the module docstring for every definition)."""

    name = NAME
    paths = PATHS
    histograms: dict[str, str] = dict(_INTERNAL)
    unsupported: dict[str, str] = dict(UNSUPPORTED)

    def fill(self, events, booking, fills) -> None:
        """Add the chunk ``events`` into ``fills`` (in place): sums, squares, n_events."""
        hs, first, lows, highs = self.prepared(booking)
        if events.n_events == 0:
            return
        fills.n_events += int(df.fill_chunk(
            events.offsets, events.pid, events.status, events.mother1,
            events.px, events.py, events.pz, events.e, float(events.sqrt_s), property_table(), CHARGED_BIT,
            _KEYS, _FIRST, _TARGETS, hs, first, lows, highs, fills.sums, fills.squares))
