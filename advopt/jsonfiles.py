"""Strict JSON on disk: no NaN or Infinity, and files replaced atomically."""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path


def json_float(x: float) -> float | None:
    """A float for strict JSON: None in place of NaN or an infinity."""
    return None if x is None or not math.isfinite(x) else float(x)


def json_safe(data):
    """``data`` with every non-finite float as None: strict JSON has no NaN or Infinity."""
    if isinstance(data, float):
        return json_float(data)
    if isinstance(data, dict):
        return {key: json_safe(value) for key, value in data.items()}
    if isinstance(data, (list, tuple)):
        return [json_safe(value) for value in data]
    return data


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
