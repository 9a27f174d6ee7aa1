"""The run directory: everything needed to understand (and later resume) a run.

    config.json      the resolved settings of the run
    environment.json the machine and library versions it ran with (advopt/records/environment.py)
    history.jsonl    one JSON line per evaluation, appended and flushed as each completes
    result.json      the final TuneResult (written atomically at the end)

This module is the one reader and writer of these files (``advopt status`` and the report
read through it too). config.json carries the directory's ``format`` (FORMAT_VERSION); a
directory without one is format 0 (before the number was written), and one of a newer
format than this advopt reads is refused with a line that says so.
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

from advopt.records.files import json_safe, write_json_atomic
from advopt.records.result import Evaluation

CONFIG_FILE = "config.json"
ENVIRONMENT_FILE = "environment.json"
HISTORY_FILE = "history.jsonl"
RESULT_FILE = "result.json"
FORMAT_VERSION = 1  # 1: config.json records "format"; 0: the same files, written before the number


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


class RunDirectory:
    """Creates the run directory and appends evaluations as they complete."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)

    def start(self, config: dict) -> list[Evaluation]:
        """Begin a new run here; refuse a directory that already holds one."""
        if (self.path / HISTORY_FILE).exists() or (self.path / CONFIG_FILE).exists():
            raise ValueError(f"run_dir: {self.path} already holds a run; resume it (advopt resume {self.path}) or choose another directory")
        write_json_atomic(self.path / CONFIG_FILE, {"format": FORMAT_VERSION, **config})
        return []

    def resume(self, config: dict) -> list[Evaluation]:
        """Check that ``config`` is the recorded run's and return its history so far."""
        recorded = self.read_config()["resolved"]
        if "arguments" not in recorded:  # written before the arguments were recorded: compare the rest
            config = {**config, "resolved": {k: v for k, v in config["resolved"].items() if k != "arguments"}}
        differing = _differing(recorded, json_safe(config["resolved"]))
        if differing:
            raise ValueError(f"run_dir: {self.path} was written by a different configuration (differs in {differing})")
        return read_history(self.path / HISTORY_FILE, repair=True)[0]

    def record_environment(self, current: dict) -> list[str]:
        """Keep the machine record of the run's start; on a resume, return the entries in
        which this machine differs from it (empty when it is the same)."""
        path = self.path / ENVIRONMENT_FILE
        if not path.exists():
            write_json_atomic(path, current)
            return []
        return _differing(json.loads(path.read_text()), json_safe(current))

    def read_config(self) -> dict:
        """config.json, checked: valid JSON, a run's record, a format this advopt reads."""
        return read_config(self.path)

    def append(self, evaluation: Evaluation) -> None:
        with open(self.path / HISTORY_FILE, "a") as file:
            file.write(json.dumps(json_safe(evaluation.to_dict()), allow_nan=False) + "\n")
            file.flush()
            os.fsync(file.fileno())

    def read_history(self) -> list[Evaluation]:
        return read_history(self.path / HISTORY_FILE)[0]


def read_config(run_dir: Path) -> dict:
    """A run directory's config.json; ValueError (naming the file) when it is missing, not
    JSON, not a run's record, or of a newer format than this advopt reads."""
    path = Path(run_dir) / CONFIG_FILE
    if not path.is_file():
        raise ValueError(f"run_dir: {Path(run_dir)} holds no advopt run (no {CONFIG_FILE})")
    try:
        record = json.loads(path.read_text())
        dict(record["settings"] if record.get("kind") == "histograms" else record["resolved"])  # the two kinds of run
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as err:
        raise ValueError(f"run_dir: {path} is not an advopt run config ({type(err).__name__}: {err})") from None
    version = record.get("format", 0)
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ValueError(f"run_dir: {path} is of run-directory format {version!r}, newer than this advopt reads "
                         f"({FORMAT_VERSION}); upgrade advopt to read it")
    return record


def read_history(path: Path, repair: bool = False) -> tuple[list[Evaluation], bool]:
    """The evaluations of history.jsonl, and whether its last line was cut off (a driver
    killed while writing it, or a run still appending). Blank lines are skipped; any other
    unreadable line but the last is corruption (ValueError). With ``repair`` the cut-off
    line is removed from the file, so that appending goes on cleanly, with a warning."""
    if not path.exists():
        return [], False
    lines = path.read_text().splitlines(keepends=True)
    evaluations, partial = [], False
    for number, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            evaluations.append(Evaluation.from_dict(json.loads(line)))
        except (json.JSONDecodeError, KeyError, TypeError, ValueError):
            if number != len(lines) - 1:
                raise ValueError(f"run_dir: {path} line {number + 1} is corrupt") from None
            partial = True
            if repair:
                with open(path, "r+") as file:
                    file.truncate(len("".join(lines[:-1]).encode()))
                warnings.warn(f"run_dir: the last line of {path} was cut off (the driver stopped while "
                              f"writing it); dropped it, kept the {len(evaluations)} evaluations before", stacklevel=5)
    return evaluations, partial
