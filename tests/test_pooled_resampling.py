"""The pooled fit's simulation share by refitting on half its points: it repeats the whole
fit, and where the delta method is exact (a linear model, one kernel covering every point)
the halves' spread agrees with it."""

import numpy as np
import pytest

from advopt.pooled.estimator import PooledOptimizer
from advopt.pooled.candidates import candidate_solutions, widest_consistent
from advopt.pooled.resampling import half_sample_covariance, half_sample_solutions, subset_moments

TRUTH = np.array([0.4, 0.6])
WIDE = [np.full(2, 5.0)]  # one kernel, flat over every point: no choice for Lepski's rule


def linear_problem(rng, n_points=80, events=500.0):
    """Two summaries that move linearly (and correlated) with two parameters, each point's
    mean noisy as S / n; a reference so large that its noise is negligible."""
    points = TRUTH + 0.05 * rng.uniform(-1, 1, (n_points, 2))
    slope = np.array([[1.0, 0.5], [0.2, 1.0]])
    reference = rng.normal(0, 1e-3, (20_000, 2))
    folds = []
    for _ in range(2):
        means = (points - TRUTH) @ slope.T + rng.normal(0, 1 / np.sqrt(events), (n_points, 2))
        folds.append({"means": means, "counts": np.full(n_points, events), "covs": np.repeat(np.eye(2)[None], n_points, 0),
                      "reference": reference, "reference_mean": np.zeros(2),
                      "reference_cov": np.cov(reference, rowvar=False) / len(reference)})
    return points, folds


def test_a_subset_takes_the_points_and_keeps_the_reference():
    points, folds = linear_problem(np.random.default_rng(0))
    pick = np.array([0, 3])
    subset = subset_moments(folds, pick)
    assert np.array_equal(subset[1]["means"], folds[1]["means"][pick])
    assert subset[0]["counts"].shape == (2,) and subset[0]["covs"].shape == (2, 2, 2)
    assert subset[0]["reference"] is folds[0]["reference"]


def test_the_halves_spread_matches_the_delta_method_where_it_is_exact():
    points, folds = linear_problem(np.random.default_rng(1))
    best = widest_consistent(candidate_solutions(points, folds, TRUTH, WIDE))
    assert {model.degree for _, model in best[2]} == {"linear"}
    solutions = half_sample_solutions(points, folds, TRUTH, WIDE, np.random.default_rng(2), 60)
    ratio = np.sqrt(np.diag(half_sample_covariance(solutions, best[1])) / np.diag(best[4]))
    # 60 halves give the sd to ~10%
    assert np.all((ratio > 0.75) & (ratio < 1.33)), ratio


def test_the_halves_are_the_same_for_the_same_seed():
    points, folds = linear_problem(np.random.default_rng(3))
    first = half_sample_solutions(points, folds, TRUTH, WIDE, np.random.default_rng(5), 4)
    again = half_sample_solutions(points, folds, TRUTH, WIDE, np.random.default_rng(5), 4)
    assert first.shape == (4, 2) and np.array_equal(first, again)
    assert half_sample_covariance(first[:1], TRUTH) is None


@pytest.mark.parametrize("value", [-1, 2.5, True])
def test_a_bad_resampling_count_is_refused_by_name(value):
    with pytest.raises(ValueError, match="optimizer.resamplings"):
        PooledOptimizer(2, seed=0, total_points=40, resamplings=value)
