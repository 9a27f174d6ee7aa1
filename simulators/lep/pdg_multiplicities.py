"""PDG_HADRON_MULTIPLICITIES: mean hadron multiplicities per hadronic event at the Z (PDG 2008,
table 40.1; Phys. Lett. B667 (2008) 1), as a compiled kernel.

The reference file ``PDG_HADRON_MULTIPLICITIES.yoda`` holds single-bin objects at
sqrt(s) ~ 10, 29-35, 91 and 130-200 GeV, the bin's x being sqrt(s). This analysis fills the
**91 GeV points only** (:data:`PATHS`: the 51 objects whose bin, [90.5, 91.5), contains
91.2 GeV; the test re-derives that list from the file). Each is a mean multiplicity per
accepted event, kind "mean", filled where the generated sqrt(s) lies in the booked bin (so a
run at another energy fills nothing).

Which particles count (:mod:`simulators.lep.species`): every hadron of the species
*produced* in the event, including those that later decayed and decay products (feed-down:
Lambdas from Sigma0 / Xi decays, pi+- from K0S decays), particle and antiparticle summed, as
the PDG rates are. So "pi+" (17.02) is pi+ plus pi-, "K+" is K+ plus K-, "p" is p plus pbar,
"K0" is K0S plus K0L (Pythia's K0 / K0bar lines, which turn into them, are not counted), and
"Sigma-" is Sigma- plus anti-Sigma-. For species Pythia keeps stable (pi+-, K+-, p) this is
the final-state count. Events with fewer than two charged final-state particles are not
accepted (Rivet's leptonic-event veto; none at the Z in practice).

Species notes (titles from the ``.plot`` file; the PDG ids follow the PDG numbering scheme):

* d10 "B+, B0_d" is B+ plus B0 (0.33: both together); d11 B+ alone; d24 "B*" is B*+, B*0,
  B*s; d35 "B**" every orbitally excited B (L = 1: B0*, B1, B1', B2* of u, d, s flavours);
  Pythia's Monash tune makes no L = 1 mesons (0 against 0.118).
* d30 "chi_c1(3510)" is PDG id 20443 (Rivet's analysis fills 445, the chi_c2).
* d36 "D_s1+" is 10433 and 20433; d13 f0(980) 9010221, d14 a0(980)+ 9000211 (both charges).
"""

from __future__ import annotations

import numpy as np

try:
    from numba import njit
except ImportError as err:  # pragma: no cover - depends on the environment
    raise ImportError("simulators.lep.pdg_multiplicities needs numba: pip install 'advopt[pythia]'") from err

from simulators.lep.common import BookedAnalysis
from simulators.lep.species import count_charged, count_produced, species_map
from simulators.pdg import CHARGED_BIT, property_table

NAME = "PDG_HADRON_MULTIPLICITIES"

_B_L1 = (10511, 10521, 10531, 10513, 10523, 10533, 20513, 20523, 20533, 515, 525, 535)

#: (path, title, |PDG ids|) of every 91 GeV point of the reference file.
SPECIES: tuple[tuple[str, str, tuple[int, ...]], ...] = (
    ("d01-x01-y03", "pi+-", (211,)),
    ("d02-x01-y03", "pi0", (111,)),
    ("d03-x01-y03", "K+-", (321,)),
    ("d04-x01-y03", "K0 (K0S + K0L)", (130, 310)),
    ("d05-x01-y03", "eta", (221,)),
    ("d06-x01-y03", "eta'(958)", (331,)),
    ("d07-x01-y03", "D+", (411,)),
    ("d08-x01-y03", "D0", (421,)),
    ("d09-x01-y03", "D_s+", (431,)),
    ("d10-x01-y01", "B+ + B0_d", (511, 521)),
    ("d11-x01-y01", "B+_u", (521,)),
    ("d12-x01-y01", "B0_s", (531,)),
    ("d13-x01-y03", "f0(980)", (9010221,)),
    ("d14-x01-y01", "a0(980)+", (9000211,)),
    ("d15-x01-y03", "rho0(770)", (113,)),
    ("d16-x01-y01", "rho+(770)", (213,)),
    ("d17-x01-y02", "omega(782)", (223,)),
    ("d18-x01-y03", "K*+(892)", (323,)),
    ("d19-x01-y03", "K*0(892)", (313,)),
    ("d20-x01-y03", "phi(1020)", (333,)),
    ("d21-x01-y03", "D*+(2010)", (413,)),
    ("d23-x01-y02", "D_s*+(2112)", (433,)),
    ("d24-x01-y01", "B*", (513, 523, 533)),
    ("d25-x01-y02", "J/psi(1S)", (443,)),
    ("d26-x01-y01", "psi(2S)", (100443,)),
    ("d27-x01-y01", "Upsilon(1S)", (553,)),
    ("d28-x01-y01", "f1(1285)", (20223,)),
    ("d29-x01-y01", "f1(1420)", (20333,)),
    ("d30-x01-y01", "chi_c1(3510)", (20443,)),
    ("d31-x01-y03", "f2(1270)", (225,)),
    ("d32-x01-y01", "f2'(1525)", (335,)),
    ("d34-x01-y02", "K2*0(1430)", (315,)),
    ("d35-x01-y01", "B**", _B_L1),
    ("d36-x01-y01", "D_s1+", (10433, 20433)),
    ("d37-x01-y01", "D_s2+", (435,)),
    ("d38-x01-y03", "p", (2212,)),
    ("d39-x01-y03", "Lambda", (3122,)),
    ("d40-x01-y02", "Sigma0", (3212,)),
    ("d41-x01-y01", "Sigma-", (3112,)),
    ("d42-x01-y01", "Sigma+", (3222,)),
    ("d43-x01-y01", "Sigma+-", (3112, 3222)),
    ("d44-x01-y03", "Xi-", (3312,)),
    ("d45-x01-y02", "Delta++(1232)", (2224,)),
    ("d46-x01-y03", "Sigma-(1385)", (3114,)),
    ("d47-x01-y03", "Sigma+(1385)", (3224,)),
    ("d48-x01-y03", "Sigma+-(1385)", (3114, 3224)),
    ("d49-x01-y02", "Xi0(1530)", (3324,)),
    ("d50-x01-y03", "Omega-", (3334,)),
    ("d51-x01-y03", "Lambda_c+", (4122,)),
    ("d52-x01-y01", "Lambda_b0", (5122,)),
    ("d54-x01-y02", "Lambda(1520)", (3124,)),
)

PATHS: tuple[str, ...] = tuple(f"/{NAME}/{p}" for p, _, _ in SPECIES)
_KEYS, _FIRST, _TARGETS = species_map([ids for _, _, ids in SPECIES])


@njit(cache=True)
def _fill_chunk(offsets, pid, status, mother1, sqrt_s, table, charged_bit, keys, kfirst, targets,
                slots, first, lows, highs, sums, squares):
    """Add one chunk; returns the number of accepted events."""
    n_groups = slots.shape[0]
    counts = np.zeros(n_groups)
    # the bin of each group that contains sqrt(s), or -1
    bins = np.full(n_groups, -1, np.int64)
    for g in range(n_groups):
        k = slots[g]
        if k >= 0:
            for b in range(first[k], first[k + 1]):
                if lows[b] <= sqrt_s < highs[b]:
                    bins[g] = b
                    break
    accepted = 0
    for ev in range(offsets.shape[0] - 1):
        o = offsets[ev]
        rows = offsets[ev + 1] - o
        if count_charged(o, rows, pid, status, table, charged_bit) < 2:
            continue
        accepted += 1
        counts[:] = 0.0
        count_produced(o, rows, pid, status, mother1, keys, kfirst, targets, counts)
        for g in range(n_groups):
            b = bins[g]
            if b >= 0:
                c = counts[g]
                sums[b] += c
                squares[b] += c * c
    return accepted


class PdgMultiplicities(BookedAnalysis):
    """PDG_HADRON_MULTIPLICITIES at 91.2 GeV (see the module docstring)."""

    name = NAME
    paths = PATHS
    histograms: dict[str, str] = {path: "mean" for path in PATHS}

    def fill(self, events, booking, fills) -> None:
        """Add the chunk ``events`` into ``fills`` (in place): sums, squares, n_events."""
        slots, first, lows, highs = self.prepared(booking)
        if events.n_events == 0:
            return
        fills.n_events += int(_fill_chunk(
            events.offsets, events.pid, events.status, events.mother1, float(events.sqrt_s),
            property_table(), CHARGED_BIT, _KEYS, _FIRST, _TARGETS, slots, first, lows, highs,
            fills.sums, fills.squares))
