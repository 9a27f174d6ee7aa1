"""Pythia simulation throughput through Dask LocalCluster(2) vs local worker processes (loky).

    python -m experiments.bench_dask_throughput [--tasks 24] [--events-per-task 2000] [--repeats 3]

Both executors run the same simulation tasks (PythiaEE at Monash, fixed seeds) after a
warm-up that builds each worker's Pythia object; the figure is the ratio of events per
second, Dask over local, medians over repeats in one run. The per-task overhead is
measured with a no-op simulator: wall time per task when the work is nil.
Writes results/dask_throughput.json.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import advopt
from advopt.execution import LocalExecutor, SimulationTask, run_simulation
from advopt.execution.cluster import DaskExecutor
from experiments._common import write_result


class Nothing:
    """A simulator that does no work: its wall time per task is pure executor overhead."""

    def simulate(self, params, n, seed):
        return np.zeros((n, 1))


def timed(executor, simulator, tasks) -> float:
    started = time.perf_counter()
    outcomes = executor.map(run_simulation, simulator, tasks)
    elapsed = time.perf_counter() - started
    failed = [o.error for o in outcomes if o.events is None]
    if failed:
        raise RuntimeError(f"simulations failed: {failed[:2]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=24)
    parser.add_argument("--events-per-task", type=int, default=2_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    pythia = advopt.get_simulator("pythia-ee")
    tasks = [SimulationTask(pythia.truth, args.events_per_task, 1_000 + i) for i in range(args.tasks)]
    noop_tasks = [SimulationTask({}, 1, i) for i in range(200)]
    executors = {"local": LocalExecutor(args.workers), "dask": DaskExecutor(n_workers=args.workers)}
    rates: dict[str, list[float]] = {name: [] for name in executors}
    overheads: dict[str, list[float]] = {name: [] for name in executors}
    try:
        for executor in executors.values():  # warm-up: start workers, build Pythia, compile kernels
            timed(executor, pythia, tasks[: 2 * args.workers])
            timed(executor, Nothing(), noop_tasks[:10])
        for _ in range(args.repeats):  # interleaved, so that machine noise hits both alike
            for name, executor in executors.items():
                rates[name].append(args.tasks * args.events_per_task / timed(executor, pythia, tasks))
                overheads[name].append(timed(executor, Nothing(), noop_tasks) / len(noop_tasks))
    finally:
        for executor in executors.values():
            executor.close()

    local, dask = statistics.median(rates["local"]), statistics.median(rates["dask"])
    print(f"{'executor':<8} {'events/s':>10} {'overhead/task':>14}")
    for name in executors:
        print(f"{name:<8} {statistics.median(rates[name]):10.0f} {statistics.median(overheads[name]) * 1e3:11.2f} ms")
    print(f"Dask / local throughput ratio: {dask / local:.3f} (target >= 0.9); "
          f"{args.workers} workers, {args.tasks} tasks of {args.events_per_task} events, median of {args.repeats}")
    path = write_result("dask_throughput", {
        "workers": args.workers, "tasks": args.tasks, "events_per_task": args.events_per_task, "repeats": args.repeats,
        "rate_local_events_per_s": rates["local"], "rate_dask_events_per_s": rates["dask"],
        "median_ratio_dask_over_local": dask / local, "target_ratio": 0.9,
        "overhead_per_task_s": {name: statistics.median(values) for name, values in overheads.items()},
    })
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
