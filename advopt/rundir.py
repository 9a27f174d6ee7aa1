"""The run directory: everything needed to understand (and later resume) a run.

    config.json      the resolved settings of the run
    environment.json the machine and library versions it ran with (advopt/environment.py)
    history.jsonl    one JSON line per evaluation, appended and flushed as each completes
    result.json      the final TuneResult (written atomically at the end)
"""

from __future__ import annotations

import json
import os
import tempfile
import warnings
from pathlib import Path

from advopt.result import Evaluation, json_safe

CONFIG_FILE = "config.json"
ENVIRONMENT_FILE = "environment.json"
HISTORY_FILE = "history.jsonl"
RESULT_FILE = "result.json"


def _differing(recorded: dict, current: dict, prefix: str = "") -> list[str]:
    """The keys (dotted, into nested tables) whose values differ between two records."""
    out = []
    for key in sorted(set(recorded) | set(current)):
        old, new = recorded.get(key), current.get(key)
        if isinstance(old, dict) and isinstance(new, dict):
            out += _differing(old, new, f"{prefix}{key}.")
        elif old != new:
            out.append(f"{prefix}{key}")
    return out


def write_json_atomic(path: Path, data) -> None:
    """Write JSON to a temporary file beside ``path`` and rename it over: readers see the
    old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w") as file:
            json.dump(json_safe(data), file, indent=2, sort_keys=False, allow_nan=False)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class RunDirectory:
    """Creates the run directory and appends evaluations as they complete."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)

    def start(self, config: dict) -> list[Evaluation]:
        """Begin a new run here; refuse a directory that already holds one."""
        if (self.path / HISTORY_FILE).exists() or (self.path / CONFIG_FILE).exists():
            raise ValueError(f"run_dir: {self.path} already holds a run; resume it (advopt resume {self.path}) or choose another directory")
        write_json_atomic(self.path / CONFIG_FILE, config)
        return []

    def resume(self, config: dict) -> list[Evaluation]:
        """Check that ``config`` is the recorded run's and return its history so far."""
        config_path = self.path / CONFIG_FILE
        if not config_path.exists():
            raise ValueError(f"run_dir: {self.path} holds no run to resume (no {CONFIG_FILE})")
        recorded = json.loads(config_path.read_text())["resolved"]
        if "arguments" not in recorded:  # written before the arguments were recorded: compare the rest
            config = {**config, "resolved": {k: v for k, v in config["resolved"].items() if k != "arguments"}}
        differing = _differing(recorded, json_safe(config["resolved"]))
        if differing:
            raise ValueError(f"run_dir: {self.path} was written by a different configuration (differs in {differing})")
        return self._read_history(repair=True)

    def record_environment(self, current: dict) -> list[str]:
        """Keep the machine record of the run's start; on a resume, return the entries in
        which this machine differs from it (empty when it is the same)."""
        path = self.path / ENVIRONMENT_FILE
        if not path.exists():
            write_json_atomic(path, current)
            return []
        return _differing(json.loads(path.read_text()), json_safe(current))

    def read_config(self) -> dict:
        path = self.path / CONFIG_FILE
        if not path.exists():
            raise ValueError(f"run_dir: {self.path} holds no run to resume (no {CONFIG_FILE})")
        try:
            return json.loads(path.read_text())
        except json.JSONDecodeError as err:
            raise ValueError(f"run_dir: {path} is not valid JSON ({err})") from None

    def append(self, evaluation: Evaluation) -> None:
        with open(self.path / HISTORY_FILE, "a") as file:
            file.write(json.dumps(json_safe(evaluation.to_dict()), allow_nan=False) + "\n")
            file.flush()
            os.fsync(file.fileno())

    def read_history(self) -> list[Evaluation]:
        return self._read_history(repair=False)

    def _read_history(self, repair: bool) -> list[Evaluation]:
        """Parse the history; a last line cut off by a killed driver is dropped (and, with
        ``repair``, removed from the file so that appending goes on cleanly)."""
        history_path = self.path / HISTORY_FILE
        if not history_path.exists():
            return []
        text = history_path.read_text()
        lines = text.splitlines(keepends=True)
        evaluations = []
        for number, line in enumerate(lines):
            try:
                evaluations.append(Evaluation.from_dict(json.loads(line)))
            except (json.JSONDecodeError, KeyError, TypeError, ValueError):
                if number != len(lines) - 1:
                    raise ValueError(f"run_dir: {history_path} line {number + 1} is corrupt") from None
                if repair:
                    with open(history_path, "r+") as file:
                        file.truncate(len("".join(lines[:-1]).encode()))
                    warnings.warn(f"run_dir: the last line of {history_path} was cut off (the driver stopped while "
                                  f"writing it); dropped it, kept the {len(evaluations)} evaluations before", stacklevel=3)
        return evaluations
