"""XOR-rotation closure over many seeds: distance to the true angle against simulated events.

    python -m experiments.bench_xor_closure [--seeds 10] [--budget 200000] [--workers 2]

For each seed a fresh pseudo-data reference (50k events at the true angle) is tuned with
Bayesian optimisation and the MLP JSD; the recommendation is read off as the budget is spent.
Prints the distance per seed at each checkpoint, the median, and where the wall time went
(training discriminators vs simulating). Writes results/xor_closure.json.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import advopt
from experiments._common import write_result


def run_seed(seed: int, budget: int, events_per_point: int, workers: int, checkpoints: list[int]) -> dict:
    simulator = advopt.get_simulator("xor")
    true_angle = simulator.truth["angle"]
    reference = simulator.simulate(simulator.truth, 50_000, 10_000 + seed)
    distances: dict[int, float] = {}

    def record(state):
        for checkpoint in checkpoints:
            if checkpoint not in distances and state.events_used >= checkpoint:
                distances[checkpoint] = abs(state.recommend()["angle"] - true_angle)

    started = time.perf_counter()
    result = advopt.tune(simulator, reference, optimizer="bayes", divergence="mlp", budget=budget,
                         events_per_point=events_per_point, workers=workers, seed=seed, callback=record,
                         truth=simulator.truth, progress=False)
    wall = time.perf_counter() - started
    distances[budget] = abs(result.best_params["angle"] - true_angle)
    return {
        "seed": seed,
        "distance_by_events": {str(k): v for k, v in sorted(distances.items())},
        "final_distance": distances[budget],
        "uncertainty": result.uncertainty["angle"],
        "events_used": result.events_used,
        "wall_seconds": wall,
        "train_seconds": sum(e.train_seconds for e in result.history),
        "sim_seconds": sum(e.sim_seconds for e in result.history),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--budget", type=int, default=200_000)
    parser.add_argument("--events-per-point", type=int, default=2_000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    checkpoints = [c for c in (25_000, 50_000, 100_000) if c < args.budget] + [args.budget]

    runs = []
    print("seed  " + "  ".join(f"{c:>9,}" for c in checkpoints) + "   (|angle - truth| in rad after N simulated events)")
    for seed in range(args.seeds):
        run = run_seed(seed, args.budget, args.events_per_point, args.workers, checkpoints)
        runs.append(run)
        print(f"{seed:>4}  " + "  ".join(f"{run['distance_by_events'][str(c)]:9.5f}" for c in checkpoints), flush=True)

    medians = {c: float(np.median([r["distance_by_events"][str(c)] for r in runs])) for c in checkpoints}
    print("median " + " ".join(f"{medians[c]:9.5f}" for c in checkpoints))
    wall = sum(r["wall_seconds"] for r in runs)
    train = sum(r["train_seconds"] for r in runs)
    sim = sum(r["sim_seconds"] for r in runs)
    print(f"median distance at {args.budget:,} events: {medians[args.budget]:.5f} rad (target <= 0.02)")
    print(f"wall time {wall:.0f} s: training discriminators {train / wall:.0%}, simulating {sim / wall:.0%} "
          f"(simulation seconds summed over workers), the rest optimiser and overhead")
    path = write_result("xor_closure", {
        "budget": args.budget, "events_per_point": args.events_per_point, "workers": args.workers,
        "reference_events": 50_000, "median_distance_by_events": {str(k): v for k, v in medians.items()},
        "median_final_distance_rad": medians[args.budget], "target_rad": 0.02,
        "share_wall_training": train / wall, "share_wall_simulating": sim / wall, "runs": runs,
    })
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
