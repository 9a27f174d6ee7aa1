"""Twenty Pythia parameters: the moments fit against the truth and the plain means baseline.

    python -m experiments.bench_moments_twenty [--seeds 0,1,2] [--budget 4000000] [--rounds 5]
        [--reference-events 200000] [--check-events 200000] [--workers 2]
        [--store experiments/runs/tunemc] [--name moments_twenty]

The honest-fit issue's figure: on the pseudo-data of ``bench_tunemc_closure.py --sets twenty
--truth-offset 0.1`` (a reference of 200k events per seed at Monash moved by 0.1 of each
range), per seed

- ``advopt.tune(..., optimizer="moments")`` at ``--budget`` (the fit to histograms on the 45
  observables' whitened means and quartile fractions): its point, intervals, statuses, pulls
  against the truth, goodness of fit, wall time;
- the plain means baseline (``bench_means_baseline.py``: a linear model of the means in a box
  halving over five rounds) at the same budget (its record ``means_baseline_twenty_sK.json``
  in ``--baselines`` where there is one, else run here);
- ``--check-events`` events simulated at each tuned point and at the truth, each sample's 45
  observable means against the reference's (Hotelling's chi-square: the truth's is the
  yardstick).

Resumable: each seed's figures are a JSON file in ``--store`` (skipped when found) and the
moments fit's run directory resumes from its kept fills. Writes ``results/NAME.json``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import advopt
from advopt.execution import make_executor
from experiments._common import git_commit, simulate_reference, write_result
from experiments.bench_means_baseline import baseline_fit
from experiments.bench_tunemc_closure import SETS, pseudo_truth, reference_for
from experiments.diagnostics.two_sample_at_tuned import hotelling

TRUTH_OFFSET = 0.1


def one_seed(simulator, executor, store: Path, seed: int, args) -> dict:
    names = SETS["twenty"]
    full_truth = pseudo_truth(simulator, names, TRUTH_OFFSET)
    truth = {n: full_truth[n] for n in names}
    fixed = {n: v for n, v in full_truth.items() if n not in names and n in simulator.default_space}
    reference = reference_for(simulator, executor, store, args.reference_events, seed, full_truth,
                              f"_twenty_off{TRUTH_OFFSET:g}")
    space = {n: simulator.default_space[n] for n in names}
    run_dir = store / f"moments_twenty_{args.budget}_seed{seed}"
    started = time.perf_counter()
    result = advopt.tune(simulator, reference, space, optimizer="moments", optimizer_options={"rounds": args.rounds},
                         budget=args.budget, seed=seed, fixed=fixed, backend="local", workers=args.workers,
                         run_dir=run_dir, resume=(run_dir / "config.json").exists(), progress=True)
    moments_wall = time.perf_counter() - started
    kept = Path(args.baselines) / f"means_baseline_twenty_s{seed}.json"
    if kept.is_file() and json.loads(kept.read_text())["runs"][0]["budget"] == args.budget:
        baseline = json.loads(kept.read_text())["runs"][0]  # bench_means_baseline.py's record of this seed
        baseline_wall = baseline["wall_seconds"]
    else:
        started = time.perf_counter()
        baseline = baseline_fit(simulator, executor, reference, names, fixed, budget=args.budget, rounds=5,
                                events_per_point=2_000, seed=seed)
        baseline_wall = time.perf_counter() - started
    samples = {"truth": simulate_reference(simulator, executor, full_truth, args.check_events, 61_000 + seed),
               "moments": simulate_reference(simulator, executor, {**full_truth, **result.params}, args.check_events,
                                             60_000 + seed, chunk=2_000),
               "baseline": simulate_reference(simulator, executor, {**full_truth, **baseline["tuned"]},
                                              args.check_events, 62_000 + seed, chunk=2_000)}
    against = {label: dict(zip(("chi2", "p_value", "largest_difference_sd"), hotelling(sample, reference)))
               for label, sample in samples.items()}
    sd = {n: 0.5 * (result.intervals[n][1] - result.intervals[n][0]) for n in names}
    constrained = [n for n in names if result.status[n] == "constrained"]
    return {
        "seed": seed, "truth": truth, "budget": args.budget, "commit": git_commit(),
        "moments": {"tuned": result.params, "interval68": result.intervals, "status": result.status,
                    "pulls": {n: (result.params[n] - truth[n]) / sd[n] for n in names},
                    "largest_constrained_pull": max(abs(result.params[n] - truth[n]) / sd[n] for n in constrained),
                    "constrained": len(constrained), "model_chi2": result.model_chi2, "ndf": result.ndf,
                    "p_value_at_tuned": result.p_value, "rounds": result.rounds, "wall_seconds": moments_wall},
        "baseline": {"tuned": baseline["tuned"], "uncertainty": baseline["uncertainty"],
                     "pulls": {n: (baseline["tuned"][n] - truth[n]) / baseline["uncertainty"][n] for n in names},
                     "wall_seconds": baseline_wall},
        "means_against_reference": against,
        "moments_over_truth": against["moments"]["chi2"] / against["truth"]["chi2"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--budget", type=int, default=4_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--reference-events", type=int, default=200_000)
    parser.add_argument("--check-events", type=int, default=200_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--store", default=str(Path(__file__).parent / "runs" / "tunemc"))
    parser.add_argument("--baselines", default=str(Path(__file__).parent / "results"),
                        help="where bench_means_baseline.py's records of the seeds are (run where absent)")
    parser.add_argument("--name", default="moments_twenty")
    args = parser.parse_args()
    store = Path(args.store)
    store.mkdir(parents=True, exist_ok=True)
    simulator = advopt.get_simulator("pythia-ee")
    executor = make_executor(args.workers, "local")
    rows = []
    try:
        for seed in (int(s) for s in args.seeds.split(",")):
            path = store / f"moments_twenty_{args.budget}_seed{seed}.json"
            if not path.exists():
                path.write_text(json.dumps(one_seed(simulator, executor, store, seed, args), indent=1))
            row = json.loads(path.read_text())
            chi2 = {k: v["chi2"] for k, v in row["means_against_reference"].items()}
            print(f"seed {seed}: means chi2 moments {chi2['moments']:.1f}, baseline {chi2['baseline']:.1f}, truth "
                  f"{chi2['truth']:.1f}; {row['moments']['constrained']} constrained, largest pull "
                  f"{row['moments']['largest_constrained_pull']:.2f}", flush=True)
            rows.append(row)
            write_result(args.name, {"reference_events": args.reference_events, "check_events": args.check_events,
                                     "truth_offset": TRUTH_OFFSET, "runs": rows,
                                     "moments_over_truth": [r["moments_over_truth"] for r in rows],
                                     "moments_below_baseline": [r["means_against_reference"]["moments"]["chi2"]
                                                                < r["means_against_reference"]["baseline"]["chi2"]
                                                                for r in rows]})
    finally:
        executor.close()


if __name__ == "__main__":
    main()
