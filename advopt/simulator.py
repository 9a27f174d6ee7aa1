"""The simulator plug-in API: protocol, adapters, registry and conformance check.

A simulator is anything with ``simulate(params, n, seed) -> ndarray (n, d)``. Optional
attributes: ``feature_names`` (d names), ``default_space`` (a Space or a dict
``{name: (low, high)}``), ``truth`` (known parameter values, for closure tests) and
``check_space(space)`` (raise ValueError for parameters the simulator cannot take,
before any event is generated).

Built-in and third-party simulators register in the entry-point group
``advopt.simulators``; any ``package.module:attr`` string works too. An entry point or
``module:attr`` may name a class or factory (called with the simulator's options), a
simulator object, or a plain function with the ``simulate`` signature.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any, Protocol, cast, runtime_checkable

import numpy as np

from advopt.space import Space

ENTRY_POINT_GROUP = "advopt.simulators"


@runtime_checkable
class Simulator(Protocol):
    """What advopt needs of a simulator. Same (params, n, seed) must give the same array."""

    def simulate(self, params: Mapping[str, float], n: int, seed: int) -> np.ndarray: ...


class FunctionSimulator:
    """Adapts a plain function ``f(params, n, seed) -> (n, d) array`` to the protocol."""

    def __init__(self, function: Callable, feature_names=None, default_space=None, truth=None):
        self.function = function
        self.feature_names = tuple(feature_names) if feature_names is not None else None
        self.default_space = default_space
        self.truth = dict(truth) if truth is not None else None

    def simulate(self, params: Mapping[str, float], n: int, seed: int) -> np.ndarray:
        return self.function(params, n, seed)

    def __repr__(self) -> str:
        return f"FunctionSimulator({getattr(self.function, '__qualname__', self.function)!r})"


def as_simulator(obj: Any, **options) -> Simulator:
    """Turn an object, a class/factory, a plain function or a registered name into a simulator."""
    if isinstance(obj, str):
        return get_simulator(obj, **options)
    if inspect.isclass(obj):
        return cast(Simulator, obj(**options))  # a user's class: the contract is checked where it is used
    if hasattr(obj, "simulate"):
        _no_options(obj, options)
        return obj
    if callable(obj):
        _no_options(obj, options)
        return FunctionSimulator(obj)
    raise TypeError(f"simulator must have a simulate(params, n, seed) method or be a function, got {type(obj).__name__}")


def _no_options(obj, options: Mapping) -> None:
    if options:
        raise ValueError(f"simulator {obj!r} takes no options, got {sorted(options)}")


# -- registry ---------------------------------------------------------------------------
def registered_simulators() -> dict[str, str]:
    """Name -> 'module:attr' for every simulator registered through entry points."""
    return {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}


def get_simulator(name: str, **options) -> Simulator:
    """Resolve a registered name or a ``package.module:attr`` string to a simulator.

    Raises ``ValueError`` naming what was tried when the name cannot be resolved.
    """
    registry = registered_simulators()
    if name in registry:
        target = _load_attr(registry[name], name)
    elif ":" in name:
        target = _load_attr(name, name)
    else:
        known = ", ".join(sorted(registry)) or "none"
        raise ValueError(f"unknown simulator {name!r}; registered: {known}; or give 'package.module:attr'")
    return as_simulator(target, **options)


def _load_attr(spec: str, name: str):
    module_name, _, attr_path = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        raise ValueError(f"simulator {name!r}: cannot import module {module_name!r} ({err})") from None
    target = module
    for part in attr_path.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise ValueError(f"simulator {name!r}: module {module_name!r} has no attribute {attr_path!r}") from None
    return target


# -- optional attributes --------------------------------------------------------------------
def feature_names(simulator: Simulator) -> tuple[str, ...] | None:
    names = getattr(simulator, "feature_names", None)
    return tuple(names) if names is not None else None


def default_space(simulator: Simulator) -> Space | None:
    space = getattr(simulator, "default_space", None)
    if callable(space) and not isinstance(space, (Space, Mapping)):
        space = space()
    return Space.from_dict(space) if space is not None else None


def truth(simulator: Simulator) -> dict[str, float] | None:
    known = getattr(simulator, "truth", None)
    return dict(known) if known is not None else None


# -- conformance -------------------------------------------------------------------------
@dataclass
class ConformanceReport:
    """What :func:`check_simulator` found; ``ok`` is True when every check passed."""

    checks: dict[str, str] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failures

    def __str__(self) -> str:
        lines = [f"  ok    {name}: {text}" for name, text in self.checks.items()]
        lines += [f"  FAIL  {name}: {text}" for name, text in self.failures.items()]
        head = "simulator conforms" if self.ok else "simulator does NOT conform"
        return "\n".join([head, *lines])


def check_simulator(simulator, params: Mapping[str, float] | None = None, n: int = 64, seed: int = 12345) -> ConformanceReport:
    """Run a simulator a few times and report whether it keeps the contract.

    Checks: returns a 2-d float array of shape (n, d); ``d`` matches ``feature_names``;
    values are finite; the same seed gives the same array; another seed gives another.
    ``params`` defaults to the centre of the simulator's default space.
    """
    report = ConformanceReport()
    sim = as_simulator(simulator)
    if params is None:
        space = default_space(sim)
        if space is None:
            report.failures["params"] = "no params given and the simulator has no default_space"
            return report
        params = space.from_unit([0.5] * space.dim)
    try:
        first = np.asarray(sim.simulate(dict(params), n, seed))
        again = np.asarray(sim.simulate(dict(params), n, seed))
        other = np.asarray(sim.simulate(dict(params), n, seed + 1))
    except Exception as err:  # report, don't crash: this is a diagnostic for users
        report.failures["runs"] = f"simulate raised {type(err).__name__}: {err}"
        return report
    _check(report, "shape", first.ndim == 2 and first.shape[0] == n,
           f"shape {first.shape}, expected ({n}, d)")
    names = feature_names(sim)
    if names is not None and first.ndim == 2:
        _check(report, "feature_names", len(names) == first.shape[1],
               f"{len(names)} feature names for {first.shape[1] if first.ndim == 2 else '?'} columns")
    _check(report, "dtype", np.issubdtype(first.dtype, np.number), f"dtype {first.dtype}")
    finite = np.issubdtype(first.dtype, np.number) and bool(np.isfinite(first).all())
    _check(report, "finite", finite, "all values finite" if finite else "NaN or inf in the output")
    same = first.shape == again.shape and np.array_equal(first, again, equal_nan=True)
    _check(report, "deterministic", same, "same seed gives the same array" if same else "same seed gave a different array")
    differs = not (first.shape == other.shape and np.array_equal(first, other, equal_nan=True))
    _check(report, "seeded", differs, "another seed gives another array" if differs else "the seed is ignored")
    return report


def _check(report: ConformanceReport, name: str, passed: bool, text: str) -> None:
    (report.checks if passed else report.failures)[name] = text
