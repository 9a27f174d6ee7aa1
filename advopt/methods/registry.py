"""The methods by name: ``optimizer = "pooled" | "bayes" | "random" | "variational"`` (or a
user's optimiser object) with its divergence, built and checked before any side effect.

Each refusal names the field: a method that plans its own batches refuses a batch size, one
that learns from every point's events refuses sample growth and a reference share per point.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from advopt.avo.method import make_variational
from advopt.divergence import make_divergence
from advopt.divergence.base import with_defaults as with_divergence_defaults
from advopt.methods.base import Method
from advopt.methods.per_point import PerPoint, SampleGrowth
from advopt.optimizers import OPTIMIZERS, make_optimizer, planned_options
from advopt.optimizers.base import with_defaults as with_optimizer_defaults
from advopt.pooled.design import events_per_point as pooled_events_per_point
from advopt.pooled.estimator import PooledOptimizer
from advopt.settings import check

METHODS = ("pooled", *OPTIMIZERS, "variational")
DEFAULT_BATCH_SIZE = 2
DEFAULT_EVENTS_PER_POINT = 2_000  # a per-point estimate needs its events


@dataclass(frozen=True)
class BuiltMethod:
    """A method ready to run, the optimiser options it was built with (planned from the
    budget, for the run record) and its sample growth (None: fixed samples)."""

    method: Method
    options: dict
    growth: SampleGrowth | None
    batch_size: int


def default_route(optimizer, divergence) -> tuple:
    """(optimizer, divergence) with the defaults filled in: the pooled estimator when neither
    is named, Bayesian optimisation when only a divergence is, the ``mlp`` divergence for an
    optimiser that reads one. The pooled estimator learns from the events themselves, so a
    divergence named beside it would be silently unused: refused."""
    if optimizer is None:
        optimizer = "pooled" if divergence is None else "bayes"
    if optimizer == "pooled" and divergence is not None:
        raise ValueError("divergence: the pooled optimizer uses no divergence; drop it, or choose optimizer 'bayes'")
    return optimizer, "mlp" if divergence is None else divergence


def default_events_per_point(optimizer, budget: int, dim: int) -> int:
    """Events per point for a run whose config names none: for the pooled estimator many
    points of fewer events (:func:`advopt.pooled.design.events_per_point`), else 2,000."""
    return pooled_events_per_point(budget, dim) if optimizer == "pooled" else DEFAULT_EVENTS_PER_POINT


def make_method(optimizer, divergence, space, *, seed: int, budget: int, events_per_point: int, batch_size: int | None,
                options: Mapping, divergence_options: Mapping | None = None, max_events_per_point: int | None = None,
                growth_threshold: float = 0.01, reference_per_point: float = 1.0) -> BuiltMethod:
    """The method named by ``optimizer`` (a name, or a user's optimiser object for the
    per-point route) over ``divergence`` (a name with ``divergence_options``, or an object);
    ``options`` are the optimiser's (a ``start`` already in the unit cube)."""
    kind = optimizer if isinstance(optimizer, str) else None
    if kind is not None and kind not in METHODS:
        raise ValueError(f"optimizer.kind: unknown {kind!r}; choose one of {sorted(METHODS)}")
    options = dict(options)
    if kind == "pooled":
        options = {"total_points": budget // events_per_point, **options}
        try:
            method: Method = PooledOptimizer(space.dim, seed, space=space, **options)
        except TypeError as err:
            raise ValueError(f"optimizer: bad option for 'pooled' ({err})") from None
        return _learning_from_events(method, options, batch_size, max_events_per_point, reference_per_point)
    configured = make_divergence(divergence, **dict(divergence_options or {})) if isinstance(divergence, str) else divergence
    configured = with_divergence_defaults(configured)
    if kind == "variational":
        method = make_variational(configured, space, seed=seed, budget=budget, events_per_point=events_per_point, **options)
        return _learning_from_events(method, options, batch_size, max_events_per_point, reference_per_point)
    if kind is not None:
        options = planned_options(kind, options, budget // events_per_point)
        opt = make_optimizer(kind, space.dim, seed, float(configured.modelled(configured.upper_bound)), **options)
    else:
        opt = with_optimizer_defaults(optimizer)
    growth = _growth(max_events_per_point, growth_threshold, events_per_point, configured)
    if reference_per_point != 1.0 and configured.uses_full_reference:
        _refuse_reference_share(configured.name)
    batch_size = DEFAULT_BATCH_SIZE if batch_size is None else batch_size
    method = PerPoint(opt, configured, seed=seed, batch_size=batch_size, events_per_point=events_per_point,
                      reference_per_point=reference_per_point, growth=growth)
    return BuiltMethod(method, options, growth, batch_size)


def _learning_from_events(method: Method, options: dict, batch_size, max_events_per_point, reference_per_point) -> BuiltMethod:
    """A method that plans its batches and learns from every point's events at
    ``events_per_point``: a batch size, sample growth or a reference share are refused."""
    if max_events_per_point is not None:
        raise ValueError(f"budget.max_events_per_point: {method.divergence_name} learns from every point's events at "
                         "events_per_point; sample growth does not apply")
    if reference_per_point != 1.0:
        _refuse_reference_share(method.divergence_name)
    if batch_size is not None:
        raise ValueError(f"optimizer.batch_size: the {method.name} optimizer plans its own batches; drop it")
    return BuiltMethod(method, options, None, DEFAULT_BATCH_SIZE)


def _refuse_reference_share(divergence_name: str) -> None:
    """A reference share that the method would not use is refused, not ignored."""
    raise ValueError(f"reference.per_point: {divergence_name} does not draw reference events per point "
                     "(it uses the whole reference, or as many as it simulated); drop it")


def _growth(max_events, tolerance, events_per_point, divergence) -> SampleGrowth | None:
    """The adaptive sample-size rule, checked; None when ``max_events_per_point`` is not set."""
    if max_events is None:
        return None
    check("budget.max_events_per_point", max_events)
    if max_events < events_per_point:
        raise ValueError(f"budget.max_events_per_point: {max_events} is below events_per_point={events_per_point}")
    check("budget.growth_threshold", tolerance)
    return SampleGrowth(int(max_events), float(tolerance), float(divergence.agreement_value))



def kind_options() -> dict[str, dict[str, dict[str, object]]]:
    """Each method's and each divergence's own options with their defaults, as their classes
    declare them (for the configuration reference): {"optimizer" | "divergence": {kind: {option: default}}}."""
    import inspect
    import typing

    from advopt.avo.proposal import VariationalOptimizer
    from advopt.divergence import DIVERGENCES

    set_by_the_run = {"self", "dim", "seed", "upper_bound", "total_points", "space"}

    def options(build) -> dict[str, object]:
        parameters = inspect.signature(build).parameters
        if all(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):  # a preset: its class's options
            return {k: v for k, v in options(typing.get_type_hints(build)["return"]).items() if k != "schedule"}
        return {name: (None if p.default is inspect.Parameter.empty else p.default)
                for name, p in parameters.items()
                if name not in set_by_the_run and p.kind is not inspect.Parameter.VAR_KEYWORD}

    methods = {"pooled": PooledOptimizer, **OPTIMIZERS, "variational": VariationalOptimizer}
    return {"optimizer": {kind: options(build) for kind, build in methods.items()},
            "divergence": {kind: options(build) for kind, build in DIVERGENCES.items()}}
