"""What a fit with a covariance says of each parameter: its 68% interval, whether the data
constrain it, and whether it sits at a bound of its range.

Used for optimisers that state a Gaussian covariance of their estimate (the pooled
estimator), in the unit cube where the range of every parameter is [0, 1]:

* **Not constrained.** The prior range itself is information: a uniform box has variance
  1/12, information 12. Every eigen-direction of the data's information below the box's is
  not constrained by the data, and named as a combination of parameters (a ridge: two
  parameters that move the observables alike); a parameter that lies in such directions
  is not constrained (its interval is the whole range), or constrained only in combination
  when it lies partly in them. A parameter whose variance exceeds the box's is not
  constrained either.
* **Bounds.** A Gaussian estimate x ~ N(mu, sigma^2) of a parameter confined to [0, 1] gets the
  Feldman-Cousins interval (likelihood-ratio ordering, Phys. Rev. D 57, 3873): central
  (x +- sigma) far from the bounds, one-sided at a bound, with 68% coverage for every
  mu in the range, the bounds included. x is the estimate before the cube's bounds were
  imposed (a solution held on a bound lies beyond it), so no draw is clipped.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import special

BOX_VARIANCE = 1.0 / 12.0  # a uniform distribution over the unit interval
CONFIDENCE = special.erf(1.0 / math.sqrt(2.0))  # 68.27%: one Gaussian sd
# Beyond this many sd from both bounds the Feldman-Cousins interval is the central one (x +- sigma).
_FAR_FROM_BOUNDS = 6.0
_GRID = 1201  # points of the mu and x grids of the Feldman-Cousins construction

CONSTRAINED, NOT_CONSTRAINED, AT_LOWER, AT_UPPER = "constrained", "not constrained", "at lower bound", "at upper bound"
IN_COMBINATION = "constrained only in combination"
# Shares of a parameter's axis (squared) in the unconstrained directions: from MOSTLY on it is
# not constrained; below _HARDLY the share is the noise of the eigenvectors, not a ridge.
MOSTLY, _HARDLY = 0.9, 0.1
_ON_BOUND = 1e-9  # an interval end this close to a bound (unit cube) reaches it


@dataclass(frozen=True)
class Assessment:
    """Unit-cube intervals (dim, 2), a status per parameter, and the unconstrained
    directions (unit vectors in the unit cube, one row each)."""

    intervals: np.ndarray
    status: list[str]
    unconstrained_directions: np.ndarray


def assess(unbounded: np.ndarray, covariance: np.ndarray, information: np.ndarray | None = None) -> Assessment:
    """Intervals and statuses from an estimate (before bounds, unit cube), its covariance and,
    where the fit states it, the information the data carry (unit cube; its eigen-directions
    below the box's 12 are the unconstrained ones). A parameter whose axis lies almost wholly
    (``MOSTLY`` of its square) in unconstrained directions is not constrained; one partly in
    them is constrained only in combination, and its variance gains the box's own variance
    (1/12) along them; one hardly in them (less than ``_HARDLY``) keeps the fit's variance:
    a small component there is the slopes' noise mixing into an eigenvector."""
    unbounded = np.asarray(unbounded, dtype=float)
    covariance = 0.5 * (covariance + covariance.T)
    variances = np.diag(covariance).copy()
    flat = np.empty((0, len(unbounded)))
    if information is not None and np.all(np.isfinite(information)):
        values, vectors = np.linalg.eigh(0.5 * (information + information.T))
        flat = vectors[:, values < 1.0 / BOX_VARIANCE].T
    share = np.sum(flat**2, axis=0)  # of each parameter's axis in the unconstrained directions
    partly = (share >= _HARDLY) & (share < MOSTLY)
    variances[partly] += share[partly] * BOX_VARIANCE
    intervals, status = np.empty((len(unbounded), 2)), []
    for i, (x, variance) in enumerate(zip(unbounded, variances)):
        if not variance <= BOX_VARIANCE or share[i] >= MOSTLY:  # NaN too: nothing known
            intervals[i], label = (0.0, 1.0), NOT_CONSTRAINED
        else:
            intervals[i] = feldman_cousins(x, math.sqrt(max(variance, 1e-300)))
            label = (AT_LOWER if intervals[i, 0] <= _ON_BOUND else AT_UPPER if intervals[i, 1] >= 1.0 - _ON_BOUND
                     else IN_COMBINATION if partly[i] else CONSTRAINED)
        status.append(label)
    if information is None:  # the covariance's own wide directions
        values, vectors = np.linalg.eigh(covariance)
        flat = vectors[:, values > BOX_VARIANCE].T
    return Assessment(intervals, status, _combinations(flat, [label == NOT_CONSTRAINED for label in status]))


def _combinations(flat: np.ndarray, alone: list[bool]) -> np.ndarray:
    """The unconstrained directions that are combinations: the span of ``flat`` (rows) with
    the axes of the parameters already not constrained on their own taken out."""
    reduced = flat.copy()
    reduced[:, np.asarray(alone, dtype=bool)] = 0.0
    if reduced.size == 0:
        return reduced
    _, singular, directions = np.linalg.svd(reduced, full_matrices=False)
    kept = directions[singular > 0.5]  # what is left of a direction once those axes are out: most of it
    return kept[np.sum(np.abs(kept) >= 0.1, axis=1) > 1]


def feldman_cousins(x: float, sigma: float, low: float = 0.0, high: float = 1.0) -> tuple[float, float]:
    """The 68.27% Feldman-Cousins interval for mu in [low, high] from one Gaussian
    measurement x ~ N(mu, sigma^2). x may lie outside [low, high]; sigma > 0."""
    if sigma <= 0 or not math.isfinite(sigma):
        raise ValueError(f"feldman_cousins: sigma must be positive and finite, got {sigma}")
    if x - _FAR_FROM_BOUNDS * sigma >= low and x + _FAR_FROM_BOUNDS * sigma <= high:
        return x - sigma, x + sigma
    # The mu that can hold x in its acceptance region lie within a few sigma of x (clipped to the range).
    mus = np.linspace(max(low, min(x, high) - _FAR_FROM_BOUNDS * sigma),
                      min(high, max(x, low) + _FAR_FROM_BOUNDS * sigma), _GRID)
    accepted = _acceptance(mus, sigma, low, high)
    inside = mus[(accepted[:, 0] <= x) & (x <= accepted[:, 1])]
    if inside.size == 0:  # x far beyond a bound: the bound and (never a zero width) one sigma inside it
        return (low, low + sigma) if x < low else (high - sigma, high)
    return float(inside.min()), float(inside.max())


def _acceptance(mus: np.ndarray, sigma: float, low: float, high: float) -> np.ndarray:
    """Per mu (rows), the x interval accepted: the x of largest likelihood ratio
    N(x; mu) / N(x; mu_best(x)), mu_best the value in [low, high] nearest x, holding 68.27%."""
    offsets = np.linspace(-_FAR_FROM_BOUNDS, _FAR_FROM_BOUNDS, _GRID) * sigma
    xs = mus[:, None] + offsets[None, :]
    best = np.clip(xs, low, high)
    log_ratio = (-(offsets[None, :]) ** 2 + (xs - best) ** 2) / (2 * sigma**2)
    order = np.argsort(-log_ratio, axis=1, kind="stable")
    density = np.exp(-0.5 * (offsets / sigma) ** 2)
    mass = np.cumsum(density[order], axis=1) / density.sum()
    taken = np.arange(_GRID)[None, :] <= np.argmax(mass >= CONFIDENCE, axis=1)[:, None]
    chosen = np.where(taken, np.take_along_axis(xs, order, axis=1), np.nan)
    return np.column_stack([np.nanmin(chosen, axis=1), np.nanmax(chosen, axis=1)])
