"""Optimisers of the per-point method over the unit cube, behind one ask/tell interface
(advopt/optimizers/base.py)."""

from collections.abc import Callable

from advopt.optimizers.base import Optimizer, OptimizerBase, Recommendation
from advopt.optimizers.bayes import BayesOptimizer
from advopt.optimizers.random_search import RandomSearch

OPTIMIZERS: dict[str, type[OptimizerBase]] = {"bayes": BayesOptimizer, "random": RandomSearch}


def planned_options(kind: str, options: dict, total_points: int) -> dict:
    """The options with what the optimiser plans from the budget filled in (``total_points``
    points): see :meth:`OptimizerBase.planned_options`."""
    return OPTIMIZERS[kind].planned_options(dict(options), total_points)


def make_optimizer(kind: str, dim: int, seed: int, upper_bound: float, **options) -> OptimizerBase:
    """Build a per-point optimiser by name (``bayes`` or ``random``) with its options."""
    if kind not in OPTIMIZERS:
        raise ValueError(f"optimizer.kind: unknown {kind!r}; choose one of {sorted(OPTIMIZERS)}")
    build: Callable[..., OptimizerBase] = OPTIMIZERS[kind]
    try:
        return build(dim=dim, seed=seed, upper_bound=upper_bound, **options)
    except TypeError as err:
        raise ValueError(f"optimizer: bad option for {kind!r} ({err})") from None


__all__ = ["Optimizer", "OptimizerBase", "Recommendation", "BayesOptimizer", "RandomSearch", "make_optimizer",
           "planned_options"]
