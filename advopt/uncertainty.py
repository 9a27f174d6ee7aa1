"""The statistical part of a tune's parameter uncertainty: how far the finite reference sample
alone can move the optimum.

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
from collections.abc import Callable

import numpy as np

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
