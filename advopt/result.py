"""Frozen records of a run: one Evaluation per simulated parameter point, and the TuneResult.

Both round-trip through plain JSON (``to_dict``/``from_dict``) so that the run directory can
be read by people, by ``advopt report`` and by a resumed run.
"""

from __future__ import annotations

import enum
import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

from advopt.files import json_float, write_json_atomic


class Status(str, enum.Enum):
    """How an evaluation ended: ``ok``; ``failed`` (the simulator raised, returned NaN or the
    wrong shape; ``reason`` says which); ``invalid`` (the divergence could not be estimated)."""

    OK = "ok"
    FAILED = "failed"
    INVALID = "invalid"


@dataclass(frozen=True)
class Evaluation:
    """One parameter point: what was simulated, what it cost, and the divergence found.

    ``value`` and ``stderr`` are the divergence estimate (nats for the JSD) and its standard
    error; both are NaN unless ``status`` is ok. ``n_events`` counts every simulated event
    this evaluation spent (training, validation and any refits).
    """

    index: int
    iteration: int
    params: dict[str, float]
    value: float
    stderr: float
    n_events: int
    seed: int
    status: Status
    reason: str = ""
    sim_seconds: float = 0.0
    train_seconds: float = 0.0
    details: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status is Status.OK

    def outcome(self) -> dict:
        """Everything but the timings: what must be identical between two runs with one seed."""
        out = self.to_dict()
        del out["sim_seconds"], out["train_seconds"]
        return out

    def to_dict(self) -> dict:
        out = asdict(self)
        out["status"] = self.status.value
        out["value"] = json_float(self.value)
        out["stderr"] = json_float(self.stderr)
        return out

    @classmethod
    def from_dict(cls, data: dict) -> "Evaluation":
        data = dict(data)
        data["status"] = Status(data["status"])
        data["value"] = _float_or_nan(data["value"])
        data["stderr"] = _float_or_nan(data["stderr"])
        return cls(**data)


@dataclass(frozen=True)
class TuneResult:
    """The outcome of a tune.

    ``best_params`` is the optimiser's recommendation (for Bayesian optimisation: the
    surrogate's posterior minimum among evaluated points); ``interval68`` a central 68% interval
    per parameter in its own units and ``uncertainty`` half its width (the sd for a
    Gaussian; pulls divide by it);
    ``events_used`` every simulated event spent, ``budget`` the limit; ``truth`` is set when
    the run knew it (closure tests). For Bayesian optimisation the uncertainty combines where
    the surrogate's minimum lies with the scatter the finite reference sample causes
    (:mod:`advopt.intervals`); ``optimizer_uncertainty`` is the half-width of the first
    part alone.
    """

    best_params: dict[str, float]
    best_value: float
    uncertainty: dict[str, float]
    interval68: dict[str, tuple[float, float]]
    history: tuple[Evaluation, ...]
    events_used: int
    budget: int
    reference_size: int
    optimizer: str
    divergence: str
    seed: int
    truth: dict[str, float] | None = None
    wall_seconds: float = 0.0
    optimizer_uncertainty: dict[str, float] | None = None

    @property
    def n_failed(self) -> int:
        return sum(not e.ok for e in self.history)

    def to_dict(self) -> dict:
        out = asdict(self)
        out["history"] = [e.to_dict() for e in self.history]
        out["best_value"] = json_float(self.best_value)
        out["interval68"] = {k: list(v) for k, v in self.interval68.items()}
        return out

    @classmethod
    def from_dict(cls, data: dict) -> "TuneResult":
        data = dict(data)
        data["history"] = tuple(Evaluation.from_dict(e) for e in data["history"])
        data["best_value"] = _float_or_nan(data["best_value"])
        data["interval68"] = {k: tuple(_float_or_nan(x) for x in v) for k, v in data["interval68"].items()}
        data["uncertainty"] = _nan_for_none(data["uncertainty"])
        data["optimizer_uncertainty"] = _nan_for_none(data.get("optimizer_uncertainty"))
        return cls(**data)

    def save(self, path: str | Path) -> None:
        write_json_atomic(Path(path), self.to_dict())

    @classmethod
    def load(cls, path: str | Path) -> "TuneResult":
        return cls.from_dict(json.loads(Path(path).read_text()))

    def pulls(self) -> dict[str, float]:
        """(tuned - truth) / uncertainty per parameter with a known truth; empty otherwise."""
        if not self.truth:
            return {}
        return {
            name: (self.best_params[name] - value) / self.uncertainty[name] if self.uncertainty[name] > 0 else math.inf
            for name, value in self.truth.items()
            if name in self.best_params
        }

    def closure_verdict(self, max_pull: float = 2.0) -> str:
        """One line saying whether the truth was recovered within ``max_pull`` uncertainties."""
        pulls = self.pulls()
        if not pulls:
            return "no truth known: not a closure test"
        off = {name: pull for name, pull in pulls.items() if not abs(pull) <= max_pull}
        if not off:
            return f"closure: truth recovered, every parameter within {max_pull:g} standard deviations"
        listed = ", ".join(f"{name} off by {pull:+.1f} sd" for name, pull in off.items())
        return f"closure: truth NOT recovered: {listed}"

    def summary(self) -> str:
        """A small table: parameter, tuned value +- uncertainty, and the truth where known."""
        rows = [f"{'parameter':<28} {'tuned':>12} {'+-':>10} {'68% interval':>22} {'truth':>10}"]
        for name, value in self.best_params.items():
            known = f"{self.truth[name]:10.4g}" if self.truth and name in self.truth else f"{'-':>10}"
            low, high = self.interval68.get(name, (math.nan, math.nan))
            interval = f"[{low:.5g}, {high:.5g}]"
            rows.append(f"{name:<28} {value:12.5g} {self.uncertainty.get(name, math.nan):10.3g} {interval:>22} {known}")
        rows.append(
            f"divergence {self.best_value:.4g} ({self.divergence}), {len(self.history)} evaluations "
            f"({self.n_failed} failed), {self.events_used:,} of {self.budget:,} simulated events, "
            f"{self.wall_seconds:.0f} s"
        )
        return "\n".join(rows)


def _nan_for_none(numbers: dict | None) -> dict | None:
    return None if numbers is None else {key: _float_or_nan(value) for key, value in numbers.items()}


def _float_or_nan(x) -> float:
    return math.nan if x is None else float(x)
