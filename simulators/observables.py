"""Per-event observables for e+e- -> hadrons, as compiled (numba) kernels over flat arrays.

Input is one chunk of events laid out flat, the way ``Pythia.nextBatch`` delivers them:
``offsets`` (n_events + 1) into per-row arrays ``pid, status, mother1, px, py, pz, e``
holding the *whole* Pythia event record (partons, hadrons that later decayed, final
state). ``mother1`` is Pythia's index inside the event (0 = the system line). Momenta in
GeV. :func:`event_features` fills one row of :data:`FEATURE_NAMES` per event, float64.

Which particles count
---------------------
* **Event shapes** (thrust, heavy jet mass, C, D, broadenings, sphericity, aplanarity)
  use every *visible final-state* particle: ``status > 0`` and not a neutrino
  (|id| 12, 14, 16). This is Pythia's ``Thrust``/``Sphericity`` ``select = 2`` choice,
  and the tests compare against those classes on the same events.
* **Charged** quantities use final-state particles with non-zero electric charge
  (computed from the PDG code).
* **Production-level hadron counts** (K0S, Lambda, eta, ..., D, B) count every hadron
  of that species *created* in the event, including those that later decayed:
  a record line counts when ``|status| >= 81`` (hadronisation 81-89 or decay
  products 91-99, i.e. never a parton or a diquark) and its first mother is not the same
  species (so a carbon copy or a B0 <-> B0bar oscillation is not counted twice). Antiparticles
  are included. Feed-down is included (a K*+ from a D decay counts), as in the LEP
  inclusive rates these mimic.
* **Final-state identified counts** (pi+-, K+-, p/pbar) count ``status > 0`` particles,
  including decay products of K0S, Lambda, ... (Pythia decays everything with
  ``tau0 < 1 m`` by default).

Features and the TuneMC parameters they respond to
--------------------------------------------------
===================  ==========================================================  =========================
name                 meaning                                                     main parameters
===================  ==========================================================  =========================
one_minus_thrust     1 - T, exact thrust (global maximum, see :func:`thrust`)    alphaSvalue, pTmin
heavy_jet_mass       rho_H = max hemisphere M^2 / E_vis^2 (thrust hemispheres)   alphaSvalue
c_parameter          C = 3(l1 l2 + l2 l3 + l3 l1), linearised momentum tensor    alphaSvalue
d_parameter          D = 27 l1 l2 l3, same tensor                                alphaSvalue
b_total, b_wide      B_T = B_L + B_R, B_W = max(B_L, B_R) wrt the thrust axis    alphaSvalue, StringPT:sigma
sphericity           3/2 (l2 + l3), quadratic momentum tensor                    alphaSvalue
aplanarity           3/2 l3, quadratic momentum tensor                           alphaSvalue
n_charged            charged final-state multiplicity                            alphaS, pTmin, bLund
n_visible            visible (non-neutrino) final-state multiplicity             alphaS, pTmin, bLund
lnxp_mean            mean ln(1/x_p) of charged particles, x_p = 2|p|/sqrt(s)     bLund, aLund, alphaS
lnxp_q25/q50/q75     quartiles of ln(1/x_p) per event (numpy 'linear' rule)      bLund, StringPT:sigma
pt_thrust_mean       mean |p_T| of charged particles wrt the thrust axis          StringPT:sigma, and
                                                                                 (weakly) aExtraSQuark,
                                                                                 aExtraDiquark
n_pi_pm, n_k_pm, n_p final-state pi+-, K+-, p+pbar                               probStoUD, probQQtoQ
xp_k_mean            mean x_p of final K+- (0 when none)                         aExtraSQuark (weak)
xp_p_mean            mean x_p of final p/pbar (0 when none)                      aExtraDiquark (weak)
x_baryon_lead        largest 2E/sqrt(s) of any baryon produced (0 when none)     aExtraDiquark
n_k0s, n_lambda      produced K0S, Lambda + antiparticles                        probStoUD, probSQtoQQ
n_eta, n_etaprime    produced eta, eta'(958)                                     etaSup, etaPrimeSup
n_rho, n_omega       produced rho0 + rho+-, omega(782)                           mesonUDvector
n_kstar_pm/_0       produced K*(892)+-, K*(892)0                                mesonSvector
n_phi                produced phi(1020)                                          mesonSvector, probStoUD
n_sigma_pm           produced Sigma+ and Sigma-                                  probSQtoQQ, probQQ1toQQ0
n_xi, n_omega_baryon produced Xi-, Omega- (+ antiparticles)                      probSQtoQQ, decupletSup
n_delta_pp           produced Delta++ (+ anti)                                   probQQ1toQQ0, decupletSup
n_sigma_star         produced Sigma*(1385) (all charges)                         decupletSup
n_xi_star            produced Xi*(1530) (both charges)                           decupletSup
n_d, n_dstar         produced D+, D0, Ds / D*+, D*0, Ds*                         mesonCvector
n_b, n_bstar         produced B+, B0, Bs / B*+, B*0, Bs*                         mesonBvector
x_b                  mean 2E/sqrt(s) of weakly decaying b hadrons (0 if none)    StringZ:rFactB
x_c                  mean 2E/sqrt(s) of weakly decaying c hadrons in primary-c   StringZ:rFactC
                     events (0 otherwise)
n_shower_photons     final photons radiated in the parton shower (status 51-59)  TimeShower:pTminChgQ
b_event, c_event     1 if the primary quark pair (status -23) is b b-bar / c c-bar
===================  ==========================================================  =========================

"Weakly decaying" = a b (c) hadron none of whose daughters is again a b (c) hadron.
Every TuneMC parameter moves at least one feature mean by more than 5 standard errors
between the ends of its range with 20k events (``tests/test_pythia.py``, slow); the
weakest are aExtraSQuark (seen in pt_thrust_mean) and aExtraDiquark (seen in
x_baryon_lead of events with a baryon), which LEP data constrain only loosely too.
The thrust, heavy jet mass, C, D, B_T, B_W, sphericity and aplanarity are normalised by
the visible momentum/energy sums, so they do not depend on neutrino losses.
"""

from __future__ import annotations

import math

import numpy as np

try:
    from numba import njit
except ImportError as err:  # pragma: no cover - depends on the environment
    raise ImportError("simulators.observables needs numba: pip install 'advopt[pythia]'") from err

from simulators.pdg import BARYON_BIT, CHARGED_BIT, build_property_table, particle_props, charge3, heavy_flavour, is_baryon  # noqa: F401  (re-exported)
from simulators.tensors import (
    sym3_eigenvalues,
    sphericity_eigenvalues,  # noqa: F401  (re-exported)
)
from simulators.thrust import thrust_core, thrust, thrust_bruteforce  # noqa: F401  (re-exported)

FEATURE_NAMES: tuple[str, ...] = (
    "one_minus_thrust",
    "heavy_jet_mass",
    "c_parameter",
    "d_parameter",
    "b_total",
    "b_wide",
    "sphericity",
    "aplanarity",
    "n_charged",
    "n_visible",
    "lnxp_mean",
    "lnxp_q25",
    "lnxp_q50",
    "lnxp_q75",
    "pt_thrust_mean",
    "n_pi_pm",
    "n_k_pm",
    "n_p",
    "xp_k_mean",
    "xp_p_mean",
    "x_baryon_lead",
    "n_k0s",
    "n_lambda",
    "n_eta",
    "n_etaprime",
    "n_rho",
    "n_omega",
    "n_kstar_pm",
    "n_kstar_0",
    "n_phi",
    "n_sigma_pm",
    "n_xi",
    "n_omega_baryon",
    "n_delta_pp",
    "n_sigma_star",
    "n_xi_star",
    "n_d",
    "n_dstar",
    "n_b",
    "n_bstar",
    "x_b",
    "x_c",
    "n_shower_photons",
    "b_event",
    "c_event",
)
N_FEATURES = len(FEATURE_NAMES)

_COL = {name: i for i, name in enumerate(FEATURE_NAMES)}


@njit(cache=True)
def _quantile_sorted(v, m, q):
    # numpy's default 'linear' rule on the first m (sorted) entries
    pos = (m - 1) * q
    lo = int(math.floor(pos))
    hi = min(lo + 1, m - 1)
    frac = pos - lo
    return v[lo] + (v[hi] - v[lo]) * frac


# -- the per-event kernel --------------------------------------------------------------
@njit(cache=True)
def _event_features(offsets, pid, status, mother1, px, py, pz, e, sqrt_s, out, row0, table):
    n_events = offsets.shape[0] - 1
    maxrows = 0
    for k in range(n_events):
        maxrows = max(maxrows, offsets[k + 1] - offsets[k])
    x = np.empty(maxrows)
    y = np.empty(maxrows)
    z = np.empty(maxrows)
    pa = np.empty(maxrows)
    en = np.empty(maxrows)
    chg = np.empty(maxrows, np.bool_)
    lnxp = np.empty(maxrows)
    heavy = np.empty(maxrows, np.int64)    # rows of open-heavy-flavour hadrons
    not_last = np.zeros(maxrows, np.bool_)
    for k in range(n_events):
        o = offsets[k]
        rows = offsets[k + 1] - o
        r = out[row0 + k]
        r[:] = 0.0
        m = 0
        ncharged = 0
        nheavy = 0
        primary = 0
        n_pi = n_k = n_p = 0
        xp_k = xp_p = 0.0
        x_bar = 0.0
        n_gamma = 0
        for i in range(rows):
            j = o + i
            st = status[j]
            ast = abs(st)
            if ast >= 81:  # a hadron (hadronisation 81-89, decay product 91-99)
                pr = particle_props(table, pid[j])
                if pr & BARYON_BIT:
                    x_bar = max(x_bar, e[j])
                slot = (pr & 31) - 1
                hf = (pr >> 5) & 7
                if slot >= 0 or hf != 0:
                    mo = mother1[j]
                    mid = pid[o + mo] if 0 < mo < rows else 0
                    if slot >= 0 and abs(mid) != abs(pid[j]):
                        r[_COL_N_K0S + slot] += 1.0
                    if hf != 0:
                        heavy[nheavy] = i
                        nheavy += 1
                        not_last[i] = False
                        if mid != 0 and ((particle_props(table, mid) >> 5) & 7) == hf:
                            not_last[mo] = True
            elif ast == 23 and primary == 0:
                a = abs(pid[j])
                if 1 <= a <= 6:
                    primary = a
            if st > 0:
                a = abs(pid[j])
                if a == 12 or a == 14 or a == 16:
                    continue
                pxj, pyj, pzj = px[j], py[j], pz[j]
                pabs = math.sqrt(pxj * pxj + pyj * pyj + pzj * pzj)
                x[m] = pxj
                y[m] = pyj
                z[m] = pzj
                pa[m] = pabs
                en[m] = e[j]
                c = (particle_props(table, pid[j]) & CHARGED_BIT) != 0
                chg[m] = c
                m += 1
                if c:
                    xp = 2.0 * pabs / sqrt_s
                    lnxp[ncharged] = -math.log(max(xp, 1e-300))
                    ncharged += 1
                    if a == 211:
                        n_pi += 1
                    elif a == 321:
                        n_k += 1
                        xp_k += xp
                    elif a == 2212:
                        n_p += 1
                        xp_p += xp
                elif a == 22 and 51 <= st <= 59:
                    n_gamma += 1
        # weakly decaying heavy hadrons: none of their daughters has the same heavy flavour
        nb = nc = 0
        xb = xc = 0.0
        for h in range(nheavy):
            i = heavy[h]
            if not not_last[i]:
                j = o + i
                hf = (particle_props(table, pid[j]) >> 5) & 7
                if hf == 5:
                    nb += 1
                    xb += 2.0 * e[j] / sqrt_s
                elif hf == 4 and primary == 4:
                    nc += 1
                    xc += 2.0 * e[j] / sqrt_s
        for h in range(nheavy):
            not_last[heavy[h]] = False
        # event shapes
        tval, nx, ny, nz, t11, t22, t33, t12, t13, t23 = thrust_core(x, y, z, pa, m)
        esum = 0.0
        psum = 0.0
        bl = br = 0.0
        el = er = 0.0
        plx = ply = plz = 0.0
        prx = pry = prz = 0.0
        pt_sum = 0.0
        s11 = s22 = s33 = s12 = s13 = s23 = 0.0
        for i in range(m):
            xi, yi, zi = x[i], y[i], z[i]
            d = xi * nx + yi * ny + zi * nz
            pt = math.sqrt(max(pa[i] * pa[i] - d * d, 0.0))
            psum += pa[i]
            esum += en[i]
            s11 += xi * xi
            s22 += yi * yi
            s33 += zi * zi
            s12 += xi * yi
            s13 += xi * zi
            s23 += yi * zi
            if d >= 0.0:
                bl += pt
                el += en[i]
                plx += xi
                ply += yi
                plz += zi
            else:
                br += pt
                er += en[i]
                prx += xi
                pry += yi
                prz += zi
            if chg[i]:
                pt_sum += pt
        r[0] = 1.0 - tval
        if esum > 0.0:
            ml = el * el - (plx * plx + ply * ply + plz * plz)
            mr = er * er - (prx * prx + pry * pry + prz * prz)
            r[1] = max(ml, mr) / (esum * esum)
        # C and D from the invariants of the linearised tensor (trace 1)
        minors = t11 * t22 - t12 * t12 + t11 * t33 - t13 * t13 + t22 * t33 - t23 * t23
        det = t11 * (t22 * t33 - t23 * t23) - t12 * (t12 * t33 - t23 * t13) + t13 * (t12 * t23 - t22 * t13)
        r[2] = 3.0 * minors
        r[3] = 27.0 * det
        if psum > 0.0:
            r[4] = (bl + br) / (2.0 * psum)
            r[5] = max(bl, br) / (2.0 * psum)
        p2sum = s11 + s22 + s33
        if p2sum > 0.0:
            l1, l2, l3 = sym3_eigenvalues(s11 / p2sum, s22 / p2sum, s33 / p2sum, s12 / p2sum, s13 / p2sum, s23 / p2sum)
            r[6] = 1.5 * (l2 + l3)
            r[7] = 1.5 * l3
        r[8] = ncharged
        r[9] = m
        if ncharged > 0:
            s = 0.0
            for i in range(ncharged):
                s += lnxp[i]
            r[10] = s / ncharged
            lnxp[:ncharged].sort()
            r[11] = _quantile_sorted(lnxp, ncharged, 0.25)
            r[12] = _quantile_sorted(lnxp, ncharged, 0.50)
            r[13] = _quantile_sorted(lnxp, ncharged, 0.75)
            r[14] = pt_sum / ncharged
        r[15] = n_pi
        r[16] = n_k
        r[17] = n_p
        r[18] = xp_k / n_k if n_k > 0 else 0.0
        r[19] = xp_p / n_p if n_p > 0 else 0.0
        r[20] = 2.0 * x_bar / sqrt_s
        r[_COL_X_B] = xb / nb if nb > 0 else 0.0
        r[_COL_X_C] = xc / nc if nc > 0 else 0.0
        r[_COL_N_GAMMA] = n_gamma
        r[_COL_B_EVENT] = 1.0 if primary == 5 else 0.0
        r[_COL_C_EVENT] = 1.0 if primary == 4 else 0.0


_COL_N_K0S = _COL["n_k0s"]
_COL_X_B = _COL["x_b"]
_COL_X_C = _COL["x_c"]
_COL_N_GAMMA = _COL["n_shower_photons"]
_COL_B_EVENT = _COL["b_event"]
_COL_C_EVENT = _COL["c_event"]
assert _COL["xp_p_mean"] == 19 and _COL["x_baryon_lead"] == 20 and _COL["n_bstar"] == _COL_N_K0S + 18 and _COL["pt_thrust_mean"] == 14
_TABLE = build_property_table()


def event_features(offsets, pid, status, mother1, px, py, pz, e, sqrt_s, out, row0=0) -> None:
    """Fill ``out[row0 + k, :]`` with the features (:data:`FEATURE_NAMES`) of event k.

    ``offsets`` (int64, n_events + 1 entries) index the flat per-row arrays of the whole
    Pythia event record, in Pythia's order: ``pid``, ``status``, ``mother1`` (int32,
    ``mother1`` relative to the event's first row) and ``px, py, pz, e`` (float64, GeV).
    ``sqrt_s`` in GeV normalises x_p and x_E. ``out`` is a C-contiguous float64 array with
    at least ``row0 + n_events`` rows.
    """
    _event_features(offsets, pid, status, mother1, px, py, pz, e, float(sqrt_s), out, int(row0), _TABLE)
