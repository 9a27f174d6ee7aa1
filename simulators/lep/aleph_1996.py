"""ALEPH_1996_S3486095: ALEPH's LEP1 QCD summary (Phys. Rept. 294 (1998) 1), as compiled kernels.

The analysis fills the histograms of the reference file
``ALEPH_1996_S3486095.yoda`` (paths without ``/REF``) from Pythia event records
(:class:`advopt.histograms.analysis.EventRecord`), following the publication and Rivet's
analysis of the same name (learnt from, not copied). One compiled pass per event: the
record's rows once (charged final state, identified hadrons), then the charged-particle
event shapes, the Durham clustering and the per-particle spectra.

Which particles count
---------------------
* **Charged particles**: final state (``status > 0``) with non-zero electric charge, after
  the generator's decays (K0S and Lambda decay; their products count). Events with fewer
  than two are not used (not counted in ``Fills.n_events``, nothing filled).
* **Identified hadrons**: every hadron of the species *produced* in the event, including
  those that decayed (a record line with ``|status| >= 81`` whose first mother is not the
  same species), antiparticles included; photons: every final-state photon. x_p = |p| /
  E_beam, x_E = E / E_beam, E_beam = sqrt(s) / 2.

Histograms (one line each)
--------------------------
* d01 sphericity S = 3/2 (l2 + l3), d02 aplanarity A = 3/2 l3, eigenvalues of the quadratic
  momentum tensor sum p_a p_b / sum |p|^2 of charged particles.
* d03 1 - T (exact thrust), d04 thrust minor m, d08 oblateness O = M - m (thrust major M
  maximises sum|p.n| / sum|p| perpendicular to the thrust axis, exactly; minor along
  n1 x n2): see :mod:`simulators.lep.common`.
* d05 -ln y3, y3 the Durham three-to-two-jet resolution (E-scheme, Q = E_vis of charged
  particles; :mod:`simulators.lep.durham`); filled where y3 > 0.
* d06 heavy hemisphere mass M_h^2 / E_vis^2: hemispheres split by the plane perpendicular
  to the thrust axis, masses from the summed four-momenta, E_vis the charged energy (as
  Rivet's ``Hemispheres::scaledM2high``, not M^2 / s).
* d07 C parameter = 3 (l1 l2 + l2 l3 + l3 l1) of the linearised tensor
  sum p_a p_b / |p| / sum |p|.
* d09 x_p, d17 ln(1/x_p), d10 |y_T| = |1/2 ln((E + p.n1) / (E - p.n1))| (rapidity w.r.t. the
  thrust axis), d11 p_T^in = |p.e2| and d12 p_T^out = |p.e3| (e2, e3: eigenvectors of the
  second and third sphericity eigenvalues, in and out of the event plane): charged particles,
  per event.
* d13-d16 Durham jet rates R_2, R_3, R_4, R_5 (fraction of events with exactly n jets at
  y_cut, charged particles, E-scheme): points at y_cut = 10^(k/10), k = -30..-10; each
  reference "bin" brackets one such point, which is the y_cut used (kind "mean": a fraction,
  not a density).
* d18 charged multiplicity distribution P(N_ch): bins of width 2 around even N_ch.
* d19-y01, d24-y01, d44-y01 mean charged multiplicity (20.91); d20-d23 y01 mean charged
  multiplicity with |y_T| <= 0.5, 1.0, 1.5, 2.0.
* d25 pi+-, d26 K+-, d27 p (x_p), d28 photons (ln 1/x_p), d29 pi0 (x_p), d30 eta and d31
  eta' (x_E, only x_p >= 0.1), d32 K0S + K0L (x_p), d33 Lambda (x_p), d34 Xi- (x_E), d35
  Sigma(1385)+- (x_E), d36 Xi(1530)0 (x_E), d37 rho0, d38 omega, d39 K*0, d40 phi (x_p),
  d43 K*+- (x_E): spectra per event.
* d44 y02-y16 mean multiplicities per event: pi0, eta (x_p >= 0.1), eta' (x_p >= 0.1),
  K0S + K0L, rho0, omega, phi, K*+-, K*0, Lambda, Sigma0, Xi-, Sigma(1385)+-, Xi(1530)0,
  Omega- (all with antiparticles).

Normalisation (all as the kinds of :mod:`advopt.histograms.analysis`)
---------------------------------------------------------------------
* Event shapes (d01-d08): each accepted event fills its value once with weight 1, kind
  "density": count / (N width), Rivet's ``normalize()`` to unit area (Rivet also counts the
  overflow in that area, as here; d05 differs only by the few events with y3 = 0, which
  Rivet leaves out of its area and which here count in N).
* Charged spectra (d09-d12, d17): every charged particle fills with weight 1, kind
  "density": they integrate to the mean charged multiplicity (Rivet normalises them to it).
* d18: each event fills N_ch with weight 2, kind "density": Rivet scales the histogram by
  2 / sum(w) (the bin width, 2), so the published value is P(N_ch) = count / N, which is
  (2 count / N) / width.
* Identified spectra (d25-d43): weight 1 per hadron, "density" (Rivet scales by 1 / N).
* Mean multiplicities (d19-d24 y01, d44): kind "mean", the event's count.
* Jet rates (d13-d16): kind "mean", 1 where the event has exactly n jets at the bin's y_cut.

Not filled (:attr:`Aleph1996.unsupported`): the dispersion-type entries (d19 y02-y04:
D = sqrt(<n^2> - <n>^2) = 6.425, <n>/D = 3.255, <n(n-1)>/<n>^2 = 1.0466; d20-d23 y02 and
d24 y02: D in the rapidity windows and in all) are functions of two means over events, not a
mean of one per-event fill; d41 and d42 (spectra in a momentum-like variable in GeV, 0-10,
whose species/variable could not be identified from the reference file).
"""

from __future__ import annotations

import math

import numpy as np

from simulators.lep.aleph_1996_catalogue import (INTERNAL, MEAN_HIST, SPEC_CUT, SPEC_HIST, SPEC_VAR,
                                                 SPECIES_TABLE, H_R2, NAME, PATHS, UNSUPPORTED)
from simulators.lep.aleph_1996_kernels import SHAPE_COLUMNS, count_accepted, fill_aleph_chunk, event_shapes
from simulators.lep.common import BookedAnalysis, booked_bins
from simulators.pdg import property_table

__all__ = ["Aleph1996", "event_shapes", "SHAPE_COLUMNS", "PATHS", "NAME"]


def _jet_rate_ycuts(lows: np.ndarray, highs: np.ndarray) -> np.ndarray:
    """The y_cut of each jet-rate point: the 10^(k/10) grid value inside [low, high), else the
    geometric centre of the bin."""
    out = np.empty(len(lows))
    for b, (lo, hi) in enumerate(zip(lows, highs)):
        centre = math.sqrt(lo * hi) if lo > 0 and hi > 0 else 0.5 * (lo + hi)
        grid = 10.0 ** (round(10.0 * math.log10(centre)) / 10.0) if centre > 0 else centre
        out[b] = grid if lo <= grid < hi else centre
    return out


class Aleph1996(BookedAnalysis):
    """ALEPH_1996_S3486095 (see the module docstring for every definition)."""

    name = NAME
    paths = PATHS
    histograms: dict[str, str] = dict(INTERNAL)
    unsupported: dict[str, str] = dict(UNSUPPORTED)

    def _prepare(self, booking):
        hs, first, lows, highs = booked_bins(booking, PATHS)
        ycut = np.full(len(lows), np.nan)
        for h, k in enumerate(hs):
            if k >= 0 and H_R2 <= h < H_R2 + 4:
                lo, hi = int(first[k]), int(first[k + 1])
                ycut[lo:hi] = _jet_rate_ycuts(lows[lo:hi], highs[lo:hi])
        spec_slot = np.where(SPEC_HIST >= 0, hs[np.maximum(SPEC_HIST, 0)], -1).astype(np.int64)
        mean_slot = np.where(MEAN_HIST >= 0, hs[np.maximum(MEAN_HIST, 0)], -1).astype(np.int64)
        return hs, spec_slot, mean_slot, ycut, first, lows, highs

    def fill(self, events, booking, fills) -> None:
        """Add the chunk ``events`` into ``fills`` (in place): sums, squares, n_events."""
        hs, spec_slot, mean_slot, ycut, first, lows, highs = self.prepared(booking)
        if events.n_events == 0 or not np.any(hs >= 0):
            if events.n_events and not np.any(hs >= 0):
                fills.n_events += count_accepted(events.offsets, events.pid, events.status,
                                                  property_table())
            return
        fills.n_events += int(fill_aleph_chunk(
            events.offsets, events.pid, events.status, events.mother1,
            events.px, events.py, events.pz, events.e, float(events.sqrt_s), property_table(),
            SPECIES_TABLE, spec_slot, SPEC_VAR, SPEC_CUT, mean_slot, hs, ycut,
            first, lows, highs, fills.sums, fills.squares))
