"""Where simulations run: in this process, or in local worker processes (joblib/loky).

Workers only simulate; they return compact float32 arrays, or the reason a simulation
failed. Every task carries its own seed, derived from the run seed and the task's
identity, so results do not depend on how many workers there are or who ran what.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

import numpy as np

# Purposes mixed into seeds, so that simulation, reference subsampling and the
# discriminator of one evaluation draw independent streams.
SEED_SIMULATION = 0
SEED_REFERENCE = 1
SEED_DISCRIMINATOR = 2


def task_seed(run_seed: int, iteration: int, index: int, purpose: int, chunk: int = 0) -> int:
    """A 32-bit seed keyed by (run seed, iteration, index in batch, purpose, chunk)."""
    sequence = np.random.SeedSequence(int(run_seed), spawn_key=(int(iteration), int(index), int(purpose), int(chunk)))
    return int(sequence.generate_state(1, dtype=np.uint32)[0])


@dataclass(frozen=True)
class SimulationTask:
    params: Mapping[str, float]
    n: int
    seed: int


@dataclass(frozen=True)
class SimulationOutcome:
    """Events as float32 (n, d), or ``events=None`` and the reason it failed."""

    events: np.ndarray | None
    error: str
    seconds: float


def run_simulation(simulator, task: SimulationTask) -> SimulationOutcome:
    """Run one task and check what came back; never raises for a simulator's fault."""
    started = time.perf_counter()
    try:
        events = np.asarray(simulator.simulate(dict(task.params), task.n, task.seed), dtype=np.float64)
    except Exception as err:  # a failing simulation is data, not a crash
        return SimulationOutcome(None, f"simulator raised {type(err).__name__}: {err}", time.perf_counter() - started)
    seconds = time.perf_counter() - started
    if events.ndim == 1:
        events = events[:, None]
    if events.ndim != 2 or events.shape[0] != task.n:
        return SimulationOutcome(None, f"simulator returned shape {events.shape}, expected ({task.n}, d)", seconds)
    if not np.isfinite(events).all():
        return SimulationOutcome(None, f"simulator returned {int((~np.isfinite(events)).sum())} NaN/inf values", seconds)
    return SimulationOutcome(events.astype(np.float32), "", seconds)


class Executor(Protocol):
    """Runs ``function(simulator, task)`` for each task and returns the outcomes in order."""

    n_workers: int

    def map(self, function: Callable, simulator, tasks: Iterable[SimulationTask]) -> list: ...

    def close(self) -> None: ...


class SerialExecutor:
    """Everything in this process: for debugging and for cheap simulators."""

    n_workers = 1

    def map(self, function, simulator, tasks):
        return [function(simulator, task) for task in tasks]

    def close(self) -> None:
        pass


class LocalExecutor:
    """Local worker processes through joblib's loky backend; the pool is reused between
    batches, so a simulator's per-process cache (a Pythia object) survives."""

    def __init__(self, n_workers: int = 2):
        if not isinstance(n_workers, int) or n_workers < 1:
            raise ValueError(f"execution.workers: must be a positive integer, got {n_workers!r}")
        from joblib import Parallel

        self.n_workers = n_workers
        self._parallel = Parallel(n_jobs=n_workers, backend="loky")
        self._parallel.__enter__()

    def map(self, function, simulator, tasks):
        from joblib import delayed

        return self._parallel(delayed(function)(simulator, task) for task in tasks)

    def close(self) -> None:
        self._parallel.__exit__(None, None, None)


def make_executor(n_workers: int = 1) -> Executor:
    """Serial for one worker, local processes for more."""
    if not isinstance(n_workers, int) or n_workers < 1:
        raise ValueError(f"execution.workers: must be a positive integer, got {n_workers!r}")
    return SerialExecutor() if n_workers == 1 else LocalExecutor(n_workers)
