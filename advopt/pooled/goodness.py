"""The goodness of fit of a pooled tune: can the simulator describe the reference at all?

The pooled fit matches as many learnt summaries as there are parameters, so it is exactly
determined and says nothing of misfit: any reference, even one no parameter point can
produce, is "matched". The test here is an over-identified moment fit of fixed, physical
summaries of the observables: each one's mean (standardised on the reference) and the
fraction of events below each of its reference quartiles (the quartile fractions see shape,
a second peak or a tail, that means and widths miss). With k such summaries and p
parameters, Hansen's J statistic

    J = min_u (t_ref - m(u))' (V_ref + V_model(u))^-1 (t_ref - m(u))

is chi-square with k - p degrees of freedom when some u describes the reference, m(u) the
local moment model of the summaries' means (:mod:`advopt.pooled.moments`) fitted over the
same points and kernel width as the kept pooled fit (the richest polynomial they support), V_ref the covariance of the reference's
summary means and V_model the model's prediction noise. A small p-value says that no point
near the estimate reproduces the reference's observables: the simulator (or the tuned
space) cannot describe the data, and the fit's intervals are statistical only.

The same fit gives a second estimate of the parameters, from the observables alone. Where the
model describes the data, the pooled estimate and this one differ by no more than their
errors allow: along the directions the data constrain, (u - u_obs)' (V_u + V_obs)^-1
(u - u_obs) is at most chi-square with as many degrees of freedom (at most, as both come from
the same reference and their errors correlate positively). A small p-value says that the
observables point elsewhere than the estimate, beyond both intervals: the learnt summaries
miss information the observables carry, or the intervals are too narrow.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from scipy import stats

from advopt.binning import quantile_edges
from advopt.pooled.design import kernel_weights
from advopt.pooled.moments import BOX_INFORMATION, fit_moment_model, solve_moments, supported_degrees

# The summaries' covariance is estimated per point and held for every point: at most this
# many summaries (quartile fractions are dropped first, then medians only), so that a
# 2,000-event point still estimates its k x k covariance and memory stays bounded.
MAX_SUMMARIES = 64
# Eigenvalues of the noise's correlation matrix below this share of the largest are
# collinear summaries (a quartile fraction of a discrete observable repeating another).
_RANK_TOLERANCE = 1e-9


@dataclass(frozen=True)
class GoodnessOfFit:
    """Hansen's J over the observables' summaries: ``chi2`` with ``dof`` degrees of freedom,
    its ``p_value``, and what the summaries were (``summaries``, in words). ``dof`` <= 0
    means there were not more independent summaries than parameters: no test."""

    chi2: float
    dof: int
    p_value: float
    summaries: str
    agreement: tuple[float, int, float] = (float("nan"), 0, float("nan"))  # (chi2, dof, p) of the two estimates

    @property
    def tested(self) -> bool:
        return self.dof > 0

    def to_dict(self) -> dict:
        chi2, dof, p_value = self.agreement
        return {"chi2": self.chi2, "dof": self.dof, "p_value": self.p_value, "summaries": self.summaries,
                "agreement_chi2": chi2, "agreement_dof": dof, "agreement_p_value": p_value}


class ObservableSummaries:
    """Per event: the observables standardised on the reference, and the indicators of
    falling below each of their reference quantiles (quartiles; medians or none when the
    observables are many, see ``MAX_SUMMARIES``). Observables constant on the reference
    carry nothing and are left out."""

    def __init__(self, reference: np.ndarray):
        reference = np.asarray(reference, dtype=np.float64)
        scale = reference.std(axis=0)
        self._columns = np.flatnonzero(scale > 0)
        self._mean, self._scale = reference.mean(axis=0)[self._columns], scale[self._columns]
        d = len(self._columns)
        quantiles = 4 if 4 * d <= MAX_SUMMARIES else 2 if 2 * d <= MAX_SUMMARIES else 0
        self._thresholds = [_informative_edges(reference[:, j], quantiles) for j in self._columns]
        fractions = {4: "fractions below each quartile", 2: "fractions below each median", 0: ""}[quantiles]
        self.description = f"{d} observables' means" + (f" and {fractions}" if fractions else "")

    def __call__(self, events: np.ndarray) -> np.ndarray:
        x = np.asarray(events, dtype=np.float64)[:, self._columns]
        columns = [(x - self._mean) / self._scale]
        columns += [(x[:, [j]] < edges[None, :]).astype(np.float64)
                    for j, edges in enumerate(self._thresholds) if len(edges)]
        return np.hstack(columns)


def _informative_edges(values: np.ndarray, quantiles: int) -> np.ndarray:
    """The reference's ``quantiles``-quantiles of one observable whose fractions below are
    neither 0 nor 1 nor repeated (a discrete observable's edges collapse onto few values)."""
    if not quantiles:
        return np.empty(0)
    edges = quantile_edges(values, quantiles)
    fractions = np.mean(values[:, None] < edges[None, :], axis=0)
    _, first = np.unique(fractions, return_index=True)
    keep = np.zeros(len(edges), dtype=bool)
    keep[first] = True
    return edges[keep & (fractions > 0) & (fractions < 1)]


def _moments(summaries: np.ndarray) -> tuple[np.ndarray, float, np.ndarray]:
    return summaries.mean(axis=0), float(len(summaries)), np.atleast_2d(np.cov(summaries, rowvar=False))


def goodness_of_fit(points: np.ndarray, events: list[np.ndarray], reference: np.ndarray, centre: np.ndarray,
                    width: np.ndarray, covariance: np.ndarray | None = None,
                    information: np.ndarray | None = None) -> GoodnessOfFit:
    """Hansen's J of the observables' summaries (module docstring): the moment model over
    ``points`` (unit cube; ``events`` each point's sample) with Gaussian kernel ``width``
    around ``centre`` (the kept pooled fit's), solved from ``centre``. With the estimate's
    ``covariance`` and ``information`` (unit cube), also its agreement with the observables' own fit."""
    transform = ObservableSummaries(reference)
    reference_summaries = transform(reference)
    reference_mean = reference_summaries.mean(axis=0)
    reference_cov = np.atleast_2d(np.cov(reference_summaries, rowvar=False)) / len(reference_summaries)
    weights = kernel_weights(points, centre, width)
    near = weights > 1e-3  # the rest carry no weight in the fit: not summarised
    rows = [_moments(transform(sample)) for sample in (events[j] for j in np.flatnonzero(near))]
    means, counts, covs = (np.array(column) for column in zip(*rows))
    # The richest polynomial the points support, cross terms at any dimension: a model's bias
    # inflates J as a misfit would, its noise is in V_model. (A linear model over a curved
    # response: mean J 3.7 for 3 degrees of freedom; the degenerate toy's ridge without cross
    # terms: 2 of 10 correct-model p-values below 0.01, with them none.)
    degrees = supported_degrees(points.shape[1], float(weights.sum()), cross_terms_up_to=points.shape[1])[-1:]
    model = fit_moment_model(points[near], means, counts, covs, weights[near], centre, width, degrees=degrees) if degrees else None
    if model is None:
        return GoodnessOfFit(float("nan"), 0, float("nan"), transform.description)
    fit = solve_moments(model, reference_mean, reference_cov, centre)
    noise = reference_cov + model.prediction_cov(fit.point)
    dof = _rank(noise) - points.shape[1]
    p_value = float(stats.chi2.sf(fit.chi2, dof)) if dof > 0 else float("nan")
    found = GoodnessOfFit(float(fit.chi2), int(dof), p_value, transform.description)
    if covariance is None or information is None or dof <= 0:
        return found
    return replace(found, agreement=_agreement(centre, covariance, information, fit.point, fit.gain @ noise @ fit.gain.T))


def _agreement(estimate, covariance, information, other, other_covariance) -> tuple[float, int, float]:
    """(chi2, dof, p) of two estimates' difference along the directions ``information``
    constrains (eigenvalues of at least the box's 12), in their summed covariance."""
    values, vectors = np.linalg.eigh(0.5 * (information + information.T))
    basis = vectors[:, values >= BOX_INFORMATION]
    if basis.shape[1] == 0:
        return float("nan"), 0, float("nan")
    difference = basis.T @ (np.asarray(estimate) - other)
    chi2 = float(difference @ np.linalg.pinv(basis.T @ (covariance + other_covariance) @ basis) @ difference)
    return chi2, basis.shape[1], float(stats.chi2.sf(chi2, basis.shape[1]))


def _rank(covariance: np.ndarray) -> int:
    """The number of independent summaries: the rank of the correlation matrix."""
    sd = np.sqrt(np.clip(np.diag(covariance), 0.0, None))
    keep = sd > 0
    correlation = covariance[np.ix_(keep, keep)] / np.outer(sd[keep], sd[keep])
    values = np.linalg.eigvalsh(correlation)
    return int(np.sum(values > _RANK_TOLERANCE * values.max()))
