"""Bayesian optimisation through scikit-optimize's ask/tell ``Optimizer``.

Two things we add to plain skopt: each point's standard error enters the Gaussian
process as its own noise variance (plus a learned white-noise floor), and the
recommendation is the surrogate's posterior minimum among evaluated points, with an
uncertainty from posterior draws of where the minimum lies, not the luckiest noisy draw.
"""

from __future__ import annotations

import contextlib
import warnings

import numpy as np
from skopt import Optimizer as SkoptOptimizer
from skopt.learning import GaussianProcessRegressor
from skopt.learning.gaussian_process.kernels import ConstantKernel, Matern
from skopt.space import Real

from advopt.optimizers.base import OptimizerBase, Recommendation, penalty_for_failures

# Unknown noise of a failed point: wide, so the penalty value barely pulls the surface.
FAILED_POINT_STDERR = 0.25


@contextlib.contextmanager
def _quiet_sobol():
    """skopt's Sobol sampler warns whenever a batch is not a power of two; harmless here."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The balance properties of Sobol", category=UserWarning)
        yield


class HeteroscedasticGP(GaussianProcessRegressor):
    """skopt's GP with a known noise variance per training point (``noise_variances``).

    skopt clones the estimator and fits it on all told points, and on extra 'lie' points
    when asked for a batch; variances beyond the known ones take the median known one.
    """

    def __init__(self, kernel=None, alpha=1e-10, optimizer="fmin_l_bfgs_b", n_restarts_optimizer=0,
                 normalize_y=False, copy_X_train=True, random_state=None, noise=None, noise_variances=None):
        super().__init__(kernel=kernel, alpha=alpha, optimizer=optimizer, n_restarts_optimizer=n_restarts_optimizer,
                         normalize_y=normalize_y, copy_X_train=copy_X_train, random_state=random_state, noise=noise)
        self.noise_variances = noise_variances

    def fit(self, X, y):
        y = np.asarray(y, dtype=float)
        known = np.asarray(self.noise_variances if self.noise_variances is not None else [], dtype=float)[: len(y)]
        variances = np.full(len(y), np.median(known) if known.size else 0.0)
        variances[: known.size] = known
        # With normalize_y, sklearn adds alpha to the kernel of the standardised targets.
        y_scale = y.var() if self.normalize_y and y.var() > 0 else 1.0
        self.alpha = np.maximum(variances / y_scale, 1e-10)
        return super().fit(X, y)


def surrogate_kernel(dim: int):
    """The Gaussian process's kernel over the unit cube: Matern 5/2 with one length scale per
    parameter, scaled (the report's surface plot fits the same)."""
    return ConstantKernel(1.0, (0.01, 1000.0)) * Matern(length_scale=np.full(dim, 0.3), length_scale_bounds=(0.02, 10.0),
                                                        nu=2.5)


class BayesOptimizer(OptimizerBase):
    """Gaussian-process Bayesian optimisation over the unit cube.

    ``start`` (a unit-cube point) is evaluated first, if given; then
    ``n_initial_points`` space-filling points (Sobol by default) come before the surrogate
    is used; batches are filled by the constant-liar strategy. ``acq_func`` is any of
    skopt's (``gp_hedge``, ``EI``, ``LCB``, ``PI``).
    """

    name = "bayes"

    @classmethod
    def planned_options(cls, options: dict, total_points: int) -> dict:
        """The space-filling start, scaled to the budget (:func:`initial_design`)."""
        return {**options, "n_initial_points": initial_design(options.get("n_initial_points"), total_points)}

    def __init__(self, dim: int, seed: int, n_initial_points: int = 10, acq_func: str = "gp_hedge",
                 initial_point_generator: str = "sobol", upper_bound: float = 1.0, n_posterior_samples: int = 256,
                 start=None):
        if n_initial_points < 1:
            raise ValueError(f"optimizer.n_initial_points: must be >= 1, got {n_initial_points}")
        if acq_func not in ("gp_hedge", "EI", "LCB", "PI"):
            raise ValueError(f"optimizer.acq_func: unknown {acq_func!r}; use gp_hedge, EI, LCB or PI")
        self.dim = dim
        self.seed = seed
        self.upper_bound = upper_bound
        # An optional first point (unit cube), e.g. the tune a physicist starts from.
        self._start = None if start is None else np.clip(np.asarray(start, dtype=float).reshape(dim), 0.0, 1.0)
        self.n_posterior_samples = n_posterior_samples
        self._gp = HeteroscedasticGP(kernel=surrogate_kernel(dim), normalize_y=True, noise="gaussian", n_restarts_optimizer=1,
                                     random_state=seed, noise_variances=[])
        with _quiet_sobol():
            self._skopt = SkoptOptimizer(
                [Real(0.0, 1.0) for _ in range(dim)], base_estimator=self._gp, n_initial_points=n_initial_points,
                initial_point_generator=initial_point_generator, acq_func=acq_func, acq_optimizer="lbfgs",
                acq_optimizer_kwargs={"n_restarts_optimizer": 2, "n_points": 2000},
                random_state=seed, avoid_duplicates=False,
            )
        self._points: list[np.ndarray] = []
        self._values: list[float] = []
        self._variances: list[float] = []
        self._ok: list[bool] = []

    def ask(self, n: int) -> np.ndarray:
        first = []
        if self._start is not None and not self._points:
            first, n = [self._start], n - 1
        with _quiet_sobol():
            points = self._skopt.ask(n_points=n, strategy="cl_min") if n > 1 else [self._skopt.ask()] if n else []
        return np.clip(np.asarray(first + list(points), dtype=float).reshape(-1, self.dim), 0.0, 1.0)

    def tell(self, points, values, stderrs, ok) -> None:
        points = np.atleast_2d(np.asarray(points, dtype=float))
        values, stderrs, ok = (np.asarray(a).ravel() for a in (values, stderrs, ok))
        self._points += list(points)
        self._ok += [bool(x) for x in ok]
        all_ok = np.array(self._ok)
        penalty = penalty_for_failures(np.array(self._values + list(values)), all_ok, self.upper_bound)
        for value, stderr, good in zip(values, stderrs, ok):
            self._values.append(float(value) if good else np.nan)
            self._variances.append(float(stderr) ** 2 if good else FAILED_POINT_STDERR**2)
        told = [v if good else penalty for v, good in zip(self._values, self._ok)]
        # Re-told failures follow the penalty as it changes; skopt keeps its own copy of y.
        self._skopt.yi[: len(self._skopt.yi)] = told[: len(self._skopt.yi)]
        self._skopt.base_estimator_.noise_variances = list(self._variances)
        self._skopt.tell([list(p) for p in points], told[len(self._skopt.yi):])

    def recommend(self, with_uncertainty: bool = True) -> Recommendation:
        ok = np.array(self._ok)
        if not ok.any():
            raise RuntimeError("no successful evaluation yet")
        points = np.array(self._points)
        model = self._skopt.models[-1] if self._skopt.models else None
        if model is None:  # still in the initial design: best observed point
            values = np.where(ok, self._values, np.inf)
            best = int(np.argmin(values))
            return Recommendation(points[best], float(values[best]), points[ok])
        mean = model.predict(points)
        mean[~ok] = np.inf
        best = int(np.argmin(mean))
        samples = self._minimum_samples(model, points[ok]) if with_uncertainty else points[best][None]
        return Recommendation(points[best], float(mean[best]), samples, surface=model.predict)

    def _minimum_samples(self, model, evaluated: np.ndarray) -> np.ndarray:
        """Where the minimum lies in draws from the GP posterior over evaluated and random points."""
        rng = np.random.default_rng([self.seed, len(self._points)])
        candidates = np.vstack([evaluated, rng.random((max(512, 64 * self.dim), self.dim))])
        draws = model.sample_y(candidates, n_samples=self.n_posterior_samples, random_state=int(rng.integers(2**31 - 1)))
        return candidates[np.argmin(draws, axis=0)]


def initial_design(asked: int | None, total_points: int, default: int = 10) -> int:
    """Bayesian optimisation's space-filling start, scaled to the budget: the default 10
    points, but never more than a third of the points the budget pays for (a 16k-event
    budget at 2000 per point never left a 10-point design). A design the user asked for is
    kept, with a warning when it leaves the surrogate nothing to do."""
    if asked is not None:
        if asked >= total_points:
            warnings.warn(f"optimizer.n_initial_points: {asked} initial points use the whole budget "
                          f"({total_points} points); the Gaussian process never chooses a point", stacklevel=6)
        return asked
    if total_points < 6:
        warnings.warn(f"budget: {total_points} points leave Bayesian optimisation little to model "
                      "(raise the budget or lower events_per_point)", stacklevel=6)
    return max(1, min(default, total_points // 3))
