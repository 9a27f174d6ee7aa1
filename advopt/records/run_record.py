"""What a run directory's config.json records: the settings a resume must match.

``resolved`` holds the problem as resolved (simulator, space, fixed values, reference hash,
budget, seed, truth) and ``arguments`` everything else the history depends on (the
simulator's options, the optimiser's and the divergence's settings, chunking, growth).
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping

import numpy as np


def run_record(config, *, sim, space, fixed, method, ref, budget, events_per_point, batch_size, seed, truth,
               reference_per_point, optimizer_options: dict, chunk_size: int, growth) -> dict:
    """{"config": the TOML config (if any), "resolved": the resolved settings}: each named as
    the run resolved it (``sim`` the simulator, ``method`` the method, ``ref`` the reference sample)."""
    resolved = {
        "simulator": describe(sim), "space": space.to_dict(), "fixed": fixed, "optimizer": method.name,
        "divergence": method.divergence_name,
        "budget": budget, "events_per_point": events_per_point, "batch_size": batch_size, "seed": seed,
        "reference_size": len(ref.events), "reference_sha256": hashlib.sha256(np.ascontiguousarray(ref.events)).hexdigest(),
        "feature_names": list(ref.feature_names or []), "truth": truth,
    }
    if reference_per_point != 1.0:  # recorded only when set, so older run directories still resume
        resolved["reference_per_point"] = reference_per_point
    resolved["arguments"] = _arguments(sim, method.settings(), optimizer_options, chunk_size, growth)
    return {"config": dict(config) if config else None, "resolved": resolved}


def _arguments(sim, method_settings: dict, optimizer_options: dict, chunk_size: int, growth) -> dict:
    """The simulator with its options, the method's settings (its optimiser's and its
    divergence's, :meth:`advopt.methods.base.Method.settings`), chunking and growth. The device is left out: a run may resume on another machine (the
    environment record warns)."""
    return {
        "simulator": repr(sim) if " at 0x" not in repr(sim) else describe(sim),
        "optimizer": {**method_settings["optimizer"], "options": _plain(optimizer_options)},
        "divergence": method_settings["divergence"],
        "chunk_size": chunk_size,
        "growth": None if growth is None else dataclasses.asdict(growth),
    }


def plain_settings(obj) -> dict:
    """An object's public plain settings (numbers, strings, and lists or dicts of them); a
    plug-in's own, not its adapter's."""
    obj = getattr(obj, "plugin", obj)
    settings = {key: _plain(value) for key, value in sorted(vars(obj).items())
                if not key.startswith("_") and key not in ("device", "threads", "seed", "dim")}  # recorded apart
    return {"type": describe(obj), **{key: value for key, value in settings.items() if value is not None}}


def _plain(value):
    """``value`` as JSON-able plain data, or None when it is not plain (an array, a model)."""
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)):
        items = [_plain(v) for v in value]
        return items if all(i is not None or v is None for i, v in zip(items, value)) else None
    if isinstance(value, Mapping):
        items = {str(k): _plain(v) for k, v in value.items()}
        return items if all(i is not None or v is None for i, v in zip(items.values(), value.values())) else None
    return None


def describe(sim) -> str:
    """A stable name for an object's kind (no memory addresses), for the run's config."""
    target = getattr(sim, "function", sim)
    kind = target if callable(target) and not hasattr(target, "simulate") else type(target)
    return f"{getattr(kind, '__module__', '?')}.{getattr(kind, '__qualname__', repr(kind))}"
