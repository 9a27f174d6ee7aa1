"""Optimisers over the unit cube behind one ask/tell interface (advopt/optimizers/base.py)."""

from collections.abc import Callable

from advopt.optimizers.base import Optimizer, OptimizerBase, Recommendation
from advopt.optimizers.base import with_defaults as with_optimizer_defaults
from advopt.optimizers.bayes import BayesOptimizer
from advopt.optimizers.pooled import PooledOptimizer
from advopt.optimizers.random_search import RandomSearch
from advopt.optimizers.variational import VariationalOptimizer

OPTIMIZERS: dict[str, type[OptimizerBase]] = {"bayes": BayesOptimizer, "random": RandomSearch, "variational": VariationalOptimizer,
              "pooled": PooledOptimizer}


def _registered(kind: str) -> type[OptimizerBase]:
    try:
        return OPTIMIZERS[kind]
    except KeyError:
        raise ValueError(f"optimizer.kind: unknown {kind!r}; choose one of {sorted(OPTIMIZERS)}") from None


def planned_options(kind: str, options: dict, total_points: int) -> dict:
    """The options with what the optimiser plans from the budget filled in (``total_points``
    points of ``events_per_point``): see :meth:`OptimizerBase.planned_options`."""
    return _registered(kind).planned_options(dict(options), total_points)


def default_events_per_point(optimizer, budget: int, dim: int) -> int:
    """Events per point for a run whose config names none: the optimiser's choice
    (:meth:`OptimizerBase.default_events_per_point`), by name or for a ready object."""
    chooser: type[OptimizerBase] | OptimizerBase = (_registered(optimizer) if isinstance(optimizer, str)
                                                    else with_optimizer_defaults(optimizer))
    return int(chooser.default_events_per_point(budget, dim))


def make_optimizer(kind: str, dim: int, seed: int, upper_bound: float, **options) -> OptimizerBase:
    """Build an optimiser by name (``bayes``, ``random``, ``variational`` or ``pooled``) with its options."""
    build: Callable[..., OptimizerBase] = _registered(kind)
    try:
        return build(dim=dim, seed=seed, upper_bound=upper_bound, **options)
    except TypeError as err:
        raise ValueError(f"optimizer: bad option for {kind!r} ({err})") from None


__all__ = ["Optimizer", "OptimizerBase", "Recommendation", "BayesOptimizer", "RandomSearch", "VariationalOptimizer",
           "PooledOptimizer", "default_events_per_point", "make_optimizer", "planned_options"]
