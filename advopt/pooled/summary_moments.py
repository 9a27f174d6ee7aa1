"""What the moment fit reads from the current summary networks, computed once per training.

Per fold: the summaries of every reference event, and per point the mean, covariance and count
of the summaries over the events that fold's network did not train on. They change only when
the networks learn, so they are kept until then: the pooled estimator computes them for the
points told so far right after training, while the rest of the round simulates, and at the
round's end only the new points remain to be summarised.
"""

from __future__ import annotations

import numpy as np


class SummaryMoments:
    """Moments of the summaries of ``nets`` (one per fold) over the reference and each point's
    held-out events; :meth:`forget` when the networks change."""

    def __init__(self, nets: list, reference: np.ndarray):
        self._nets = nets
        self._reference_events = reference
        self._reference: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        self._points: dict[tuple[int, int], tuple[np.ndarray, float, np.ndarray]] = {}

    @property
    def folds(self) -> int:
        return len(self._nets)

    def summaries(self, fold: int, events: np.ndarray) -> np.ndarray:
        """Network ``fold``'s summaries of ``events``."""
        return self._nets[fold].transform(events)

    def forget(self) -> None:
        self._reference.clear()
        self._points.clear()

    def reference(self, fold: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Network ``fold``'s summaries of every reference event, their mean, and the
        covariance of that mean."""
        if fold not in self._reference:
            summaries = self.summaries(fold, self._reference_events)
            self._reference[fold] = (summaries, summaries.mean(axis=0),
                                     np.atleast_2d(np.cov(summaries, rowvar=False)) / len(summaries))
        return self._reference[fold]

    def point(self, fold: int, index: int, events: np.ndarray) -> tuple[np.ndarray, float, np.ndarray]:
        """(mean, count, covariance) of network ``fold``'s summaries over the events of point
        ``index`` that it did not train on (every ``folds``-th from ``fold``)."""
        key = (fold, index)
        if key not in self._points:
            summaries = self.summaries(fold, events[fold::self.folds])
            self._points[key] = (summaries.mean(axis=0), float(len(summaries)),
                                 np.atleast_2d(np.cov(summaries, rowvar=False)))
        return self._points[key]

    def prepare(self, points: dict[int, np.ndarray]) -> None:
        """Summarise the reference and these points (index -> events) for every fold now."""
        for fold in range(self.folds):
            self.reference(fold)
            for index, events in points.items():
                self.point(fold, index, events)

    def fold_moments(self, fold: int, points: dict[int, np.ndarray]) -> dict:
        """The moment fit's inputs from network ``fold``: per point (in the order given) the
        held-out means, counts and covariances; the reference's summaries, their mean and
        the covariance of that mean."""
        rows = [self.point(fold, index, events) for index, events in points.items()]
        reference, reference_mean, reference_cov = self.reference(fold)
        return {"means": np.array([mean for mean, _, _ in rows]), "counts": np.array([n for _, n, _ in rows]),
                "covs": np.array([cov for _, _, cov in rows]), "reference": reference,
                "reference_mean": reference_mean, "reference_cov": reference_cov}
