"""Jensen-Shannon divergence from scikit-learn's histogram gradient-boosted trees."""

from __future__ import annotations

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier

from advopt.divergence.base import (LN2, DivergenceBase, DivergenceEstimate, balanced_weights, binary_cross_entropy,
                                    check_holdout_fraction, jsd_fisher_information, jsd_from_losses,
                                    make_labelled_split)


class BoostingDivergence(DivergenceBase):
    """JSD estimate from gradient-boosted trees (``HistGradientBoostingClassifier``).

    Stages are added until the loss on an internal validation share of the training split
    stops improving (scikit-learn's early stopping); the estimate uses a separate held-out
    third, so it is not tuned on its own data. Deterministic for a seed.
    """

    name = "jsd-boosting"
    upper_bound = LN2
    # the curvature of a JSD surface gives the Fisher information (advopt/intervals.py)
    fisher_information = staticmethod(jsd_fisher_information)

    def __init__(self, max_iter: int = 200, learning_rate: float = 0.1, max_depth: int | None = 3,
                 max_leaf_nodes: int = 15, holdout_fraction: float = 1 / 3, n_iter_no_change: int = 10):
        if not isinstance(max_iter, int) or max_iter < 1:
            raise ValueError(f"divergence.max_iter: must be a positive integer, got {max_iter!r}")
        if not 0 < learning_rate <= 1:
            raise ValueError(f"divergence.learning_rate: must be in (0, 1], got {learning_rate!r}")
        check_holdout_fraction(holdout_fraction)
        self.max_iter = max_iter
        self.learning_rate = float(learning_rate)
        self.max_depth = max_depth
        self.max_leaf_nodes = int(max_leaf_nodes)
        self.holdout_fraction = float(holdout_fraction)
        self.n_iter_no_change = int(n_iter_no_change)

    def estimate(self, simulated: np.ndarray, reference: np.ndarray, seed: int) -> DivergenceEstimate:
        rng = np.random.default_rng(seed)
        x_train, y_train, x_hold, y_hold = make_labelled_split(simulated, reference, self.holdout_fraction, rng)
        model = HistGradientBoostingClassifier(
            max_iter=self.max_iter, learning_rate=self.learning_rate, max_depth=self.max_depth,
            max_leaf_nodes=self.max_leaf_nodes, early_stopping=True, n_iter_no_change=self.n_iter_no_change,
            validation_fraction=0.2, random_state=int(rng.integers(2**31 - 1)),
        )
        model.fit(x_train, y_train, sample_weight=balanced_weights(y_train))
        losses = binary_cross_entropy(model.predict_proba(x_hold)[:, 1], y_hold)
        value, stderr = jsd_from_losses(losses[y_hold == 1], losses[y_hold == 0])
        train_losses = binary_cross_entropy(model.predict_proba(x_train)[:, 1], y_train)
        train_value, _ = jsd_from_losses(train_losses[y_train == 1], train_losses[y_train == 0])
        details = {"stages": int(model.n_iter_), "train_value": train_value}
        return DivergenceEstimate(value, stderr, len(simulated), details)

    def __repr__(self) -> str:
        return f"BoostingDivergence(max_iter={self.max_iter})"
