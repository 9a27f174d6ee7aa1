"""Optimisers over the unit cube behind one ask/tell interface."""

from advopt.optimizers.base import Optimizer, Recommendation
from advopt.optimizers.bayes import BayesOptimizer
from advopt.optimizers.pooled import PooledOptimizer
from advopt.optimizers.random_search import RandomSearch
from advopt.variational import VariationalOptimizer

OPTIMIZERS = {"bayes": BayesOptimizer, "random": RandomSearch, "variational": VariationalOptimizer,
              "pooled": PooledOptimizer}


def make_optimizer(kind: str, dim: int, seed: int, upper_bound: float, **options) -> Optimizer:
    """Build an optimiser by name (``bayes``, ``random``, ``variational`` or ``pooled``) with its options."""
    try:
        cls = OPTIMIZERS[kind]
    except KeyError:
        raise ValueError(f"optimizer.kind: unknown {kind!r}; choose one of {sorted(OPTIMIZERS)}") from None
    try:
        return cls(dim=dim, seed=seed, upper_bound=upper_bound, **options)
    except TypeError as err:
        raise ValueError(f"optimizer: bad option for {kind!r} ({err})") from None


__all__ = ["Optimizer", "Recommendation", "BayesOptimizer", "RandomSearch", "VariationalOptimizer", "PooledOptimizer", "make_optimizer"]
