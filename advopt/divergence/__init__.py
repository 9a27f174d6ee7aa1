"""Divergences between a simulated and a reference sample, read off trained classifiers."""

from collections.abc import Callable

from advopt.divergence.adaptive import AdaptiveBoostingDivergence, AdaptiveMLPDivergence, adaptive_linear, adaptive_log
from advopt.divergence.base import LN2, Divergence, DivergenceEstimate, jsd_from_losses
from advopt.divergence.boosting import BoostingDivergence
from advopt.divergence.chi2 import Chi2Divergence
from advopt.divergence.critic import TotalVariationDivergence, WassersteinDivergence
from advopt.divergence.mlp import MLPDivergence

DIVERGENCES: dict[str, Callable[..., Divergence]] = {
    "mlp": MLPDivergence,
    "jsd": MLPDivergence,
    "boosting": BoostingDivergence,
    "adaptive-linear": adaptive_linear,
    "adaptive-log": adaptive_log,
    "adaptive-boosting": AdaptiveBoostingDivergence,
    "wasserstein": WassersteinDivergence,
    "tv": TotalVariationDivergence,
    "chi2": Chi2Divergence,
}


def make_divergence(kind: str = "mlp", **options) -> Divergence:
    """Build a divergence by name (a key of ``DIVERGENCES``, e.g. ``mlp``, ``adaptive-log``, ``chi2``) with its options."""
    try:
        cls = DIVERGENCES[kind]
    except KeyError:
        raise ValueError(f"divergence.kind: unknown {kind!r}; choose one of {sorted(DIVERGENCES)}") from None
    try:
        return cls(**options)
    except TypeError as err:
        raise ValueError(f"divergence: bad option for {kind!r} ({err})") from None


__all__ = [
    "LN2",
    "Divergence",
    "DivergenceEstimate",
    "MLPDivergence",
    "BoostingDivergence",
    "Chi2Divergence",
    "AdaptiveMLPDivergence",
    "AdaptiveBoostingDivergence",
    "WassersteinDivergence",
    "TotalVariationDivergence",
    "jsd_from_losses",
    "make_divergence",
]
