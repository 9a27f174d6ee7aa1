"""The per-point method: an optimiser over a divergence estimated at each point on its own.

Bayesian optimisation (``bayes``), random search (``random``) and a user's optimiser
(advopt/optimizers/base.py) take this route: each point's events are compared with a
subsample of the reference (or the whole of it, for the chi-square) by the divergence
(advopt/divergence/), and the optimiser is told the values. Points whose estimate cannot
yet rule out agreement may grow their sample (:class:`SampleGrowth`). A resumed run re-uses
its recorded points without simulating them again.
"""

from __future__ import annotations

import dataclasses
import itertools
import time
from dataclasses import dataclass

import numpy as np

from advopt import seeds
from advopt.intervals import quadratic_hessian, reference_covariance
from advopt.methods.base import Asked
from advopt.optimizers.base import Recommendation
from advopt.records.result import Evaluation, Status
from advopt.records.run_record import plain_settings
from advopt.simulation_batches import PointSample, SimulatedBatch


@dataclass(frozen=True)
class SampleGrowth:
    """The adaptive sample-size rule: grow while the estimate is compatible (within two
    standard errors) with a divergence below ``agreement + tolerance``, ``agreement`` being
    the divergence's value when the samples agree (0 nats for a JSD, 1 for chi2 per bin).

    A rule on the train/held-out gap was tried first: with early stopping the gap at a few
    hundred events is dominated by noise (measured on the Gaussian toy: gaps of -0.05 to
    +0.005 nats at far and near points alike), so it did not tell far from near points.
    """

    max_events: int
    tolerance: float
    agreement: float = 0.0

    def wants_more(self, evaluation: Evaluation, n_events: int) -> bool:
        compatible_with_optimum = evaluation.value - 2 * evaluation.stderr < self.agreement + self.tolerance
        return evaluation.ok and "growth_error" not in evaluation.details and n_events < self.max_events and compatible_with_optimum


class PerPoint:
    """``optimizer`` (ask/tell/recommend over the unit cube, with the defaults of
    :class:`~advopt.optimizers.base.OptimizerBase`) moved by ``divergence`` (with the
    defaults of :class:`~advopt.divergence.base.DivergenceBase`) estimated at each point;
    ``batch_size`` points per ask of ``events_per_point`` events; ``reference_per_point`` reference events drawn per
    simulated one; ``growth`` the adaptive sample size, or None."""

    simulate_recorded = False  # each point's estimate is its own: a recorded one is re-used

    def __init__(self, optimizer, divergence, *, seed: int, batch_size: int, events_per_point: int,
                 reference_per_point: float = 1.0, growth: SampleGrowth | None = None):
        self.optimizer, self.divergence = optimizer, divergence
        self.name, self.divergence_name = optimizer.name, divergence.name
        self.seed, self.batch_size, self.events_per_point = int(seed), int(batch_size), int(events_per_point)
        self.reference_per_point, self.growth = float(reference_per_point), growth
        self.reference: np.ndarray | None = None
        self._best: Evaluation | None = None
        self._ok_events: list[int] = []  # events of every successful point (the reference's share of the interval)

    def prepare(self, reference: np.ndarray, feature_names) -> None:
        self.reference = reference
        self.divergence.prepare(reference, feature_names)  # a binned divergence fixes its bins here

    def next_size(self, remaining_points: int) -> int:
        return min(self.batch_size, remaining_points)

    def asks_ahead(self) -> bool:
        """Only with a fixed sample per point: growth spends what the budget leaves after the
        batch in hand, so the next batch's size depends on it."""
        return self.growth is None and self.optimizer.asks_ahead()

    def ask(self, n: int) -> Asked:
        return Asked(self.optimizer.ask(n))

    def tell(self, batch: SimulatedBatch) -> list[Evaluation]:
        """Each simulated point's divergence (grown where the rule says), a recorded point's
        record as it is; the optimiser is told them all (as it models them: logs for a
        divergence spanning decades)."""
        fresh = {index: self._estimate(batch, index, sample) for index, sample in batch.samples.items()}
        if self.growth is not None:
            spare = batch.spare_events - sum(e.n_events - self.events_per_point for e in batch.recorded.values())
            fresh = self._grow(batch, fresh, spare)
        evaluations = [batch.recorded[index] if index in batch.recorded else fresh[index] for index in range(batch.n_points)]
        values = np.array([e.value for e in evaluations], dtype=float)
        stderrs = np.array([e.stderr for e in evaluations], dtype=float)
        if self.divergence.models_log:  # a log's error is stderr / value
            stderrs = stderrs / np.maximum(values, 1e-12)
        self.optimizer.tell(batch.points, self.divergence.modelled(values), stderrs, np.array([e.ok for e in evaluations]))
        for evaluation in evaluations:
            if evaluation.ok:
                self._ok_events.append(evaluation.n_events)
                if self._best is None or evaluation.value < self._best.value:
                    self._best = evaluation
        return evaluations

    def recommend(self, with_uncertainty: bool = True) -> Recommendation:
        """The optimiser's recommendation in the divergence's units; at the run's end, with
        the reference's own share of the uncertainty where the optimiser has a surface and
        the divergence a Fisher information (advopt/intervals.py)."""
        recommendation = self.optimizer.recommend(with_uncertainty)
        if self.divergence.models_log:
            surface = recommendation.surface
            recommendation = dataclasses.replace(recommendation, value=float(np.exp(recommendation.value)),
                                                 surface=None if surface is None else lambda x: np.exp(surface(x)))
        if not with_uncertainty or recommendation.surface is None or self.divergence.fisher_information is None:
            return recommendation
        hessian = quadratic_hessian(recommendation.surface, recommendation.point, seed=self.seed)
        n_reference = len(self.reference)
        information = self.divergence.fisher_information(hessian, int(np.median(self._ok_events)), n_reference)
        return dataclasses.replace(recommendation, reference_covariance=reference_covariance(information, n_reference))

    def progress_text(self) -> str:
        if self._best is None:
            return "no successful evaluation yet"
        return f"best D={self._best.value:.4f} at " + ", ".join(f"{k}={v:.4g}" for k, v in self._best.params.items())

    def settings(self) -> dict:
        return {"optimizer": plain_settings(self.optimizer), "divergence": plain_settings(self.divergence)}

    # -- each point's estimate ---------------------------------------------------------------------
    def _estimate(self, batch: SimulatedBatch, index: int, sample: PointSample, round_number: int = 0) -> Evaluation:
        failure = batch.failure(index, sample)
        if failure is not None:
            return failure
        reference = self._reference_subsample(batch, index, len(sample.events), round_number)
        started = time.perf_counter()
        try:
            estimate = self.divergence.estimate(sample.events.astype(np.float64), reference,
                                                batch.seed(index, seeds.DISCRIMINATOR, round_number))
        except (ValueError, RuntimeError, FloatingPointError) as err:
            return batch.evaluation(index, np.nan, np.nan, status=Status.INVALID, sample=sample,
                                    reason=f"divergence failed: {type(err).__name__}: {err}",
                                    train_seconds=time.perf_counter() - started)
        return batch.evaluation(index, estimate.value, estimate.stderr, train_seconds=time.perf_counter() - started,
                                details=estimate.details, sample=sample)

    def _reference_subsample(self, batch: SimulatedBatch, index: int, n_events: int, round_number: int) -> np.ndarray:
        """``reference_per_point`` reference events per simulated one (all of them if the
        reference is smaller, or if the divergence wants the whole reference, as the
        chi-square does)."""
        wanted = int(round(n_events * self.reference_per_point))
        if len(self.reference) <= wanted or self.divergence.uses_full_reference:
            return self.reference
        rng = np.random.default_rng(batch.seed(index, seeds.REFERENCE, round_number))
        return self.reference[rng.choice(len(self.reference), wanted, replace=False)]

    def _grow(self, batch: SimulatedBatch, fresh: dict[int, Evaluation], spare: int) -> dict[int, Evaluation]:
        """Adaptive sample size: double the simulated sample of every point whose estimate
        cannot yet rule out agreement, while the budget allows; re-estimate on the grown sample."""
        samples = dict(batch.samples)
        for round_number in itertools.count(1):
            grow = [i for i, e in fresh.items() if self.growth.wants_more(e, samples[i].n_events)]
            plans = []
            for index in grow:
                extra = min(samples[index].n_events, self.growth.max_events - samples[index].n_events)
                if extra <= spare:
                    spare -= extra
                    plans.append((index, samples[index].params, extra, samples[index].n_chunks))
            if not plans:
                return fresh
            for (index, *_), more in zip(plans, batch.simulate_more(batch, plans)):
                before = samples[index]
                if more.events is None:  # keep the estimate we have; record what the growth cost
                    fresh[index] = _with_extra_events(fresh[index], more.n_events, more.error)
                    continue
                samples[index] = PointSample(before.params, np.concatenate([before.events, more.events]), "",
                                             before.n_events + more.n_events, before.seed,
                                             before.sim_seconds + more.sim_seconds, more.n_chunks)
                fresh[index] = self._estimate(batch, index, samples[index], round_number)
        return fresh


def _with_extra_events(evaluation: Evaluation, extra: int, error: str) -> Evaluation:
    """The estimate stands; the failed growth's events are counted and its error noted."""
    details = {**evaluation.details, "growth_error": error}
    return dataclasses.replace(evaluation, n_events=evaluation.n_events + extra, details=details)
