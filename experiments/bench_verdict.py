"""Does the closure verdict keep its promise? The default task over many seeds.

    python -m experiments.bench_verdict [--seeds 20] [--budget 100000] [--reference-events 25000]
        [--store experiments/runs/verdict] [--summarise-only]

Each seed runs ``advopt tune`` (a real subprocess, as a user would) on the built-in default
task (Pythia, alphaS and probStoUD from a far start, the pooled estimator), with the
budget and the pseudo-data cut to ``--budget`` and ``--reference-events`` (a cheaper variant
with the same parameters), and reads the verdict it prints. "Truth recovered" means every
parameter within 2 of its stated sd: if the intervals are calibrated (Gaussian), that holds
for 0.954^2 = 91% of seeds with two parameters. Figures: the share of seeds that print
"recovered" with its binomial error, the promised share, and per parameter the share of
68% intervals holding Monash. Resumable (one JSON per seed in --store). Writes
results/verdict.json.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tomllib
from pathlib import Path

from scipy import stats

from experiments._common import write_result

DEFAULT_TASK = Path(__file__).resolve().parents[1] / "advopt" / "default_task.toml"


def _toml(config: dict) -> str:
    """The default task's TOML with the reference size changed (a small writer: flat tables,
    strings, numbers and one inline table are all it holds)."""
    def value(v):
        if isinstance(v, str):
            return json.dumps(v)
        if isinstance(v, dict):
            return "{ " + ", ".join(f"{json.dumps(k)} = {value(x)}" for k, x in v.items()) + " }"
        return repr(v)

    lines = [f"seed = {config['seed']}"]
    for section, table in config.items():
        if isinstance(table, dict):
            lines += [f"[{section}]", *(f"{json.dumps(k)} = {value(v)}" for k, v in table.items())]
    return "\n".join(lines) + "\n"


def run_seed(seed: int, budget: int, reference_events: int, store: Path) -> dict:
    path = store / f"seed{seed}.json"
    if path.exists():
        return json.loads(path.read_text())
    config = tomllib.loads(DEFAULT_TASK.read_text())
    config["seed"] = seed
    config["reference"]["events"] = reference_events
    work = store / f"seed{seed}"
    work.mkdir(parents=True, exist_ok=True)
    (work / "task.toml").write_text(_toml(config))
    out = subprocess.run([sys.executable, "-m", "advopt", "-q", "tune", "task.toml", "--budget", str(budget),
                          "--run-dir", "run"], capture_output=True, text=True, cwd=work, check=True)
    verdict = next(line for line in out.stdout.splitlines() if line.startswith("closure:"))
    result = json.loads((work / "run" / "result.json").read_text())
    record = {"seed": seed, "verdict": verdict, "recovered": verdict.startswith("closure: truth recovered"),
              "tuned": result["best_params"], "interval68": result["interval68"], "uncertainty": result["uncertainty"],
              "truth": result["truth"], "wall_seconds": result["wall_seconds"]}
    path.write_text(json.dumps(record, indent=1))
    return record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--budget", type=int, default=100_000)
    parser.add_argument("--reference-events", type=int, default=25_000)
    parser.add_argument("--store", type=Path, default=Path(__file__).parent / "runs" / "verdict")
    parser.add_argument("--summarise-only", action="store_true")
    args = parser.parse_args()
    args.store.mkdir(parents=True, exist_ok=True)
    records = []
    for seed in range(args.seeds):
        if args.summarise_only and not (args.store / f"seed{seed}.json").exists():
            continue
        record = run_seed(seed, args.budget, args.reference_events, args.store)
        records.append(record)
        print(f"seed {seed}: {record['verdict']}  ({record['wall_seconds']:.0f} s)", flush=True)
    n = len(records)
    names = list(records[0]["truth"])
    promised = (2 * stats.norm.cdf(2) - 1) ** len(names)
    recovered = sum(r["recovered"] for r in records)
    share = recovered / n
    error = math.sqrt(promised * (1 - promised) / n)
    covered = {name: sum(r["interval68"][name][0] <= r["truth"][name] <= r["interval68"][name][1] for r in records) / n
               for name in names}
    pulls = {name: [(r["tuned"][name] - r["truth"][name]) / r["uncertainty"][name] for r in records] for name in names}
    print(f"\n'truth recovered' printed for {recovered}/{n} seeds = {share:.0%}; promised {promised:.0%} "
          f"(binomial sd {error:.0%} at {n} seeds): {abs(share - promised) / error:.1f} sd from the promise")
    for name in names:
        print(f"{name}: 68% interval holds Monash for {covered[name]:.0%}; median |pull| "
              f"{sorted(abs(p) for p in pulls[name])[n // 2]:.2f}")
    write_result("verdict", {"seeds": n, "budget": args.budget, "reference_events": args.reference_events,
                             "recovered": recovered, "share_recovered": share, "promised_share": promised,
                             "binomial_sd": error, "coverage68": covered, "pulls": pulls})


if __name__ == "__main__":
    main()
