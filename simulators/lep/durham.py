"""The Durham (k_T) clustering of e+e- events with E-scheme recombination, as a compiled kernel.

Distance of jets i and j: ``y_ij = 2 min(E_i^2, E_j^2) (1 - cos theta_ij) / Q^2`` with
``Q`` the summed energy of the clustered particles (E_vis); the closest pair merges by adding
four-momenta (E-scheme), until one jet is left. :func:`durham_ymax` records, for n = 1..nmax,
``ymax[n]``: the largest y of the merges taken while more than n jets remained (FastJet's
``exclusive_ymerge_max(n)``; with E-scheme recombination the merge sequence need not be
monotonic, so this is the running maximum). ``ymax[2]`` is the three-to-two-jet resolution
y3, and an event has exactly n jets at ``ycut`` when ``ymax[n] <= ycut < ymax[n-1]``
(FastJet's ``n_exclusive_jets_ycut``).

The search keeps each jet's *geometric* nearest neighbour (smallest 1 - cos theta) and
merges the jet i with the smallest E_i^2 (1 - cos theta_{i,NN(i)}): the closest pair in y is
always such a pair (if (i, j) minimises y with E_i <= E_j, any k closer in angle to i would
give y_ik < y_ij), FastJet's "NNH" lemma. A merge then rescans only the merged jet and the
jets whose geometric neighbour it was, a handful; keeping the neighbour in y instead makes
every soft particle whose neighbour was a hard jet rescan when that jet merges (measured
1.4x slower at Z multiplicities). About m^2 operations for m particles instead of m^3 / 3.
Scratch arrays come from the caller (no allocation per event), and the distance is written
out in each loop rather than called as a helper that takes arrays (such calls pay reference
counting per array, see :mod:`simulators.lep.aleph_1996`).

Measured against the ``fastjet`` package (``ee_kt_algorithm``, E-scheme by default) in
``tests/test_lep_aleph.py``: the same ``exclusive_ymerge_max(n)`` to 1e-13, n = 1..5. On
500 Monash events (21 charged particles each, one core): 3.6 us per event here, against
~60 us per event through FastJet's Python bindings one event at a time (PseudoJet lists)
and ~11 us per event through its awkward-array interface on the whole chunk.
"""

from __future__ import annotations

import math

import numpy as np

try:
    from numba import njit
except ImportError as err:  # pragma: no cover - depends on the environment
    raise ImportError("simulators.lep.durham needs numba: pip install 'advopt[pythia]'") from err


@njit(cache=True)
def durham_ymax(px, py, pz, e, m, ymax, nmax, work, iwork):
    """Cluster the first ``m`` particles (E-scheme Durham) down to one jet.

    Writes ``ymax[n]`` for n = 0..nmax (``ymax[n] = 0`` where the event has at most n
    particles; ``ymax[0]`` is the largest y of all merges) and returns y3 = ``ymax[2]``.
    ``work`` is a float64 scratch array of shape (9, >= m), ``iwork`` an int64 one of
    length >= m.
    """
    for n in range(nmax + 1):
        ymax[n] = 0.0
    if m < 2:
        return 0.0
    jx = work[0]
    jy = work[1]
    jz = work[2]
    je = work[3]
    ux = work[4]
    uy = work[5]
    uz = work[6]
    e2 = work[7]
    nn = iwork[0]
    stale = iwork[1]
    q = 0.0
    for i in range(m):
        jx[i] = px[i]
        jy[i] = py[i]
        jz[i] = pz[i]
        je[i] = e[i]
        q += e[i]
        norm = math.sqrt(px[i] * px[i] + py[i] * py[i] + pz[i] * pz[i])
        inv = 1.0 / norm if norm > 0.0 else 0.0
        ux[i] = px[i] * inv
        uy[i] = py[i] * inv
        uz[i] = pz[i] * inv
        e2[i] = e[i] * e[i]
    if q <= 0.0:
        return 0.0
    q2 = q * q
    nnd = work[8]
    for i in range(m):
        nn[i] = -1
        nnd[i] = np.inf
    for i in range(m):
        for j in range(i + 1, m):
            d = 1.0 - (ux[i] * ux[j] + uy[i] * uy[j] + uz[i] * uz[j])
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
        db = e2[0] * nnd[0]
        for i in range(1, n):
            di = e2[i] * nnd[i]
            if di < db:
                db = di
                ib = i
        jb = nn[ib]
        y = 2.0 * min(e2[ib], e2[jb]) * nnd[ib] / q2
        if y > run:
            run = y
        if n - 1 <= nmax:
            ymax[n - 1] = run
        a = min(ib, jb)
        b = max(ib, jb)
        # merge b into a (E-scheme)
        jx[a] += jx[b]
        jy[a] += jy[b]
        jz[a] += jz[b]
        je[a] += je[b]
        norm = math.sqrt(jx[a] * jx[a] + jy[a] * jy[a] + jz[a] * jz[a])
        inv = 1.0 / norm if norm > 0.0 else 0.0
        ux[a] = jx[a] * inv
        uy[a] = jy[a] * inv
        uz[a] = jz[a] * inv
        e2[a] = je[a] * je[a]
        # remove b: the last jet takes its place
        last = n - 1
        if b != last:
            jx[b] = jx[last]
            jy[b] = jy[last]
            jz[b] = jz[last]
            je[b] = je[last]
            ux[b] = ux[last]
            uy[b] = uy[last]
            uz[b] = uz[last]
            e2[b] = e2[last]
            nn[b] = nn[last]
            nnd[b] = nnd[last]
        n -= 1
        if n == 1:
            break
        # one pass over the distances to the merged jet a: a's own neighbour, and every
        # other jet's, which is stale where it pointed at a or b (those rescan after the
        # pass) and renamed where it pointed at the moved last jet
        best = np.inf
        arg = -1
        nstale = 0
        for k in range(n):
            if k == a:
                continue
            d = 1.0 - (ux[k] * ux[a] + uy[k] * uy[a] + uz[k] * uz[a])
            if d < best:
                best = d
                arg = k
            t = nn[k]
            if t == a or t == b:
                stale[nstale] = k
                nstale += 1
            else:
                if t == last:
                    nn[k] = b
                if d < nnd[k]:
                    nnd[k] = d
                    nn[k] = a
        nn[a] = arg
        nnd[a] = best
        for s in range(nstale):
            k = stale[s]
            best = np.inf
            arg = -1
            for t in range(n):
                if t != k:
                    d = 1.0 - (ux[k] * ux[t] + uy[k] * uy[t] + uz[k] * uz[t])
                    if d < best:
                        best = d
                        arg = t
            nn[k] = arg
            nnd[k] = best
    if nmax >= 0:
        ymax[0] = run
    return ymax[2] if nmax >= 2 else 0.0


def durham_scratch(capacity: int) -> tuple[np.ndarray, np.ndarray]:
    """Scratch arrays for :func:`durham_ymax` of up to ``capacity`` particles."""
    return np.empty((9, max(capacity, 1))), np.empty((2, max(capacity, 1)), np.int64)


@njit(cache=True)
def durham_y3_events(offsets, px, py, pz, e, ymax_out):
    """Per event ``k`` of flat particle lists (rows ``offsets[k]:offsets[k+1]``), the ymax
    values of :func:`durham_ymax` into ``ymax_out[k, :]`` (n = 0..ymax_out.shape[1]-1)."""
    n_events = offsets.shape[0] - 1
    cap = 1
    for k in range(n_events):
        cap = max(cap, offsets[k + 1] - offsets[k])
    work = np.empty((9, cap))
    iwork = np.empty((2, cap), np.int64)
    nmax = ymax_out.shape[1] - 1
    ym = np.empty(nmax + 1)
    for k in range(n_events):
        o = offsets[k]
        m = offsets[k + 1] - o
        durham_ymax(px[o:], py[o:], pz[o:], e[o:], m, ym, nmax, work, iwork)
        for t in range(nmax + 1):
            ymax_out[k, t] = ym[t]
