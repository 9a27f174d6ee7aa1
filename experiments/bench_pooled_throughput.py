"""Worker utilisation and wall time against the budget: the pooled estimator on the
four-parameter Pythia task, with the next half-round simulating while the driver trains.

    python -m experiments.bench_pooled_throughput [--budgets 250000,500000,1000000,2000000,4000000]
        [--workers 2] [--reference-events 200000] [--name pooled_throughput]

The four TuneMC parameters of bench_tunemc_closure (alphaS, bLund, sigma, probStoUD), pseudo-
data at Monash moved by 10% of each range, 2,000 events per point. Per run: the tune's wall
time, the workers' simulation time (the sum of the tasks' seconds, measured in the workers),
the driver's estimation and training time, and the utilisation, simulation seconds / (wall x
workers). Wall time per event is compared with the smallest
budget's: 1.0 is proportional. On a machine with as many cores as workers the driver's
training shares the cores with the workers (the task seconds then stretch); on a cluster it
does not. Resumable: each finished run is a JSON file in --store. Writes
results/NAME.json (``--name``).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

import advopt
from advopt.execution import make_executor
from experiments._common import simulate_reference, write_result
from experiments.bench_tunemc_closure import SETS, pseudo_truth

EVENTS_PER_POINT = 2_000
TRUTH_OFFSET = 0.1


def run_one(simulator, reference, budget: int, workers: int, seed: int) -> dict:
    names = SETS["four"]
    space = {name: simulator.default_space[name] for name in names}
    full_truth = pseudo_truth(simulator, names, TRUTH_OFFSET)
    truth = {name: full_truth[name] for name in names}
    fixed = {name: value for name, value in full_truth.items() if name not in names and name in simulator.default_space}
    started = time.perf_counter()
    result = advopt.tune(simulator, reference, space, optimizer="pooled", budget=budget,
                         events_per_point=EVENTS_PER_POINT, workers=workers, seed=seed, truth=truth, fixed=fixed,
                         progress=False)
    wall = time.perf_counter() - started
    simulating = sum(e.sim_seconds for e in result.history)
    return {
        "budget": budget, "workers": workers, "seed": seed, "wall_seconds": wall,
        "simulation_task_seconds": simulating, "driver_estimate_seconds": sum(e.train_seconds for e in result.history),
        "utilisation": simulating / (wall * workers), "events_used": result.events_used,
        "tuned": result.best_params, "truth": truth, "pulls": result.pulls(),
    }


def finished_run(store: Path, simulator, reference, budget, workers, seed) -> dict:
    path = store / f"four_{budget}_ahead_w{workers}_seed{seed}.json"
    if not path.exists():
        path.write_text(json.dumps(run_one(simulator, reference, budget, workers, seed), indent=1))
    run = json.loads(path.read_text())
    print(f"{budget:>9,}: wall {run['wall_seconds']:6.0f} s, simulation "
          f"{run['simulation_task_seconds']:6.0f} task-s, utilisation {run['utilisation']:.0%}, max |pull| "
          f"{max(abs(p) for p in run['pulls'].values()):.2f}", flush=True)
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budgets", default="250000,500000,1000000,2000000,4000000")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--reference-events", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--name", default="pooled_throughput", help="results/NAME.json")
    parser.add_argument("--store", default=str(Path(__file__).parent / "runs" / "throughput"))
    args = parser.parse_args()
    store = Path(args.store)
    store.mkdir(parents=True, exist_ok=True)
    simulator = advopt.get_simulator("pythia-ee")
    reference_path = store / f"reference_four_{args.reference_events}.npy"
    if not reference_path.exists():
        executor = make_executor(args.workers)
        try:
            truth = pseudo_truth(simulator, SETS["four"], TRUTH_OFFSET)
            np.save(reference_path, simulate_reference(simulator, executor, truth, args.reference_events, 900))
        finally:
            executor.close()
    reference = np.load(reference_path)
    budgets = [int(b) for b in args.budgets.split(",")]
    runs = [finished_run(store, simulator, reference, b, args.workers, args.seed) for b in budgets]
    per_event = [r["wall_seconds"] / r["events_used"] for r in runs]
    proportionality = {str(r["budget"]): p / per_event[0] for r, p in zip(runs, per_event)}
    figures = {
        "set": SETS["four"], "truth_offset": TRUTH_OFFSET, "events_per_point": EVENTS_PER_POINT,
        "reference_events": args.reference_events, "workers": args.workers,
        "utilisation": {str(r["budget"]): r["utilisation"] for r in runs},
        "wall_per_event_over_smallest_budget": proportionality, "runs": runs,
    }
    print("wall time per event / the smallest budget's: " + ", ".join(f"{b} {v:.2f}" for b, v in proportionality.items()))
    print(f"wrote {write_result(args.name, figures)}")


if __name__ == "__main__":
    main()
