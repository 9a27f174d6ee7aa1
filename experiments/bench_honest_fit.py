"""Does the pooled fit say when the data do not decide? Parameters without effect, ridges,
truths on and near a bound, misfits, and the goodness of fit's p-values on correct models.

    python -m experiments.bench_honest_fit [--rows inert,bound,near-bound,misfit,null] [--seeds 30]
        [--store experiments/runs/honest_fit] [--name honest_fit]

Rows (each tune gets its own reference, replica = seed; 20k reference events):

- ``inert``: the ``degenerate`` toy (six parameters: a Gaussian's mean and width, a Poisson
  multiplicity's rate, a ridge ``left + right``, and ``inert``, which changes nothing), 200k
  events. Per seed: the share of inert's range its interval spans, its status, the ridge's
  statuses and the combination named; the other parameters' |error| / their ML sd.
- ``bound``: the Gaussian's mean with its truth on the lower bound (0.5 in [0.5, 2]), 40k
  events: how often the 68% interval holds the truth, and how often the fit says "at lower bound".
- ``near-bound``: the same with the truth 3 ML sd above the bound (0.521): median |error| over
  the ML limit (0.6745 x the ML sd, width / sqrt(N)).
- ``misfit``: the Gaussian simulator tuned to a two-peaked reference (peaks at -1.5 and 1.5, sd
  0.5), 100k events: the goodness of fit's p-value per seed.
- ``null``: the Gaussian at its default truth, 40k events, and the degenerate toy's runs: the
  p-values of correct models, with a Kolmogorov-Smirnov test of their uniformity.
- ``pythia-null`` / ``pythia-misfit``: the default task's tune (alphaS and probStoUD, 100k
  reference events, 400k simulated, 2 workers, started at 0.20 / 0.40); the reference at Monash,
  or at Monash with ``StringZ:aLund`` = 0.9 (Monash 0.68), which the tune cannot move. The
  goodness of fit's p-values (--pythia-seeds each).

Resumable: each tune is a JSON file in --store. Writes results/NAME.json.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np
from scipy import stats

import advopt
from experiments._common import write_result

N_REF = 20_000
PYTHIA_SPACE = ("TimeShower:alphaSvalue", "StringFlav:probStoUD")
PYTHIA_START = {"TimeShower:alphaSvalue": 0.20, "StringFlav:probStoUD": 0.40}


def reference(row: str, seed: int) -> tuple[object, np.ndarray, dict | None, dict | None, int]:
    """(simulator, reference, space or None, truth, budget) of a row's tune with this seed."""
    if row == "inert":
        simulator = advopt.get_simulator("degenerate")
        return simulator, simulator.simulate(simulator.truth, N_REF, 5_000 + seed), None, simulator.truth, 200_000
    simulator = advopt.get_simulator("gaussian")
    if row == "misfit":
        rng = np.random.default_rng(7_000 + seed)
        peaks = np.concatenate([rng.normal(-1.5, 0.5, N_REF // 2), rng.normal(1.5, 0.5, N_REF - N_REF // 2)])
        return simulator, peaks[:, None], None, None, 100_000
    truth = {"bound": {"mean": 0.5, "width": 1.0}, "near-bound": {"mean": 0.521, "width": 1.0},
             "null": simulator.truth}[row]
    space = None if row == "null" else {"mean": (0.5, 2.0), "width": (0.5, 2.0)}
    return simulator, simulator.simulate(truth, N_REF, 6_000 + seed), space, truth, 2 * N_REF


def pythia_reference(row: str, seed: int):
    """(simulator, 100k reference events, space, truth) of a Pythia row: at Monash, or with aLund moved."""
    from advopt.execution import make_executor
    from experiments._common import simulate_reference

    simulator = advopt.get_simulator("pythia-ee")
    made_at = dict(simulator.truth)
    if row == "pythia-misfit":
        made_at["StringZ:aLund"] = 0.9
    executor = make_executor(2)
    try:
        events = simulate_reference(simulator, executor, made_at, 100_000, 300 + seed)
    finally:
        executor.close()
    space = {name: simulator.default_space[name] for name in PYTHIA_SPACE}
    truth = None if row == "pythia-misfit" else {name: simulator.truth[name] for name in PYTHIA_SPACE}
    return simulator, events, space, truth


def run_one(row: str, seed: int, store: Path) -> dict:
    path = store / f"{row}_seed{seed}.json"
    if path.exists():
        return json.loads(path.read_text())
    started = time.perf_counter()
    if row.startswith("pythia"):
        simulator, events, space, truth = pythia_reference(row, seed)
        started = time.perf_counter()
        result = advopt.tune(simulator, events, space=space, budget=400_000, events_per_point=2_000, workers=2,
                             seed=seed, truth=truth, optimizer_options={"start": PYTHIA_START}, progress=False)
    else:
        simulator, events, space, truth, budget = reference(row, seed)
        result = advopt.tune(simulator, events, space=space, budget=budget, seed=seed, truth=truth, progress=False)
    record = {"row": row, "seed": seed, "truth": truth, "tuned": result.best_params, "interval68": result.interval68,
              "status": result.parameter_status, "unconstrained_directions": list(result.unconstrained_directions),
              "goodness_of_fit": result.goodness_of_fit, "fallbacks": list(result.fallbacks),
              "verdict": result.closure_verdict(), "wall_seconds": time.perf_counter() - started}
    path.write_text(json.dumps(record, indent=1))
    return record


def covers(record: dict, name: str) -> bool:
    low, high = record["interval68"][name]
    return low <= record["truth"][name] <= high


def summarise(records: dict[str, list[dict]]) -> dict:
    out = {}
    inert = records.get("inert", [])
    if inert:
        space = advopt.get_simulator("degenerate").default_space
        share = [(r["interval68"]["inert"][1] - r["interval68"]["inert"][0]) / (space["inert"][1] - space["inert"][0])
                 for r in inert]
        ml_sd = {"mean": 1.0 / math.sqrt(N_REF), "width": 1.0 / math.sqrt(2 * N_REF),
                 "rate": math.sqrt(2.0 + 4.0 * 0.4) / 4.0 / math.sqrt(N_REF)}
        out["inert"] = {
            "seeds": len(inert), "inert_interval_share_of_range": share,
            "inert_not_constrained": sum(r["status"]["inert"] == "not constrained" for r in inert),
            "ridge_status": [[r["status"]["left"], r["status"]["right"]] for r in inert],
            "ridge_named": sum(any(abs(d.get("left", 0)) > 0.5 and abs(d.get("right", 0)) > 0.5
                                   for d in r["unconstrained_directions"]) for r in inert),
            "median_abs_error_over_ml_sd": {n: float(np.median([abs(r["tuned"][n] - r["truth"][n]) for r in inert]) / sd)
                                            for n, sd in ml_sd.items()},
            "coverage68": {n: float(np.mean([covers(r, n) for r in inert])) for n in ("mean", "width", "rate")},
        }
    for row in ("bound", "near-bound"):
        runs = records.get(row, [])
        if runs:
            errors = [abs(r["tuned"]["mean"] - r["truth"]["mean"]) for r in runs]
            ml_median = stats.norm.ppf(0.75) / math.sqrt(N_REF)
            out[row] = {"seeds": len(runs), "coverage68_mean": float(np.mean([covers(r, "mean") for r in runs])),
                        "coverage68_width": float(np.mean([covers(r, "width") for r in runs])),
                        "flagged_at_bound": sum(r["status"]["mean"] == "at lower bound" for r in runs),
                        "median_abs_error_over_ml_limit": float(np.median(errors) / ml_median)}
    misfit = records.get("misfit", [])
    if misfit:
        p_values = [r["goodness_of_fit"]["p_value"] for r in misfit]
        out["misfit"] = {"seeds": len(misfit), "p_values": p_values, "flagged": sum(p < 0.01 for p in p_values),
                         "agreement_p_values": [r["goodness_of_fit"].get("agreement_p_value") for r in misfit],
                         "chi2": [r["goodness_of_fit"]["chi2"] for r in misfit]}
    for row in ("pythia-misfit",):
        runs = records.get(row, [])
        if runs:
            p_values = [r["goodness_of_fit"]["p_value"] for r in runs]
            out[row] = {"seeds": len(runs), "p_values": p_values, "flagged": sum(p < 0.01 for p in p_values),
                        "chi2": [r["goodness_of_fit"]["chi2"] for r in runs], "dof": runs[0]["goodness_of_fit"]["dof"]}
    for row in ("null", "inert", "pythia-null"):
        runs = records.get(row, [])
        if runs:
            p_values = [r["goodness_of_fit"]["p_value"] for r in runs]
            agreement = [r["goodness_of_fit"].get("agreement_p_value") for r in runs]
            agreement = [p for p in agreement if p is not None and math.isfinite(p)]
            out.setdefault("p_values_correct_models", {})[row] = {
                "p_values": p_values, "ks_uniform_p": float(stats.kstest(p_values, "uniform").pvalue),
                "below_0.01": sum(p < 0.01 for p in p_values),
                # the estimate against the observables' own fit (conservative: at most uniform's share below a level)
                "agreement_p_values": agreement, "agreement_below_0.01": sum(p < 0.01 for p in agreement)}
    out["fallbacks"] = sorted({f.split(":")[0] for runs in records.values() for r in runs for f in r["fallbacks"]})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="inert,bound,near-bound,misfit,null")
    parser.add_argument("--seeds", type=int, default=30, help="per row (inert and misfit: at most 10)")
    parser.add_argument("--store", type=Path, default=Path(__file__).parent / "runs" / "honest_fit")
    parser.add_argument("--pythia-seeds", type=int, default=10)
    parser.add_argument("--name", default="honest_fit")
    args = parser.parse_args()
    args.store.mkdir(parents=True, exist_ok=True)
    records: dict[str, list[dict]] = {}
    for row in args.rows.split(","):
        seeds = (args.pythia_seeds if row.startswith("pythia") else min(args.seeds, 10) if row in ("inert", "misfit")
                 else args.seeds)
        for seed in range(seeds):
            record = run_one(row, seed, args.store)
            records.setdefault(row, []).append(record)
            print(f"{row} seed {seed}: " + ", ".join(f"{k.split(':')[-1]}={v:.4g}" for k, v in record["tuned"].items())
                  + f"  p={record['goodness_of_fit']['p_value']:.3g}  {record['status']}  ({record['wall_seconds']:.0f} s)",
                  flush=True)
    figures = summarise(records)
    print(json.dumps(figures, indent=1))
    write_result(args.name, figures)


if __name__ == "__main__":
    main()
