"""Random search: the baseline every optimiser must beat."""

from __future__ import annotations

import numpy as np

from advopt.optimizers.base import OptimizerBase, Recommendation


class RandomSearch(OptimizerBase):
    """Uniform points in the unit cube; recommends the lowest observed divergence, with
    the points statistically tied with it (within two standard errors) as its spread."""

    name = "random"

    def __init__(self, dim: int, seed: int, upper_bound: float = 1.0):
        self.dim = dim
        self._rng = np.random.default_rng(seed)
        self._points: list[np.ndarray] = []
        self._values: list[float] = []
        self._stderrs: list[float] = []

    def ask(self, n: int) -> np.ndarray:
        return self._rng.random((n, self.dim))

    def asks_ahead(self) -> bool:
        return True  # its points never depend on what it was told

    def tell(self, points, values, stderrs, ok) -> None:
        for point, value, stderr, good in zip(np.atleast_2d(points), np.ravel(values), np.ravel(stderrs), np.ravel(ok)):
            self._points.append(np.asarray(point, dtype=float))
            self._values.append(float(value) if good else np.inf)
            self._stderrs.append(float(stderr) if good else np.inf)

    def recommend(self, with_uncertainty: bool = True) -> Recommendation:
        values = np.array(self._values)
        if not np.isfinite(values).any():
            raise RuntimeError("no successful evaluation yet")
        best = int(np.argmin(values))
        tied = np.isfinite(values) & (values <= values[best] + 2 * np.hypot(np.array(self._stderrs), self._stderrs[best]))
        return Recommendation(self._points[best], float(values[best]), np.array(self._points)[tied])
