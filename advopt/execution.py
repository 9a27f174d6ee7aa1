"""Where simulations run: in this process, in local worker processes (joblib/loky), on
Dask (``advopt.dask_executor``), or on any ``concurrent.futures``-style executor.

Workers only simulate; they return compact float32 arrays, or the reason a simulation
failed. Every task carries its own seed, derived from the run seed and the task's
identity, so results do not depend on how many workers there are or who ran what.
"""

from __future__ import annotations

import dataclasses
import logging
import signal
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

import numpy as np

logger = logging.getLogger(__name__)

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
    timeout: float | None = None  # seconds; a simulation still running then is a failed one


class _Hung(Exception):
    pass


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
        events = np.asarray(_call_with_timeout(simulator.simulate, (dict(task.params), task.n, task.seed), task.timeout),
                            dtype=np.float64)
    except _Hung:
        return SimulationOutcome(None, f"simulator hung: no result within {task.timeout:g} s (execution.task_timeout)",
                                 time.perf_counter() - started)
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


def _call_with_timeout(function, args: tuple, timeout: float | None):
    """``function(*args)``, raising _Hung after ``timeout`` seconds. In a process's main thread
    (local workers, the serial executor) an alarm interrupts the simulation itself; elsewhere
    (Dask runs tasks in a worker thread) the call runs in a thread that is abandoned when it
    hangs: the run goes on, the stuck thread stays in that worker."""
    if timeout is None:
        return function(*args)
    if threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer"):
        def interrupt(signum, frame):
            raise _Hung

        previous = signal.signal(signal.SIGALRM, interrupt)
        signal.setitimer(signal.ITIMER_REAL, timeout)
        try:
            return function(*args)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
    result: dict = {}

    def target():
        try:
            result["value"] = function(*args)
        except BaseException as err:  # handed to the caller below
            result["error"] = err

    worker = threading.Thread(target=target, daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise _Hung
    if "error" in result:
        raise result["error"]
    return result["value"]


def with_timeout(tasks: Iterable[SimulationTask], timeout: float | None) -> list[SimulationTask]:
    """The tasks, each carrying the executor's per-task timeout (if it has one)."""
    if timeout is None:
        return list(tasks)
    return [dataclasses.replace(task, timeout=timeout) for task in tasks]


def _check_timeout(timeout) -> None:
    if timeout is not None and not (isinstance(timeout, (int, float)) and not isinstance(timeout, bool) and timeout > 0):
        raise ValueError(f"execution.task_timeout: must be a positive number of seconds, got {timeout!r}")


class Executor(Protocol):
    """Runs ``function(simulator, task)`` for each task and returns the outcomes in order."""

    n_workers: int

    def map(self, function: Callable, simulator, tasks: Iterable[SimulationTask]) -> list: ...

    def close(self) -> None: ...


class SerialExecutor:
    """Everything in this process: for debugging and for cheap simulators."""

    n_workers = 1

    def __init__(self, task_timeout: float | None = None):
        _check_timeout(task_timeout)
        self.task_timeout = task_timeout

    def map(self, function, simulator, tasks):
        return [function(simulator, task) for task in with_timeout(tasks, self.task_timeout)]

    def close(self) -> None:
        pass


class LocalExecutor:
    """Local worker processes (joblib's loky). The pool lives as long as the executor, so a
    simulator's per-process cache (a Pythia object) survives between batches.

    The workers are started fresh with the executor: they see this process's ``sys.path``
    as it is now (workers kept from an earlier pool would miss a user's module directory
    added since). A simulation that kills its worker process (``os._exit``, a segfault)
    breaks the whole batch; its tasks are then run again one at a time, each up to
    ``retries`` more times, and a task that still kills its worker comes back as a failed
    outcome.

    Idle workers are kept (``idle_timeout`` None): loky's default of 10 s let them exit
    while the driver trained, and every restart re-initialised Pythia and lost its cache
    (78 worker processes in a 22-minute run). ``close`` shuts them down.
    """

    def __init__(self, n_workers: int = 2, retries: int = 2, idle_timeout: float | None = None,
                 task_timeout: float | None = None):
        _check_workers(n_workers)
        _check_retries(retries)
        _check_timeout(task_timeout)
        self.task_timeout = task_timeout
        from joblib.externals.loky import get_reusable_executor

        self.n_workers = n_workers
        self.retries = retries
        self._timeout = idle_timeout  # None: a worker waits for its next task for ever
        self._pool = get_reusable_executor(max_workers=n_workers, timeout=self._timeout, reuse=False)

    def _healthy_pool(self):
        from joblib.externals.loky import get_reusable_executor

        # After a worker died the pool is broken; this gives a new one (else the same).
        self._pool = get_reusable_executor(max_workers=self.n_workers, timeout=self._timeout)
        return self._pool

    def map(self, function, simulator, tasks):
        from joblib.externals.loky.process_executor import BrokenProcessPool, TerminatedWorkerError

        tasks = with_timeout(tasks, self.task_timeout)
        pool = self._healthy_pool()
        try:
            futures = [pool.submit(function, simulator, task) for task in tasks]
            return [future.result() for future in futures]
        except TerminatedWorkerError:
            logger.warning("a worker process died during a batch of %d tasks; running them one by one", len(tasks))
        except BrokenProcessPool as err:  # not a crash: the workers could not load the simulator
            raise ValueError(f"simulator: worker processes cannot load it; is its module importable there? ({first_line(err)})") from None
        return [self._run_alone(function, simulator, task) for task in tasks]

    def _run_alone(self, function, simulator, task):
        from joblib.externals.loky.process_executor import TerminatedWorkerError

        for attempt in range(self.retries + 1):
            try:
                return self._healthy_pool().submit(function, simulator, task).result()
            except TerminatedWorkerError as err:
                last = err
                logger.warning("worker process died running a task (attempt %d of %d)", attempt + 1, self.retries + 1)
        return SimulationOutcome(None, f"worker process died {self.retries + 1} times running this task ({first_line(last)})", 0.0)

    def close(self) -> None:
        """Stop the worker processes: a finished run leaves none behind."""
        self._pool.shutdown(wait=True, kill_workers=True)


class FuturesExecutor:
    """Wraps any ``concurrent.futures``-style executor (anything with ``submit``)."""

    def __init__(self, executor, n_workers: int | None = None):
        if not hasattr(executor, "submit"):
            raise ValueError(f"executor: {type(executor).__name__} has no submit(); pass a concurrent.futures-style executor")
        self.executor = executor
        self.n_workers = n_workers or getattr(executor, "_max_workers", 1)

    def map(self, function, simulator, tasks):
        futures = [self.executor.submit(function, simulator, task) for task in tasks]
        outcomes = []
        for future in futures:
            try:
                outcomes.append(future.result())
            except Exception as err:  # e.g. BrokenProcessPool: recorded, the run goes on
                outcomes.append(SimulationOutcome(None, f"executor failed: {type(err).__name__}: {first_line(err)}", 0.0))
        return outcomes

    def close(self) -> None:
        pass  # the executor belongs to the caller


def make_executor(n_workers: int = 1, backend: str | None = None, **options) -> Executor:
    """Build an executor: ``serial``, ``local`` processes (default for more than one
    worker) or ``dask`` (see :class:`advopt.dask_executor.DaskExecutor` for its options)."""
    _check_workers(n_workers)
    backend = backend or ("serial" if n_workers == 1 else "local")
    if backend == "serial":
        _no_options(backend, options, allowed={"retries", "task_timeout"})  # nothing to retry in-process
        return SerialExecutor(task_timeout=options.get("task_timeout"))
    if backend == "local":
        _no_options(backend, options, allowed={"retries", "idle_timeout", "task_timeout"})
        return LocalExecutor(n_workers, **options)
    if backend == "dask":
        from advopt.dask_executor import DaskExecutor

        return DaskExecutor(n_workers=n_workers, **options)
    raise ValueError(f"execution.backend: unknown {backend!r}; choose serial, local or dask")


def as_executor(executor) -> Executor:
    """Accept one of ours or a ``concurrent.futures``-style executor."""
    return executor if hasattr(executor, "map") and hasattr(executor, "close") and not hasattr(executor, "submit") else FuturesExecutor(executor)


def _no_options(backend: str, options: Mapping, allowed: set[str] = frozenset()) -> None:
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise ValueError(f"execution: option(s) {unknown} do not apply to backend {backend!r}")


def _check_workers(n_workers) -> None:
    if isinstance(n_workers, bool) or not isinstance(n_workers, int) or n_workers < 1:
        raise ValueError(f"execution.workers: must be a positive integer, got {n_workers!r}")


def _check_retries(retries) -> None:
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise ValueError(f"execution.retries: must be a non-negative integer, got {retries!r}")


def first_line(err: BaseException) -> str:
    """An error's first line (its type's name if it has no text): for one-line messages."""
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__
