"""A tune's result and its 68% intervals, from the optimiser's recommendation.

:func:`make_result` turns the optimiser's recommendation (a point and samples of where the
optimum may lie) into physical parameters, an uncertainty and an interval, adding the
reference sample's own share where the optimiser has a surface and the divergence a Fisher
information.

The reference's share: how far the finite reference sample alone can move the optimum.

The optimiser's own uncertainty (for Bayesian optimisation: where the minimum of the
surrogate lies, over posterior draws) knows only the noise of each evaluation. Every
evaluation is compared with the same reference sample, so that sample's fluctuation moves
the whole surface at once and no number of evaluations averages it away. Asymptotically the
parameters estimated against N_ref reference events scatter with covariance I^-1 / N_ref,
where I is the per-event Fisher information of the observables, and the curvature of the
divergence surface at its minimum measures I:

* a JSD in nats: JSD(theta0 + d) ~ d' I d / 8, so I = 4 H (H the Hessian;
  :func:`advopt.divergence.base.jsd_fisher_information`);
* the chi-square per bin: see :meth:`advopt.divergence.chi2.Chi2Divergence.fisher_information`.

A classifier that has not learnt the whole difference gives a flatter surface, so the
information is underestimated and the interval is wider, not narrower.
"""

from __future__ import annotations

import itertools
import logging
import math
from collections.abc import Callable

import numpy as np

from advopt.assessment import AT_LOWER, AT_UPPER, CONFIDENCE, CONSTRAINED, NOT_CONSTRAINED, assess
from advopt.records.result import TuneResult
from advopt.space import Space

logger = logging.getLogger(__name__)

# Half-width (unit cube) of the neighbourhood whose quadratic fit gives the curvature.
CURVATURE_RADIUS = 0.1


def quadratic_hessian(surface: Callable[[np.ndarray], np.ndarray], centre: np.ndarray,
                      radius: float = CURVATURE_RADIUS, seed: int = 0) -> np.ndarray:
    """Hessian of a least-squares quadratic fitted to ``surface`` around ``centre``.

    ``surface`` maps (n, d) unit-cube points to values (e.g. a GP's posterior mean). The
    neighbourhood is the box centre +- radius, shifted to stay inside the unit cube, so a
    minimum on a boundary still gets a curvature. A fit over a neighbourhood, unlike a
    finite difference, does not follow a surrogate's small wiggles.
    """
    centre = np.asarray(centre, dtype=float)
    dim = centre.size
    lower = np.clip(centre - radius, 0.0, 1.0 - 2 * radius)
    rng = np.random.default_rng(seed)
    n_terms = 1 + dim + dim * (dim + 1) // 2
    points = lower + 2 * radius * rng.random((max(8 * n_terms, 64), dim))
    offsets = points - centre
    pairs = list(itertools.combinations_with_replacement(range(dim), 2))
    design = np.column_stack([np.ones(len(points)), offsets] + [offsets[:, i] * offsets[:, j] for i, j in pairs])
    coefficients, *_ = np.linalg.lstsq(design, surface(points), rcond=None)
    hessian = np.zeros((dim, dim))
    for (i, j), c in zip(pairs, coefficients[1 + dim:]):
        hessian[i, j] = hessian[j, i] = 2 * c if i == j else c
    return hessian


def reference_covariance(fisher_information: np.ndarray, n_reference: int) -> np.ndarray:
    """Covariance I^-1 / N_ref (unit cube). Directions without positive curvature are not
    constrained by the data: their variance is made huge, so the interval spans the range."""
    values, vectors = np.linalg.eigh(0.5 * (fisher_information + fisher_information.T))
    floor = max(values.max(), 0.0) * 1e-6 or 1e-12
    if np.any(values <= floor):
        logger.info("the divergence surface is flat in %d direction(s): no curvature to bound them",
                    int(np.sum(values <= floor)))
    inverse = vectors @ np.diag(1.0 / np.maximum(values, floor)) @ vectors.T
    return inverse / n_reference


def add_reference_scatter(samples: np.ndarray, covariance: np.ndarray, seed: int, copies: int = 8) -> np.ndarray:
    """Convolve the optimiser's samples of the optimum (unit cube) with the reference's
    Gaussian scatter: each sample is repeated ``copies`` times with a N(0, covariance) shift,
    clipped to the cube."""
    rng = np.random.default_rng(seed)
    repeated = np.repeat(np.atleast_2d(samples), copies, axis=0)
    shifts = rng.multivariate_normal(np.zeros(covariance.shape[0]), covariance, size=len(repeated), method="eigh")
    return np.clip(repeated + shifts, 0.0, 1.0)


def make_result(loop, reference_size: int, seed: int, truth, wall: float) -> TuneResult:
    """The TuneResult of a finished loop (advopt/loop.py): the recommendation in physical
    units, its uncertainty and interval (the optimiser's spread plus the reference's share),
    and the history."""
    space, method = loop.space, loop.method
    common = dict(history=tuple(loop.history), events_used=loop.events_used, budget=loop.budget,
                  reference_size=reference_size, optimizer=method.name, divergence=method.divergence_name, seed=seed,
                  truth=truth, wall_seconds=wall)
    if not any(e.ok for e in loop.history):
        nan = {name: math.nan for name in space.names}
        return TuneResult(nan, math.nan, nan, {n: (math.nan, math.nan) for n in space.names}, **common)
    recommendation = method.recommend()
    common.update(goodness_of_fit=recommendation.goodness_of_fit, fallbacks=recommendation.fallbacks)
    if recommendation.covariance is not None:
        return _assessed_result(space, recommendation, common)
    optimizer_spread = physical_spread(space, centred(recommendation.samples, recommendation.point))
    samples = recommendation.samples
    if recommendation.reference_covariance is not None:  # the reference sample's own share, where the method measured it
        samples = add_reference_scatter(samples, recommendation.reference_covariance, seed=seed)
    samples = centred(samples, recommendation.point)
    uncertainty, interval = physical_spread(space, samples)
    status = interval_status(space, interval)
    collapsed = [name for name in space.names if not interval[name][1] > interval[name][0]]
    if collapsed:  # never an interval of zero width: nothing is known of these beyond the range
        for name in collapsed:
            interval[name], status[name] = (space[name].low, space[name].high), NOT_CONSTRAINED
            uncertainty[name] = 0.5 * (space[name].high - space[name].low)
        common["fallbacks"] += (f"no-spread: the optimiser's samples of the optimum do not spread in {collapsed}; "
                                "their intervals are the whole range",)
    _warn(space, status)
    return TuneResult(space.from_unit(recommendation.point), recommendation.value, uncertainty, interval,
                      optimizer_uncertainty=optimizer_spread[0], parameter_status=status, **common)


def _assessed_result(space: Space, recommendation, common: dict) -> TuneResult:
    """A result from the optimiser's stated covariance (advopt.assessment): Feldman-Cousins
    intervals, the whole range for what the data do not constrain, no draws."""
    assessment = assess(recommendation.unbounded, recommendation.covariance, recommendation.information)
    interval, uncertainty = {}, {}
    for name, (low, high) in zip(space.names, assessment.intervals):
        ends = sorted((space[name].from_unit(float(low)), space[name].from_unit(float(high))))
        interval[name], uncertainty[name] = tuple(ends), 0.5 * (ends[1] - ends[0])
    status = dict(zip(space.names, assessment.status))
    directions = tuple({name: float(c) for name, c in zip(space.names, direction)}
                       for direction in assessment.unconstrained_directions)
    _warn(space, status)
    return TuneResult(space.from_unit(recommendation.point), recommendation.value, uncertainty, interval,
                      parameter_status=status, unconstrained_directions=directions, **common)


def interval_status(space: Space, interval: dict[str, tuple[float, float]]) -> dict[str, str]:
    """Per parameter, from an interval alone (routes without a covariance): at a bound when
    the interval reaches it; not constrained when it spans at least the central 68% of the
    range, what the range alone would give; constrained otherwise."""
    status = {}
    for name in space.names:
        low, high = (space[name].to_unit(v) for v in interval[name])
        if high - low >= CONFIDENCE:
            status[name] = NOT_CONSTRAINED
        else:
            status[name] = AT_LOWER if low <= 1e-9 else AT_UPPER if high >= 1 - 1e-9 else CONSTRAINED
    return status


def _warn(space: Space, status: dict[str, str]) -> None:
    """Log the parameters at a bound or not constrained (the result and its summary say it too)."""
    for name, label in status.items():
        if label in (AT_LOWER, AT_UPPER):
            logger.warning("%s is %s of its range: its interval is one-sided (Feldman-Cousins); widen the range to "
                           "see where the data point", name, label)
        elif label == NOT_CONSTRAINED:
            logger.warning("%s is not constrained by the data: its interval is its whole range", name)


def centred(unit_samples: np.ndarray, point: np.ndarray) -> np.ndarray:
    """The samples shifted so that their median is the recommended point (unit cube).

    The recommendation is the posterior mean's minimum among evaluated points, the samples
    the minima of posterior draws over more candidates; their medians differ a little, and
    an interval that excludes the value it belongs to would mislead. The shift keeps the
    spread and its asymmetry."""
    shift = np.asarray(point, dtype=float) - np.median(unit_samples, axis=0)
    return np.clip(unit_samples + shift, 0.0, 1.0)


def physical_spread(space: Space, unit_samples: np.ndarray) -> tuple[dict[str, float], dict[str, tuple[float, float]]]:
    """Per parameter, in physical units: the central 68% interval of the samples and half
    its width as the uncertainty (the sd for a Gaussian; unlike the sd, not blown up by
    the few far draws that posterior minima of a flat surface produce)."""
    draws = np.array([[space.from_unit(s)[n] for n in space.names] for s in unit_samples])
    low, high = np.percentile(draws, [15.865, 84.135], axis=0)
    uncertainty = dict(zip(space.names, (0.5 * (high - low)).tolist()))
    return uncertainty, {name: (float(lo), float(hi)) for name, lo, hi in zip(space.names, low, high)}
