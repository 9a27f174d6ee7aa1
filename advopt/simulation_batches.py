"""Simulating a batch of points: parameter points -> seeded chunks -> executor -> events.

Everything between a method's asked points and the events it is told: the chunking and
seeds of each point's simulation, the failures (a simulator that raised, a wrong event
width), what a resumed run already recorded, and the identity of each evaluation (index,
iteration, seed, events). It knows nothing of any method (advopt/methods/): a method reads
the :class:`SimulatedBatch` and makes each point's evaluation.

A resumed run's recorded points are not simulated again, unless the method learns from
every point's events (``simulate_recorded``: the pooled estimator, AVO's critic), which get
them again (same seeds, same events) to rebuild their state; their records are kept and
their events counted once.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

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


# (index in batch, params, events, first chunk): what to simulate of one point
SimulationPlan = tuple[int, dict[str, float], int, int]


@dataclass
class SimulatedBatch:
    """A batch as a method is told it: per point, the events simulated there (``samples``, by
    index in the batch) or its record from a resumed run (``recorded``).

    ``spare_events`` is what the budget leaves after every point's first sample (a method
    that grows samples spends it through :meth:`simulate_more`)."""

    iteration: int
    first_index: int
    points: np.ndarray
    params: list[dict[str, float]]
    recorded: dict[int, Evaluation]
    samples: dict[int, PointSample]
    n_features: int
    run_seed: int
    spare_events: int = 0
    simulate_more: Callable[["SimulatedBatch", list[SimulationPlan]], list[PointSample]] = field(repr=False, default=None)

    @property
    def n_points(self) -> int:
        return len(self.params)

    def seed(self, index: int, purpose: int, chunk: int = 0) -> int:
        """The seed of batch member ``index`` for ``purpose`` (advopt/seeds.py)."""
        return seeds.task_seed(self.run_seed, self.iteration, index, purpose, chunk)

    def failure(self, index: int, sample: PointSample | None = None) -> Evaluation | None:
        """A failed evaluation for events that are missing or of the wrong width; else None."""
        sample = self.samples[index] if sample is None else sample
        if sample.events is None:
            return self.evaluation(index, math.nan, math.nan, status=Status.FAILED, reason=sample.error, sample=sample)
        if sample.events.shape[1] != self.n_features:
            reason = f"simulator returned {sample.events.shape[1]} features, the reference has {self.n_features}"
            return self.evaluation(index, math.nan, math.nan, status=Status.FAILED, reason=reason, sample=sample)
        return None

    def events(self) -> list[np.ndarray | None]:
        """Every point's events, None where its simulation failed: what a method that learns
        from every point's events (``simulate_recorded``) is told."""
        return [None if self.failure(index) is not None else self.samples[index].events for index in range(self.n_points)]

    def evaluations(self, estimates: list[tuple[float, float, dict] | None], train_seconds: float) -> list[Evaluation]:
        """The batch's evaluations from one ``(value, stderr, details)`` per point (None where
        its simulation failed, as in :meth:`events`): a recorded point keeps its record, a
        failed one gets its failure."""
        return [self.recorded[index] if index in self.recorded
                else self.failure(index) if estimate is None
                else self.evaluation(index, estimate[0], estimate[1], train_seconds=train_seconds, details=estimate[2])
                for index, estimate in enumerate(estimates)]

    def evaluation(self, index: int, value: float, stderr: float, *, status: Status = Status.OK, reason: str = "",
                   train_seconds: float = 0.0, details: dict | None = None, sample: PointSample | None = None) -> Evaluation:
        """Batch member ``index``'s evaluation, with the fields that do not depend on its
        outcome (index, iteration, parameters, events, seed, simulation time) from its sample."""
        sample = self.samples[index] if sample is None else sample
        return Evaluation(index=self.first_index + index, iteration=self.iteration, params=sample.params,
                          value=value, stderr=stderr, n_events=sample.n_events, seed=sample.seed,
                          sim_seconds=sample.sim_seconds, train_seconds=train_seconds, status=status, reason=reason,
                          details=dict(details or {}))


class BatchSimulator:
    """Simulates batches of parameter points for the tuning loop (advopt/loop.py).

    ``executor`` runs the simulations; ``fixed`` parameters are merged into every point;
    ``n_features`` is the reference's width (events of another width are a failure).
    Seeds: ``seeds.task_seed(seed, iteration, index in batch, purpose, chunk)``.
    """

    def __init__(self, simulator, executor, *, seed: int, events_per_point: int, chunk_size: int, n_features: int,
                 fixed: Mapping[str, float] | None = None):
        self.simulator = simulator
        self.executor = executor
        self.seed = seed
        self.events_per_point = events_per_point
        self.chunk_size = chunk_size
        self.n_features = n_features
        self.fixed = dict(fixed or {})
        self._executor_lock = threading.Lock()

    def begin(self, iteration: int, first_index: int, points: np.ndarray, params: list[dict[str, float]],
              recorded: Mapping[int, Evaluation], simulate_recorded: bool) -> "PendingBatch":
        """Start simulating a batch in the background: ``points`` are the unit-cube points,
        ``params`` their physical values, ``recorded`` the batch members a resumed run
        already holds (by index in the batch), simulated again only when
        ``simulate_recorded``. :meth:`finish` waits for it. The driver can learn from one
        batch while the next one simulates; the executor runs one batch at a time, in the
        order begun."""
        batch = SimulatedBatch(iteration, first_index, np.asarray(points), list(params), dict(recorded), {},
                               self.n_features, self.seed, simulate_more=self.simulate)
        wanted = [index for index in range(len(params)) if simulate_recorded or index not in recorded]
        plans = [(index, params[index], self.events_per_point, 0) for index in wanted]
        if getattr(self.executor, "in_process", False):  # nothing to overlap with: simulate now
            samples = _done(self.simulate(batch, plans))
        else:
            samples = _in_background(self.simulate, batch, plans)
        return PendingBatch(batch, wanted, samples)

    def finish(self, pending: "PendingBatch", spare_events: int) -> SimulatedBatch:
        """A begun batch with its samples (waits for its simulations); ``spare_events`` is what
        the budget leaves after every point's first sample."""
        pending.batch.samples = dict(zip(pending.simulated, pending.samples.result()))
        pending.batch.spare_events = spare_events
        return pending.batch

    def simulate(self, batch: SimulatedBatch, points: list[SimulationPlan]) -> list[PointSample]:
        """Simulate (index in batch, params, events, first chunk) points in parallel; each
        chunk of ``chunk_size`` events has its own seed, keyed by its chunk number."""
        plans = [(index, p, _chunk_sizes(n_events, self.chunk_size), first) for index, p, n_events, first in points]
        tasks = [
            SimulationTask({**self.fixed, **p}, n, batch.seed(index, seeds.SIMULATION, first + chunk))
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
                                       batch.seed(index, seeds.SIMULATION, first),
                                       sum(o.seconds for o in mine), first + len(chunks)))
        return samples


@dataclass(frozen=True)
class PendingBatch:
    """A batch whose simulations were begun: ``simulated`` are the batch indices being
    simulated, ``samples`` the future of their samples."""

    batch: SimulatedBatch
    simulated: list[int]
    samples: Future

    @property
    def n_points(self) -> int:
        return self.batch.n_points


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


def _chunk_sizes(total: int, chunk_size: int) -> list[int]:
    full, rest = divmod(total, chunk_size)
    return [chunk_size] * full + ([rest] if rest else [])
