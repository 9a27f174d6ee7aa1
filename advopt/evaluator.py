"""The evaluator: parameter points -> seeded chunks -> executor -> divergence -> evaluations.

It owns everything between the optimiser's points and the evaluations the loop records:
the chunking and seeds of each point's simulation, the failures (a simulator that raised,
bad events, a wrong event width), the reference each point is compared with, the adaptive
sample size (growth) and the divergence's estimate.

Two kinds of divergence (advopt/divergence/base.py):
- a stateless one estimates each point on its own, from its events and a reference
  subsample; points a resumed run recorded are re-used, not simulated again;
- a stateful one (AVO's persistent critic, the pooled estimator's model) learns from every
  point's events, so it gets the whole batch at once, and a resumed run simulates its
  recorded points again (same seeds, same events) to rebuild that state; their records are
  kept and their events counted once.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import threading
import time
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from advopt import seeds
from advopt.execution import SimulationTask, run_simulation
from advopt.records.result import Evaluation, Status


@dataclass(frozen=True)
class PointSample:
    """A batch member's simulated events (or why they are missing) and what they cost."""

    params: dict[str, float]
    events: np.ndarray | None
    error: str
    n_events: int
    seed: int
    sim_seconds: float
    n_chunks: int


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


class Evaluator:
    """Evaluates batches of parameter points for the tuning loop (advopt/loop.py).

    ``divergence`` follows advopt/divergence/base.py (with its defaults filled in);
    ``executor`` runs the simulations; ``fixed`` parameters are merged into every point.
    Seeds: ``seeds.task_seed(seed, iteration, index in batch, purpose, chunk)``.
    """

    def __init__(self, simulator, reference: np.ndarray, divergence, executor, *, seed: int, events_per_point: int,
                 chunk_size: int, fixed: Mapping[str, float] | None = None, growth: SampleGrowth | None = None,
                 reference_per_point: float = 1.0):
        self.simulator = simulator
        self.reference = reference
        self.divergence = divergence
        self.executor = executor
        self.seed = seed
        self.events_per_point = events_per_point
        self.chunk_size = chunk_size
        self.fixed = dict(fixed or {})
        self.growth = growth
        self.reference_per_point = float(reference_per_point)
        self._executor_lock = threading.Lock()

    def evaluate(self, iteration: int, first_index: int, points: np.ndarray, params: list[dict[str, float]],
                 recorded: Mapping[int, Evaluation], spare_events: int) -> list[Evaluation]:
        """The batch's evaluations, in order. ``points`` are the unit-cube points (for a
        stateful divergence), ``params`` their physical values, ``recorded`` the batch
        members a resumed run already holds (by index in the batch), ``spare_events`` what
        the budget leaves for growth after every point's first sample."""
        return self.finish(self.begin(iteration, first_index, points, params, recorded), spare_events)

    def begin(self, iteration: int, first_index: int, points: np.ndarray, params: list[dict[str, float]],
              recorded: Mapping[int, Evaluation]) -> "PendingBatch":
        """Start simulating a batch in the background (see :meth:`evaluate` for the
        arguments); :meth:`finish` estimates it. The driver can learn from one batch while
        the next one simulates; the executor runs one batch at a time, in the order begun."""
        batch = _Batch(iteration, first_index)
        if self.divergence.stateful:  # every point, recorded ones again, to rebuild the state
            wanted = list(range(len(params)))
        else:
            wanted = [index for index in range(len(params)) if index not in recorded]
        plans = [(index, params[index], self.events_per_point, 0) for index in wanted]
        if getattr(self.executor, "in_process", False):  # nothing to overlap with: simulate now
            samples = _done(self.simulate(batch, plans))
        else:
            samples = _in_background(self.simulate, batch, plans)
        return PendingBatch(batch, np.asarray(points), params, dict(recorded), wanted, samples)

    def finish(self, pending: "PendingBatch", spare_events: int) -> list[Evaluation]:
        """A begun batch's evaluations, in order (waits for its simulations)."""
        batch, recorded = pending.batch, pending.recorded
        samples = dict(zip(pending.simulated, pending.samples.result()))
        if self.divergence.stateful:
            return self._evaluate_together(batch, pending.points, [samples[i] for i in range(len(pending.params))],
                                           recorded)
        fresh = {index: self._estimate(batch, index, sample) for index, sample in samples.items()}
        if self.growth is not None:
            spare = spare_events - sum(e.n_events - self.events_per_point for e in recorded.values())
            fresh = self._grow(batch, samples, fresh, spare)
        return [recorded[index] if index in recorded else fresh[index] for index in range(pending.n_points)]

    # -- simulation ------------------------------------------------------------------------------
    def simulate(self, batch: "_Batch", points: list[tuple[int, dict[str, float], int, int]]) -> list[PointSample]:
        """Simulate (index in batch, params, events, first chunk) points in parallel; each
        chunk of ``chunk_size`` events has its own seed, keyed by its chunk number."""
        plans = [(index, p, _chunk_sizes(n_events, self.chunk_size), first) for index, p, n_events, first in points]
        tasks = [
            SimulationTask({**self.fixed, **p}, n, self._seed(batch, index, seeds.SIMULATION, first + chunk))
            for index, p, chunks, first in plans
            for chunk, n in enumerate(chunks)
        ]
        with self._executor_lock:  # one batch at a time: a simulator's process cache is not thread-safe
            outcomes = self.executor.map(run_simulation, self.simulator, tasks) if tasks else []
        samples, start = [], 0
        for index, p, chunks, first in plans:
            mine, start = outcomes[start : start + len(chunks)], start + len(chunks)
            errors = [o.error for o in mine if o.events is None]
            widths = {o.events.shape[1] for o in mine if o.events is not None}
            if not errors and len(widths) > 1:
                errors = [f"chunks returned different feature counts {sorted(widths)}"]
            events = None if errors else np.concatenate([o.events for o in mine])
            samples.append(PointSample(p, events, "; ".join(dict.fromkeys(errors)), sum(chunks),
                                       self._seed(batch, index, seeds.SIMULATION, first),
                                       sum(o.seconds for o in mine), first + len(chunks)))
        return samples

    def _seed(self, batch: "_Batch", index: int, purpose: int, chunk: int = 0) -> int:
        return seeds.task_seed(self.seed, batch.iteration, index, purpose, chunk)

    # -- outcomes ----------------------------------------------------------------------------------
    def _identity(self, batch: "_Batch", index: int, sample: PointSample) -> dict:
        """The fields of a batch member's evaluation that do not depend on its outcome."""
        return dict(index=batch.first_index + index, iteration=batch.iteration, params=sample.params,
                    n_events=sample.n_events, seed=sample.seed, sim_seconds=sample.sim_seconds)

    def _failure(self, batch: "_Batch", index: int, sample: PointSample) -> Evaluation | None:
        """A failed evaluation for events that are missing or of the wrong width; else None."""
        common = self._identity(batch, index, sample)
        if sample.events is None:
            return Evaluation(value=math.nan, stderr=math.nan, status=Status.FAILED, reason=sample.error, **common)
        if sample.events.shape[1] != self.reference.shape[1]:
            reason = f"simulator returned {sample.events.shape[1]} features, the reference has {self.reference.shape[1]}"
            return Evaluation(value=math.nan, stderr=math.nan, status=Status.FAILED, reason=reason, **common)
        return None

    def _estimate(self, batch: "_Batch", index: int, sample: PointSample, round_number: int = 0) -> Evaluation:
        failure = self._failure(batch, index, sample)
        if failure is not None:
            return failure
        common = self._identity(batch, index, sample)
        reference = self._reference_subsample(batch, index, len(sample.events), round_number)
        started = time.perf_counter()
        try:
            estimate = self.divergence.estimate(sample.events.astype(np.float64), reference,
                                                self._seed(batch, index, seeds.DISCRIMINATOR, round_number))
        except (ValueError, RuntimeError, FloatingPointError) as err:
            reason = f"divergence failed: {type(err).__name__}: {err}"
            return Evaluation(value=math.nan, stderr=math.nan, status=Status.INVALID, reason=reason,
                              train_seconds=time.perf_counter() - started, **common)
        return Evaluation(value=estimate.value, stderr=estimate.stderr, status=Status.OK,
                          train_seconds=time.perf_counter() - started, details=estimate.details, **common)

    def _reference_subsample(self, batch: "_Batch", index: int, n_events: int, round_number: int = 0) -> np.ndarray:
        """``reference_per_point`` reference events per simulated one (all of them if the
        reference is smaller, or if the divergence wants the whole reference, as the
        chi-square does)."""
        wanted = int(round(n_events * self.reference_per_point))
        if len(self.reference) <= wanted or self.divergence.uses_full_reference:
            return self.reference
        rng = np.random.default_rng(self._seed(batch, index, seeds.REFERENCE, round_number))
        return self.reference[rng.choice(len(self.reference), wanted, replace=False)]

    def _grow(self, batch: "_Batch", samples: dict[int, PointSample], fresh: dict[int, Evaluation],
              spare: int) -> dict[int, Evaluation]:
        """Adaptive sample size: double the simulated sample of every point whose estimate
        cannot yet rule out agreement, while the budget allows; re-estimate on the grown sample."""
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
            for (index, *_), more in zip(plans, self.simulate(batch, plans)):
                before = samples[index]
                if more.events is None:  # keep the estimate we have; record what the growth cost
                    fresh[index] = _with_extra_events(fresh[index], more.n_events, more.error)
                    continue
                samples[index] = PointSample(before.params, np.concatenate([before.events, more.events]), "",
                                             before.n_events + more.n_events, before.seed,
                                             before.sim_seconds + more.sim_seconds, more.n_chunks)
                fresh[index] = self._estimate(batch, index, samples[index], round_number)
        return fresh

    def _evaluate_together(self, batch: "_Batch", points: np.ndarray, samples: list[PointSample],
                           recorded: Mapping[int, Evaluation]) -> list[Evaluation]:
        """A stateful divergence's batch: every point simulated (recorded ones again, for the
        state), the divergence told all the events at once; recorded points keep their records."""
        failures = [self._failure(batch, index, sample) for index, sample in enumerate(samples)]
        started = time.perf_counter()
        estimates = self.divergence.estimate_batch(
            np.asarray(points), [None if f is not None else s.events for s, f in zip(samples, failures)], batch.iteration)
        train_seconds = (time.perf_counter() - started) / len(samples)
        evaluations = []
        for index, (sample, failure, estimate) in enumerate(zip(samples, failures, estimates)):
            if index in recorded:
                evaluations.append(recorded[index])
            elif failure is not None:
                evaluations.append(failure)
            else:
                evaluations.append(Evaluation(value=estimate.value, stderr=estimate.stderr, status=Status.OK,
                                              train_seconds=train_seconds, details=estimate.details,
                                              **self._identity(batch, index, sample)))
        return evaluations


@dataclass(frozen=True)
class PendingBatch:
    """A batch whose simulations were begun: what :meth:`Evaluator.finish` needs. ``simulated``
    are the batch indices being simulated, ``samples`` the future of their samples."""

    batch: "_Batch"
    points: np.ndarray
    params: list[dict[str, float]]
    recorded: dict[int, Evaluation]
    simulated: list[int]
    samples: Future

    @property
    def n_points(self) -> int:
        return len(self.params)


def _done(value) -> Future:
    future: Future = Future()
    future.set_result(value)
    return future


def _in_background(function, *args) -> Future:
    """``function(*args)`` in a thread of its own (it ends with the call)."""
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="advopt-simulation")
    try:
        return pool.submit(function, *args)
    finally:
        pool.shutdown(wait=False)


@dataclass(frozen=True)
class _Batch:
    """Where a batch sits in the run: its iteration (in every seed) and its first evaluation's index."""

    iteration: int
    first_index: int


def _with_extra_events(evaluation: Evaluation, extra: int, error: str) -> Evaluation:
    """The estimate stands; the failed growth's events are counted and its error noted."""
    details = {**evaluation.details, "growth_error": error}
    return dataclasses.replace(evaluation, n_events=evaluation.n_events + extra, details=details)


def _chunk_sizes(total: int, chunk_size: int) -> list[int]:
    full, rest = divmod(total, chunk_size)
    return [chunk_size] * full + ([rest] if rest else [])
