"""The moment model of the pooled estimator: how the mean of the learnt summaries moves with
the parameters, m(u) = E_u[t(x)], and the fit that matches it to the reference's mean.

Each simulated point j gives the mean t_j of the summaries over its held-out events, with
covariance S / n_j (S the covariance of t per event, pooled over the points near the
estimate). Near the current estimate
m(u) is smooth, so a polynomial in u (linear, plus squares, plus cross terms when there are
points enough) fitted by kernel-weighted least squares describes it (in many parameters, a
local linear one plus a wider quadratic's curvature). The estimate solves
t_ref = m(u) in the generalised-least-squares sense; its covariance (delta method) holds
the reference's share (S_ref / N_ref) and the simulation's share (the model's prediction
covariance). Whatever the summaries are, E_u[t] = E_truth[t] holds at the truth, so the fit
is consistent for any t; learnt summaries close to the score make it efficient.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

# Least-squares fits want a few more points than coefficients before they are trusted.
_SPARE_POINTS = 3
# The information of the unit cube itself (a uniform box's variance is 1/12): the least the
# gain assumes in any direction, so the delta method's covariance, and the design spread from
# it, stay within the box. Measured twice on camel at 2x over 10 seeds: without the floor (or
# with the box's information added instead) the early rounds' spreads grow along weakly known
# directions and s1 ends 2.3x the ML limit from the same-reference MLE instead of 1.2-1.35x.
# In such a direction the delta method states a variance that shrinks with the information
# (lambda / 144); what the result reports there comes from ``MomentFit.information`` instead
# (advopt.assessment: the box's variance, or the whole range).
BOX_INFORMATION = 12.0
# AIC weighs cross terms up to this many dimensions; beyond, their number (dim^2 / 2 per
# summary) costs more than AIC lets them gain, and the full quadratic is a separate check.
AIC_CROSS_TERMS_DIM = 4
# A generalised chi-square below this is the solver's rounding, not a misfit.
_ROUNDING_CHI2 = 1e-12
# From this many parameters on, the fit also tries local linear models with a wider fit's
# curvature (CurvedModel); below, histories stay those the Pythia figures were measured with.
CURVATURE_DIM = 7


def polynomial_terms(u: np.ndarray, centre: np.ndarray, scale: np.ndarray, degree: str) -> np.ndarray:
    """Rows of polynomial terms in z = (u - centre) / scale: ``linear`` (1, z), ``diagonal``
    (adds z_i^2) or ``full`` (adds z_i z_k for i < k)."""
    z = (np.atleast_2d(u) - centre) / scale
    columns = [np.ones(len(z)), *z.T]
    if degree in ("diagonal", "full"):
        columns += list((z**2).T)
    if degree == "full":
        columns += [z[:, i] * z[:, k] for i in range(z.shape[1]) for k in range(i + 1, z.shape[1])]
    return np.column_stack(columns)


def polynomial_jacobian(u: np.ndarray, centre: np.ndarray, scale: np.ndarray, degree: str) -> np.ndarray:
    """d terms / d u at one point u, shape (n_terms, dim), in the order of :func:`polynomial_terms`."""
    z = (np.asarray(u, dtype=float) - centre) / scale
    dim = len(z)
    rows = [np.zeros(dim), *np.diag(1.0 / scale)]
    if degree in ("diagonal", "full"):
        rows += list(np.diag(2.0 * z / scale))
    if degree == "full":  # d(z_i z_k) = z_k dz_i + z_i dz_k, pairs in polynomial_terms' order
        first, second = np.triu_indices(dim, 1)
        cross = np.zeros((len(first), dim))
        cross[np.arange(len(first)), first] = z[second] / scale[first]
        cross[np.arange(len(first)), second] = z[first] / scale[second]
        rows += list(cross)
    return np.array(rows)


def n_terms(dim: int, degree: str) -> int:
    return {"linear": 1 + dim, "diagonal": 1 + 2 * dim, "full": 1 + 2 * dim + dim * (dim - 1) // 2}[degree]


def supported_degrees(dim: int, effective_points: float, cross_terms_up_to: int = AIC_CROSS_TERMS_DIM) -> list[str]:
    """The polynomials that ``effective_points`` (kernel-weighted) points support, simplest
    first (cross terms only up to ``cross_terms_up_to`` dimensions: their number grows as dim^2)."""
    return [degree for degree in ("linear", "diagonal", "full")
            if supports(dim, effective_points, degree) and (degree != "full" or dim <= cross_terms_up_to)]


def supports(dim: int, effective_points: float, degree: str) -> bool:
    """Whether ``effective_points`` (kernel-weighted) points are enough to fit ``degree``."""
    return effective_points >= n_terms(dim, degree) + _SPARE_POINTS


@dataclass(frozen=True)
class MomentModel:
    """m(u) = terms(u) @ coef, with the coefficient covariance ``S x design_cov``."""

    coef: np.ndarray  # (n_terms, k)
    design_cov: np.ndarray  # (n_terms, n_terms): (X'WX)^-1 X'W diag(1/n) W X (X'WX)^-1, times the misfit factor
    summary_cov: np.ndarray  # (k, k): S, the covariance of the summaries per event near the centre
    centre: np.ndarray
    scale: np.ndarray
    degree: str

    def predict(self, u: np.ndarray) -> np.ndarray:
        return polynomial_terms(u, self.centre, self.scale, self.degree) @ self.coef

    def prediction_cov(self, u: np.ndarray) -> np.ndarray:
        """Covariance (k, k) of the predicted mean at one point, from the simulated events' noise."""
        x = polynomial_terms(u, self.centre, self.scale, self.degree)[0]
        return float(x @ self.design_cov @ x) * self.summary_cov

    def jacobian(self, u: np.ndarray) -> np.ndarray:
        """d m / d u at one point, shape (k, dim)."""
        return self.coef.T @ polynomial_jacobian(u, self.centre, self.scale, self.degree)

    def jacobian_noise(self, u: np.ndarray) -> np.ndarray:
        """M (dim, dim) with Cov(column a, column b of :meth:`jacobian`) = M[a, b] x S: the
        slopes' noise from the points' finite samples."""
        terms = polynomial_jacobian(u, self.centre, self.scale, self.degree)
        return terms.T @ self.design_cov @ terms

    def second_order(self, u: np.ndarray) -> np.ndarray:
        """The squared and cross terms' part of m at points u (rows), shape (n, k)."""
        return _second_order_terms(self, u) @ self.coef[1 + len(self.centre):]

    def second_order_jacobian(self, u: np.ndarray) -> np.ndarray:
        """d second_order / d u at one point, shape (k, dim)."""
        first = 1 + len(self.centre)
        return self.coef[first:].T @ polynomial_jacobian(u, self.centre, self.scale, self.degree)[first:]


def _second_order_terms(model: MomentModel, u: np.ndarray) -> np.ndarray:
    """The squared and cross terms of ``model``'s polynomial at points u (rows)."""
    return polynomial_terms(u, model.centre, model.scale, model.degree)[:, 1 + len(model.centre):]


@dataclass(frozen=True)
class CurvedModel:
    """A local linear model plus a fixed curvature: m(u) = local(u) + pilot's second-order
    part, the pilot a quadratic fitted over a wider kernel. The local fit then needs no
    squared terms of its own, whose estimates make a quadratic's value at its centre noisy in
    many dimensions (about 1 + dim / 2 times a linear fit's variance), and no longer errs
    by the curvature over its width, as a plain linear fit does (its solution then settles
    short of the truth, towards the earlier rounds' points). The pilot's noise enters
    ``prediction_cov`` through what the local fit does not absorb of it: its second-order
    terms at u less the local linear fit of them over the points."""

    local: MomentModel
    pilot: MomentModel
    absorbed: np.ndarray  # (1 + dim, n_second): the local linear coefficients' response to the pilot's second-order terms
    degree = "linear+curvature"

    @property
    def scale(self) -> np.ndarray:
        """The local fit's kernel width."""
        return self.local.scale

    @property
    def summary_cov(self) -> np.ndarray:
        return self.local.summary_cov

    def predict(self, u: np.ndarray) -> np.ndarray:
        return self.local.predict(u) + self.pilot.second_order(np.atleast_2d(u))

    def prediction_cov(self, u: np.ndarray) -> np.ndarray:
        first = 1 + len(self.pilot.centre)
        linear = polynomial_terms(u, self.local.centre, self.local.scale, "linear")[0]
        left = _second_order_terms(self.pilot, u)[0] - linear @ self.absorbed
        pilot_noise = float(left @ self.pilot.design_cov[first:, first:] @ left)
        return self.local.prediction_cov(u) + pilot_noise * self.local.summary_cov

    def jacobian(self, u: np.ndarray) -> np.ndarray:
        return self.local.jacobian(u) + self.pilot.second_order_jacobian(u)

    def jacobian_noise(self, u: np.ndarray) -> np.ndarray:
        """The local linear slopes' noise (the pilot's curvature adds less at the centre)."""
        return self.local.jacobian_noise(u)


def fit_moment_model(points: np.ndarray, means: np.ndarray, counts: np.ndarray, point_covs: np.ndarray,
                     weights: np.ndarray, centre: np.ndarray, scale: np.ndarray,
                     degrees: list[str] | None = None, pilot: MomentModel | None = None) -> MomentModel | CurvedModel | None:
    """Kernel-weighted least squares of the per-point summary means on a polynomial in u.

    points (P, dim) in the unit cube; means (P, k); counts (P,) events behind each mean;
    point_covs (P, k, k) the summaries' covariance at each point, pooled with the same
    weights into S (far-away points, whose summaries may scatter much more, do not set the
    noise near the estimate); weights (P,) kernel weights in [0, 1]. Returns None when too
    few points carry weight.
    Each polynomial the points support is fitted and the one with the lowest AIC
    (chi-square + 2 x coefficients) kept: near the optimum, where the design is narrow, the
    linear model wins, and its prediction at the centre is ~2x less noisy per dimension
    than a quadratic's. The coefficient covariance assumes each mean's noise is S / n_j,
    inflated by the residuals' reduced chi-square when that exceeds 1 (the polynomial does
    not fit exactly), so a poor model widens the interval instead of hiding. ``degrees``,
    when given, replaces the supported ones. With a ``pilot``, a linear model of the means
    less the pilot's second-order part: a :class:`CurvedModel`.
    """
    if pilot is not None:
        local = fit_moment_model(points, means - pilot.second_order(points), counts, point_covs, weights, centre,
                                 scale, degrees=["linear"])
        x, w = polynomial_terms(points, centre, scale, "linear"), weights * counts
        absorbed = np.linalg.pinv(x.T @ (w[:, None] * x)) @ (x.T @ (w[:, None] * _second_order_terms(pilot, points)))
        return CurvedModel(local, pilot, absorbed)
    dim = points.shape[1]
    summary_cov = np.einsum("j,jab->ab", weights * counts, point_covs) / float(np.sum(weights * counts))
    precision = np.linalg.pinv(summary_cov)
    best, best_aic = None, np.inf
    for degree in degrees or supported_degrees(dim, float(weights.sum())):
        model, chi2 = _least_squares(points, means, counts, summary_cov, precision, weights, centre, scale, degree)
        aic = chi2 + 2 * means.shape[1] * n_terms(dim, degree)
        if aic < best_aic:
            best, best_aic = model, aic
    return best


def _least_squares(points, means, counts, summary_cov, precision, weights, centre, scale, degree):
    x = polynomial_terms(points, centre, scale, degree)
    w = weights * counts
    normal_inv = np.linalg.pinv(x.T @ (w[:, None] * x))
    coef = normal_inv @ (x.T @ (w[:, None] * means))
    design_cov = normal_inv @ (x.T @ ((weights**2 * counts)[:, None] * x)) @ normal_inv
    residuals = means - x @ coef
    chi2 = float(np.einsum("j,ja,ab,jb->", w, residuals, precision, residuals))
    dof = means.shape[1] * (weights.sum() - x.shape[1])
    misfit = max(1.0, chi2 / dof) if dof > 0 else 1.0
    return MomentModel(coef, misfit * design_cov, summary_cov, centre, scale, degree), chi2


@dataclass(frozen=True)
class MomentFit:
    """The solution of t_ref = m(u): the point, the gain that maps noise in the summary means
    to noise in the point (its covariance, by the delta method), the generalised chi-square
    at the solution (0 when there are as many summaries as parameters), and where the
    linearised solution lies when the cube's bounds are ignored (``unbounded``: the same as
    ``point`` inside the cube; beyond the bound for a solution held on it).

    ``information`` is what the data say of the parameters: J' P J with P the noise's
    precision overstates it where a slope is mostly noise (a parameter without effect still
    gets a fitted slope of the size of its noise, and with it an information of about
    tr(P S) x the slope's variance); that expected share is subtracted, so a direction the
    summaries do not move has about none."""

    point: np.ndarray
    gain: np.ndarray  # (dim, k): d u / d t_ref, the linear response of the solution (information floored at the box's)
    chi2: float
    unbounded: np.ndarray  # one Gauss-Newton step from ``point`` without the cube's bounds
    information: np.ndarray  # (dim, dim): J' P J, less what the slopes' own noise adds to it on average


def solve_moments(model: MomentModel, reference_mean: np.ndarray, reference_cov: np.ndarray,
                  start: np.ndarray) -> MomentFit:
    """The point in the unit cube whose predicted summary mean is closest to the reference's,
    in the metric of their combined noise (fixed at ``start``)."""
    noise = reference_cov + model.prediction_cov(start)
    precision = np.linalg.pinv(noise)

    def objective(u):  # the generalised chi-square and its gradient (the polynomial is known exactly)
        r = reference_mean - model.predict(u)[0]
        return float(r @ precision @ r), -2.0 * model.jacobian(u).T @ (precision @ r)

    best = None
    for guess in _starting_points(model, reference_mean, precision, start):
        found = minimize(objective, guess, jac=True, method="L-BFGS-B", bounds=[(0.0, 1.0)] * len(start))
        if best is None or found.fun < best.fun:
            best = found
    point = np.clip(best.x, 0.0, 1.0)
    jac = model.jacobian(point)
    information = jac.T @ precision @ jac
    gain = information_inverse(information, BOX_INFORMATION) @ jac.T @ precision
    # an exactly determined fit (as many summaries as parameters) leaves the solver's rounding, ~1e-28: 0
    chi2 = float(best.fun) if best.fun > _ROUNDING_CHI2 else 0.0
    # Beyond a bound: where a coordinate held on the cube's bound would go without it (one
    # Gauss-Newton step); a coordinate inside keeps its solution (the step is the solver's residue there).
    on_bound = (best.x <= 1e-9) | (best.x >= 1.0 - 1e-9)
    unbounded = np.where(on_bound, point + gain @ (reference_mean - model.predict(point)[0]), point)
    noise_information = model.jacobian_noise(point) * float(np.trace(precision @ model.summary_cov))
    return MomentFit(point, gain, chi2, unbounded, information - noise_information)


def information_inverse(information: np.ndarray, floor: float) -> np.ndarray:
    """The inverse of a symmetric information matrix whose eigenvalues are floored at ``floor``."""
    values, vectors = np.linalg.eigh(0.5 * (information + information.T))
    return (vectors / np.maximum(values, floor)) @ vectors.T


def _starting_points(model: MomentModel, reference_mean, precision, start) -> list[np.ndarray]:
    """The previous estimate, and one Gauss-Newton step from it (the linearised solution)."""
    jac = model.jacobian(start)
    step = np.linalg.pinv(jac.T @ precision @ jac) @ jac.T @ precision @ (reference_mean - model.predict(start)[0])
    return [np.asarray(start, dtype=float), np.clip(start + step, 0.0, 1.0)]


def chi2_per_summary(summaries: np.ndarray, reference_mean: np.ndarray, reference_mean_cov: np.ndarray):
    """A sample's chi-square per summary against the reference's mean (about 1 when they
    agree), and its standard error: the noise of both means counts."""
    noise = np.atleast_2d(np.cov(summaries, rowvar=False)) / len(summaries) + reference_mean_cov
    diff = summaries.mean(axis=0) - reference_mean
    k = len(diff)
    chi2 = float(diff @ np.linalg.pinv(noise) @ diff)
    return chi2 / k, float(np.sqrt(2 * k + 4 * max(chi2 - k, 0.0))) / k


def closest_point(points: np.ndarray, moments: list[dict]) -> int:
    """The evaluated point whose summary means are nearest the reference's (chi-square)."""
    total = np.zeros(len(points))
    for m in moments:
        noise = m["covs"] / m["counts"][:, None, None] + m["reference_cov"]
        diff = m["means"] - m["reference_mean"]
        total += np.einsum("ja,jab,jb->j", diff, np.linalg.pinv(noise), diff)
    return int(np.argmin(total))
