"""Coverage of the stated 68% intervals: how often the truth falls inside them, over many seeds.

    python -m experiments.bench_coverage [--seeds 20] [--tasks gaussian,pythia-alphas]
        [--divergences mlp] [--workers 2] [--store experiments/runs/coverage]

Tasks (each seed has its own reference sample, so reference fluctuations count):
- gaussian: the Gaussian toy, mean and width free (truth 0.5, 1.0), 20k reference events,
  60k simulated events per tune at 2,000 per point;
- pythia-alphas: Pythia e+e-, TimeShower:alphaSvalue free in [0.06, 0.25] (Monash 0.1365), a
  100k Monash reference, 65,536 simulated events per tune at 2,000 per point.
For each (task, divergence): the share of (seed, parameter) pairs whose truth lies inside the
result's 68% interval (target 60-76%), with its binomial standard error; the same share for
the optimiser's own spread alone (best +- optimizer_uncertainty, before the reference's
scatter is added); the median |pull|; and, for the Gaussian, the coverage of the exact
maximum-likelihood interval on the same references (20 references leave even that ~10%
from 68%: it tells their luck apart from the method's calibration). Resumable: finished
runs are JSON files in --store, beside their run directories and references; --recompute
re-derives every result from its stored history without simulating. Writes results/coverage.json.
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

ALPHA = "TimeShower:alphaSvalue"
TASKS = {
    "gaussian": {"simulator": "gaussian", "parameters": ["mean", "width"], "reference_events": 20_000,
                 "budget": 60_000, "events_per_point": 2_000},
    "pythia-alphas": {"simulator": "pythia-ee", "parameters": [ALPHA], "reference_events": 100_000,
                      "budget": 65_536, "events_per_point": 2_000},
}


# The pooled estimator pools every point: many small points (Pythia: 1,000 keeps re-init overhead moderate).
POOLED_EVENTS_PER_POINT = {"gaussian": 375, "pythia-alphas": 1_000}


def run_one(task: str, divergence: str, seed: int, executor, store: Path, recompute: bool = False) -> dict:
    """Tune one seed (its run directory and reference kept in the store); with
    ``recompute``, replay the stored history instead (no simulation), so that a change in
    how uncertainties are derived can be checked on the same evaluations."""
    spec = TASKS[task]
    simulator = advopt.get_simulator(spec["simulator"])
    names = spec["parameters"]
    truth = {name: simulator.truth[name] for name in names}
    reference_path = store / f"reference_{task}_seed{seed}.npy"
    if not reference_path.exists():
        np.save(reference_path, simulate_reference(simulator, executor, simulator.truth, spec["reference_events"],
                                                   3_000 + seed))
    reference = np.load(reference_path)
    run_dir = store / f"{task}_{divergence}_seed{seed}"
    started = time.perf_counter()
    route = ({"optimizer": "pooled", "events_per_point": POOLED_EVENTS_PER_POINT[task]} if divergence == "pooled"
             else {"divergence": divergence, "events_per_point": spec["events_per_point"]})
    result = advopt.tune(simulator, reference, {n: simulator.default_space[n] for n in names}, **route,
                         budget=spec["budget"], backend=executor,
                         seed=seed, truth=truth, progress=False, run_dir=run_dir, resume=recompute)
    return {
        "task": task, "divergence": divergence, "seed": seed, "truth": truth, "tuned": result.best_params,
        "uncertainty": result.uncertainty, "optimizer_uncertainty": result.optimizer_uncertainty,
        "interval68": result.interval68, "wall_seconds": time.perf_counter() - started,
        "covered": {n: bool(result.interval68[n][0] <= truth[n] <= result.interval68[n][1]) for n in names},
        "covered_by_optimizer_alone": {  # the pooled estimator has one covariance: its whole interval
            n: bool(abs(result.best_params[n] - truth[n]) <= (result.optimizer_uncertainty or result.uncertainty)[n])
            for n in names},
        "pulls": result.pulls(),
        "ml_covered": ml_covered(task, reference, truth),
    }


def ml_covered(task: str, reference: np.ndarray, truth: dict) -> dict | None:
    """Whether the maximum-likelihood fit's own 68% interval (estimate +- observed-information
    sd) holds the truth on this reference: the coverage an exact estimator would show on the
    same references, so that their luck is told apart from the method's calibration. Closed
    form for the Gaussian (mean: x-bar +- s / sqrt(N); width: s +- s / sqrt(2N)); None otherwise."""
    if task != "gaussian":
        return None
    x = reference[:, 0]
    mean, width = x.mean(), x.std()
    sds = {"mean": width / np.sqrt(len(x)), "width": width / np.sqrt(2 * len(x))}
    return {"mean": bool(abs(mean - truth["mean"]) <= sds["mean"]),
            "width": bool(abs(width - truth["width"]) <= sds["width"])}


def coverage_row(runs: list[dict]) -> dict:
    covered = np.array([c for r in runs for c in r["covered"].values()], dtype=float)
    alone = np.array([c for r in runs for c in r["covered_by_optimizer_alone"].values()], dtype=float)
    pulls = np.array([p for r in runs for p in r["pulls"].values()])
    n = covered.size
    ml = [c for r in runs if r.get("ml_covered") for c in r["ml_covered"].values()]
    return {
        "seeds": len(runs), "pairs": n,
        "coverage_68": float(covered.mean()), "coverage_stderr": float(np.sqrt(covered.mean() * (1 - covered.mean()) / n)),
        "coverage_optimizer_alone": float(alone.mean()), "median_abs_pull": float(np.median(np.abs(pulls))),
        "per_parameter": {name: float(np.mean([r["covered"][name] for r in runs])) for name in runs[0]["covered"]},
        "coverage_68_ml_same_references": float(np.mean(ml)) if ml else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--tasks", default="gaussian,pythia-alphas")
    parser.add_argument("--divergences", default="mlp", help="comma-separated, e.g. mlp,chi2; 'pooled' for the pooled estimator")
    parser.add_argument("--name", default="coverage", help="results/NAME.json")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--store", default=str(Path(__file__).parent / "runs" / "coverage"))
    parser.add_argument("--recompute", action="store_true",
                        help="re-derive every stored run's result from its history (no simulation)")
    args = parser.parse_args()
    store = Path(args.store)
    store.mkdir(parents=True, exist_ok=True)
    executor = make_executor(args.workers)
    summary, runs = {}, []
    try:
        for task in args.tasks.split(","):
            for divergence in args.divergences.split(","):
                mine = []
                for seed in range(args.seeds):
                    path = store / f"{task}_{divergence}_seed{seed}.json"
                    if args.recompute or not path.exists():
                        run = run_one(task, divergence, seed, executor, store, recompute=args.recompute)
                        path.write_text(json.dumps(run, indent=1))
                    run = json.loads(path.read_text())
                    if "ml_covered" not in run:  # stored before the ML comparison was added
                        run["ml_covered"] = ml_covered(task, np.load(store / f"reference_{task}_seed{seed}.npy"), run["truth"])
                    mine.append(run)
                    print(f"{task:>14} {divergence:>6} seed {seed:>2}: " + ", ".join(
                        f"{n} {run['tuned'][n]:.4g} [{run['interval68'][n][0]:.4g}, {run['interval68'][n][1]:.4g}]"
                        for n in run["tuned"]), flush=True)
                summary[f"{task}/{divergence}"] = coverage_row(mine)
                runs += mine
    finally:
        executor.close()
    print(f"\n{'task/divergence':>22} {'seeds':>5} {'coverage 68%':>14} {'optimizer alone':>16} {'median |pull|':>14}"
          f" {'ML fit, same refs':>18}")
    for key, row in summary.items():
        ml = row["coverage_68_ml_same_references"]
        print(f"{key:>22} {row['seeds']:>5} {row['coverage_68']:8.0%} +- {row['coverage_stderr']:3.0%} "
              f"{row['coverage_optimizer_alone']:16.0%} {row['median_abs_pull']:14.2f} {'-' if ml is None else f'{ml:.0%}':>18}")
    path = write_result(args.name, {"tasks": {t: TASKS[t] for t in args.tasks.split(",")}, "summary": summary,
                                     "runs": runs})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
