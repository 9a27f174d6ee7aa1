"""Same seeds, same histories: each method's run before and after a change of the loop.

    python -m experiments.bench_method_parity --phase before   # on the old code
    python -m experiments.bench_method_parity --phase after    # on the new code: compares

Each case runs ``advopt tune`` (a real subprocess, the command a user types) at a small
budget and digests its history: every evaluation's point, value, standard error, events,
seed, status and details (not its timings), and the result's best parameters, intervals
and statuses. ``before``
keeps the digests in experiments/runs/method_parity_before.json; ``after`` runs the same
cases, compares, and writes results/method_parity.json with both commits. The cases: the
default task (the pooled estimator on Pythia), a per-point route (Bayesian optimisation over
the mlp divergence on the XOR toy), random search over the chi-square with sample growth,
AVO on the Gaussian toy, and the pooled estimator on the Gaussian toy.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from experiments._common import git_commit, write_result

RUNS = Path(__file__).resolve().parent / "runs"
BEFORE = RUNS / "method_parity_before.json"

_GAUSSIAN = 'seed = 3\n[simulator]\nname = "gaussian"\n[reference]\nsimulate_at = "truth"\nevents = 4000\n'
CASES = {
    "default_task_pooled_pythia": (None, ["--budget", "100000"]),
    "per_point_bayes_mlp_xor": ("examples/xor_closure.toml", ["--budget", "24000"]),
    "random_chi2_growth_gaussian": (
        _GAUSSIAN + '[divergence]\nkind = "chi2"\n[optimizer]\nkind = "random"\nbatch_size = 4\n'
        "[budget]\nevents = 24000\nevents_per_point = 500\nmax_events_per_point = 2000\n", []),
    "avo_gaussian": (
        _GAUSSIAN + '[optimizer]\nkind = "variational"\npoints_per_iteration = 4\n'
        "[budget]\nevents = 4000\nevents_per_point = 200\n", []),
    "pooled_gaussian": (_GAUSSIAN + '[optimizer]\nkind = "pooled"\n[budget]\nevents = 40000\n', []),
}
_TIMINGS = {"sim_seconds", "train_seconds", "wall_seconds", "seconds"}


def _digest(run_dir: Path) -> dict:
    """A hash of the history without its timings, and the result's best parameters."""
    lines = []
    for line in (run_dir / "history.jsonl").read_text().splitlines():
        record = json.loads(line)
        lines.append(json.dumps({k: v for k, v in record.items() if k not in _TIMINGS}, sort_keys=True))
    result = json.loads((run_dir / "result.json").read_text())
    return {"evaluations": len(lines), "history_sha256": hashlib.sha256("\n".join(lines).encode()).hexdigest(),
            "best_params": result["best_params"], "interval68": result["interval68"],
            "parameter_status": result.get("parameter_status")}


def run_case(name: str, config: str | None, extra: list[str], workdir: Path) -> dict:
    args = [sys.executable, "-m", "advopt", "tune"]
    if config is not None:
        path = Path(config)
        if not path.exists():  # an inline configuration
            path = workdir / f"{name}.toml"
            path.write_text(config)
        args.append(str(path))
    run_dir = workdir / name
    started = time.perf_counter()
    done = subprocess.run([*args, "--run-dir", str(run_dir), *extra], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{name}: advopt tune failed:\n{done.stderr[-3000:]}")
    return {**_digest(run_dir), "seconds": round(time.perf_counter() - started, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--phase", choices=["before", "after"], required=True)
    parser.add_argument("--cases", nargs="*", default=list(CASES))
    args = parser.parse_args()
    digests = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.cases:
            digests[name] = run_case(name, *CASES[name], Path(tmp))
            print(name, digests[name], flush=True)
    if args.phase == "before":
        RUNS.mkdir(exist_ok=True)
        BEFORE.write_text(json.dumps({"commit": git_commit(), "cases": digests}, indent=2) + "\n")
        return
    before = json.loads(BEFORE.read_text())
    cases = {name: {"before": before["cases"][name], "after": digest,
                    "same_history": before["cases"][name]["history_sha256"] == digest["history_sha256"],
                    "same_result": all(before["cases"][name][key] == digest[key]
                                       for key in ("best_params", "interval68", "parameter_status"))}
             for name, digest in digests.items()}
    path = write_result("method_parity", {"before_commit": before["commit"], "cases": cases,
                                          "all_same": all(c["same_history"] and c["same_result"] for c in cases.values())})
    print("all same:", all(c["same_history"] and c["same_result"] for c in cases.values()), "->", path)


if __name__ == "__main__":
    main()
