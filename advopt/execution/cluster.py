"""Simulations as Dask tasks: on a running scheduler, a LocalCluster, or a batch-system
cluster (SLURM, HTCondor) described in the config and started through dask-jobqueue.

Workers only simulate and send back float32 arrays; the driver keeps the optimiser and
the discriminator. Dask re-runs the tasks of a worker that dies; a task that kills
``retries + 1`` workers comes back as a failed outcome and the run goes on.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from advopt.execution.tasks import (SimulationOutcome, check_retries, check_timeout, check_workers, first_line,
                                    with_timeout)

logger = logging.getLogger(__name__)

CLUSTER_KINDS = ("slurm", "htcondor")
CLUSTER_FIELDS = {"kind", "cores", "memory", "disk", "walltime", "queue", "account", "jobs", "processes",
                  "adaptive_minimum", "adaptive_maximum", "job_extra_directives", "job_script_prologue", "local_directory"}
SCALING_FIELDS = ("jobs", "adaptive_minimum", "adaptive_maximum")


def _import_distributed():
    try:
        import distributed
    except ImportError:
        raise ValueError("execution.backend = 'dask' needs the dask extra: pip install 'advopt[dask]'") from None
    return distributed


def jobqueue_cluster(options: Mapping):
    """Build (not yet scale) a dask-jobqueue cluster from an ``[execution.cluster]`` table."""
    options = dict(options)
    unknown = sorted(set(options) - CLUSTER_FIELDS)
    if unknown:
        raise ValueError(f"execution.cluster: unknown field(s) {unknown}; known: {sorted(CLUSTER_FIELDS)}")
    kind = options.pop("kind", None)
    if kind not in CLUSTER_KINDS:
        raise ValueError(f"execution.cluster.kind: must be one of {list(CLUSTER_KINDS)}, got {kind!r}")
    for required in ("cores", "memory"):
        if required not in options:
            raise ValueError(f"execution.cluster.{required}: required for a {kind} cluster")
    try:
        import dask_jobqueue
    except ImportError:
        raise ValueError("execution.cluster needs dask-jobqueue: pip install 'advopt[dask]'") from None
    for field in SCALING_FIELDS:  # used by DaskExecutor when scaling, not by the job
        options.pop(field, None)
    if kind == "slurm":
        if "disk" in options:
            raise ValueError("execution.cluster.disk: applies to HTCondor only")
        return dask_jobqueue.SLURMCluster(**options)
    for field in ("queue", "account"):
        if field in options:
            raise ValueError(f"execution.cluster.{field}: applies to SLURM only")
    options.setdefault("disk", "1 GiB")  # HTCondor needs a disk request
    return dask_jobqueue.HTCondorCluster(**options)


class DaskExecutor:
    """Run simulation tasks on Dask.

    address: a running scheduler (``tcp://host:8786``); or cluster: an
    ``[execution.cluster]`` table (SLURM/HTCondor via dask-jobqueue: cores, memory,
    walltime, queue, account, jobs, adaptive_minimum/adaptive_maximum); or neither: a
    ``LocalCluster`` of ``n_workers`` single-threaded worker processes.
    """

    in_process = False

    def __init__(self, n_workers: int = 2, address: str | None = None, cluster: Mapping | None = None, retries: int = 2,
                 task_timeout: float | None = None):
        check_workers(n_workers)
        check_retries(retries)
        check_timeout(task_timeout)
        self.task_timeout = task_timeout
        distributed = _import_distributed()
        import dask

        self.n_workers = n_workers
        self.retries = retries
        self._cluster = None
        # A task may kill this many workers before Dask gives up on it (KilledWorker).
        with dask.config.set({"distributed.scheduler.allowed-failures": retries}):
            if address is not None and cluster is not None:
                raise ValueError("execution: give either address or cluster, not both")
            if address is not None:
                self.client = distributed.Client(address)
                self._allow_failures_on_scheduler(retries)
            else:
                self._cluster = jobqueue_cluster(cluster) if cluster is not None else distributed.LocalCluster(
                    n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=None)
                self._scale(cluster)
                self.client = distributed.Client(self._cluster)

    def _allow_failures_on_scheduler(self, retries: int) -> None:
        """A running scheduler read its allowed-failures from its own configuration at start;
        set it there, so that ``retries`` means the same with ``address`` as without."""
        def allow(dask_scheduler, retries=retries):
            previous = dask_scheduler.allowed_failures
            dask_scheduler.allowed_failures = retries
            return previous

        previous = self.client.run_on_scheduler(allow)
        if previous != retries:
            logger.warning("execution.retries: the scheduler at %s allowed %s failures per task; set to %d "
                           "for every client of it", self.client.scheduler.address, previous, retries)

    def _scale(self, cluster: Mapping | None) -> None:
        if cluster is None:
            return
        if "adaptive_maximum" in cluster:
            self._cluster.adapt(minimum=cluster.get("adaptive_minimum", 0), maximum=cluster["adaptive_maximum"])
        else:
            self._cluster.scale(jobs=cluster.get("jobs", 1))

    def map(self, function, simulator, tasks):
        distributed = _import_distributed()
        tasks = with_timeout(tasks, self.task_timeout)
        futures = self.client.map(function, [simulator] * len(tasks), tasks, pure=False)
        outcomes = []
        for future in futures:
            try:
                outcomes.append(future.result())
            except distributed.KilledWorker as err:
                outcomes.append(SimulationOutcome(None, f"worker died {self.retries + 1} times running this task ({first_line(err)})", 0.0))
        return outcomes

    def close(self) -> None:
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()
