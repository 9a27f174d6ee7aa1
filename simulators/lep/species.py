"""Counts of produced hadrons by species groups, as a compiled kernel (PDG rates, DELPHI d36-d40).

A hadron counts as *produced* when its record line has ``|status| >= 81`` (hadronisation
81-89 or decay product 91-99: never a parton, diquark or beam line) and its first mother is
not the same species (|PDG id|), so a carbon copy or a B0 <-> B0bar oscillation counts once.
Antiparticles count (groups are sets of |PDG id|), and so do hadrons that later decayed and
decay products (feed-down: a Lambda from a Sigma0 or Xi decay, a pi+- from a K0S decay), as
the LEP / PDG inclusive rates do. For species Pythia keeps stable (pi+-, K+-, p, ...) the
count equals the final-state count.

A species group is any tuple of |PDG ids|; one id may feed several groups (B+ feeds "B+" and
"B+ + B0"). :func:`species_map` turns the groups into sorted-key lookup arrays.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

try:
    from numba import njit
except ImportError as err:  # pragma: no cover - depends on the environment
    raise ImportError("simulators.lep.species needs numba: pip install 'advopt[pythia]'") from err

from simulators.pdg import particle_props


def species_map(groups: Sequence[Sequence[int]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lookup arrays ``(keys, first, targets)``: the sorted distinct |PDG ids|, and for key
    ``t`` the groups ``targets[first[t]:first[t+1]]`` it feeds."""
    feeds: dict[int, list[int]] = {}
    for g, ids in enumerate(groups):
        for a in ids:
            a = abs(int(a))
            if a == 0:
                raise ValueError("species_map: PDG id 0")
            if g not in feeds.setdefault(a, []):
                feeds[a].append(g)
    keys = np.array(sorted(feeds), dtype=np.int64)
    first = np.zeros(len(keys) + 1, dtype=np.int64)
    targets = []
    for t, a in enumerate(keys):
        targets.extend(feeds[int(a)])
        first[t + 1] = len(targets)
    return keys, first, np.array(targets, dtype=np.int64)


@njit(cache=True)
def _key_index(keys, a):
    """Index of ``a`` in the sorted ``keys``, or -1."""
    lo = 0
    hi = keys.shape[0]
    while lo < hi:
        mid = (lo + hi) >> 1
        if keys[mid] < a:
            lo = mid + 1
        else:
            hi = mid
    if lo < keys.shape[0] and keys[lo] == a:
        return lo
    return -1


@njit(cache=True)
def count_produced(o, rows, pid, status, mother1, keys, first, targets, counts):
    """Add the event at rows ``o:o+rows`` into ``counts[group]`` (not reset here)."""
    kmin = keys[0] if keys.shape[0] > 0 else 0
    for i in range(rows):
        j = o + i
        st = status[j]
        if st < 81 and st > -81:
            continue
        a = abs(pid[j])
        if a < kmin:
            continue
        t = _key_index(keys, a)
        if t < 0:
            continue
        mo = mother1[j]
        if 0 < mo < rows and abs(pid[o + mo]) == a:
            continue
        for u in range(first[t], first[t + 1]):
            counts[targets[u]] += 1.0


@njit(cache=True)
def count_charged(o, rows, pid, status, table, charged_bit):
    """Final-state (status > 0) charged particles of the event at rows ``o:o+rows``
    (``table``: :func:`simulators.pdg.build_property_table`)."""
    n = 0
    for j in range(o, o + rows):
        if status[j] > 0 and (particle_props(table, pid[j]) & charged_bit) != 0:
            n += 1
    return n
