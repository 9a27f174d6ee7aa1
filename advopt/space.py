"""Named real parameters with bounds, optional log scale, and unit-cube transforms.

Optimisers work in the unit cube [0, 1]^d; users and simulators see named physical
values. A log-scaled parameter is uniform in log(value) inside the cube.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Parameter:
    """One real parameter: ``low <= value <= high``; ``log`` means uniform in log(value)."""

    name: str
    low: float
    high: float
    log: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"parameter name must be a non-empty string, got {self.name!r}")
        for field in ("low", "high"):
            value = getattr(self, field)
            if not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ValueError(f"parameter {self.name!r}: {field} must be a finite number, got {value!r}")
        if not self.low < self.high:
            raise ValueError(
                f"parameter {self.name!r}: bounds must satisfy low < high, got low={self.low}, high={self.high}"
            )
        if self.log and self.low <= 0:
            raise ValueError(f"parameter {self.name!r}: log scale needs low > 0, got low={self.low}")
        object.__setattr__(self, "low", float(self.low))
        object.__setattr__(self, "high", float(self.high))

    @property
    def width(self) -> float:
        return self.high - self.low

    def to_unit(self, value: float) -> float:
        if self.log:
            return (math.log(value) - math.log(self.low)) / (math.log(self.high) - math.log(self.low))
        return (value - self.low) / self.width

    def from_unit(self, u: float) -> float:
        u = min(max(float(u), 0.0), 1.0)
        if self.log:
            return math.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low)))
        return self.low + u * self.width

    def to_dict(self) -> dict:
        out: dict = {"low": self.low, "high": self.high}
        if self.log:
            out["log"] = True
        return out


class Space:
    """An ordered set of named parameters.

    Build it from parameters, or from a plain dict ``{name: (low, high)}`` or
    ``{name: {"low": .., "high": .., "log": bool}}`` with :meth:`from_dict`.
    """

    def __init__(self, parameters: Iterable[Parameter]):
        self.parameters: tuple[Parameter, ...] = tuple(parameters)
        if not self.parameters:
            raise ValueError("parameter space is empty: give at least one parameter")
        names = [p.name for p in self.parameters]
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise ValueError(f"parameter space: duplicated names {duplicated}")
        self._by_name = {p.name: p for p in self.parameters}

    # -- construction -------------------------------------------------------------------
    @classmethod
    def from_dict(cls, spec: "Mapping | Space") -> "Space":
        if isinstance(spec, Space):
            return spec
        if not isinstance(spec, Mapping):
            raise ValueError(f"parameter space must be a mapping of name -> (low, high), got {type(spec).__name__}")
        return cls(_parameter_from_spec(name, value) for name, value in spec.items())

    def to_dict(self) -> dict:
        return {p.name: p.to_dict() for p in self.parameters}

    def subset(self, names: Iterable[str]) -> "Space":
        return Space(self[name] for name in names)

    # -- access ------------------------------------------------------------------------
    @property
    def names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.parameters)

    @property
    def dim(self) -> int:
        return len(self.parameters)

    def __len__(self) -> int:
        return self.dim

    def __iter__(self):
        return iter(self.parameters)

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def __getitem__(self, name: str) -> Parameter:
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"unknown parameter {name!r}; the space has {list(self.names)}") from None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Space) and self.parameters == other.parameters

    def __repr__(self) -> str:
        inside = ", ".join(f"{p.name}=[{p.low:g}, {p.high:g}]{' log' if p.log else ''}" for p in self.parameters)
        return f"Space({inside})"

    # -- checks and transforms ---------------------------------------------------------------
    def validate(self, params: Mapping[str, float]) -> dict[str, float]:
        """Check that ``params`` names exactly this space's parameters, inside their bounds."""
        unknown = sorted(set(params) - set(self.names))
        if unknown:
            raise ValueError(f"unknown parameter(s) {unknown}; the space has {list(self.names)}")
        missing = [n for n in self.names if n not in params]
        if missing:
            raise ValueError(f"missing parameter(s) {missing}")
        checked = {}
        for p in self.parameters:
            value = float(params[p.name])
            if not (p.low <= value <= p.high):
                raise ValueError(f"parameter {p.name!r}: value {value:g} is outside its bounds [{p.low:g}, {p.high:g}]")
            checked[p.name] = value
        return checked

    def to_unit(self, params: Mapping[str, float]) -> np.ndarray:
        checked = self.validate(params)
        return np.array([p.to_unit(checked[p.name]) for p in self.parameters])

    def from_unit(self, u: Iterable[float]) -> dict[str, float]:
        u = np.asarray(list(u), dtype=float)
        if u.shape != (self.dim,):
            raise ValueError(f"unit-cube point must have {self.dim} coordinates, got shape {u.shape}")
        return {p.name: p.from_unit(x) for p, x in zip(self.parameters, u)}

    def distance(self, a: Mapping[str, float], b: Mapping[str, float]) -> float:
        """Euclidean distance in units of each parameter's range (unit cube)."""
        return float(np.linalg.norm(self.to_unit(a) - self.to_unit(b)))


def _parameter_from_spec(name: str, value) -> Parameter:
    if isinstance(value, Parameter):
        return value
    if isinstance(value, Mapping):
        unknown = sorted(set(value) - {"low", "high", "log"})
        if unknown:
            raise ValueError(f"parameter {name!r}: unknown field(s) {unknown}; use low, high, log")
        if "low" not in value or "high" not in value:
            raise ValueError(f"parameter {name!r}: needs both 'low' and 'high'")
        return Parameter(name, value["low"], value["high"], bool(value.get("log", False)))
    if isinstance(value, (list, tuple)) and len(value) == 2:
        return Parameter(name, value[0], value[1])
    if isinstance(value, (list, tuple)) and len(value) == 3 and value[2] == "log":
        return Parameter(name, value[0], value[1], log=True)
    raise ValueError(f"parameter {name!r}: expected (low, high), (low, high, 'log') or {{low, high, log}}, got {value!r}")
