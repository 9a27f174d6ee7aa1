"""Pythia alphaS closure over many seeds: tune TimeShower:alphaSvalue to Monash pseudo-data.

    python experiments/bench_pythia_alphas_closure.py [--seeds 10] [--budget 100000] [--workers 2]

For each seed: a 100k-event Monash reference (its own seed), Bayesian optimisation with the
MLP JSD over alphaSvalue in [0.06, 0.25], every other parameter at Monash. Prints per seed
|alphaS - 0.1365| and the simulated events used, and the share of seeds within 0.003.
Writes results/pythia_alphas_closure.json.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import advopt
from advopt.execution import LocalExecutor, SimulationTask, run_simulation
from _common import write_result

ALPHA = "TimeShower:alphaSvalue"


def simulate_reference(simulator, executor, n_events: int, seed: int, chunk: int = 10_000) -> np.ndarray:
    """Monash pseudo-data, simulated in parallel chunks with seeds derived from ``seed``."""
    tasks = [SimulationTask(simulator.truth, chunk, seed * 1_000 + i) for i in range(n_events // chunk)]
    outcomes = executor.map(run_simulation, simulator, tasks)
    return np.concatenate([o.events for o in outcomes]).astype(np.float64)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--budget", type=int, default=100_000)
    parser.add_argument("--events-per-point", type=int, default=2_000)
    parser.add_argument("--reference-events", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    simulator = advopt.get_simulator("pythia-ee")
    truth = simulator.truth[ALPHA]
    low, high = simulator.default_space[ALPHA]
    executor = LocalExecutor(args.workers)
    runs = []
    print(f"{'seed':>4} {'alphaS':>8} {'+-':>7} {'|d|':>8} {'events':>8} {'wall s':>7}")
    try:
        for seed in range(args.seeds):
            reference = simulate_reference(simulator, executor, args.reference_events, 500 + seed)
            started = time.perf_counter()
            result = advopt.tune(simulator, reference, {ALPHA: (low, high)}, budget=args.budget,
                                 events_per_point=args.events_per_point, executor=executor, seed=seed,
                                 truth={ALPHA: truth}, progress=False)
            wall = time.perf_counter() - started
            tuned = result.best_params[ALPHA]
            run = {"seed": seed, "alphaS": tuned, "uncertainty": result.uncertainty[ALPHA],
                   "distance": abs(tuned - truth), "events_used": result.events_used, "wall_seconds": wall,
                   "train_seconds": sum(e.train_seconds for e in result.history),
                   "sim_seconds": sum(e.sim_seconds for e in result.history), "failed": result.n_failed}
            runs.append(run)
            print(f"{seed:>4} {tuned:8.4f} {run['uncertainty']:7.4f} {run['distance']:8.4f} {run['events_used']:>8} {wall:7.0f}",
                  flush=True)
    finally:
        executor.close()

    distances = np.array([r["distance"] for r in runs])
    within_0003 = float(np.mean(distances <= 0.003))
    within_001 = float(np.mean(distances <= 0.01))
    print(f"median |alphaS - {truth}| = {np.median(distances):.4f}; within 0.003: {within_0003:.0%}; "
          f"within 0.01: {within_001:.0%}; events per seed {args.budget:,}")
    path = write_result("pythia_alphas_closure", {
        "truth": truth, "budget": args.budget, "events_per_point": args.events_per_point,
        "reference_events": args.reference_events, "workers": args.workers,
        "median_distance": float(np.median(distances)), "share_within_0.003": within_0003,
        "share_within_0.01": within_001, "runs": runs,
    })
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
