"""The method protocol: what the tuning loop (advopt/loop.py) asks of every way of tuning.

A method asks for points in the unit cube and is told what was simulated there (a
:class:`~advopt.simulation_batches.SimulatedBatch`); it makes each point's evaluation and
recommends where the parameters lie. The loop and the batch simulator know nothing of any
one method. The methods: :class:`~advopt.methods.per_point.PerPoint` (an optimiser over a
per-point divergence: Bayesian optimisation, random search, a user's optimiser),
:class:`~advopt.avo.method.Variational` (AVO: a proposal and its critic) and
:class:`~advopt.pooled.estimator.PooledOptimizer` (the pooled estimator); built by name in
:func:`advopt.methods.registry.make_method`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from advopt.optimizers.base import Recommendation
from advopt.records.result import Evaluation
from advopt.simulation_batches import SimulatedBatch


@dataclass(frozen=True)
class Asked:
    """Points asked (unit cube, shape (n, dim)) and what the method records beside each of
    them (physical units: AVO's proposal, the pooled estimate a round is centred on)."""

    points: np.ndarray
    details: dict = field(default_factory=dict)


class Method(Protocol):
    """``name`` is the optimiser's name in the result, ``divergence_name`` what each point's
    recorded value is; ``simulate_recorded`` is True when the method learns from every
    point's events, so that a resumed run simulates its recorded points again."""

    name: str
    divergence_name: str
    simulate_recorded: bool

    def prepare(self, reference: np.ndarray, feature_names) -> None:
        """Called once with the whole reference, before the first ask."""

    def next_size(self, remaining_points: int) -> int:
        """How many points the next ask takes, with ``remaining_points`` left in the budget
        (0: the run ends)."""

    def asks_ahead(self) -> bool:
        """True when the next ask does not depend on the batch about to be told, so that the
        loop may ask and simulate it while the method learns from that batch."""

    def ask(self, n: int) -> Asked:
        """``n`` new points."""

    def tell(self, batch: SimulatedBatch) -> list[Evaluation]:
        """Learn from an asked batch's events; its evaluations, in order (a recorded point's
        record as it is)."""

    def recommend(self, with_uncertainty: bool = True) -> Recommendation:
        """The current best point (valid once a point succeeded), its value in the
        divergence's units; with uncertainty at the run's end only."""

    def progress_text(self) -> str:
        """A short status for the progress line."""

    def settings(self) -> dict:
        """{"optimizer": ..., "divergence": ...}: what the run record keeps of its settings."""
