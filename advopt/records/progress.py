"""Read a run directory, finished or still running, and summarise it: ``advopt status RUN_DIR``.

:func:`read_run` is the one reader of a run's files for the status line and the report
(:mod:`advopt.report`). It never writes: a run in progress may be appending to its
history while we read, so a cut-off last line of ``history.jsonl`` is skipped (and
flagged), not repaired. Nothing here imports numpy, torch or scikit-learn, so
``advopt status`` answers at once.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from pathlib import Path

from advopt.records.result import Evaluation, TuneResult
from advopt.records.rundir import CONFIG_FILE, HISTORY_FILE, RESULT_FILE, read_config, read_history


@dataclass(frozen=True)
class RunFiles:
    """What a run directory holds.

    ``config`` is the original TOML dict (None for a run started from a script);
    ``resolved`` the settings the tuner resolved (space, fixed, budget, seed, truth,
    feature_names, ...); ``history`` the evaluations recorded so far; ``result`` the final
    TuneResult, None while the run is going (or was stopped); ``partial_line`` is true when
    the last line of the history is cut off (being written, or the driver was killed).
    Times are Unix seconds from file modification times.
    """

    path: Path
    config: dict | None
    resolved: dict
    history: tuple[Evaluation, ...]
    result: TuneResult | None
    partial_line: bool
    started: float
    last_update: float

    @property
    def finished(self) -> bool:
        return self.result is not None

    @property
    def parameter_names(self) -> tuple[str, ...]:
        space = self.resolved.get("space") or {}
        if space:
            return tuple(space)
        return tuple(self.history[0].params) if self.history else ()

    @property
    def events_used(self) -> int:
        return sum(e.n_events for e in self.history)

    @property
    def budget(self) -> int | None:
        budget = self.resolved.get("budget", self.result.budget if self.result else None)
        return int(budget) if budget is not None else None

    @property
    def optimizer(self) -> str:
        return str(self.resolved.get("optimizer") or (self.result.optimizer if self.result else "?"))

    @property
    def divergence(self) -> str:
        return str(self.resolved.get("divergence") or (self.result.divergence if self.result else "?"))

    @property
    def truth(self) -> dict[str, float]:
        return dict(self.resolved.get("truth") or (self.result.truth if self.result else None) or {})

    @property
    def fixed(self) -> dict[str, float]:
        return {k: float(v) for k, v in (self.resolved.get("fixed") or {}).items()}

    @property
    def n_failed(self) -> int:
        return sum(not e.ok for e in self.history)

    def best_evaluation(self) -> Evaluation | None:
        """The evaluation with the lowest divergence estimate (noisy: the luckiest draw)."""
        ok = [e for e in self.history if e.ok]
        return min(ok, key=lambda e: e.value) if ok else None

    def start_params(self) -> dict[str, float] | None:
        """The first evaluated point (the optimiser's starting point)."""
        return dict(self.history[0].params) if self.history else None

    def tuned_params(self) -> dict[str, float] | None:
        """The result's recommendation when the run is finished, else the best evaluation so far."""
        if self.result is not None and all(math.isfinite(v) for v in self.result.best_params.values()):
            return dict(self.result.best_params)
        best = self.best_evaluation()
        return dict(best.params) if best is not None else None


def read_run(run_dir: str | Path) -> RunFiles:
    """Read ``config.json``, ``history.jsonl`` and (if there) ``result.json`` of a run.

    Raises ValueError, naming the file, for a missing directory, a directory without a
    run, or a corrupt file. A cut-off *last* history line is expected while a run is
    appending and is skipped (``partial_line``).
    """
    path = Path(run_dir)
    if not path.is_dir():
        raise ValueError(f"run_dir: no such directory: {path}")
    config_path = path / CONFIG_FILE
    record = read_config(path)
    resolved = dict(record["resolved"])
    history, partial = read_history(path / HISTORY_FILE)
    result = None
    result_path = path / RESULT_FILE
    if result_path.is_file():
        try:
            result = TuneResult.load(result_path)
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as err:
            raise ValueError(f"run_dir: {result_path} is corrupt ({type(err).__name__}: {err})") from None
    files = [p for p in (config_path, path / HISTORY_FILE, result_path) if p.is_file()]
    return RunFiles(
        path=path,
        config=record.get("config"),
        resolved=resolved,
        history=tuple(history),
        result=result,
        partial_line=partial,
        started=config_path.stat().st_mtime,
        last_update=max(p.stat().st_mtime for p in files),
    )


def run_status(run_dir: str | Path) -> str:
    """A few lines on a finished or running run: state, events spent of the budget,
    evaluations (and failures), the best divergence so far with its parameters, elapsed
    time, and the tuned result when there is one. Raises ValueError for a bad run dir."""
    if Path(run_dir).is_dir() and (record := read_config(Path(run_dir))).get("kind") == "histograms":
        return _histogram_status(Path(run_dir), record["settings"])
    run = read_run(run_dir)
    lines = []
    if run.finished:
        state = "finished (result.json written)"
    elif run.partial_line:
        state = "running or stopped (no result.json yet; the last history line is still being written)"
    else:
        state = "running or stopped (no result.json yet)"
    lines.append(f"run       {run.path}: {state}")
    lines.append(
        f"setup     simulator {run.resolved.get('simulator', '?')}, optimizer {run.optimizer}, "
        f"divergence {run.divergence}, seed {run.resolved.get('seed', '?')}"
    )
    budget = run.budget
    share = f" ({100 * run.events_used / budget:.0f}%)" if budget else ""
    lines.append(f"events    {run.events_used:,} of {budget:,} simulated{share}" if budget else f"events    {run.events_used:,} simulated")
    per_point = run.resolved.get("events_per_point")
    if not run.finished and budget and per_point:
        left = max(budget - run.events_used, 0) // int(per_point)
        lines[-1] += f"; {left} more evaluation(s) of {int(per_point):,} events fit in the budget"
    lines.append(f"evals     {len(run.history)} ({run.n_failed} failed)")
    failures = [e for e in run.history if not e.ok]
    if failures:
        lines.append(f"          last failure: evaluation {failures[-1].index}: {failures[-1].status.value}: {failures[-1].reason}")
    best = run.best_evaluation()
    estimate = next((e.details["estimate"] for e in reversed(run.history) if e.details.get("estimate")), None)
    if estimate is not None:  # a fitting optimiser (pooled): its estimate, not a point's own value
        lines.append("estimate  the latest round was centred on (68% band):")
        lines.append("          " + ", ".join(f"{name}={v:.5g} [{low:.5g}, {high:.5g}]" for name, (v, low, high)
                                              in estimate.items()))
    elif best is None:
        lines.append("best      no successful evaluation yet")
    else:
        lines.append(f"best      divergence {best.value:.4g} +- {best.stderr:.2g} ({run.divergence}) at evaluation {best.index}")
        lines.append(f"          {_format_params(best.params)}")
    lines.append(f"elapsed   {_elapsed(run)}")
    if run.result is not None:
        lines.append("result    " + run.result.summary().replace("\n", "\n          "))
        lines.append("          " + run.result.closure_verdict())
    elif run.truth:
        lines.append(f"truth     {_format_params(run.truth)}")
    return "\n".join(lines)


def _histogram_status(path: Path, settings: dict) -> str:
    """The status of a tune to histograms (``settings`` from its config.json): its
    simulations so far by round, the budget, and the result (parameters, intervals,
    statuses, chi-square) once written."""
    records = _json_lines(path / HISTORY_FILE)
    events = sum(int(r.get("n_events", 0)) for r in records)
    failed = sum(r.get("status") != "ok" for r in records)
    result_path = path / RESULT_FILE
    result = json.loads(result_path.read_text()) if result_path.is_file() else None
    budget = int(settings["budget"])
    lines = [f"run       {path}: " + ("finished (result.json written)" if result else "running or stopped (no result.json yet)"),
             f"setup     histograms ({len(settings.get('histograms', []))}), method {settings.get('method', '?')}, "
             f"{len(settings['space'])} parameters, seed {settings.get('seed', '?')}",
             f"events    {events:,} of {budget:,} simulated ({100 * events / budget:.0f}%) in {len(records)} "
             f"simulations ({failed} failed)" + (f", {1 + max(rounds)} round(s)" if (rounds := [
                 r.get("iteration", 0) for r in records if r.get("purpose") == 0]) else "")]
    if result:
        lines.append(f"result    chi2 {result['chi2']:.1f} / {result['ndf']} at the tuned point (start "
                     f"{result['start_chi2']:.1f}); {result['wall_seconds']:.0f} s")
        for name, value in result["params"].items():
            low, high = result["intervals"][name]
            lines.append(f"          {name} = {value:.5g} [{low:.5g}, {high:.5g}] {result['status'][name]}")
    return "\n".join(lines)


def _json_lines(path: Path) -> list[dict]:
    """The complete lines of a JSON-lines file (a cut-off last one, being written, left out)."""
    if not path.is_file():
        return []
    out = []
    for line in path.read_text().splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return out


def _format_params(params: dict[str, float]) -> str:
    return ", ".join(f"{name}={value:.5g}" for name, value in params.items())


def _elapsed(run: RunFiles) -> str:
    simulating = sum(e.sim_seconds for e in run.history)
    training = sum(e.train_seconds for e in run.history)
    spent = f"simulating {_duration(simulating)} and training {_duration(training)} summed over evaluations"
    if run.result is not None:
        return f"{_duration(run.result.wall_seconds)} wall time; {spent}"
    now = time.time()
    return (f"{_duration(now - run.started)} since the run started, last update {_duration(now - run.last_update)} ago; "
            f"{spent}")


def _duration(seconds: float) -> str:
    seconds = max(float(seconds), 0.0)
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"
