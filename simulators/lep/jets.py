"""The Jade clustering of e+e- events with E-scheme recombination, as a compiled kernel.

Distance of jets i and j: ``y_ij = 2 E_i E_j (1 - cos theta_ij) / Q^2`` (the pair's invariant
mass squared for massless momenta), ``Q`` the summed energy of the clustered particles
(E_vis); the closest pair merges by adding four-momenta (E-scheme, FastJet's ``JadePlugin``
and Pythia's ``ClusterJet("Jade")`` with massive recombination), until one jet is left.
:func:`jade_ymax` records, like :func:`simulators.lep.durham.durham_ymax`, for n = 0..nmax
``ymax[n]``: the largest y of the merges taken while more than n jets remained (FastJet's
``exclusive_ymerge_max(n)``; the E-scheme merge sequence need not be monotonic, hence the
running maximum). ``ymax[2]`` is y3, the three-to-two-jet resolution (DELPHI's D_2).

Unlike Durham's ``min(E_i^2, E_j^2)``, the Jade product ``E_i E_j`` admits no
nearest-neighbour shortcut, so the kernel keeps the whole pair-distance matrix with each
row's minimum: a merge recomputes one row and rescans only the rows whose minimum pointed at
the merged pair, about m^2 operations per event instead of m^3 / 3. Scratch arrays come from
the caller (no allocation per event).
"""

from __future__ import annotations

import math

import numpy as np

try:
    from numba import njit
except ImportError as err:  # pragma: no cover - depends on the environment
    raise ImportError("simulators.lep.jets needs numba: pip install 'advopt[pythia]'") from err


def jade_scratch(capacity: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Scratch arrays for :func:`jade_ymax` of up to ``capacity`` particles."""
    cap = max(int(capacity), 1)
    return np.empty((6, cap)), np.empty((2, cap), np.int64), np.empty((cap, cap))


@njit(cache=True)
def jade_ymax(px, py, pz, e, m, ymax, nmax, work, iwork, dmat):
    """Cluster the first ``m`` particles (E-scheme Jade) down to one jet.

    Writes ``ymax[n]`` for n = 0..nmax (0 where the event has at most n particles) and
    returns y3 = ``ymax[2]``. Scratch: ``work`` float64 (6, >= m), ``iwork`` int64 (2, >= m),
    ``dmat`` float64 (>= m, >= m) (:func:`jade_scratch`).
    """
    for n in range(nmax + 1):
        ymax[n] = 0.0
    if m < 2:
        return 0.0
    jx = work[0]
    jy = work[1]
    jz = work[2]
    je = work[3]
    pa = work[4]
    nnd = work[5]
    nn = iwork[0]
    q = 0.0
    for i in range(m):
        jx[i] = px[i]
        jy[i] = py[i]
        jz[i] = pz[i]
        je[i] = e[i]
        pa[i] = math.sqrt(px[i] * px[i] + py[i] * py[i] + pz[i] * pz[i])
        q += e[i]
    if q <= 0.0:
        return 0.0
    q2 = q * q
    for i in range(m):
        nnd[i] = np.inf
        nn[i] = -1
    for i in range(m):
        dmat[i, i] = np.inf
        for j in range(i + 1, m):
            den = pa[i] * pa[j]
            c = (jx[i] * jx[j] + jy[i] * jy[j] + jz[i] * jz[j]) / den if den > 0.0 else 1.0
            d = 2.0 * je[i] * je[j] * (1.0 - c)
            dmat[i, j] = d
            dmat[j, i] = d
            if d < nnd[i]:
                nnd[i] = d
                nn[i] = j
            if d < nnd[j]:
                nnd[j] = d
                nn[j] = i
    n = m
    run = 0.0
    while n > 1:
        ib = 0
        db = nnd[0]
        for i in range(1, n):
            if nnd[i] < db:
                db = nnd[i]
                ib = i
        jb = nn[ib]
        y = db / q2
        if y > run:
            run = y
        if n - 1 <= nmax:
            ymax[n - 1] = run
        a = min(ib, jb)
        b = max(ib, jb)
        jx[a] += jx[b]
        jy[a] += jy[b]
        jz[a] += jz[b]
        je[a] += je[b]
        pa[a] = math.sqrt(jx[a] * jx[a] + jy[a] * jy[a] + jz[a] * jz[a])
        last = n - 1
        if b != last:  # the last jet takes b's place: its row and column move
            jx[b] = jx[last]
            jy[b] = jy[last]
            jz[b] = jz[last]
            je[b] = je[last]
            pa[b] = pa[last]
            nn[b] = nn[last]
            nnd[b] = nnd[last]
            for k in range(n):
                dmat[b, k] = dmat[last, k]
            for k in range(n):
                dmat[k, b] = dmat[k, last]
            dmat[b, b] = np.inf
        n -= 1
        if n == 1:
            break
        # the merged jet's row, and every other row's minimum
        best = np.inf
        arg = -1
        for k in range(n):
            if k == a:
                continue
            den = pa[a] * pa[k]
            c = (jx[a] * jx[k] + jy[a] * jy[k] + jz[a] * jz[k]) / den if den > 0.0 else 1.0
            d = 2.0 * je[a] * je[k] * (1.0 - c)
            dmat[a, k] = d
            dmat[k, a] = d
            if d < best:
                best = d
                arg = k
        nn[a] = arg
        nnd[a] = best
        for k in range(n):
            if k == a:
                continue
            t = nn[k]
            if t == a or t == b:  # pointed at a merged jet: rescan its row
                bk = np.inf
                ak = -1
                for u in range(n):
                    if u != k and dmat[k, u] < bk:
                        bk = dmat[k, u]
                        ak = u
                nn[k] = ak
                nnd[k] = bk
            else:
                if t == last:
                    nn[k] = b
                if dmat[k, a] < nnd[k]:
                    nnd[k] = dmat[k, a]
                    nn[k] = a
    if nmax >= 0:
        ymax[0] = run
    return ymax[2] if nmax >= 2 else 0.0
