"""The pooled estimator seen as the run's divergence (advopt/optimizers/pooled.py is the
estimator): the evaluator hands it every point's events (advopt/evaluator.py)."""

from __future__ import annotations

import numpy as np

from advopt.divergence.base import DivergenceBase, DivergenceEstimate


class PooledModel(DivergenceBase):
    """The pooled estimator as the run's divergence: stateful, told every point's events,
    each point's value its distance to the reference in the current summaries (chi-square
    per summary, about 1 when they agree)."""

    name = "summary-chi2"
    upper_bound = 1e3
    agreement_value = 1.0
    stateful = True
    uses_full_reference = True

    def __init__(self, optimizer):
        self._optimizer = optimizer

    def prepare(self, reference: np.ndarray, feature_names=None) -> None:
        self._optimizer.prepare(reference, feature_names)

    def estimate(self, simulated, reference, seed):
        raise NotImplementedError("the pooled model is stateful: the evaluator calls estimate_batch")

    def estimate_batch(self, points: np.ndarray, events: list, iteration: int) -> list:
        told = self._optimizer.tell_events(points, events)
        return [None if t is None else DivergenceEstimate(t[0], t[1], len(e)) for t, e in zip(told, events)]
