"""The compiled kernels of ALEPH_1996_S3486095 (simulators/lep/aleph_1996.py): one pass per
event over the record, the charged-particle shapes, the Durham clustering and the spectra."""

from __future__ import annotations

import math

import numpy as np

try:
    from numba import njit
except ImportError as err:  # pragma: no cover - depends on the environment
    raise ImportError("simulators.lep.aleph_1996 needs numba: pip install 'advopt[pythia]'") from err

from simulators.lep.aleph_1996_catalogue import (GAMMA, H_1MT, H_A, H_C, H_LNXP, H_MEAN_NCH, H_MEAN_NCH44, H_NCH, H_O,
                                                 H_PTIN, H_PTOUT, H_R2, H_RHO, H_S, H_TMIN, H_WIN, H_XP, H_Y3, H_YT)
from simulators.lep.common import sphericity_axes, thrust_axes
from simulators.lep.durham import durham_ymax
from simulators.pdg import CHARGED_BIT, particle_props, property_table

# -- compiled kernels ---------------------------------------------------------------------
# The fill kernel queues (slot, value, weight) per event and bins the queue in one loop at
# the event's end, rather than calling a small "fill" helper at each site: a compiled call
# that passes arrays pays reference counting on each of them (measured ~60 ns per call with
# six arrays, ~9 us per event over the ~150 fills of a Z event), more than the binning.
# A queue entry with slot k >= 0 is binned by value; one with k <= -2 adds to bin -k - 2.

#: Event-level histograms filled with one value per accepted event (weight 1; d18 weight 2).
_EVENT_H = np.array([H_S, H_A, H_1MT, H_TMIN, H_Y3, H_RHO, H_C, H_O, H_NCH], np.int64)
#: Per-charged-particle histograms, in the order of the kernel's value rows.
_CHARGED_H = np.array([H_XP, H_LNXP, H_YT, H_PTIN, H_PTOUT], np.int64)


@njit(cache=True)
def _shapes(cx, cy, cz, ce, cp, m, s11, s22, s33, s12, s13, s23, qa, qb, ang, ymax, dwork, diwork):
    """Charged-particle event shapes of one event (``m`` >= 2 particles).

    Returns ``(S, A, T, M, mn, O, C, y3, rho, evis, n1x, n1y, n1z, e2x, e2y, e2z, e3x, e3y,
    e3z)``; ``ymax`` receives the Durham ymax[0..5]."""
    (tval, n1x, n1y, n1z, major, n2x, n2y, n2z, minor, n3x, n3y, n3z,
     t11, t22, t33, t12, t13, t23) = thrust_axes(cx, cy, cz, cp, m, qa, qb, ang)
    l1, l2, l3, e1x, e1y, e1z, e2x, e2y, e2z, e3x, e3y, e3z = sphericity_axes(s11, s22, s33, s12, s13, s23)
    minors = t11 * t22 - t12 * t12 + t11 * t33 - t13 * t13 + t22 * t33 - t23 * t23
    y3 = durham_ymax(cx, cy, cz, ce, m, ymax, 5, dwork, diwork)
    evis = 0.0
    ew = pwx = pwy = pwz = 0.0
    ea = pax = pay = paz = 0.0
    for i in range(m):
        evis += ce[i]
        if cx[i] * n1x + cy[i] * n1y + cz[i] * n1z > 0.0:
            ew += ce[i]
            pwx += cx[i]
            pwy += cy[i]
            pwz += cz[i]
        else:
            ea += ce[i]
            pax += cx[i]
            pay += cy[i]
            paz += cz[i]
    rho = 0.0
    if evis > 0.0:
        mw = ew * ew - pwx * pwx - pwy * pwy - pwz * pwz
        ma = ea * ea - pax * pax - pay * pay - paz * paz
        rho = max(mw, ma) / (evis * evis)
    return (1.5 * (l2 + l3), 1.5 * l3, tval, major, minor, major - minor, 3.0 * minors, y3, rho, evis,
            n1x, n1y, n1z, e2x, e2y, e2z, e3x, e3y, e3z)


@njit(cache=True)
def _capacity(offsets):
    cap = 2
    for k in range(offsets.shape[0] - 1):
        cap = max(cap, offsets[k + 1] - offsets[k])
    return cap


@njit(cache=True)
def fill_aleph_chunk(offsets, pid, status, mother1, px, py, pz, e, sqrt_s, table,
                species, spec_slot, spec_var, spec_cut, mean_slot, hs, ycut,
                first, lows, highs, sums, squares):
    """Add one chunk into ``sums``/``squares``; returns the number of accepted events."""
    n_events = offsets.shape[0] - 1
    cap = _capacity(offsets)
    cx = np.empty(cap)
    cy = np.empty(cap)
    cz = np.empty(cap)
    ce = np.empty(cap)
    cp = np.empty(cap)
    qa = np.empty(cap)
    qb = np.empty(cap)
    ang = np.empty(cap)
    dwork = np.empty((9, cap))
    diwork = np.empty((2, cap), np.int64)
    ymax = np.zeros(6)
    nqmax = 6 * cap + 256
    qk = np.empty(nqmax, np.int64)
    qv = np.empty(nqmax)
    qw = np.empty(nqmax)
    evv = np.empty(_EVENT_H.shape[0])
    nb = sums.shape[0]
    buf = np.zeros(nb)
    touched = np.zeros(nb, np.bool_)
    tlist = np.empty(nb, np.int64)
    ebeam = 0.5 * sqrt_s
    nspec = species.shape[0]
    spec_count = np.zeros(spec_slot.shape[0])
    k_rates = hs[H_R2] >= 0 or hs[H_R2 + 1] >= 0 or hs[H_R2 + 2] >= 0 or hs[H_R2 + 3] >= 0
    k_ch0, k_ch1, k_ch2, k_ch3, k_ch4 = hs[H_XP], hs[H_LNXP], hs[H_YT], hs[H_PTIN], hs[H_PTOUT]
    accepted = 0
    for ev in range(n_events):
        o = offsets[ev]
        rows = offsets[ev + 1] - o
        m = 0
        nq = 0
        s11 = s22 = s33 = s12 = s13 = s23 = 0.0
        spec_count[:] = 0.0
        # -- the record, once: charged final state, identified hadrons -----------------------
        for i in range(rows):
            j = o + i
            st = status[j]
            a = abs(pid[j])
            if st > 0 and (particle_props(table, pid[j]) & CHARGED_BIT) != 0:
                x, y, z = px[j], py[j], pz[j]
                cx[m] = x
                cy[m] = y
                cz[m] = z
                ce[m] = e[j]
                cp[m] = math.sqrt(x * x + y * y + z * z)
                s11 += x * x
                s22 += y * y
                s33 += z * z
                s12 += x * y
                s13 += x * z
                s23 += y * z
                m += 1
            if a < nspec:
                sp = species[a]
                if sp > 0:
                    if sp == GAMMA:
                        ok = st > 0
                    else:
                        ok = abs(st) >= 81
                        if ok:
                            mo = mother1[j]
                            if 0 < mo < rows and abs(pid[o + mo]) == a:
                                ok = False
                    if ok:
                        x, y, z = px[j], py[j], pz[j]
                        xp = math.sqrt(x * x + y * y + z * z) / ebeam
                        if xp >= spec_cut[sp]:
                            spec_count[sp] += 1.0
                            k = spec_slot[sp]
                            if k >= 0:
                                v = spec_var[sp]
                                if v == 0:
                                    val = xp
                                elif v == 1:
                                    val = e[j] / ebeam
                                else:
                                    val = -math.log(xp) if xp > 0.0 else np.inf
                                qk[nq] = k
                                qv[nq] = val
                                qw[nq] = 1.0
                                nq += 1
        if m < 2:
            continue
        accepted += 1
        # -- event shapes ------------------------------------------------------------------
        (sph, apl, tval, major, minor, obl, cpar, y3, rho, evis,
         n1x, n1y, n1z, e2x, e2y, e2z, e3x, e3y, e3z) = _shapes(
            cx, cy, cz, ce, cp, m, s11, s22, s33, s12, s13, s23, qa, qb, ang, ymax, dwork, diwork)
        evv[0] = sph
        evv[1] = apl
        evv[2] = 1.0 - tval
        evv[3] = minor
        evv[4] = -math.log(y3) if y3 > 0.0 else np.nan
        evv[5] = rho
        evv[6] = cpar
        evv[7] = obl
        evv[8] = float(m)
        for t in range(_EVENT_H.shape[0]):
            k = hs[_EVENT_H[t]]
            if k >= 0:
                qk[nq] = k
                qv[nq] = evv[t]
                qw[nq] = 2.0 if _EVENT_H[t] == H_NCH else 1.0  # d18: see the module docstring
                nq += 1
        # -- per charged particle ----------------------------------------------------------
        w05 = w10 = w15 = w20 = 0
        for i in range(m):
            xp = cp[i] / ebeam
            pl = abs(cx[i] * n1x + cy[i] * n1y + cz[i] * n1z)
            den = ce[i] - pl
            yt = 0.5 * math.log((ce[i] + pl) / den) if den > 0.0 else np.inf
            if yt <= 2.0:
                w20 += 1
                if yt <= 1.5:
                    w15 += 1
                    if yt <= 1.0:
                        w10 += 1
                        if yt <= 0.5:
                            w05 += 1
            if k_ch0 >= 0:
                qk[nq] = k_ch0
                qv[nq] = xp
                qw[nq] = 1.0
                nq += 1
            if k_ch1 >= 0 and xp > 0.0:
                qk[nq] = k_ch1
                qv[nq] = -math.log(xp)
                qw[nq] = 1.0
                nq += 1
            if k_ch2 >= 0:
                qk[nq] = k_ch2
                qv[nq] = yt
                qw[nq] = 1.0
                nq += 1
            if k_ch3 >= 0:
                qk[nq] = k_ch3
                qv[nq] = abs(cx[i] * e2x + cy[i] * e2y + cz[i] * e2z)
                qw[nq] = 1.0
                nq += 1
            if k_ch4 >= 0:
                qk[nq] = k_ch4
                qv[nq] = abs(cx[i] * e3x + cy[i] * e3y + cz[i] * e3z)
                qw[nq] = 1.0
                nq += 1
        # -- single-bin means: direct adds (queue slot -2 - bin) ----------------------------
        for t in range(H_MEAN_NCH, H_MEAN_NCH44 + 1):
            k = hs[t]
            if k >= 0:
                if t == H_WIN:
                    w = float(w05)
                elif t == H_WIN + 1:
                    w = float(w10)
                elif t == H_WIN + 2:
                    w = float(w15)
                elif t == H_WIN + 3:
                    w = float(w20)
                else:
                    w = float(m)
                qk[nq] = -2 - first[k]
                qv[nq] = 0.0
                qw[nq] = w
                nq += 1
        for sp in range(1, spec_count.shape[0]):
            k = mean_slot[sp]
            if k >= 0 and spec_count[sp] > 0.0:
                qk[nq] = -2 - first[k]
                qv[nq] = 0.0
                qw[nq] = spec_count[sp]
                nq += 1
        # -- jet rates: 1 in each point where the event has exactly n jets -------------------
        if k_rates:
            for r in range(4):
                k = hs[H_R2 + r]
                if k >= 0:
                    nj = r + 2
                    for b in range(first[k], first[k + 1]):
                        yc = ycut[b]
                        if ymax[nj] <= yc and ymax[nj - 1] > yc:
                            qk[nq] = -2 - b
                            qv[nq] = 0.0
                            qw[nq] = 1.0
                            nq += 1
        # -- bin the queue into the event's fill vector --------------------------------------
        nt = 0
        for q in range(nq):
            k = qk[q]
            if k >= 0:
                v = qv[q]
                lo = first[k]
                hi = first[k + 1]
                if hi <= lo or not (v >= lows[lo]):
                    continue  # below the first bin, or NaN
                while hi - lo > 1:  # branch-free halving (selects): the tests are unpredictable
                    mid = (lo + hi) >> 1
                    up = lows[mid] <= v
                    lo = mid if up else lo
                    hi = hi if up else mid
                if not (v < highs[lo]):
                    continue  # above the last bin, or in a gap
                b = lo
            else:
                b = -2 - k
            buf[b] += qw[q]
            if not touched[b]:
                touched[b] = True
                tlist[nt] = b
                nt += 1
        # -- the event's fill vector into the sums and its square into the squares ----------
        for t in range(nt):
            b = tlist[t]
            v = buf[b]
            sums[b] += v
            squares[b] += v * v
            buf[b] = 0.0
            touched[b] = False
    return accepted


@njit(cache=True)
def _event_shapes_chunk(offsets, pid, status, px, py, pz, e, table, out):
    """Per event: (n_ch, S, A, 1-T, M, m, O, C, y3, rho, ymax[1..5]) of the charged final
    state, through the same :func:`_shapes` as the fill (NaN for events with n_ch < 2)."""
    n_events = offsets.shape[0] - 1
    cap = _capacity(offsets)
    cx = np.empty(cap)
    cy = np.empty(cap)
    cz = np.empty(cap)
    ce = np.empty(cap)
    cp = np.empty(cap)
    qa = np.empty(cap)
    qb = np.empty(cap)
    ang = np.empty(cap)
    dwork = np.empty((9, cap))
    diwork = np.empty((2, cap), np.int64)
    ymax = np.zeros(6)
    for ev in range(n_events):
        o = offsets[ev]
        m = 0
        s11 = s22 = s33 = s12 = s13 = s23 = 0.0
        for j in range(o, offsets[ev + 1]):
            if status[j] > 0 and (particle_props(table, pid[j]) & CHARGED_BIT) != 0:
                x, y, z = px[j], py[j], pz[j]
                cx[m] = x
                cy[m] = y
                cz[m] = z
                ce[m] = e[j]
                cp[m] = math.sqrt(x * x + y * y + z * z)
                s11 += x * x
                s22 += y * y
                s33 += z * z
                s12 += x * y
                s13 += x * z
                s23 += y * z
                m += 1
        out[ev, :] = np.nan
        out[ev, 0] = m
        if m < 2:
            continue
        r = _shapes(cx, cy, cz, ce, cp, m, s11, s22, s33, s12, s13, s23, qa, qb, ang, ymax, dwork, diwork)
        out[ev, 1] = r[0]
        out[ev, 2] = r[1]
        out[ev, 3] = 1.0 - r[2]
        out[ev, 4] = r[3]
        out[ev, 5] = r[4]
        out[ev, 6] = r[5]
        out[ev, 7] = r[6]
        out[ev, 8] = r[7]
        out[ev, 9] = r[8]
        for t in range(1, 6):
            out[ev, 9 + t] = ymax[t]


#: Columns of :func:`event_shapes`.
SHAPE_COLUMNS = ("n_charged", "sphericity", "aplanarity", "one_minus_thrust", "thrust_major",
                 "thrust_minor", "oblateness", "c_parameter", "y3", "heavy_jet_mass",
                 "ymax1", "ymax2", "ymax3", "ymax4", "ymax5")


def event_shapes(events) -> np.ndarray:
    """Per-event charged-particle shapes of a chunk (:class:`EventRecord`), one row per event
    with :data:`SHAPE_COLUMNS` (the values the analysis fills; for tests and inspection)."""
    out = np.empty((events.n_events, len(SHAPE_COLUMNS)))
    _event_shapes_chunk(events.offsets, events.pid, events.status, events.px, events.py, events.pz,
                        events.e, property_table(), out)
    return out




@njit(cache=True)
def count_accepted(offsets, pid, status, table):
    n = 0
    for ev in range(offsets.shape[0] - 1):
        m = 0
        for j in range(offsets[ev], offsets[ev + 1]):
            if status[j] > 0 and (particle_props(table, pid[j]) & CHARGED_BIT) != 0:
                m += 1
                if m >= 2:
                    break
        if m >= 2:
            n += 1
    return n
