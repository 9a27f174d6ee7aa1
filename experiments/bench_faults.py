"""Faults: a killed driver, killed workers, misbehaving simulators, a cut-off history line.

    python -m experiments.bench_faults [--driver-kills 20] [--worker-kills 10] [--seed 0]

1. **Driver SIGKILL.** ``advopt tune`` on a Gaussian closure (the default route, 2 local
   workers, 80 evaluations) is killed (with its workers) at ``--driver-kills`` random
   moments of its run, each once a random number (1-79) of evaluations is recorded, and
   resumed with ``advopt resume``; each resumed result must equal the uninterrupted run's
   (best point, interval and every evaluation but its timings).
2. **Dask worker SIGKILL.** The same tune through a Dask LocalCluster of 2 worker processes,
   one worker killed at ``--worker-kills`` random moments; each history must equal the serial
   run's.
3. **Misbehaving simulators.** One tune over a simulator that raises, returns NaN, returns
   too few events, changes its event width, hangs (``execution.task_timeout``), segfaults
   and exhausts memory, each in its own region: every failure kind is listed with the
   reason recorded, and the run must reach its budget.
4. **Power loss.** A run directory whose last history line is cut in half resumes,
   dropping only that line, and says so.

Prints each figure as ``k/n`` and writes results/faults.json.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path

import numpy as np

import advopt
from advopt.execution import make_executor
from experiments._common import write_result
from simulators.faults import FaultByRegion, SlowGaussian

CONFIG = """
seed = 3
[simulator]
name = "gaussian"
[parameters]
mean = [-2.0, 2.0]
width = [0.5, 2.0]
[reference]
simulate_at = "truth"
events = 5000
[budget]
events = 40000
events_per_point = 500
[execution]
workers = 2
"""
TIMINGS = ("sim_seconds", "train_seconds", "wall_seconds")


def _comparable(result: dict) -> dict:
    """A result without its timings: what must be identical after a resume."""
    history = [{k: v for k, v in e.items() if k not in TIMINGS} for e in result["history"]]
    return {"best_params": result["best_params"], "interval68": result["interval68"], "history": history}


def _cli(*args, cwd: Path, **kwargs):
    return [sys.executable, "-m", "advopt", "-q", *args], dict(cwd=cwd, **kwargs)


def driver_kills(n_kills: int, rng: np.random.Generator, work: Path) -> dict:
    (work / "run.toml").write_text(CONFIG)
    started = time.perf_counter()
    command, options = _cli("tune", "run.toml", "--run-dir", "whole", cwd=work)
    subprocess.run(command, check=True, capture_output=True, **options)
    whole_seconds = time.perf_counter() - started
    whole = _comparable(json.loads((work / "whole" / "result.json").read_text()))
    total = len(whole["history"])
    same, moments = 0, []
    for k in range(n_kills):
        target = int(rng.integers(1, total))  # kill once this many evaluations are on disk
        command, options = _cli("tune", "run.toml", "--run-dir", f"cut{k}", cwd=work)
        driver = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                                  **options)
        history = work / f"cut{k}" / "history.jsonl"
        started = time.perf_counter()
        while (not history.exists() or len(history.read_text().splitlines()) < target) and driver.poll() is None:
            time.sleep(0.002)
        moment = time.perf_counter() - started
        os.killpg(driver.pid, signal.SIGKILL)  # the driver and its workers, as a node failure would
        driver.wait()
        done = len(history.read_text().splitlines()) if history.exists() else 0
        command, options = _cli("resume", f"cut{k}", cwd=work)
        subprocess.run(command, check=True, capture_output=True, **options)
        identical = _comparable(json.loads((work / f"cut{k}" / "result.json").read_text())) == whole
        same += identical
        moments.append({"killed_at_s": round(moment, 2), "evaluations_done": done, "identical": identical})
        print(f"driver kill {k + 1}/{n_kills} at {moment:5.1f} s ({done} evaluations done): "
              f"{'identical' if identical else 'DIFFERENT'}", flush=True)
    return {"identical": same, "kills": n_kills, "whole_run_s": round(whole_seconds, 1), "moments": moments}


def worker_kills(n_kills: int, rng: np.random.Generator) -> dict:
    from advopt.execution.cluster import DaskExecutor

    reference = np.random.default_rng(1).normal(0.4, 1.0, (4_000, 1))
    settings = dict(optimizer="bayes", divergence="chi2", budget=8_000, events_per_point=500, batch_size=2, seed=21,
                    progress=False, optimizer_options={"n_initial_points": 4})
    serial = advopt.tune(SlowGaussian(0.0), reference, **settings)
    outcomes = [e.outcome() for e in serial.history]
    same, moments = 0, []
    for k in range(n_kills):
        executor = DaskExecutor(n_workers=2, retries=3)
        pids = list(executor.client.run(os.getpid).values())
        moment = float(rng.uniform(0.2, 3.0))  # 16 tasks of 0.3 s on 2 workers: ~2.5 s of simulation
        victim = int(rng.choice(pids))
        timer = threading.Timer(moment, os.kill, args=(victim, signal.SIGKILL))
        timer.start()
        try:
            result = advopt.tune(SlowGaussian(0.3), reference, backend=executor, **settings)
        finally:
            timer.join()
            executor.close()
        identical = [e.outcome() for e in result.history] == outcomes
        same += identical
        moments.append({"killed_at_s": round(moment, 2), "identical": identical})
        print(f"worker kill {k + 1}/{n_kills} at {moment:4.1f} s: {'identical' if identical else 'DIFFERENT'}", flush=True)
    return {"identical": same, "kills": n_kills, "moments": moments}


class WidthChanging(FaultByRegion):
    """FaultByRegion, and two features instead of one for mean in [0.8, 1.2)."""

    def simulate(self, params, n, seed):
        if 0.8 <= params["mean"] < 1.2:
            return np.zeros((n, 2))
        return super().simulate(params, n, seed)


def misbehaving_simulators() -> dict:
    reference = np.random.default_rng(2).normal(0.2, 1.0, (4_000, 1))
    executor = make_executor(2, "local", retries=1, task_timeout=2)
    try:
        result = advopt.tune(WidthChanging(), reference, {"mean": (-2.0, 2.0)}, optimizer="random", divergence="chi2",
                             budget=40 * 200, events_per_point=200, seed=5, backend=executor, progress=False)
    finally:
        executor.close()
    kinds = {}
    for evaluation in result.history:
        mean = evaluation.params["mean"]
        kind = "width" if 0.8 <= mean < 1.2 else FaultByRegion.fault_at(mean) or "none"
        if kind != "none":
            kinds.setdefault(kind, {"failed": 0, "points": 0, "reason": evaluation.reason})
            kinds[kind]["points"] += 1
            kinds[kind]["failed"] += not evaluation.ok
    for kind, seen in sorted(kinds.items()):
        print(f"{kind:>9}: {seen['failed']}/{seen['points']} recorded as failed: {seen['reason'][:110]}")
    return {"kinds": kinds, "events_used": result.events_used, "budget": result.budget,
            "all_recorded": all(seen["failed"] == seen["points"] for seen in kinds.values())}


def power_loss(work: Path) -> dict:
    reference = np.random.default_rng(3).normal(0.4, 1.0, (4_000, 1))
    settings = dict(optimizer="bayes", divergence="chi2", budget=6_000, events_per_point=500, seed=8, progress=False,
                    optimizer_options={"n_initial_points": 4})
    whole = advopt.tune(SlowGaussian(0.0), reference, run_dir=work / "whole-power", **settings)
    history = work / "whole-power" / "history.jsonl"
    lines = history.read_text().splitlines(keepends=True)
    (work / "cut-power").mkdir()
    for name in ("config.json", "environment.json"):
        (work / "cut-power" / name).write_text((work / "whole-power" / name).read_text())
    (work / "cut-power" / "history.jsonl").write_text("".join(lines[:5]) + lines[5][: len(lines[5]) // 2])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        resumed = advopt.tune(SlowGaussian(0.0), reference, run_dir=work / "cut-power", resume=True, **settings)
    said = [str(w.message) for w in caught if "cut off" in str(w.message)]
    identical = [e.outcome() for e in resumed.history] == [e.outcome() for e in whole.history]
    print(f"power loss: {'identical' if identical else 'DIFFERENT'} after dropping the cut line; said: {said[:1]}")
    return {"identical": identical, "said": said[:1]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--driver-kills", type=int, default=20)
    parser.add_argument("--worker-kills", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    with tempfile.TemporaryDirectory() as directory:
        work = Path(directory)
        figures = {"driver": driver_kills(args.driver_kills, rng, work), "worker": worker_kills(args.worker_kills, rng),
                   "simulators": misbehaving_simulators(), "power_loss": power_loss(work)}
    print(f"\ndriver SIGKILL then resume: {figures['driver']['identical']}/{figures['driver']['kills']} identical to the "
          f"uninterrupted run")
    print(f"Dask worker SIGKILL: {figures['worker']['identical']}/{figures['worker']['kills']} identical to the serial run")
    print(f"misbehaving simulators: {len(figures['simulators']['kinds'])} kinds, every failure recorded: "
          f"{figures['simulators']['all_recorded']}; budget spent {figures['simulators']['events_used']}/"
          f"{figures['simulators']['budget']}")
    print(f"power loss: resumed identical {figures['power_loss']['identical']}")
    write_result("faults", figures)


if __name__ == "__main__":
    main()

