"""A simulation task and what comes back: run in a worker, checked there, never raising for
a simulator's fault. Shared by every executor (advopt/execution/local.py, cluster.py).

Workers only simulate; they return compact float32 arrays, or the reason a simulation
failed. Every task carries its own seed (advopt/seeds.py), so results do not depend on how
many workers there are or who ran what.
"""

from __future__ import annotations

import dataclasses
import signal
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from advopt.settings import check


@dataclass(frozen=True)
class SimulationTask:
    params: Mapping[str, float]
    n: int
    seed: int
    timeout: float | None = None  # seconds; a simulation still running then is a failed one


class Hung(Exception):
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
        events = np.asarray(call_with_timeout(simulator.simulate, (dict(task.params), task.n, task.seed), task.timeout),
                            dtype=np.float64)
    except Hung:
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


def call_with_timeout(function, args: tuple, timeout: float | None):
    """``function(*args)``, raising Hung after ``timeout`` seconds. In a process's main thread
    (local workers, the serial executor) an alarm interrupts the simulation itself; elsewhere
    (Dask runs tasks in a worker thread) the call runs in a thread that is abandoned when it
    hangs: the run goes on, the stuck thread stays in that worker."""
    if timeout is None:
        return function(*args)
    if threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer"):
        def interrupt(signum, frame):
            raise Hung

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
        raise Hung
    if "error" in result:
        raise result["error"]
    return result["value"]


def with_timeout(tasks: Iterable[SimulationTask], timeout: float | None) -> list[SimulationTask]:
    """The tasks, each carrying the executor's per-task timeout (if it has one)."""
    if timeout is None:
        return list(tasks)
    return [dataclasses.replace(task, timeout=timeout) for task in tasks]


def check_timeout(timeout) -> None:
    if timeout is not None:
        check("execution.task_timeout", timeout)


def check_no_options(backend: str, options: Mapping, allowed: set[str] = frozenset()) -> None:
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise ValueError(f"execution: option(s) {unknown} do not apply to backend {backend!r}")


def check_workers(n_workers) -> None:
    check("execution.workers", n_workers)


def check_retries(retries) -> None:
    check("execution.retries", retries)


def first_line(err: BaseException) -> str:
    """An error's first line (its type's name if it has no text): for one-line messages."""
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__
