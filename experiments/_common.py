"""Shared bits of the benchmark scripts: the record each one writes to results/NAME.json."""

from __future__ import annotations

import datetime
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from advopt.execution import SimulationTask, run_simulation

RESULTS = Path(__file__).resolve().parent / "results"


def git_commit() -> str:
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True,
                                cwd=Path(__file__).parent).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True,
                               text=True, cwd=Path(__file__).parent).stdout.strip()
        return commit + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def space_bounds(simulator) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The simulator's default space as parameter names and arrays of lower and upper bounds."""
    names = list(simulator.default_space)
    low, high = (np.array([simulator.default_space[n][i] for n in names], dtype=float) for i in (0, 1))
    return names, low, high


def command_line() -> str:
    """How this script was started: ``python -m experiments.NAME ARGS`` (as the index documents)."""
    spec = getattr(sys.modules["__main__"], "__spec__", None)
    start = ["-m", spec.name] if spec is not None else sys.argv[:1]
    return " ".join(["python", *start, *sys.argv[1:]])


def write_result(name: str, figures: dict) -> Path:
    """Write figures with the command, the commit and the date to results/NAME.json."""
    record = {
        "command": command_line(),
        "commit": git_commit(),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        **figures,
    }
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(record, indent=2) + "\n")
    return path


def simulate_reference(simulator, executor, params, n_events: int, seed: int, chunk: int = 10_000) -> np.ndarray:
    """Pseudo-data at ``params``, in parallel chunks with seeds derived from ``seed``."""
    sizes = [chunk] * (n_events // chunk) + ([n_events % chunk] if n_events % chunk else [])
    tasks = [SimulationTask(dict(params), n, seed * 1_000 + i) for i, n in enumerate(sizes)]
    outcomes = executor.map(run_simulation, simulator, tasks)
    failed = [o.error for o in outcomes if o.events is None]
    if failed:
        raise RuntimeError(f"reference simulation failed: {failed[0]}")
    return np.concatenate([o.events for o in outcomes]).astype(np.float64)


def pooled_run(record_path: str, method: str = "pooled") -> dict:
    """The first run of ``method`` in a ``bench_tunemc_closure.py`` record; exits naming the record if it has none."""
    record = json.loads(Path(record_path).read_text())
    run = next((r for r in record.get("runs", []) if r.get("method") == method), None)
    if run is None:
        raise SystemExit(f"record: {record_path} holds no {method} run")
    return run
