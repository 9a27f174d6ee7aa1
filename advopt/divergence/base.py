"""What every divergence returns, and the maths that turns classifier losses into a JSD.

With balanced classes, the best classifier's expected cross-entropy is ln 2 - JSD(P, Q),
so ``ln 2 - (held-out cross-entropy)`` estimates the Jensen-Shannon divergence in nats:
0 when the samples cannot be told apart, ln 2 when they are disjoint. A trained (not
optimal) classifier gives a lower bound; the held-out loss keeps the estimate honest.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

LN2 = math.log(2.0)


@dataclass(frozen=True)
class DivergenceEstimate:
    """A divergence value, its standard error and the simulated events it consumed."""

    value: float
    stderr: float
    n_events: int
    details: dict = field(default_factory=dict)


class Divergence(Protocol):
    """Estimate a divergence between a simulated and a reference sample.

    Required: ``name``, ``upper_bound`` (the largest value the estimate can take, ln 2 for
    the JSD; the optimiser is told it for failed evaluations) and ``estimate``. Everything
    else is optional, with the defaults of :class:`DivergenceBase`: a plug-in divergence
    may offer any of them, and :func:`with_defaults` fills in the rest.
    """

    name: str
    upper_bound: float

    def estimate(self, simulated: np.ndarray, reference: np.ndarray, seed: int) -> DivergenceEstimate: ...


class DivergenceBase:
    """The optional capabilities of a divergence, with their defaults (built-ins subclass it).

    - ``agreement_value``: what it reads when the samples agree (0 for the JSD, 1 for a
      chi-square per bin); the sample-size growth threshold is measured above it.
    - ``uses_full_reference``: compare every point with the whole reference (the chi-square)
      instead of ``reference.per_point`` reference events per simulated one.
    - ``models_log``: the optimiser models the log of the values (objectives spanning decades).
    - ``fisher_information(hessian, n_simulated, n_reference)``: per-event Fisher
      information from the curvature of the optimiser's surface at its minimum, for the
      reference's share of the interval (advopt/intervals.py); None: no such share.
    - ``prepare(reference, feature_names)``: called once with the whole reference (a binned
      divergence fixes its bins there).
    """

    name: str  # required of every divergence (see Divergence); declared here for type checkers
    upper_bound: float
    agreement_value = 0.0
    uses_full_reference = False
    models_log = False
    fisher_information = None

    def prepare(self, reference: np.ndarray, feature_names) -> None:
        pass

    def modelled(self, values):
        """Divergence values as the optimiser models them (see ``models_log``)."""
        return np.log(np.maximum(values, 1e-12)) if self.models_log else values


class PluginDivergence(DivergenceBase):
    """A user's divergence that does not subclass DivergenceBase: its own members where it
    has them, the defaults elsewhere. Its settings are the plug-in's (for the run record)."""

    def __init__(self, divergence):
        self.plugin = divergence
        self.name = divergence.name
        self.upper_bound = divergence.upper_bound
        self.estimate = divergence.estimate
        for member in ("agreement_value", "uses_full_reference", "models_log", "fisher_information", "prepare"):
            if hasattr(divergence, member):
                setattr(self, member, getattr(divergence, member))

    def __repr__(self) -> str:
        return repr(self.plugin)


def with_defaults(divergence) -> DivergenceBase:
    """``divergence`` with every optional capability answered (see :class:`DivergenceBase`);
    ValueError when it lacks a required member."""
    if isinstance(divergence, DivergenceBase):
        return divergence
    missing = [member for member in ("name", "upper_bound", "estimate") if not hasattr(divergence, member)]
    if missing:
        raise ValueError(f"divergence: {type(divergence).__name__} lacks {missing} (see advopt.divergence.Divergence)")
    return PluginDivergence(divergence)


def jsd_from_losses(loss_simulated: np.ndarray, loss_reference: np.ndarray) -> tuple[float, float]:
    """JSD estimate and standard error from per-event held-out cross-entropies (nats).

    Each class is weighted 1/2 whatever the sample sizes, so the estimate is the one for
    balanced priors. The standard error combines both classes' sample variances.
    """
    loss_simulated = np.asarray(loss_simulated, dtype=np.float64)
    loss_reference = np.asarray(loss_reference, dtype=np.float64)
    cross_entropy = 0.5 * loss_simulated.mean() + 0.5 * loss_reference.mean()
    variance = 0.25 * loss_simulated.var(ddof=1) / loss_simulated.size + 0.25 * loss_reference.var(ddof=1) / loss_reference.size
    return LN2 - float(cross_entropy), float(math.sqrt(variance))


def jsd_fisher_information(hessian: np.ndarray, n_simulated: int, n_reference: int) -> np.ndarray:
    """Per-event Fisher information from the Hessian H of a JSD surface (nats) at its
    minimum: JSD(theta0 + d) ~ d' I d / 8, so I = 4 H (advopt/intervals.py uses it)."""
    return 4.0 * np.asarray(hessian, dtype=float)


def check_holdout_fraction(value: float) -> float:
    """The held-out share must leave events on both sides."""
    if not 0 < value < 1:
        raise ValueError(f"divergence.holdout_fraction: must be in (0, 1), got {value}")
    return float(value)


def split_indices(n: int, holdout_fraction: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Shuffle 0..n-1 and cut off a held-out share (at least one event on each side)."""
    order = rng.permutation(n)
    n_holdout = min(max(int(round(n * holdout_fraction)), 1), n - 1)
    return order[n_holdout:], order[:n_holdout]


def make_labelled_split(simulated: np.ndarray, reference: np.ndarray, holdout_fraction: float, rng: np.random.Generator):
    """Split both samples into train and held-out parts; label simulated 1, reference 0.

    Returns (x_train, y_train, x_holdout, y_holdout).
    """
    if simulated.shape[1] != reference.shape[1]:
        raise ValueError(f"simulated events have {simulated.shape[1]} features, the reference {reference.shape[1]}")
    if len(simulated) < 4 or len(reference) < 4:
        raise ValueError("need at least 4 simulated and 4 reference events to estimate a divergence")
    sim_train, sim_hold = split_indices(len(simulated), holdout_fraction, rng)
    ref_train, ref_hold = split_indices(len(reference), holdout_fraction, rng)
    x_train = np.concatenate([simulated[sim_train], reference[ref_train]])
    y_train = np.concatenate([np.ones(sim_train.size), np.zeros(ref_train.size)])
    x_hold = np.concatenate([simulated[sim_hold], reference[ref_hold]])
    y_hold = np.concatenate([np.ones(sim_hold.size), np.zeros(ref_hold.size)])
    return x_train, y_train, x_hold, y_hold


def balanced_weights(labels: np.ndarray) -> np.ndarray:
    """Per-event weights that give each class a total weight of 1/2 (mean weight 1)."""
    n = labels.size
    n_pos = labels.sum()
    return np.where(labels == 1, n / (2.0 * n_pos), n / (2.0 * (n - n_pos)))


def binary_cross_entropy(prob_simulated: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Per-event cross-entropy (nats) of predicted P(simulated) against 0/1 labels."""
    p = np.clip(prob_simulated, 1e-7, 1 - 1e-7)
    return -(labels * np.log(p) + (1 - labels) * np.log1p(-p))
