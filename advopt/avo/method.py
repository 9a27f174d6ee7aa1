"""The AVO method (``optimizer = "variational"``): a proposal over the parameters
(advopt/avo/proposal.py) moved against a persistent critic (advopt/avo/critic.py).

Each ask is a whole iteration of draws from the proposal; told their events, the critic
scores each draw as it was before it saw them (the recorded value, a JSD estimate) and
trains on them, and the proposal takes a step on the draws' generator losses. Both learn
from every draw's events, so a resumed run simulates its recorded draws again.
"""

from __future__ import annotations

import dataclasses
import math
import time

import numpy as np

from advopt.avo.critic import AdversarialCritic
from advopt.avo.proposal import VariationalOptimizer, describe_proposal, physical_mean, physical_sd
from advopt.divergence.mlp import MLPDivergence
from advopt.methods.base import Asked
from advopt.optimizers.base import Recommendation
from advopt.records.result import Evaluation
from advopt.records.run_record import plain_settings
from advopt.simulation_batches import SimulatedBatch


class Variational:
    """``proposal`` and ``critic`` of one AVO run over ``space``."""

    name = "variational"
    simulate_recorded = True  # the critic and the proposal learn from every draw's events

    def __init__(self, proposal: VariationalOptimizer, critic: AdversarialCritic, space):
        self.proposal, self.critic, self.space = proposal, critic, space
        self.divergence_name = critic.name
        self._last_values: list[float] = []  # the last iteration's recorded values (the result's value)

    def prepare(self, reference: np.ndarray, feature_names) -> None:
        self.critic.prepare(reference)

    def next_size(self, remaining_points: int) -> int:
        """A whole iteration, or nothing when the budget cannot pay for one."""
        per_iteration = self.proposal.points_per_iteration
        return per_iteration if remaining_points >= per_iteration else 0

    def asks_ahead(self) -> bool:
        return False  # the next draws come from the proposal after this iteration's step

    def ask(self, n: int) -> Asked:
        """Draws from the proposal, with the proposal (physical units) beside each."""
        points = self.proposal.ask(n)
        mean, sd = self.proposal.asked_proposal
        return Asked(points, {"proposal_mean": physical_mean(self.space, mean),
                              "proposal_sd": physical_sd(self.space, mean, sd)})

    def tell(self, batch: SimulatedBatch) -> list[Evaluation]:
        """The critic scores every draw (a recorded one again, for its state) and trains; the
        proposal steps on the draws' generator losses."""
        started = time.perf_counter()
        estimates = self.critic.score_and_train(batch.events(), batch.iteration)
        train_seconds = (time.perf_counter() - started) / batch.n_points
        evaluations = batch.evaluations([None if e is None else (e.value, e.stderr, e.details) for e in estimates],
                                        train_seconds)
        losses = np.array([e.details["generator_loss"] if e.ok else np.nan for e in evaluations], dtype=float)
        self.proposal.tell(batch.points, losses, np.array([e.stderr for e in evaluations], dtype=float),
                           np.array([e.ok for e in evaluations]))
        self._last_values = [e.value for e in evaluations if e.ok]
        return evaluations

    def recommend(self, with_uncertainty: bool = True) -> Recommendation:
        """The proposal's mean; as its value, the mean recorded value of the last iteration
        (a proposal has no model of the divergence at its mean)."""
        value = float(np.mean(self._last_values)) if self._last_values else math.nan
        return dataclasses.replace(self.proposal.recommend(with_uncertainty), value=value)

    def progress_text(self) -> str:
        return describe_proposal(self.space, self.proposal)

    def settings(self) -> dict:
        return {"optimizer": plain_settings(self.proposal), "divergence": plain_settings(self.critic)}


def make_variational(divergence, space, *, seed: int, budget: int, events_per_point: int, **options) -> Variational:
    """The AVO method: its proposal from ``options`` (``start`` in unit-cube coordinates), its
    critic with the architecture and training options of ``divergence`` (an ``mlp``
    divergence). Refuses what AVO cannot do, naming the field."""
    if type(divergence) is not MLPDivergence:  # subclasses (tv, adaptive-*) estimate something else
        raise ValueError("divergence: the variational optimizer trains its own MLP critic; "
                         f"use divergence kind 'mlp' (got {getattr(divergence, 'name', type(divergence).__name__)})")
    try:
        proposal = VariationalOptimizer(space.dim, seed, **options)
    except TypeError as err:
        raise ValueError(f"optimizer: bad option for 'variational' ({err})") from None
    per_iteration = proposal.points_per_iteration * events_per_point
    if per_iteration > budget:
        raise ValueError(f"budget.events: {budget} events cannot pay for one variational iteration "
                         f"(points_per_iteration={proposal.points_per_iteration} x events_per_point={events_per_point})")
    critic = AdversarialCritic(divergence, seed=seed, r1_gamma=proposal.r1_gamma, epochs=proposal.critic_epochs)
    return Variational(proposal, critic, space)
