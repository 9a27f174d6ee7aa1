"""Which moment fit to keep: the candidate fits of the pooled estimator (kernel widths, polynomials,
curved local models) solved per cross-fitting fold, the covariance of the folds' average, and
Lepski's rule that picks among them (:mod:`advopt.pooled.moments` holds the models themselves)."""

from __future__ import annotations

import numpy as np

from advopt.pooled.design import kernel_weights
from advopt.pooled.moments import (AIC_CROSS_TERMS_DIM, CURVATURE_DIM, fit_moment_model, solve_moments,
                                   supported_degrees, supports)


def widest_consistent(solutions: list) -> tuple | None:
    """The kernel width and polynomial to trust (Lepski's rule): going through the candidates
    in order (least biased first, see :func:`candidate_solutions`), one is kept while its
    solution agrees with every one kept before within 2 sd of that one's simulation share
    (the reference is the same for all, so its noise cancels in the difference); of those
    kept, the one with the least simulation share is returned. A wide kernel averages more
    points, but where the polynomial no longer holds it moves the solution: that move, not
    the residuals alone, is what shows the bias."""
    accepted = []
    for solution in (s for s in solutions if s is not None):
        consistent = all(np.all(np.abs(solution[1] - narrower[1]) <= 2 * np.sqrt(np.diag(narrower[4])))
                         for narrower in accepted)
        if not consistent:
            break
        accepted.append(solution)
    if not accepted:
        return None
    return min(accepted, key=lambda solution: solution[0])


def folds_covariance(fits: list, joint_reference_cov: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Covariance of the folds' average, as (reference part, simulation part): the first
    through both folds' gains with the joint covariance of their summaries over the same
    reference events (:func:`joint_reference_covariance`); the simulation parts, from
    disjoint events, add independently."""
    gains = [fit.gain for fit, _ in fits]
    stacked_gain = np.hstack(gains) / len(fits)
    reference_part = stacked_gain @ joint_reference_cov @ stacked_gain.T
    simulation_part = sum(gain @ model.prediction_cov(fit.point) @ gain.T for (fit, model), gain in zip(fits, gains))
    symmetric = lambda c: 0.5 * (c + c.T)  # noqa: E731
    return symmetric(reference_part), symmetric(simulation_part / len(fits)**2)


def joint_reference_covariance(moments: list[dict]) -> np.ndarray:
    """Covariance of every fold's summary means over the same reference events, stacked fold by fold."""
    joint = np.cov(np.hstack([m["reference"] for m in moments]), rowvar=False) / len(moments[0]["reference"])
    return np.atleast_2d(joint)


def candidate_solutions(points: np.ndarray, moments: list[dict], centre: np.ndarray, widths: list[np.ndarray],
                        joint_reference_cov: np.ndarray | None = None) -> list:
    """The solutions :func:`widest_consistent` reads, in its order: above 4 dimensions, first
    the full quadratic (cross terms included) at each kernel width, narrow to wide, where
    the points support it; then the polynomial AIC picks at each width. Every candidate
    after the first must agree with those before it, so the simpler polynomials are kept
    only where they agree with the full ones. Why: with 20 Pythia parameters, AIC's diagonal
    model at the widest kernel ended 4-5 sd from the truth against independent references
    (the cross terms it leaves out alias into its intercept where the kernel takes in
    earlier rounds' points; it misfit the truth's summary mean by chi2/k = 8.5), the full one
    within 2.2 of its sd. Up to 4 dimensions AIC weighs the cross terms itself (a separate
    check there made smeared decay's resolution at 2x worse on one seed in three).
    From ``CURVATURE_DIM`` parameters on, between the two: at each width a local linear model
    with the curvature of the quadratic over the widest kernel (:class:`CurvedModel`).
    ``joint_reference_cov``, when given, saves recomputing it from the reference's summaries."""
    joint = joint_reference_covariance(moments) if joint_reference_cov is None else joint_reference_cov
    checks, curved = [], []
    if points.shape[1] > AIC_CROSS_TERMS_DIM:
        checks = [solve_at_width(points, moments, centre, width, "full", joint_reference_cov=joint) for width in widths]
    if points.shape[1] >= CURVATURE_DIM:
        pilots = pilot_models(points, moments, centre, widths[-1])
        if pilots is not None:
            curved = [solve_at_width(points, moments, centre, width, "linear", joint_reference_cov=joint, pilots=pilots)
                      for width in widths]
    return checks + curved + [solve_at_width(points, moments, centre, width, joint_reference_cov=joint) for width in widths]


def pilot_models(points: np.ndarray, moments: list[dict], centre: np.ndarray, width: np.ndarray) -> list | None:
    """Per fold, the quadratic (diagonal or full, by AIC) over the kernel ``width`` whose
    second-order part the curved candidates take as their curvature; None when the points
    within it support neither."""
    weights = kernel_weights(points, centre, width)
    degrees = [d for d in ("diagonal", "full") if supports(points.shape[1], float(weights.sum()), d)]
    if not degrees:
        return None
    return [fit_moment_model(points, m["means"], m["counts"], m["covs"], weights, centre, width, degrees=degrees)
            for m in moments]


def solve_at_width(points: np.ndarray, moments: list[dict], centre: np.ndarray, width: np.ndarray,
                   degree: str | None = None, joint_reference_cov: np.ndarray | None = None, pilots: list | None = None):
    """Fit and solve per fold with one kernel width (and the polynomial ``degree``, or the
    one AIC picks), re-centring (no retraining) until the solution settles. Returns (score,
    centre, fits, reference part, simulation part) with score the simulation's share of the
    variance relative to the reference's, summed over parameters; None when no model can be
    fitted. ``pilots`` (one per fold): the curvature of a :class:`CurvedModel`."""
    fits = None
    for _ in range(4):
        fits = _fold_fits(points, moments, centre, width, degree, pilots)
        if fits is None:
            return None
        new_centre = np.mean([fit.point for fit, _ in fits], axis=0)
        moved = np.abs(new_centre - centre)
        centre = new_centre
        if np.all(moved < 0.05 * width):
            break
    if joint_reference_cov is None:
        joint_reference_cov = joint_reference_covariance(moments)
    reference_cov, simulation_cov = folds_covariance(fits, joint_reference_cov)
    score = float(np.sum(np.diag(simulation_cov) / np.maximum(np.diag(reference_cov), 1e-300)))
    return score, centre, fits, reference_cov, simulation_cov


def _fold_fits(points, moments, centre, width, degree=None, pilots=None):
    """The moment model and its solution for each fold; None when no model can be fitted
    (a given ``degree``: when the points within this width do not support it)."""
    weights = kernel_weights(points, centre, width)
    if degree is not None and not supports(points.shape[1], float(weights.sum()), degree):
        return None
    while not supported_degrees(points.shape[1], float(weights.sum())):  # too few points nearby: widen
        if np.all(width > 2.0):
            return None
        width = width * 1.5
        weights = kernel_weights(points, centre, width)
    fits = []
    for fold, m in enumerate(moments):
        model = fit_moment_model(points, m["means"], m["counts"], m["covs"], weights, centre, width,
                                 degrees=None if degree is None else [degree],
                                 pilot=None if pilots is None else pilots[fold])
        fits.append((solve_moments(model, m["reference_mean"], m["reference_cov"], centre), model))
    return fits
