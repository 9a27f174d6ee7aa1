"""Executors with real worker processes: identical histories, lost workers, crashing simulators."""

import concurrent.futures
import importlib.util
import os
import signal
import threading
import time

import numpy as np
import pytest

import advopt
from advopt.execution import LocalExecutor, SimulationTask, make_executor, run_simulation
from advopt.seeds import task_seed
from simulators.faults import CrashAbove, CrashAlways, CrashOnce, PidReportingGaussian, SlowGaussian, worker_pid

# Only the Dask tests need distributed; the local executor and the seeds are tested without it.
needs_dask = pytest.mark.skipif(importlib.util.find_spec("distributed") is None, reason="needs advopt[dask]")
if importlib.util.find_spec("distributed") is not None:
    import distributed

    from advopt.execution.cluster import DaskExecutor, jobqueue_cluster

REFERENCE = np.random.default_rng(1).normal(0.4, 1.0, (4_000, 1))
SETTINGS = dict(optimizer="bayes", budget=8_000, events_per_point=1_000, chunk_size=500, batch_size=2, seed=21, progress=False,
                optimizer_options={"n_initial_points": 4})


def _outcomes(result):
    return [e.outcome() for e in result.history]


@pytest.fixture(scope="module")
def serial_result():
    return advopt.tune(SlowGaussian(0.0), REFERENCE, **SETTINGS)


def test_task_seeds_are_keyed_by_identity_only():
    assert task_seed(1, 2, 3, 0, 4) == task_seed(1, 2, 3, 0, 4)
    assert len({task_seed(1, i, j, p, c) for i in range(3) for j in range(3) for p in range(3) for c in range(3)}) == 81


@needs_dask
def test_dask_local_cluster_gives_the_serial_history(serial_result):
    executor = DaskExecutor(n_workers=2)
    try:
        result = advopt.tune(SlowGaussian(0.0), REFERENCE, backend=executor, **SETTINGS)
    finally:
        executor.close()
    assert _outcomes(result) == _outcomes(serial_result)


def test_concurrent_futures_executor_gives_the_serial_history(serial_result):
    with concurrent.futures.ProcessPoolExecutor(2) as pool:
        result = advopt.tune(SlowGaussian(0.0), REFERENCE, backend=pool, **SETTINGS)
    assert _outcomes(result) == _outcomes(serial_result)


@needs_dask
def test_dask_worker_killed_mid_run_loses_nothing(serial_result, tmp_path):
    """SIGKILL the worker running the fifth task while it runs (each task notes its process
    as it starts, then sleeps 0.3 s): no fixed delay, so a fast or slow machine kills mid-run."""
    executor = DaskExecutor(n_workers=2, retries=3)
    killed = []

    def kill_the_fifth_task_s_worker():
        deadline = time.monotonic() + 120
        while len(list(tmp_path.glob("*.pid"))) < 5 and time.monotonic() < deadline:
            time.sleep(0.005)
        newest = max(tmp_path.glob("*.pid"), key=lambda path: path.stat().st_mtime_ns)
        os.kill(int(newest.read_text()), signal.SIGKILL)
        killed.append(newest.name)

    killer = threading.Thread(target=kill_the_fifth_task_s_worker)
    killer.start()
    try:
        result = advopt.tune(PidReportingGaussian(tmp_path, 0.3), REFERENCE, backend=executor, **SETTINGS)
    finally:
        killer.join()
        executor.close()
    assert killed
    assert len(list(tmp_path.glob("*.pid"))) > 8  # the killed task ran again
    assert [e.index for e in result.history] == list(range(8))
    assert all(e.ok for e in result.history) and result.events_used == 8_000
    assert _outcomes(result) == _outcomes(serial_result)


@pytest.mark.parametrize("backend", ["local", pytest.param("dask", marks=needs_dask)])
def test_a_simulation_that_kills_its_process_once_is_retried(tmp_path, backend):
    executor = make_executor(2, backend, retries=2)
    try:
        outcomes = executor.map(run_simulation, CrashOnce(tmp_path / "marker"),
                                [SimulationTask({"mean": 0.1}, 100, seed) for seed in range(4)])
    finally:
        executor.close()
    assert (tmp_path / "marker").exists()
    assert all(o.events is not None for o in outcomes), [o.error for o in outcomes]
    assert [o.events.shape for o in outcomes] == [(100, 1)] * 4


@pytest.mark.parametrize("backend", ["local", pytest.param("dask", marks=needs_dask)])
def test_a_simulation_that_always_kills_its_process_is_a_failed_evaluation(backend):
    executor = make_executor(2, backend, retries=1)
    try:
        result = advopt.tune(CrashAbove(1.0), REFERENCE, backend=executor, optimizer="bayes", budget=6_000, events_per_point=1_000,
                             seed=2, progress=False, optimizer_options={"n_initial_points": 4})
    finally:
        executor.close()
    failed = [e for e in result.history if not e.ok]
    assert failed and all(e.params["mean"] > 1.0 for e in failed)
    assert all("died" in e.reason for e in failed)
    assert all(e.ok for e in result.history if e.params["mean"] <= 1.0)
    assert len(result.history) == 6


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = f"/proc/{pid}/stat"
    return not (os.path.exists(stat) and open(stat).read().split()[2] == "Z")  # a zombie has ended


def test_local_workers_outlive_an_idle_driver_and_end_with_the_run():
    """One pool for the run: idle workers wait (loky's 10 s idle timeout restarted them, and
    Pythia with them, whenever the driver trained longer), and close() ends them (they were
    still alive 40 minutes after a run)."""
    executor = LocalExecutor(2)
    first = set(executor.map(worker_pid, None, range(6)))
    time.sleep(11)  # longer than loky's default idle timeout
    second = set(executor.map(worker_pid, None, range(6)))
    assert second <= first
    executor.close()
    deadline = time.time() + 10
    while any(_alive(pid) for pid in first) and time.time() < deadline:
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in first)


@needs_dask
def test_retries_hold_on_a_scheduler_started_outside_advopt(tmp_path):
    """With ``address=`` the scheduler is someone else's, started with its own allowed-failures
    (3 by default): ``retries=0`` must still mean one attempt, not four."""
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        executor = DaskExecutor(address=cluster.scheduler_address, retries=0)
        try:
            [outcome] = executor.map(run_simulation, CrashAlways(tmp_path / "attempts"), [SimulationTask({"mean": 0.1}, 10, 1)])
        finally:
            executor.close()
    assert outcome.events is None and "died 1 times" in outcome.error
    assert (tmp_path / "attempts").read_text().count("attempt") == 1


@needs_dask
def test_slurm_job_script_carries_the_configured_resources():
    cluster = jobqueue_cluster({"kind": "slurm", "cores": 8, "memory": "16 GiB", "walltime": "04:00:00",
                                "queue": "short", "account": "hep", "jobs": 3})
    try:
        script = cluster.job_script()
    finally:
        cluster.close()
    assert "#SBATCH -p short" in script and "#SBATCH -A hep" in script
    assert "#SBATCH --cpus-per-task=8" in script and "#SBATCH -t 04:00:00" in script
    assert "#SBATCH --mem=" in script and "--nthreads" in script


@needs_dask
def test_htcondor_job_script_carries_the_configured_resources():
    cluster = jobqueue_cluster({"kind": "htcondor", "cores": 4, "memory": "8 GiB", "disk": "2 GiB"})
    try:
        script = cluster.job_script()
    finally:
        cluster.close()
    assert "RequestCpus = MY.DaskWorkerCores" in script and "DaskWorkerCores = 4" in script
    assert "RequestMemory" in script and "RequestDisk" in script


@pytest.mark.parametrize(
    "options, message",
    [({"kind": "pbs", "cores": 1, "memory": "1 GiB"}, "execution.cluster.kind"),
     ({"kind": "slurm", "memory": "1 GiB"}, "execution.cluster.cores"),
     ({"kind": "slurm", "cores": 1, "memory": "1 GiB", "gpus": 1}, "unknown field")],
)
@needs_dask
def test_bad_cluster_config_is_named(options, message):
    with pytest.raises(ValueError, match=message):
        jobqueue_cluster(options)


def test_bad_backend_and_options():
    with pytest.raises(ValueError, match="execution.backend"):
        make_executor(2, "mpi")
    with pytest.raises(ValueError, match="execution.workers"):
        make_executor(0)
    with pytest.raises(ValueError, match="do not apply"):
        make_executor(2, "local", address="tcp://x:1")
    executor = LocalExecutor(1)
    executor.close()


@pytest.mark.parametrize("backend", ["local", pytest.param("dask", marks=needs_dask)])
def test_every_kind_of_fault_is_recorded_and_the_run_goes_on(backend):
    """Raise, NaN, wrong shape, hang (execution.task_timeout), segfault, memory exhaustion:
    each point gets a failed evaluation with its own reason; the rest of the run is unharmed."""
    from simulators.faults import FaultByRegion

    points = [-1.8, -1.4, -1.0, -0.6, 1.8, 0.4, 0.5, 1.4]
    tasks = [SimulationTask({"mean": mean}, 200, seed) for seed, mean in enumerate(points)]
    executor = make_executor(2, backend, retries=1, task_timeout=2)
    try:  # the segfault alone: a dying Dask worker also fails the tasks queued on it
        outcomes = executor.map(run_simulation, FaultByRegion(), tasks[:-1]) + executor.map(run_simulation, FaultByRegion(), tasks[-1:])
    finally:
        executor.close()
    for mean, outcome in zip(points, outcomes):
        kind = FaultByRegion.fault_at(mean)
        if kind is None:
            assert outcome.events is not None and outcome.events.shape == (200, 1)
        else:
            assert outcome.events is None and FaultByRegion.REASONS[kind] in outcome.error, (kind, outcome.error)


def test_a_hang_times_out_in_the_serial_executor_too():
    from simulators.faults import FaultByRegion

    [outcome] = make_executor(1, "serial", task_timeout=0.5).map(run_simulation, FaultByRegion(),
                                                                 [SimulationTask({"mean": -0.6}, 10, 1)])
    assert outcome.events is None and "hung: no result within 0.5 s" in outcome.error
