"""The classical tune's objective: a binned chi-square between simulated and reference histograms.

Each observable is histogrammed (bins from the reference's quantiles, or edges given per
observable) and normalised to unit area. Per bin,

    chi2_b = (o_b - t_b)^2 / (sigma_o^2 + sigma_t^2 + (floor * t_b)^2)

with o, t the simulated and reference fractions, sigma the Poisson errors of each, and a
relative floor (TuneMC used 1%) for the modelling error statistics alone would not cover.
The value is the weighted mean over bins (chi2 per bin, about 1 when the samples agree), so
budgets and bin counts can be compared. Observables are weighted as in a Professor weights
file. Bins that are empty in both samples carry no information and are left out.

The standard error follows from the noncentral chi-square distribution of each observable's
sum: Var = 2 k + 4 lambda with k = bins - 1 and lambda estimated as max(chi2 - k, 0).

The chi-square is given the whole reference (``uses_full_reference``): its statistical
error is already in the denominator, so a smaller subsample would only add noise.
"""

from __future__ import annotations

import fnmatch
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from advopt.binning import bin_counts, quantile_edges
from advopt.divergence.base import DivergenceBase, DivergenceEstimate


def read_weights_file(path: str | Path, field: str = "divergence.weights") -> dict[str, float]:
    """Professor-style weights: one ``PATTERN WEIGHT`` per line, ``#`` starts a comment.

    PATTERN is a shell-style glob on observable names (``thrust``, ``n_*``); a later line
    overrides an earlier one for the observables both match.
    """
    path = Path(path)
    try:
        lines = path.read_text().splitlines()
    except OSError as err:
        raise ValueError(f"{field}: cannot read {path} ({err.strerror})") from None
    weights: dict[str, float] = {}
    for number, line in enumerate(lines, start=1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        parts = text.split()
        try:
            if len(parts) != 2:
                raise ValueError
            weights[parts[0]] = float(parts[1])
        except ValueError:
            raise ValueError(f"{field}: {path.name} line {number}: expected 'PATTERN WEIGHT', got {text!r}") from None
    return weights


def observable_weights(names: Sequence[str], patterns: Mapping[str, float]) -> np.ndarray:
    """Weight per observable from glob patterns; as in Professor, an observable no pattern
    matches is left out (weight 0). Every pattern must match something."""
    weights = np.zeros(len(names))
    for pattern, weight in patterns.items():
        if not math.isfinite(weight) or weight < 0:
            raise ValueError(f"divergence.weights: weight of {pattern!r} must be a finite number >= 0, got {weight}")
        matched = [i for i, name in enumerate(names) if fnmatch.fnmatchcase(name, pattern)]
        if not matched:
            raise ValueError(f"divergence.weights: pattern {pattern!r} matches no observable; observables are {list(names)}")
        weights[matched] = weight
    if not weights.any():
        raise ValueError("divergence.weights: every observable has weight 0")
    return weights


class Chi2Divergence(DivergenceBase):
    """Binned chi-square per bin (see the module docstring) as a tuning objective.

    bins: quantile bins per observable (default 20). edges: explicit bin edges for some
    observables, ``{name: [e0, e1, ...]}`` (values outside them fall in open end bins).
    weights: ``{pattern: weight}`` or the path of a Professor-style weights file; default:
    every observable weight 1. relative_floor: the relative error added in quadrature to
    each bin (0.01 as in TuneMC).
    """

    name = "chi2"
    upper_bound = 1e3  # told for failed points before any success: a chi2/bin far above any fit
    uses_full_reference = True
    agreement_value = 1.0  # chi-square per bin of two samples of one distribution
    # chi2/bin runs from ~1 to hundreds: the optimiser models its log (advopt/tuner.py)
    models_log = True

    def __init__(self, bins: int = 20, edges: Mapping[str, Sequence[float]] | None = None,
                 weights: Mapping[str, float] | str | Path | None = None, relative_floor: float = 0.01):
        if not isinstance(bins, int) or bins < 2:
            raise ValueError(f"divergence.bins: need an integer >= 2, got {bins!r}")
        if not (isinstance(relative_floor, (int, float)) and 0 <= relative_floor < 1):
            raise ValueError(f"divergence.relative_floor: must be in [0, 1), got {relative_floor!r}")
        self.bins = bins
        self.edges = {str(k): _checked_edges(k, v) for k, v in (edges or {}).items()}
        self.weights = read_weights_file(weights) if isinstance(weights, (str, Path)) else dict(weights or {})
        self.relative_floor = float(relative_floor)
        self._prepared: tuple | None = None

    def prepare(self, reference: np.ndarray, feature_names: Sequence[str] | None) -> None:
        """Fix the binning, the weights and the reference histograms once for a tune."""
        if (self.edges or self.weights) and feature_names is None:
            raise ValueError("divergence: per-observable edges or weights need a reference with feature names")
        names = list(feature_names) if feature_names is not None else [f"f{j}" for j in range(reference.shape[1])]
        unknown = sorted(set(self.edges) - set(names))
        if unknown:
            raise ValueError(f"divergence.edges: {unknown} not among the observables {names}")
        edges = [self.edges.get(name, None) for name in names]
        edges = [quantile_edges(reference[:, j], self.bins) if e is None else e for j, e in enumerate(edges)]
        weights = observable_weights(names, self.weights) if self.weights else np.ones(len(names))
        counts = [bin_counts(reference[:, j], e) for j, e in enumerate(edges)]
        self._prepared = (reference, edges, weights, counts)

    def estimate(self, simulated: np.ndarray, reference: np.ndarray, seed: int) -> DivergenceEstimate:
        if self._prepared is None or self._prepared[0] is not reference:
            # used on its own (not inside tune): bin this reference; names are unknown here
            self.prepare(reference, None)
        _, edges, weights, ref_counts = self._prepared
        if simulated.shape[1] != len(edges):
            raise ValueError(f"simulated events have {simulated.shape[1]} features, the reference {len(edges)}")
        if len(simulated) == 0:
            raise ValueError("no simulated events to histogram")
        chi2, n_bins, variance = np.zeros(len(edges)), np.zeros(len(edges)), np.zeros(len(edges))
        for j, (e, ref) in enumerate(zip(edges, ref_counts)):
            per_bin = self._chi2_terms(bin_counts(simulated[:, j], e), ref)
            chi2[j], n_bins[j] = per_bin.sum(), per_bin.size
            # noncentral chi-square with (bins - 1) degrees of freedom (histograms are normalised)
            dof = max(per_bin.size - 1, 1)
            variance[j] = 2.0 * dof + 4.0 * max(chi2[j] - dof, 0.0)
        total_weight = float(np.sum(weights * n_bins))
        value = float(np.sum(weights * chi2) / total_weight)
        stderr = float(np.sqrt(np.sum(weights**2 * variance)) / total_weight)
        details = {"n_bins": int(n_bins[weights > 0].sum()), "chi2": float(np.sum(weights * chi2))}
        return DivergenceEstimate(value, stderr, len(simulated), details)

    def fisher_information(self, hessian: np.ndarray, n_simulated: int, n_reference: int) -> np.ndarray:
        """Per-event Fisher information from the curvature of chi2/bin around its minimum.

        Near the optimum E[chi2(theta)] - chi2_min ~ N_eff theta' I_binned theta with
        1/N_eff = 1/N_sim + 1/N_ref, so I = H * W / 2 * (1/N_sim + 1/N_ref), W the summed
        bin weights (the number of bins when every weight is 1). The floor
        and correlated observables make this an approximation: the second overstates the
        information when observables repeat each other.
        """
        return np.asarray(hessian) * self._total_weight() / 2.0 * (1.0 / n_simulated + 1.0 / n_reference)

    def _chi2_terms(self, sim_counts: np.ndarray, ref_counts: np.ndarray) -> np.ndarray:
        n_sim, n_ref = sim_counts.sum(), ref_counts.sum()
        observed, target = sim_counts / n_sim, ref_counts / n_ref
        variance = sim_counts / n_sim**2 + ref_counts / n_ref**2 + (self.relative_floor * target) ** 2
        used = (sim_counts + ref_counts) > 0
        return (observed[used] - target[used]) ** 2 / variance[used]

    def _total_weight(self) -> float:
        """Sum of the bins' weights: chi2/bin times this is the (weighted) chi2."""
        if self._prepared is None:
            raise RuntimeError("chi2 divergence not prepared with a reference yet")
        _, edges, weights, _ = self._prepared
        return float(sum((e.size + 1) * w for e, w in zip(edges, weights)))

    def __repr__(self) -> str:
        return f"Chi2Divergence(bins={self.bins}, relative_floor={self.relative_floor})"


def _checked_edges(name, values) -> np.ndarray:
    edges = np.asarray(values, dtype=float)
    if edges.ndim != 1 or edges.size < 1 or not np.all(np.isfinite(edges)) or np.any(np.diff(edges) <= 0):
        raise ValueError(f"divergence.edges.{name}: need increasing finite bin edges, got {list(np.ravel(values))}")
    return edges
