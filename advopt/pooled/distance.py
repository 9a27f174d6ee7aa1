"""The value the pooled route records beside each simulated point: its distance to the
reference, as a chi-square per summary (about 1 when they agree). The fit does not use it;
the history, the progress line and the closest-point fallback do."""

from __future__ import annotations

import numpy as np

from advopt.pooled.moments import chi2_per_summary


class ReferenceDistance:
    """A sample's chi-square per summary against the reference: in the first network's
    summaries once there is a fit, in the features standardised on the reference before."""

    def __init__(self, reference: np.ndarray):
        scale = reference.std(axis=0)
        self._scale = np.where(scale > 0, scale, 1.0)
        standardised = self._standardise(reference)
        self._feature_basis = (standardised.mean(axis=0), np.atleast_2d(np.cov(standardised, rowvar=False)) / len(reference))

    def _standardise(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(x, dtype=np.float64) / self._scale

    def __call__(self, sample: np.ndarray, moments=None) -> tuple[float, float]:
        """(chi-square per summary, its standard error); ``moments``, once there is a fit: the
        :class:`~advopt.pooled.summary_moments.SummaryMoments` (its first network's summaries)."""
        if moments is not None:
            _, mean, mean_cov = moments.reference(0)
            return chi2_per_summary(moments.summaries(0, sample), mean, mean_cov)
        return chi2_per_summary(self._standardise(sample), *self._feature_basis)
