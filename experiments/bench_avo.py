"""Adversarial variational optimisation (AVO) closure: Weinberg toy and Pythia alphaS.

    python -m experiments.bench_avo [--seeds 5] [--workers 2]
        [--weinberg-budget 400000] [--pythia-budget 400000] [--events-per-point 500]
        [--reference-events 100000] [--skip-pythia]

For each seed:
- Weinberg toy (both parameters, sqrt_s and gf_scale, free): a reference of
  --reference-events at the truth (84 GeV, 0.9), AVO from the space's centre. The one
  feature cos(theta) only fixes the combination A = 2 gf tanh(10 (sqrt_s - MZ)/MZ), so the
  asymmetry coefficient A of the final mean is printed beside the truth's as well.
- Pythia e+e- (TimeShower:alphaSvalue only, every other parameter at Monash): a
  --reference-events Monash reference (its own seed, simulated through the executor in
  chunks as in bench_pythia_alphas_closure.py), AVO over the default alphaS range.

Prints the final proposal mean and width against the truth per seed; writes
results/avo.json. AVO needs many iterations (8 draws x events-per-point events each), so
keep events-per-point small against the budget.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import advopt
from advopt.execution import LocalExecutor, SerialExecutor
from experiments._common import simulate_reference, write_result

ALPHA = "TimeShower:alphaSvalue"


def run_avo(simulator, reference, space, fixed, truth, args, executor, seed: int, budget: int) -> dict:
    started = time.perf_counter()
    result = advopt.tune(simulator, reference, space, fixed=fixed, optimizer="variational", budget=budget,
                         events_per_point=args.events_per_point, backend=executor, seed=seed, truth=truth,
                         progress=False)
    last = result.history[-1].details if result.history else {}
    return {
        "seed": seed, "mean": result.best_params, "width": result.uncertainty, "interval68": result.interval68,
        "truth": truth, "distance": {k: abs(result.best_params[k] - v) for k, v in truth.items()},
        "events_used": result.events_used, "iterations": len({e.iteration for e in result.history}),
        "failed": result.n_failed, "last_value": result.best_value, "last_proposal": last,
        "wall_seconds": time.perf_counter() - started,
        "train_seconds": sum(e.train_seconds for e in result.history),
        "sim_seconds": sum(e.sim_seconds for e in result.history),
    }


def print_row(task: str, run: dict) -> None:
    cells = "  ".join(f"{name}={run['mean'][name]:.4g}+-{run['width'][name]:.2g} (truth {run['truth'][name]:.4g})"
                      for name in run["mean"])
    print(f"{task:<9} seed {run['seed']:>2}  {cells}  events {run['events_used']:,}  iters {run['iterations']}  "
          f"{run['wall_seconds']:.0f} s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--weinberg-budget", type=int, default=400_000)
    parser.add_argument("--pythia-budget", type=int, default=400_000)
    parser.add_argument("--events-per-point", type=int, default=500)
    parser.add_argument("--reference-events", type=int, default=100_000)
    parser.add_argument("--skip-pythia", action="store_true")
    args = parser.parse_args()

    executor = LocalExecutor(args.workers) if args.workers > 1 else SerialExecutor()
    weinberg_runs, pythia_runs = [], []
    try:
        weinberg = advopt.get_simulator("weinberg")
        for seed in range(args.seeds):
            reference = simulate_reference(weinberg, executor, weinberg.truth, args.reference_events, 700 + seed)
            run = run_avo(weinberg, reference, dict(weinberg.default_space), {}, dict(weinberg.truth), args, executor,
                          seed, args.weinberg_budget)
            run["asymmetry_coefficient"] = weinberg.asymmetry_coefficient(run["mean"]["sqrt_s"], run["mean"]["gf_scale"])
            run["asymmetry_coefficient_truth"] = weinberg.asymmetry_coefficient(**weinberg.truth)
            weinberg_runs.append(run)
            print_row("weinberg", run)
            print(f"{'':<9}          A = {run['asymmetry_coefficient']:.4f} (truth {run['asymmetry_coefficient_truth']:.4f})")
        if not args.skip_pythia:
            pythia = advopt.get_simulator("pythia-ee")
            truth = {ALPHA: pythia.truth[ALPHA]}
            space = {ALPHA: pythia.default_space[ALPHA]}
            for seed in range(args.seeds):
                reference = simulate_reference(pythia, executor, pythia.truth, args.reference_events, 500 + seed)
                run = run_avo(pythia, reference, space, None, truth, args, executor, seed, args.pythia_budget)
                pythia_runs.append(run)
                print_row("pythia", run)
    finally:
        executor.close()

    summary = {}
    for task, runs in (("weinberg", weinberg_runs), ("pythia", pythia_runs)):
        if runs:
            names = list(runs[0]["truth"])
            summary[task] = {name: {"median_distance": float(np.median([r["distance"][name] for r in runs])),
                                    "median_width": float(np.median([r["width"][name] for r in runs]))} for name in names}
            for name, figures in summary[task].items():
                print(f"{task}: {name}: median |mean - truth| = {figures['median_distance']:.4g}, "
                      f"median width {figures['median_width']:.3g}")
    path = write_result("avo", {
        "seeds": args.seeds, "workers": args.workers, "weinberg_budget": args.weinberg_budget,
        "pythia_budget": None if args.skip_pythia else args.pythia_budget, "events_per_point": args.events_per_point,
        "reference_events": args.reference_events, "summary": summary, "weinberg": weinberg_runs, "pythia": pythia_runs,
    })
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
