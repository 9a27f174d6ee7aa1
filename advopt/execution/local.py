"""Executors on this machine: in this process, in local worker processes (joblib/loky), or
on any ``concurrent.futures``-style executor the caller owns."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from typing import Protocol

from advopt.execution.tasks import (SimulationOutcome, SimulationTask, check_retries, check_timeout, check_workers,
                                    first_line, with_timeout)

logger = logging.getLogger(__name__)


class Executor(Protocol):
    """Runs ``function(simulator, task)`` for each task and returns the outcomes in order."""

    n_workers: int
    # True when the simulations run in the driver's own process: a batch begun ahead would
    # then only compete with the driver for the interpreter, so the loop waits for it instead.
    in_process: bool

    def map(self, function: Callable, simulator, tasks: Iterable[SimulationTask]) -> list: ...

    def close(self) -> None: ...


class SerialExecutor:
    """Everything in this process: for debugging and for cheap simulators."""

    n_workers = 1
    in_process = True

    def __init__(self, task_timeout: float | None = None):
        check_timeout(task_timeout)
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

    in_process = False

    def __init__(self, n_workers: int = 2, retries: int = 2, idle_timeout: float | None = None,
                 task_timeout: float | None = None):
        check_workers(n_workers)
        check_retries(retries)
        check_timeout(task_timeout)
        self.task_timeout = task_timeout
        from joblib.externals.loky import get_reusable_executor

        self.n_workers = n_workers
        self.retries = retries
        self._timeout = idle_timeout  # None: a worker waits for its next task for ever
        self._pool = get_reusable_executor(reuse=False, **self._pool_arguments())

    def _pool_arguments(self) -> dict:
        return {"max_workers": self.n_workers, "timeout": self._timeout, "initializer": exit_with_driver,
                "initargs": (os.getpid(),)}

    def _healthy_pool(self):
        from joblib.externals.loky import get_reusable_executor

        # After a worker died the pool is broken; this gives a new one (else the same).
        self._pool = get_reusable_executor(**self._pool_arguments())
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


def exit_with_driver(driver: int) -> None:
    """Worker initializer: a worker whose driver died (SIGKILL, out of memory) exits within a
    second. Idle workers wait for tasks for ever (see LocalExecutor), so nothing else would
    end them, and they would hold their resource trackers alive too."""

    def watch():
        while os.getppid() == driver:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="advopt-driver-watch", daemon=True).start()


class FuturesExecutor:
    """Wraps any ``concurrent.futures``-style executor (anything with ``submit``)."""

    in_process = False  # its workers (threads or processes) run beside the driver

    def __init__(self, executor, n_workers: int | None = None):
        if not hasattr(executor, "submit"):
            raise ValueError(f"execution.backend: {type(executor).__name__} has no submit(); pass a backend name or a concurrent.futures-style executor")
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


