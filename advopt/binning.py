"""Histogram binning shared by the chi-square objective and the quantile closure check.

Bins come from the reference's quantiles, so that each holds about the same share of the
reference. Repeated quantiles (integer-valued observables such as multiplicities, or a
spike at one value) are merged, so a bin may hold more than its share; every comparison
therefore uses the reference's own fractions, never an assumed 1/K.
"""

from __future__ import annotations

import numpy as np


def quantile_edges(values: np.ndarray, n_bins: int) -> np.ndarray:
    """Inner bin edges at the ``n_bins``-quantiles of ``values`` (repeats merged).

    The outermost bins are open (to -inf and +inf), so simulated events outside the
    reference's range are still counted. Returns the sorted inner edges (may be empty for
    a constant observable).
    """
    if n_bins < 2:
        raise ValueError(f"bins: need at least 2 bins per observable, got {n_bins}")
    inner = np.quantile(values, np.arange(1, n_bins) / n_bins)
    return np.unique(inner)


def bin_counts(values: np.ndarray, inner_edges: np.ndarray) -> np.ndarray:
    """Counts in the len(inner_edges)+1 bins; a value on an edge goes to the upper bin."""
    index = np.searchsorted(inner_edges, values, side="right")
    return np.bincount(index, minlength=inner_edges.size + 1)


def binned_fractions(sample: np.ndarray, edges: list[np.ndarray]) -> list[np.ndarray]:
    """Per observable (column), the fraction of ``sample`` in each bin."""
    return [bin_counts(sample[:, j], e) / len(sample) for j, e in enumerate(edges)]
