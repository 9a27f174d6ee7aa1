"""The compiled fill of DELPHI_1996_S3430090 (:mod:`simulators.lep.delphi_1996` has the
definitions, the paths and the analysis class).

One pass over each event's record collects the charged final state (set 0) and the visible
final state, charged plus neutral (set 1: ``status > 0`` and not a neutrino), and counts the
produced identified hadrons; then, per set, the event shapes (:mod:`simulators.lep.shapes`),
the Durham (:mod:`simulators.lep.durham`) and Jade (:mod:`simulators.lep.jets`) clusterings,
and the charged-particle spectra against that set's axes; then the energy-energy correlation
of charged pairs. Each event's fills accumulate in a per-event buffer (the event's fill
vector) that is added, with its square, to the sums at the event's end.
"""

from __future__ import annotations

import math

import numpy as np

try:
    from numba import njit
except ImportError as err:  # pragma: no cover - depends on the environment
    raise ImportError("simulators.lep.delphi_fill needs numba: pip install 'advopt[pythia]'") from err

from simulators.lep.durham import durham_ymax
from simulators.lep.jets import jade_ymax
from simulators.lep.shapes import N_SHAPES, event_shapes
from simulators.lep.species import count_produced
from simulators.pdg import particle_props

# -- the kernel's internal histogram numbering (booked slots are looked up per booking) -------
N_SETS = 2             # 0: charged particles (y01), 1: charged + neutral (y02)
PER_SET = N_SHAPES + 6  # d11-d26 shapes, then d27-d32 jet rates
H_RATES = N_SHAPES     # + 2 (n - 2) + (0 Durham, 1 Jade), n = 2, 3, 4: d27 ... d32
H_SPEC = N_SETS * PER_SET  # + 6 s + k: d01-d06 (pT in/out thrust, pT in/out sphericity, |y_T|, |y_S|)
H_XP = H_SPEC + 6 * N_SETS
H_LNXP = H_XP + 1
H_EEC = H_XP + 2
H_AEEC = H_XP + 3
H_NCH = H_XP + 4
H_SPECIES = H_XP + 5   # + g: identified-hadron mean multiplicities


@njit(cache=True, inline="always")
def _find_bin(first, lows, highs, k, v):
    """Booked bin of histogram slot ``k`` holding ``v`` ([low, high)), or -1 (also for NaN)."""
    lo = first[k]
    hi = first[k + 1]
    if hi <= lo or not (v >= lows[lo]):
        return -1
    while hi - lo > 1:
        mid = (lo + hi) >> 1
        if lows[mid] <= v:
            lo = mid
        else:
            hi = mid
    if not (v < highs[lo]):
        return -1
    return lo


@njit(cache=True, inline="always")
def _add(buf, touched, tlist, nt, b, w):
    """Add ``w`` into the event buffer's bin ``b`` (ignored for b < 0); returns the new nt."""
    if b < 0:
        return nt
    buf[b] += w
    if not touched[b]:
        touched[b] = True
        tlist[nt] = b
        nt += 1
    return nt


@njit(cache=True)
def _capacity(offsets, status):
    cap = 2
    for ev in range(offsets.shape[0] - 1):
        n = 0
        for j in range(offsets[ev], offsets[ev + 1]):
            if status[j] > 0:
                n += 1
        cap = max(cap, n)
    return cap


@njit(cache=True)
def fill_chunk(offsets, pid, status, mother1, px, py, pz, e, sqrt_s, table, charged_bit,
               keys, kfirst, targets, hs, first, lows, highs, sums, squares):
    """Add one chunk into ``sums``/``squares`` (``hs``: booked slot per internal histogram, -1
    where not booked); returns the number of accepted events (>= 2 charged particles)."""
    n_events = offsets.shape[0] - 1
    cap = _capacity(offsets, status)
    px_s = np.empty((N_SETS, cap))
    py_s = np.empty((N_SETS, cap))
    pz_s = np.empty((N_SETS, cap))
    en_s = np.empty((N_SETS, cap))
    pa_s = np.empty((N_SETS, cap))
    qa = np.empty(cap)
    qb = np.empty(cap)
    ang = np.empty(cap)
    dwork = np.empty((9, cap))
    diwork = np.empty((2, cap), np.int64)
    jwork = np.empty((6, cap))
    jiwork = np.empty((2, cap), np.int64)
    dmat = np.empty((cap, cap))
    shp = np.empty(N_SHAPES)
    axes = np.empty((N_SETS, 18))
    ymd = np.zeros(5)
    ymj = np.zeros(5)
    nb = sums.shape[0]
    buf = np.zeros(nb)
    touched = np.zeros(nb, np.bool_)
    tlist = np.empty(nb, np.int64)
    n_groups = hs.shape[0] - H_SPECIES
    counts = np.zeros(max(n_groups, 1))
    ebeam = 0.5 * sqrt_s
    # what is booked
    want_set = np.zeros(N_SETS, np.bool_)
    want_jade = np.zeros(N_SETS, np.bool_)
    want_durham = np.zeros(N_SETS, np.bool_)
    want_spec = np.zeros(N_SETS, np.bool_)
    for s in range(N_SETS):
        for k in range(PER_SET):
            if hs[s * PER_SET + k] >= 0:
                want_set[s] = True
        for r in range(3):
            if hs[s * PER_SET + H_RATES + 2 * r] >= 0:
                want_durham[s] = True
            if hs[s * PER_SET + H_RATES + 2 * r + 1] >= 0:
                want_jade[s] = True
        for k in range(6):
            if hs[H_SPEC + 6 * s + k] >= 0:
                want_spec[s] = True
                want_set[s] = True
    want_eec = hs[H_EEC] >= 0 or hs[H_AEEC] >= 0
    want_species = False
    for g in range(n_groups):
        if hs[H_SPECIES + g] >= 0:
            want_species = True
    # single-bin means: the bin that holds sqrt(s), or -1
    mean_bin = np.full(1 + max(n_groups, 0), -1, np.int64)
    if hs[H_NCH] >= 0:
        mean_bin[0] = _find_bin(first, lows, highs, hs[H_NCH], sqrt_s)
    for g in range(n_groups):
        if hs[H_SPECIES + g] >= 0:
            mean_bin[1 + g] = _find_bin(first, lows, highs, hs[H_SPECIES + g], sqrt_s)
    accepted = 0
    for ev in range(n_events):
        o = offsets[ev]
        rows = offsets[ev + 1] - o
        mc = 0
        mv = 0
        for j in range(o, o + rows):
            if status[j] <= 0:
                continue
            a = abs(pid[j])
            if a == 12 or a == 14 or a == 16:
                continue
            x, y, z = px[j], py[j], pz[j]
            pabs = math.sqrt(x * x + y * y + z * z)
            px_s[1, mv] = x
            py_s[1, mv] = y
            pz_s[1, mv] = z
            en_s[1, mv] = e[j]
            pa_s[1, mv] = pabs
            mv += 1
            if (particle_props(table, pid[j]) & charged_bit) != 0:
                px_s[0, mc] = x
                py_s[0, mc] = y
                pz_s[0, mc] = z
                en_s[0, mc] = e[j]
                pa_s[0, mc] = pabs
                mc += 1
        if mc < 2:
            continue
        accepted += 1
        nt = 0
        # -- per set: shapes, jet rates, axes -------------------------------------------------
        for s in range(N_SETS):
            if not want_set[s]:
                continue
            m = mc if s == 0 else mv
            event_shapes(px_s[s], py_s[s], pz_s[s], en_s[s], pa_s[s], m, qa, qb, ang, shp, axes[s])
            base = s * PER_SET
            for k in range(N_SHAPES):
                h = hs[base + k]
                if h >= 0:
                    nt = _add(buf, touched, tlist, nt, _find_bin(first, lows, highs, h, shp[k]), 1.0)
            if want_durham[s]:
                durham_ymax(px_s[s], py_s[s], pz_s[s], en_s[s], m, ymd, 4, dwork, diwork)
            if want_jade[s]:
                jade_ymax(px_s[s], py_s[s], pz_s[s], en_s[s], m, ymj, 4, jwork, jiwork, dmat)
            for r in range(3):
                n = r + 2
                if m < n + 1:  # D_n needs at least n + 1 particles (Rivet's cut)
                    continue
                h = hs[base + H_RATES + 2 * r]
                if h >= 0:
                    nt = _add(buf, touched, tlist, nt, _find_bin(first, lows, highs, h, ymd[n]), 1.0)
                h = hs[base + H_RATES + 2 * r + 1]
                if h >= 0:
                    nt = _add(buf, touched, tlist, nt, _find_bin(first, lows, highs, h, ymj[n]), 1.0)
        # -- charged-particle spectra ---------------------------------------------------------
        h_xp = hs[H_XP]
        h_lnxp = hs[H_LNXP]
        for i in range(mc):
            x, y, z, en = px_s[0, i], py_s[0, i], pz_s[0, i], en_s[0, i]
            xp = pa_s[0, i] / ebeam
            if h_xp >= 0:
                nt = _add(buf, touched, tlist, nt, _find_bin(first, lows, highs, h_xp, xp), 1.0)
            if h_lnxp >= 0 and xp > 0.0:
                nt = _add(buf, touched, tlist, nt, _find_bin(first, lows, highs, h_lnxp, -math.log(xp)), 1.0)
            for s in range(N_SETS):
                if not want_spec[s]:
                    continue
                hb = H_SPEC + 6 * s
                for k in range(6):
                    h = hs[hb + k]
                    if h < 0:
                        continue
                    if k < 4:  # |p . axis|: thrust major, minor, sphericity e2, e3
                        c = 3 if k == 0 else (6 if k == 1 else (12 if k == 2 else 15))
                        v = abs(x * axes[s, c] + y * axes[s, c + 1] + z * axes[s, c + 2])
                    else:  # |rapidity| along the thrust (k = 4) or sphericity (k = 5) axis
                        c = 0 if k == 4 else 9
                        pl = abs(x * axes[s, c] + y * axes[s, c + 1] + z * axes[s, c + 2])
                        den = en - pl
                        v = 0.5 * math.log((en + pl) / den) if den > 0.0 else np.inf
                    nt = _add(buf, touched, tlist, nt, _find_bin(first, lows, highs, h, v), 1.0)
        # -- energy-energy correlation of charged pairs ---------------------------------------
        if want_eec:
            evis = 0.0
            for i in range(mc):
                evis += en_s[0, i]
            inv2 = 1.0 / (evis * evis)
            h_eec = hs[H_EEC]
            h_aeec = hs[H_AEEC]
            for i in range(mc):
                xi, yi, zi, pi_ = px_s[0, i], py_s[0, i], pz_s[0, i], pa_s[0, i]
                for j in range(i + 1, mc):
                    den = pi_ * pa_s[0, j]
                    if den <= 0.0:
                        continue
                    c = (xi * px_s[0, j] + yi * py_s[0, j] + zi * pz_s[0, j]) / den
                    w = en_s[0, i] * en_s[0, j] * inv2
                    if h_eec >= 0:
                        nt = _add(buf, touched, tlist, nt, _find_bin(first, lows, highs, h_eec, c), w)
                    if h_aeec >= 0:
                        if c < 0.0:
                            nt = _add(buf, touched, tlist, nt, _find_bin(first, lows, highs, h_aeec, c), w)
                        else:
                            nt = _add(buf, touched, tlist, nt, _find_bin(first, lows, highs, h_aeec, -c), -w)
        # -- mean multiplicities ------------------------------------------------------------------
        nt = _add(buf, touched, tlist, nt, mean_bin[0], float(mc))
        if want_species:
            counts[:] = 0.0
            count_produced(o, rows, pid, status, mother1, keys, kfirst, targets, counts)
            for g in range(n_groups):
                if counts[g] > 0.0:
                    nt = _add(buf, touched, tlist, nt, mean_bin[1 + g], counts[g])
        # -- the event's fill vector into the sums, its square into the squares ----------------
        for t in range(nt):
            b = tlist[t]
            v = buf[b]
            sums[b] += v
            squares[b] += v * v
            buf[b] = 0.0
            touched[b] = False
    return accepted
