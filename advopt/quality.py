"""How well a tuned sample reproduces the reference, observable by observable.

The quantile MSE of Butter et al., "GANplifying event samples" (SciPost Phys. 10, 139,
2021): split each reference observable into equal-probability quantiles and compare the
tuned sample's occupancy of them. A tune is then judged on its events, not only on how
close its parameters came.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from advopt.binning import binned_fractions, quantile_edges


def quantile_mse(simulated: np.ndarray, reference: np.ndarray, n_quantiles: int = 20) -> np.ndarray:
    """Per observable, the mean over quantile bins of (simulated share - reference share)^2.

    Bins are the reference's ``n_quantiles``-quantiles (ties merged, see
    :mod:`advopt.binning`). Two samples from the same distribution give about
    ``(1/N_sim + 1/N_ref) / n_quantiles`` (:func:`quantile_mse_expected`); a value far above
    that marks an observable the tune does not reproduce.
    """
    simulated, reference = _as_2d(simulated, "simulated"), _as_2d(reference, "reference")
    if simulated.shape[1] != reference.shape[1]:
        raise ValueError(f"simulated has {simulated.shape[1]} observables, the reference {reference.shape[1]}")
    edges = [quantile_edges(reference[:, j], n_quantiles) for j in range(reference.shape[1])]
    sim_shares = binned_fractions(simulated, edges)
    ref_shares = binned_fractions(reference, edges)
    # Averaged over the nominal number of quantiles, so merged ties do not inflate the value.
    return np.array([np.sum((s - r) ** 2) / n_quantiles for s, r in zip(sim_shares, ref_shares)])


def quantile_mse_expected(n_simulated: int, n_reference: int, n_quantiles: int = 20) -> float:
    """The quantile MSE expected from statistics alone (same distribution, multinomial
    shares): sum_j p_j (1 - p_j) (1/N_sim + 1/N_ref) / K with p_j = 1/K."""
    return (1 - 1 / n_quantiles) * (1 / n_simulated + 1 / n_reference) / n_quantiles


def quantile_mse_ratio(simulated: np.ndarray, reference: np.ndarray, n_quantiles: int = 20) -> np.ndarray:
    """Per observable, :func:`quantile_mse` over :func:`quantile_mse_expected` for these
    sample sizes: about 1 when the samples differ by sampling noise alone (ties in
    integer observables merge bins and put it somewhat below 1)."""
    simulated, reference = _as_2d(simulated, "simulated"), _as_2d(reference, "reference")
    floor = quantile_mse_expected(len(simulated), len(reference), n_quantiles)
    return quantile_mse(simulated, reference, n_quantiles) / floor


def quantile_mse_table(simulated: np.ndarray, reference: np.ndarray, names: Sequence[str] | None = None,
                       n_quantiles: int = 20) -> dict[str, float]:
    """:func:`quantile_mse` keyed by observable name (``f0``, ``f1``, ... without names)."""
    values = quantile_mse(simulated, reference, n_quantiles)
    names = list(names) if names is not None else [f"f{j}" for j in range(values.size)]
    return dict(zip(names, values.tolist()))


def _as_2d(events, what: str) -> np.ndarray:
    array = np.asarray(events, dtype=np.float64)
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2 or len(array) == 0:
        raise ValueError(f"{what}: expected a non-empty (events, observables) array, got shape {array.shape}")
    return array
