"""The optimiser interface of the per-point method: ask for points in the unit cube, tell
their divergences; and the :class:`Recommendation` every method gives.

Optimisers never see physical units, simulators or files; the per-point method
(advopt/methods/per_point.py) estimates each point's divergence and tells them.
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
    uncertainty, :mod:`advopt.intervals`).

    An optimiser that states a Gaussian covariance of its estimate (unit cube) gives it as
    ``covariance``, with ``unbounded`` the estimate before the cube's bounds were imposed;
    the intervals then come from :mod:`advopt.assessment` and ``samples`` are not read;
    ``information`` (unit cube), where it states it, what the data say of each direction.
    ``reference_covariance`` (unit cube), where the method measured it, the reference
    sample's own share of the uncertainty, added to ``samples`` (:mod:`advopt.intervals`).
    ``goodness_of_fit`` (chi2, dof, p_value, summaries) says whether the model can describe
    the reference at all; ``fallbacks`` names every step that could not be done as designed
    ("code: why"), for the result."""

    point: np.ndarray
    value: float
    samples: np.ndarray
    surface: Callable[[np.ndarray], np.ndarray] | None = None
    covariance: np.ndarray | None = None
    information: np.ndarray | None = None
    unbounded: np.ndarray | None = None
    goodness_of_fit: dict | None = None
    reference_covariance: np.ndarray | None = None
    fallbacks: tuple[str, ...] = ()


class Optimizer(Protocol):
    """An optimiser of the per-point method (advopt/methods/per_point.py).
    Required: ``name``, ``ask``, ``tell`` and ``recommend``. Everything else is optional,
    with the defaults of :class:`OptimizerBase`; :func:`with_defaults` fills them in for a
    plug-in optimiser."""

    name: str

    def ask(self, n: int) -> np.ndarray:
        """``n`` new points, shape (n, dim), inside the unit cube."""

    def tell(self, points: np.ndarray, values: np.ndarray, stderrs: np.ndarray, ok: np.ndarray) -> None:
        """Results for asked points. ``ok`` is False for failed evaluations (value NaN)."""

    def recommend(self, with_uncertainty: bool = True) -> Recommendation:
        """The current best point; valid once at least one evaluation was ok. Without
        uncertainty, ``samples`` may hold just the point (cheaper)."""


class OptimizerBase:
    """The optional members of an optimiser, with their defaults (built-ins subclass it).

    - ``planned_options(options, total_points)`` (a classmethod): options planned from the
      budget (the Bayesian initial design), before it is built.
    - ``asks_ahead()``: True when its next points do not depend on what it is about to be
      told (a fixed design), so the loop may ask for them and simulate them while it
      learns from the batch before; by default False.
    """

    name: str  # required of every optimiser (see Optimizer); declared here for type checkers

    @classmethod
    def planned_options(cls, options: dict, total_points: int) -> dict:
        """Options with what it plans from the budget (``total_points`` evaluations) filled
        in; recorded with the run. By default the options as given."""
        return options

    def asks_ahead(self) -> bool:
        return False


class PluginOptimizer(OptimizerBase):
    """A user's optimiser that does not subclass OptimizerBase: its own members where it has
    them, the defaults elsewhere."""

    def __init__(self, optimizer):
        self.plugin = optimizer
        self.name = optimizer.name
        for member in ("ask", "tell", "recommend", "asks_ahead"):
            if hasattr(optimizer, member):
                setattr(self, member, getattr(optimizer, member))

    def __repr__(self) -> str:
        return repr(self.plugin)


def with_defaults(optimizer) -> OptimizerBase:
    """``optimizer`` with every optional capability answered; ValueError when it lacks a
    required member."""
    if isinstance(optimizer, OptimizerBase):
        return optimizer
    missing = [member for member in ("name", "ask", "tell", "recommend") if not hasattr(optimizer, member)]
    if missing:
        raise ValueError(f"optimizer: {type(optimizer).__name__} lacks {missing} (see advopt.optimizers.Optimizer)")
    return PluginOptimizer(optimizer)


def penalty_for_failures(values: np.ndarray, ok: np.ndarray, upper_bound: float) -> float:
    """The value told in place of a failed evaluation: the worst seen so far, or the
    divergence's upper bound when nothing succeeded yet. A finite, plausible number keeps
    the surrogate well-conditioned while steering it away from the failing region."""
    good = values[ok]
    return float(good.max()) if good.size else float(upper_bound)

