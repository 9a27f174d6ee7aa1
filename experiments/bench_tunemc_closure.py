"""TuneMC closure: adversarial tuning against the classical chi-square tune at equal budgets.

    python -m experiments.bench_tunemc_closure [--sets mixed6,shower3] [--methods adaptive-bo,avo,chi2-bo]
        [--budgets 500000] [--seeds 5] [--reference-events 200000] [--workers 2]
        [--events-per-point 5000] [--store experiments/runs/tunemc]

Pythia e+e- at 91.2 GeV, pseudo-data at Monash (a --reference-events reference per seed), or
with --truth-offset F at Monash moved by F x each tuned parameter's range (towards the
range's centre). Parameter sets:
- shower3: TimeShower:alphaSvalue, pTmin, pTminChgQ;
- mixed6: alphaSvalue, pTmin, StringZ:bLund, StringPT:sigma, StringFlav:probStoUD,
  StringZ:aExtraDiquark;
- four: alphaSvalue, StringZ:bLund, StringPT:sigma, StringFlav:probStoUD;
- twenty: all 20 TuneMC parameters (each leaves a > 5 sigma mark on its feature across its
  range: tests/test_pythia.py::test_every_tunemc_parameter_leaves_a_mark);
every other parameter at Monash, ranges from the TuneMC table (simulators/pythia.py).
Methods, each given the same budget of simulated events:
- adaptive-bo: the adaptive JSD (adaptive-log, 4 reference events per simulated one) +
  Bayesian optimisation;
- avo: adversarial variational optimisation (its own critic);
- chi2-bo: the binned chi-square (20 quantile bins per observable, 1% floor) + the same
  Bayesian optimisation;
- pooled: the pooled estimator (learnt summaries of every event, one moment fit), 2,000
  events per point.
Per run: the tuned point, per-parameter pulls (tuned - Monash) / uncertainty and whether
Monash lies in the 68% interval, the normalised distance sqrt(sum_i ((tuned_i - Monash_i) /
range_i)^2), the wall time, and the quantile MSE (Butter et al.) of 50k events simulated at
the tuned point against the reference, as a ratio to what statistics alone give (about 1
for a perfect tune; the same for 50k Monash events is printed as the floor).

Resumable: each finished run is a JSON file in --store and is skipped when found; a Bayesian
run cut off midway resumes from its run directory. Larger budgets can go to a cluster with
--backend dask --address tcp://SCHEDULER:8786. Writes results/tunemc_closure.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

import numpy as np

import advopt
from advopt.execution import make_executor
from advopt.quality import quantile_mse_ratio
from experiments._common import git_commit, simulate_reference, write_result
from simulators.pythia import TUNEMC

SETS = {
    "shower3": ["TimeShower:alphaSvalue", "TimeShower:pTmin", "TimeShower:pTminChgQ"],
    "mixed6": ["TimeShower:alphaSvalue", "TimeShower:pTmin", "StringZ:bLund", "StringPT:sigma",
               "StringFlav:probStoUD", "StringZ:aExtraDiquark"],
    "four": ["TimeShower:alphaSvalue", "StringZ:bLund", "StringPT:sigma", "StringFlav:probStoUD"],
    "twenty": list(TUNEMC),
}
METHODS = {
    # 4 reference events per simulated one: free data, 1.7x the signal-to-noise (README)
    "adaptive-bo": {"optimizer": "bayes", "divergence": "adaptive-log", "reference_per_point": 4},
    "avo": {"optimizer": "variational", "divergence": "mlp", "events_per_point": 500},
    "chi2-bo": {"optimizer": "bayes", "divergence": "chi2"},
    # pools every point, so many small points: 2,000 events keep Pythia's re-init overhead small
    "pooled": {"optimizer": "pooled", "events_per_point": 2000},
}
QUALITY_EVENTS = 50_000


def pseudo_truth(simulator, names: list[str], offset: float) -> dict[str, float]:
    """Monash, moved by ``offset`` x each tuned parameter's range (towards the range's centre):
    a truth that is not the generator's default."""
    truth = dict(simulator.truth)
    for name in names:
        low, high = simulator.default_space[name]
        direction = 1.0 if truth[name] < 0.5 * (low + high) else -1.0
        truth[name] += direction * offset * (high - low)
    return truth


def reference_for(simulator, executor, store: Path, n_events: int, seed: int, truth: dict, tag: str = "") -> np.ndarray:
    """The seed's pseudo-data at ``truth``, simulated once and kept in the store."""
    path = store / f"reference{tag}_seed{seed}_{n_events}.npy"
    if not path.exists():
        np.save(path, simulate_reference(simulator, executor, truth, n_events, 900 + seed))
    return np.load(path)


def quality_ratio(simulator, executor, params, reference: np.ndarray, seed: int) -> float:
    """Mean over observables of the quantile MSE at ``params``, over its statistical expectation."""
    events = simulate_reference(simulator, executor, params, QUALITY_EVENTS, 5_000 + seed)
    return float(np.mean(quantile_mse_ratio(events, reference)))


def run_one(simulator, executor, reference, set_name, method, budget, seed, args) -> dict:
    names = SETS[set_name]
    space = {name: simulator.default_space[name] for name in names}
    full_truth = pseudo_truth(simulator, names, args.truth_offset)
    truth = {name: full_truth[name] for name in names}
    fixed = {name: value for name, value in full_truth.items() if name not in names and name in simulator.default_space}
    settings = dict(METHODS[method])
    events_per_point = settings.pop("events_per_point", args.events_per_point)
    run_dir = Path(args.store) / f"{set_name}{_tag(args)}_{method}_{budget}_seed{seed}"
    resume = (run_dir / "history.jsonl").exists() and settings["optimizer"] == "bayes"
    if run_dir.exists() and not resume:
        shutil.rmtree(run_dir)
    started = time.perf_counter()
    result = advopt.tune(simulator, reference, space, budget=budget, events_per_point=events_per_point,
                         backend=executor, seed=seed, truth=truth, fixed=fixed, progress=False, run_dir=run_dir,
                         resume=resume, **settings)
    wall = time.perf_counter() - started
    ranges = np.array([space[n][1] - space[n][0] for n in names])
    offsets = np.array([result.best_params[n] - truth[n] for n in names])
    covered = {n: bool(result.interval68[n][0] <= truth[n] <= result.interval68[n][1]) for n in names}
    return {
        "set": set_name, "method": method, "budget": budget, "seed": seed,
        "tuned": result.best_params, "truth": truth, "uncertainty": result.uncertainty, "interval68": result.interval68,
        "pulls": result.pulls(), "covered": covered, "commit": git_commit(),
        "status": result.parameter_status, "unconstrained_directions": list(result.unconstrained_directions),
        "goodness_of_fit": result.goodness_of_fit, "fallbacks": list(result.fallbacks),
        "normalised_distance": float(np.sqrt(np.sum((offsets / ranges) ** 2))),
        "events_used": result.events_used, "wall_seconds": wall, "failed": result.n_failed,
        # the wall split: the workers' simulation time (task-seconds over the workers) and the
        # driver's estimation (divergences, training, fits), as the history records them
        "simulation_task_seconds": sum(e.sim_seconds for e in result.history),
        "driver_estimate_seconds": sum(e.train_seconds for e in result.history),
        "quantile_mse_ratio": quality_ratio(simulator, executor, result.best_params, reference, seed),
    }


def finished_run(simulator, executor, reference, set_name, method, budget, seed, args) -> dict:
    """The run's record from the store, or run it now and store it."""
    path = Path(args.store) / f"{set_name}{_tag(args)}_{method}_{budget}_seed{seed}.json"
    if not path.exists():
        path.write_text(json.dumps(run_one(simulator, executor, reference, set_name, method, budget, seed, args), indent=1))
    run = json.loads(path.read_text())
    print(f"{set_name:>8} {method:>12} {budget:>9,} seed {seed}: distance {run['normalised_distance']:.4f} "
          f"|pull| max {max(abs(p) for p in interval_pulls(run).values()):.2f} "
          f"qMSE/stat {run['quantile_mse_ratio']:.2f} wall {run['wall_seconds']:.0f} s", flush=True)
    return run


def _tag(args) -> str:
    """File-name tag of a truth away from Monash (none at Monash, so older stores still read)."""
    return f"_off{args.truth_offset:g}" if args.truth_offset else ""


def interval_pulls(run: dict) -> dict[str, float]:
    """(tuned - Monash) / half the 68% interval, from the stored interval (the same
    definition whatever version of advopt wrote the run)."""
    pulls = {}
    for name, tuned in run["tuned"].items():
        low, high = run["interval68"][name]
        half = 0.5 * (high - low)
        pulls[name] = (tuned - run["truth"][name]) / half if half > 0 else float("inf")
    return pulls


def run_all(args) -> list[dict]:
    """Every (budget, set, seed, method) run, from the store or simulated now."""
    store = Path(args.store)
    simulator = advopt.get_simulator("pythia-ee")
    options = {"address": args.address} if args.address else {}
    executor = make_executor(args.workers, args.backend, **options)
    runs = []
    try:
        # set by set, so that the 6-parameter table is complete first; seeds before methods
        for budget in (int(b) for b in args.budgets.split(",")):
            for set_name in args.sets.split(","):
                for seed in seeds_asked(args):
                    truth = pseudo_truth(simulator, SETS[set_name], args.truth_offset)
                    tag = _tag(args) and f"_{set_name}{_tag(args)}"
                    reference = reference_for(simulator, executor, store, args.reference_events, seed, truth, tag)
                    monash = store / f"monash_quality{tag}_seed{seed}.json"
                    if not monash.exists():
                        ratio = quality_ratio(simulator, executor, truth, reference, 10_000 + seed)
                        monash.write_text(json.dumps({"quantile_mse_ratio": ratio}))
                    for method in args.methods.split(","):
                        runs.append(finished_run(simulator, executor, reference, set_name, method, budget, seed, args))
    finally:
        executor.close()
    return runs


def seeds_asked(args) -> range:
    return range(args.first_seed, args.first_seed + args.seeds)


def stored_runs(args) -> list[dict]:
    """The finished runs in the store for the asked sets, methods, budgets and seeds."""
    runs = []
    for budget in args.budgets.split(","):
        for set_name in args.sets.split(","):
            for method in args.methods.split(","):
                for seed in seeds_asked(args):
                    path = Path(args.store) / f"{set_name}{_tag(args)}_{method}_{int(budget)}_seed{seed}.json"
                    if path.exists():
                        runs.append(json.loads(path.read_text()))
    return runs


def summarise(runs: list[dict]) -> list[dict]:
    rows = []
    for key in sorted({(r["set"], r["budget"], r["method"]) for r in runs}):
        mine = [r for r in runs if (r["set"], r["budget"], r["method"]) == key]
        pulls = np.array([pull for r in mine for pull in interval_pulls(r).values()])
        covered = [c for r in mine for c in r["covered"].values()]
        rows.append({
            "set": key[0], "budget": key[1], "method": key[2], "seeds": len(mine),
            "median_distance": float(np.median([r["normalised_distance"] for r in mine])),
            "median_abs_pull": float(np.median(np.abs(pulls))),
            "coverage_68": float(np.mean(covered)),
            "median_quantile_mse_ratio": float(np.median([r["quantile_mse_ratio"] for r in mine])),
            "median_wall_seconds": float(np.median([r["wall_seconds"] for r in mine])),
            "median_abs_error": {n: float(np.median([abs(r["tuned"][n] - r["truth"][n]) for r in mine]))
                                 for n in mine[0]["truth"]},
        })
    return rows


def print_table(rows: list[dict]) -> None:
    print(f"\n{'set':>8} {'budget':>9} {'method':>12} {'seeds':>5} {'distance':>9} {'|pull|':>7} {'cov68':>6} "
          f"{'qMSE/stat':>9} {'wall s':>7}")
    for r in rows:
        print(f"{r['set']:>8} {r['budget']:>9,} {r['method']:>12} {r['seeds']:>5} {r['median_distance']:9.4f} "
              f"{r['median_abs_pull']:7.2f} {r['coverage_68']:6.0%} {r['median_quantile_mse_ratio']:9.2f} "
              f"{r['median_wall_seconds']:7.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default="mixed6,shower3")
    parser.add_argument("--methods", default="adaptive-bo,chi2-bo,avo")
    parser.add_argument("--budgets", default="500000")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--first-seed", type=int, default=0, help="seeds first-seed .. first-seed + seeds - 1")
    parser.add_argument("--reference-events", type=int, default=200_000)
    parser.add_argument("--events-per-point", type=int, default=5_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--backend", default="local", help="local or dask (with --address for a cluster)")
    parser.add_argument("--address", default=None)
    parser.add_argument("--store", default=str(Path(__file__).parent / "runs" / "tunemc"))
    parser.add_argument("--truth-offset", type=float, default=0.0,
                        help="pseudo-data away from Monash: each tuned parameter moved by this share of its range")
    parser.add_argument("--name", default="tunemc_closure", help="results/NAME.json")
    parser.add_argument("--summarise-only", action="store_true",
                        help="simulate nothing: tabulate the runs already in the store (the seeds each has are shown)")
    args = parser.parse_args()
    store = Path(args.store)
    store.mkdir(parents=True, exist_ok=True)
    runs = stored_runs(args) if args.summarise_only else run_all(args)
    baseline = {}
    for path in store.glob(f"monash_quality{_tag(args) and '_*' + _tag(args)}_seed*.json"):
        baseline[path.stem] = json.loads(path.read_text())["quantile_mse_ratio"]
    rows = summarise(runs)
    print_table(rows)
    print(f"Monash itself (50k events against each reference): qMSE/stat median {np.median(list(baseline.values())):.2f}")
    ratios = {}
    for r in rows:
        if r["method"] != "chi2-bo":
            continue
        for method in ("adaptive-bo", "avo", "pooled"):
            adversarial = [a for a in rows if (a["set"], a["budget"], a["method"]) == (r["set"], r["budget"], method)]
            if adversarial:
                key = f"{r['set']}_{r['budget']}_{method}"
                ratios[key] = r["median_distance"] / adversarial[0]["median_distance"]
                errors = {n: r["median_abs_error"][n] / max(adversarial[0]["median_abs_error"][n], 1e-300)
                          for n in r["median_abs_error"]}
                ratios[key + "_per_parameter"] = errors
                print(f"{r['set']} {r['budget']:,}: chi2 distance / {method} distance = {ratios[key]:.2f}; "
                      f"per-parameter median error ratio (chi2 / {method}) {np.median(list(errors.values())):.2f} "
                      + ", ".join(f"{n.split(':')[-1]} {v:.2f}" for n, v in errors.items()))
    path = write_result(args.name, {
        "truth_offset": args.truth_offset,
        "reference_events": args.reference_events, "events_per_point": args.events_per_point,
        "workers": args.workers, "seeds_asked": args.seeds, "first_seed": args.first_seed, "sets": {k: SETS[k] for k in args.sets.split(",")},
        "methods": {k: METHODS[k] for k in args.methods.split(",")},
        "monash_quantile_mse_ratio": float(np.median(list(baseline.values()))), "distance_ratio_chi2_over_adversarial": ratios,
        "summary": rows, "runs": runs,
    })
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
