"""Where simulations run, by backend: in this process or local worker processes
(:mod:`advopt.execution.local`), on Dask or a batch cluster (:mod:`advopt.execution.cluster`).
The task each worker runs is :mod:`advopt.execution.tasks`."""

from __future__ import annotations

from advopt.execution.local import Executor, FuturesExecutor, LocalExecutor, SerialExecutor
from advopt.execution.tasks import (SimulationOutcome, SimulationTask, check_no_options, check_workers, first_line,
                                    run_simulation)


def make_executor(n_workers: int = 1, backend: str | None = None, **options) -> Executor:
    """Build an executor: ``serial``, ``local`` processes (default for more than one
    worker) or ``dask`` (see :class:`advopt.execution.cluster.DaskExecutor` for its options)."""
    check_workers(n_workers)
    backend = backend or ("serial" if n_workers == 1 else "local")
    if backend == "serial":
        check_no_options(backend, options, allowed={"retries", "task_timeout"})  # nothing to retry in-process
        return SerialExecutor(task_timeout=options.get("task_timeout"))
    if backend == "local":
        check_no_options(backend, options, allowed={"retries", "idle_timeout", "task_timeout"})
        return LocalExecutor(n_workers, **options)
    if backend == "dask":
        from advopt.execution.cluster import DaskExecutor

        return DaskExecutor(n_workers=n_workers, **options)
    raise ValueError(f"execution.backend: unknown {backend!r}; choose serial, local or dask")


def as_executor(executor) -> Executor:
    """Accept one of ours or a ``concurrent.futures``-style executor."""
    return executor if hasattr(executor, "map") and hasattr(executor, "close") and not hasattr(executor, "submit") else FuturesExecutor(executor)




__all__ = ["Executor", "SerialExecutor", "LocalExecutor", "FuturesExecutor", "SimulationTask", "SimulationOutcome",
           "run_simulation", "make_executor", "as_executor", "first_line"]
