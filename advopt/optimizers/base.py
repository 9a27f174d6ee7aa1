"""The optimiser interface: ask for points in the unit cube, tell their divergences.

The tuning loop, resume and parallel evaluation all use these three calls; optimisers
never see physical units, simulators or files.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np


@dataclass(frozen=True)
class Recommendation:
    """The optimiser's best guess: a unit-cube point, its (predicted) divergence, and
    samples of where the optimum may lie (rows in the unit cube) for its uncertainty.
    ``surface``, when the optimiser has a model of the divergence, maps (n, dim) unit-cube
    points to predicted values (its curvature gives the reference's share of the
    uncertainty, :mod:`advopt.uncertainty`)."""

    point: np.ndarray
    value: float
    samples: np.ndarray
    surface: Callable[[np.ndarray], np.ndarray] | None = None


class Optimizer(Protocol):
    name: str

    def ask(self, n: int) -> np.ndarray:
        """``n`` new points, shape (n, dim), inside the unit cube."""

    def tell(self, points: np.ndarray, values: np.ndarray, stderrs: np.ndarray, ok: np.ndarray) -> None:
        """Results for asked points. ``ok`` is False for failed evaluations (value NaN)."""

    def recommend(self, with_uncertainty: bool = True) -> Recommendation:
        """The current best point; valid once at least one evaluation was ok. Without
        uncertainty, ``samples`` may hold just the point (cheaper)."""


def penalty_for_failures(values: np.ndarray, ok: np.ndarray, upper_bound: float) -> float:
    """The value told in place of a failed evaluation: the worst seen so far, or the
    divergence's upper bound when nothing succeeded yet. A finite, plausible number keeps
    the surrogate well-conditioned while steering it away from the failing region."""
    good = values[ok]
    return float(good.max()) if good.size else float(upper_bound)
