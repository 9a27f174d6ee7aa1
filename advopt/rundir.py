"""The run directory: everything needed to understand (and later resume) a run.

    config.json      the resolved settings of the run
    history.jsonl    one JSON line per evaluation, appended and flushed as each completes
    result.json      the final TuneResult (written atomically at the end)
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from advopt.result import Evaluation

CONFIG_FILE = "config.json"
HISTORY_FILE = "history.jsonl"
RESULT_FILE = "result.json"


def write_json_atomic(path: Path, data) -> None:
    """Write JSON to a temporary file beside ``path`` and rename it over: readers see the
    old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w") as file:
            json.dump(data, file, indent=2, sort_keys=False)
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

    def write_config(self, config: dict) -> None:
        write_json_atomic(self.path / CONFIG_FILE, config)

    def append(self, evaluation: Evaluation) -> None:
        with open(self.path / HISTORY_FILE, "a") as file:
            file.write(json.dumps(evaluation.to_dict()) + "\n")
            file.flush()
            os.fsync(file.fileno())

    def read_history(self) -> list[Evaluation]:
        history_path = self.path / HISTORY_FILE
        if not history_path.exists():
            return []
        lines = history_path.read_text().splitlines()
        return [Evaluation.from_dict(json.loads(line)) for line in lines if line.strip()]
