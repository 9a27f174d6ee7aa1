"""A model of every bin's mean in the parameters, and the chi-square it gives against data.

Each bin's value at a parameter point is a mean over events, so points simulated around an
estimate give noisy measurements of a smooth function. Per bin, a polynomial in the unit
cube (centred on the region, scaled to it) is fitted by weighted least squares, each point
weighted by the inverse of its simulation variance: the bin's per-event variance, pooled
over the points (a bin empty at one point still has its variance known from the others),
over that point's events. The coefficients' covariance, scaled up by the fit's own
chi-square per degree of freedom where the polynomial does not describe the bin in the
region, gives the model's error at any point, which joins the data's error in the
chi-square of the data against the model (Professor's approach with a local, not global,
polynomial).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np
from scipy import optimize
from sklearn.preprocessing import PolynomialFeatures

from advopt.pooled.moments import BOX_INFORMATION


def n_terms(dim: int, degree: int) -> int:
    return len(_powers(dim, degree))


@functools.lru_cache(maxsize=None)
def _powers(dim: int, degree: int) -> np.ndarray:
    """The exponents of every term, in scikit-learn's order (terms, dim); computed once:
    building PolynomialFeatures per call cost more than the chi-square it served."""
    powers = PolynomialFeatures(degree).fit(np.zeros((1, dim))).powers_
    powers.setflags(write=False)
    return powers


@dataclass(frozen=True)
class BinModel:
    """Per-bin polynomials over a region: ``centre`` and ``half_width`` (unit cube) map the
    region onto [-1, 1]^d; ``coefficients`` (terms, bins); ``coefficient_covariance`` (bins,
    terms, terms), already scaled by ``misfit`` (per bin, >= 1)."""

    centre: np.ndarray
    half_width: np.ndarray
    degree: int
    coefficients: np.ndarray
    coefficient_covariance: np.ndarray
    misfit: np.ndarray

    def features(self, u: np.ndarray) -> np.ndarray:
        """The polynomial terms at points ``u`` (n, dim) -> (n, terms)."""
        z = (np.atleast_2d(u) - self.centre) / self.half_width
        return np.prod(z[:, None, :] ** _powers(z.shape[1], self.degree)[None], axis=2)

    def predict(self, u: np.ndarray) -> np.ndarray:
        """Bin values at points ``u`` (n, dim) -> (n, bins)."""
        return self.features(u) @ self.coefficients

    def feature_jacobian(self, u: np.ndarray) -> np.ndarray:
        """d features / d u at one point -> (terms, dim)."""
        z = (np.asarray(u, dtype=float) - self.centre) / self.half_width
        powers = _powers(len(z), self.degree)  # (terms, dim)
        out = np.zeros(powers.shape)
        for k in range(len(z)):
            lowered = powers.copy()
            lowered[:, k] = np.maximum(lowered[:, k] - 1, 0)
            out[:, k] = powers[:, k] * np.prod(z[None, :] ** lowered, axis=1) / self.half_width[k]
        return out

    def jacobian(self, u: np.ndarray) -> np.ndarray:
        """d bin value / d u at one point -> (bins, dim)."""
        return (self.feature_jacobian(u).T @ self.coefficients).T

    def jacobian_covariance(self, u: np.ndarray) -> np.ndarray:
        """The covariance of each bin's slopes from the coefficients' -> (bins, dim, dim)."""
        d = self.feature_jacobian(u)
        return np.einsum("ik,bij,jl->bkl", d, self.coefficient_covariance, d)

    def variance(self, u: np.ndarray) -> np.ndarray:
        """The model's variance of each bin's value at ``u`` (one point) -> (bins,)."""
        x = self.features(u)[0]
        return np.einsum("i,bij,j->b", x, self.coefficient_covariance, x)


@dataclass(frozen=True)
class AnchoredModel(BinModel):
    """A model whose value at ``anchor`` is a measured one (``measured``, of variance
    ``anchor_variance``): the polynomial shifted by the difference there, so that it keeps
    its slopes and curvature and the measurement gives its level (a Gauss-Newton step from a
    simulated point). Its variance is the measurement's plus the polynomial's variance of the
    difference between ``u`` and the anchor: small near the anchor, whatever the
    polynomial's noise at it."""

    anchor: np.ndarray = field(default_factory=lambda: np.empty(0))
    anchor_variance: np.ndarray = field(default_factory=lambda: np.empty(0))
    shift: np.ndarray = field(default_factory=lambda: np.empty(0))  # measured - the polynomial's value, at the anchor

    @classmethod
    def at(cls, model: BinModel, anchor: np.ndarray, measured: np.ndarray, variance: np.ndarray) -> "AnchoredModel":
        shift = measured - model.predict(anchor)[0]
        coefficients = model.coefficients.copy()
        coefficients[0] += shift  # term 0 is the constant (scikit-learn's order)
        return cls(model.centre, model.half_width, model.degree, coefficients, model.coefficient_covariance,
                   model.misfit, np.asarray(anchor, dtype=float), np.asarray(variance, dtype=float), shift)

    def variance(self, u: np.ndarray) -> np.ndarray:
        x = self.features(u)[0] - self.features(self.anchor)[0]
        return self.anchor_variance + np.einsum("i,bij,j->b", x, self.coefficient_covariance, x)


def fit_bins(points: np.ndarray, means: np.ndarray, per_event_variance: np.ndarray, n_events: np.ndarray,
             centre: np.ndarray, half_width: np.ndarray, degree: int = 2) -> BinModel:
    """Weighted least squares per bin. ``points`` (n, dim) in the unit cube, ``means`` (n,
    bins) the simulated values, ``per_event_variance`` (n, bins) the events' variance of each
    bin's fill, ``n_events`` (n, bins) the events each bin's value is a mean over."""
    n_events = np.broadcast_to(np.asarray(n_events, dtype=float).reshape(len(points), -1), means.shape)
    pooled = np.sum(per_event_variance * n_events, axis=0) / n_events.sum(axis=0)
    floor = 1e-12 * max(float(np.max(np.abs(means))), 1e-300)
    model = BinModel(centre, half_width, degree, np.empty(0), np.empty(0), np.empty(0))
    x = model.features(points)  # (n, terms)
    n, terms = x.shape
    if n <= terms:
        raise ValueError(f"a degree-{degree} model in {points.shape[1]} parameters needs more than {terms} points, got {n}")
    bins = means.shape[1]
    coefficients = np.empty((terms, bins))
    covariance = np.empty((bins, terms, terms))
    misfit = np.empty(bins)
    scale = np.maximum(pooled, floor)  # a bin's weights are n_events / scale: one solve per n_events column
    groups: dict[bytes, list[int]] = {}
    for b in range(bins):
        groups.setdefault(np.ascontiguousarray(n_events[:, b]).tobytes(), []).append(b)
    for members in groups.values():
        root = np.sqrt(n_events[:, members[0]])
        xw, yw = x * root[:, None], means[:, members] * root[:, None]
        coef, *_ = np.linalg.lstsq(xw, yw, rcond=None)
        residual = np.sum((yw - xw @ coef) ** 2, axis=0) / scale[members] / (n - terms)
        misfit[members] = np.maximum(1.0, residual)
        coefficients[:, members] = coef
        covariance[members] = np.linalg.pinv(xw.T @ xw)[None] * (scale[members] * misfit[members])[:, None, None]
    return BinModel(centre, half_width, degree, coefficients, covariance, misfit)


@dataclass(frozen=True)
class Chi2Fit:
    """The minimum of the data's chi-square against the model, inside ``low``..``high``
    (unit cube): the point, its chi-square, and the Hessian there (unit cube)."""

    point: np.ndarray
    chi2: float
    hessian: np.ndarray
    gradient: np.ndarray
    information: np.ndarray


def chi2_terms(model: BinModel, u: np.ndarray, data: np.ndarray, data_variance: np.ndarray, weights: np.ndarray,
               model_variance: np.ndarray) -> np.ndarray:
    return weights * (data - model.predict(u)[0]) ** 2 / (data_variance + model_variance)


def minimise_chi2(model: BinModel, data: np.ndarray, data_variance: np.ndarray, weights: np.ndarray,
                  low: np.ndarray, high: np.ndarray, starts: np.ndarray) -> Chi2Fit:
    """Minimise sum_b w_b (D_b - f_b(u))^2 / (sigma_b^2 + var_b) over the box [low, high]:
    the model's variance var_b is held at its value at the best start, then at the minimum
    found, and the minimisation repeated once (a variance that moved with u would pull the
    minimum towards where the model knows least)."""
    bounds = list(zip(low, high))

    def best_of(model_variance, starts):
        def value(u):
            return float(np.sum(chi2_terms(model, u, data, data_variance, weights, model_variance)))

        def value_and_gradient(u):
            residual = data - model.predict(u)[0]
            pull = weights * residual / (data_variance + model_variance)
            return float(np.sum(pull * residual)), -2.0 * model.jacobian(u).T @ pull

        found = [optimize.minimize(value_and_gradient, s, jac=True, method="L-BFGS-B", bounds=bounds) for s in starts]
        return min(found, key=lambda r: r.fun), value

    values = [float(np.sum(chi2_terms(model, s, data, data_variance, weights, model.variance(s)))) for s in starts]
    first = starts[int(np.argmin(values))]
    result, _ = best_of(model.variance(first), starts)
    model_variance = model.variance(result.x)
    result, value = best_of(model_variance, np.vstack([result.x, starts]))
    hessian, gradient = _derivatives(value, result.x)
    return Chi2Fit(result.x, float(result.fun), hessian, gradient,
                   information(model, result.x, weights / (data_variance + model_variance)))


def information(model: BinModel, u: np.ndarray, inverse_variance: np.ndarray) -> np.ndarray:
    """The data's information on u: sum_b J_b J_b' / var_b less what the slopes' own noise
    adds to it (E[J J'] = J J' + Cov J), so that a parameter the bins do not respond to
    carries none on average instead of the curvature a polynomial fitted to noise gives it.
    Then every eigen-direction whose information does not exceed the box's own (12) by two
    standard deviations of that noise (a sum of w_b (v'J_b)^2, each term a scaled chi-square
    of one degree of freedom when the bins do not respond to v) is set to none: noise can
    lift a direction without effect above 12, and it would then be called constrained."""
    jac = model.jacobian(u)
    noise = inverse_variance[:, None, None] * model.jacobian_covariance(u)
    raw = np.einsum("b,bk,bl->kl", inverse_variance, jac, jac) - noise.sum(axis=0)
    values, vectors = np.linalg.eigh(0.5 * (raw + raw.T))
    spread = np.sqrt(2.0 * np.sum(np.einsum("kv,bkl,lv->bv", vectors, noise, vectors) ** 2, axis=0))
    values = np.where(values > BOX_INFORMATION + 2.0 * spread, values, 0.0)
    return (vectors * values) @ vectors.T


def _derivatives(function, x: np.ndarray, step: float = 1e-3) -> tuple[np.ndarray, np.ndarray]:
    """Central-difference gradient and Hessian of a smooth (here: polynomial) function."""
    dim = len(x)
    hessian = np.empty((dim, dim))
    gradient = np.empty(dim)
    f0 = function(x)
    eye = np.eye(dim) * step
    for i in range(dim):
        fp, fm = function(x + eye[i]), function(x - eye[i])
        gradient[i] = (fp - fm) / (2 * step)
        hessian[i, i] = (fp - 2 * f0 + fm) / step**2
        for j in range(i):
            value = (function(x + eye[i] + eye[j]) - function(x + eye[i] - eye[j])
                     - function(x - eye[i] + eye[j]) + function(x - eye[i] - eye[j])) / (4 * step**2)
            hessian[i, j] = hessian[j, i] = value
    return hessian, gradient
