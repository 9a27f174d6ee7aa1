"""Files on disk: strict JSON (no NaN or Infinity), and every file replaced atomically."""

from __future__ import annotations

import contextlib
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


@contextlib.contextmanager
def replaced_atomically(path: Path, suffix: str = ""):
    """A temporary path beside ``path`` to write to; renamed over ``path`` when the block
    ends without an error (removed otherwise), so readers see the old file or the new one,
    never half of one. ``suffix`` ends the temporary name (``.npz`` for numpy's writer)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp" + suffix)
    os.close(handle)
    try:
        yield Path(temporary)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_json_atomic(path: Path, data) -> None:
    """Strict JSON (non-finite floats as None) to ``path``, atomically and synced to disk."""
    with replaced_atomically(path) as temporary, open(temporary, "w") as file:
        json.dump(json_safe(data), file, indent=2, sort_keys=False, allow_nan=False)
        file.flush()
        os.fsync(file.fileno())


def write_text_atomic(path: Path, text: str) -> None:
    with replaced_atomically(path) as temporary:
        temporary.write_text(text)
