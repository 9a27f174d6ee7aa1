"""The quantile MSE closure check of Butter et al."""

import numpy as np
import pytest

from advopt.quality import quantile_mse, quantile_mse_expected, quantile_mse_ratio, quantile_mse_table


def test_same_distribution_gives_the_statistical_expectation():
    rng = np.random.default_rng(0)
    reference = rng.normal(size=(50_000, 30))
    mse = quantile_mse(rng.normal(size=(10_000, 30)), reference)
    expected = quantile_mse_expected(10_000, 50_000)
    assert mse.shape == (30,)
    assert 0.7 < mse.mean() / expected < 1.3


def test_a_shifted_observable_stands_out():
    rng = np.random.default_rng(1)
    reference = rng.normal(size=(50_000, 2))
    sim = rng.normal(size=(10_000, 2))
    sim[:, 1] += 0.2
    table = quantile_mse_table(sim, reference, names=["same", "shifted"])
    expected = quantile_mse_expected(10_000, 50_000)
    assert table["same"] < 3 * expected
    assert table["shifted"] > 10 * expected


def test_integer_observables_with_tied_quantiles():
    rng = np.random.default_rng(2)
    reference = rng.poisson(3.0, size=(50_000, 1)).astype(float)
    same = quantile_mse(rng.poisson(3.0, size=(10_000, 1)).astype(float), reference)[0]
    more = quantile_mse(rng.poisson(3.5, size=(10_000, 1)).astype(float), reference)[0]
    assert same < 3 * quantile_mse_expected(10_000, 50_000) < more


def test_mismatched_observables_are_refused():
    with pytest.raises(ValueError, match="2 observables, the reference 3"):
        quantile_mse(np.zeros((10, 2)), np.zeros((10, 3)))


def test_ratio_is_the_mse_over_its_statistical_expectation():
    rng = np.random.default_rng(3)
    reference, sim = rng.normal(size=(40_000, 3)), rng.normal(size=(8_000, 3))
    expected = quantile_mse(sim, reference) / quantile_mse_expected(8_000, 40_000)
    assert quantile_mse_ratio(sim, reference) == pytest.approx(expected)
