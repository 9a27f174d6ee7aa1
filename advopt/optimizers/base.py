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
    uncertainty, :mod:`advopt.intervals`).

    An optimiser that states a Gaussian covariance of its estimate (unit cube) gives it as
    ``covariance``, with ``unbounded`` the estimate before the cube's bounds were imposed;
    the intervals then come from :mod:`advopt.assessment` and ``samples`` are not read;
    ``information`` (unit cube), where it states it, what the data say of each direction.
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
    fallbacks: tuple[str, ...] = ()


class Optimizer(Protocol):
    """Required: ``name``, ``ask``, ``tell`` and ``recommend``. Everything else is optional,
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


DEFAULT_EVENTS_PER_POINT = 2_000


class OptimizerBase:
    """The optional capabilities of an optimiser, with their defaults (built-ins subclass it).

    - ``planned_options(options, total_points)`` (a classmethod): options planned from the
      budget (the Bayesian initial design, the pooled rounds), before it is built.
    - ``default_events_per_point(budget, dim)`` (a classmethod): the events per point a run
      gets when its config names none; by default 2,000.
    - ``check_run(divergence, budget, events_per_point, resuming)``: refuse a run it cannot
      do (ValueError naming the field); called before any side effect.
    - ``divergence_for(divergence)``: the divergence the run evaluates points with, given the
      one configured (AVO turns the ``mlp`` settings into its persistent critic; the pooled
      estimator is its own); by default the configured one.
    - ``next_batch_size(batch_size, remaining_points)``: how many points the next step asks
      (0: stop); by default the configured batch size, as far as the budget goes. An
      optimiser that plans its own batches (rounds, iterations) decides here.
    - ``asked_details(space)``: what it records beside each point of the last ask, in
      physical units through ``space`` (AVO: the proposal the points were drawn from).
    - ``progress_text(space)``: a short status for the progress line, or None.
    - ``asks_ahead()``: True when its next points do not depend on what it is about to be
      told (a fixed design), so the loop may ask for them and simulate them while it
      learns from the batch before; by default False.
    """

    name: str  # required of every optimiser (see Optimizer); declared here for type checkers
    plans_batches = False  # True: next_batch_size ignores the configured batch size

    @classmethod
    def planned_options(cls, options: dict, total_points: int) -> dict:
        """Options with what it plans from the budget (``total_points`` evaluations) filled
        in; recorded with the run. By default the options as given."""
        return options

    @classmethod
    def default_events_per_point(cls, budget: int, dim: int) -> int:
        """Events per point when the run names none: each point's own estimate needs them."""
        return DEFAULT_EVENTS_PER_POINT

    def check_run(self, divergence, budget: int, events_per_point: int, resuming: bool) -> None:
        pass

    def divergence_for(self, divergence):
        return divergence

    def next_batch_size(self, batch_size: int, remaining_points: int) -> int:
        return min(batch_size, remaining_points)

    def asked_details(self, space) -> dict:
        return {}

    def progress_text(self, space) -> str | None:
        return None

    def asks_ahead(self) -> bool:
        return False


class PluginOptimizer(OptimizerBase):
    """A user's optimiser that does not subclass OptimizerBase: its own members where it has
    them, the defaults elsewhere."""

    def __init__(self, optimizer):
        self.plugin = optimizer
        self.name = optimizer.name
        for member in ("ask", "tell", "recommend", "check_run", "divergence_for", "next_batch_size", "asked_details",
                       "progress_text", "asks_ahead", "plans_batches", "default_events_per_point"):
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

