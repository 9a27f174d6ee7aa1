import numpy as np
import pytest

from advopt.optimizers import BayesOptimizer, RandomSearch, make_optimizer


def _noisy_bowl(points, rng, centre=(0.3, 0.7), noise=0.01):
    return ((points - np.array(centre)) ** 2).sum(axis=1) + rng.normal(0, noise, len(points))


def test_bayes_finds_a_noisy_minimum_with_batches():
    optimizer = BayesOptimizer(dim=2, seed=3, n_initial_points=8, upper_bound=1.0)
    rng = np.random.default_rng(0)
    for _ in range(15):
        points = optimizer.ask(3)
        assert points.shape == (3, 2) and (points >= 0).all() and (points <= 1).all()
        optimizer.tell(points, _noisy_bowl(points, rng), np.full(3, 0.01), np.ones(3, bool))
    recommendation = optimizer.recommend()
    assert np.linalg.norm(recommendation.point - [0.3, 0.7]) < 0.08
    spread = recommendation.samples.std(axis=0)
    assert (spread > 0).all() and (spread < 0.2).all()


def test_recommendation_is_posterior_minimum_not_luckiest_draw():
    optimizer = BayesOptimizer(dim=1, seed=0, n_initial_points=5, upper_bound=1.0)
    rng = np.random.default_rng(1)
    points = np.linspace(0, 1, 21)[:, None]
    values = (points[:, 0] - 0.5) ** 2 + rng.normal(0, 0.002, 21)
    values[2] = -0.5  # one wild outlier far from the true minimum, with a large quoted error
    stderrs = np.full(21, 0.002)
    stderrs[2] = 0.5
    optimizer.tell(points, values, stderrs, np.ones(21, bool))
    assert abs(optimizer.recommend().point[0] - 0.5) < 0.1


def test_failed_points_do_not_break_the_surrogate():
    optimizer = BayesOptimizer(dim=1, seed=0, n_initial_points=4, upper_bound=0.69)
    rng = np.random.default_rng(2)
    for step in range(10):
        points = optimizer.ask(2)
        values = _noisy_bowl(points, rng, centre=(0.4,))
        ok = np.array([True, step % 2 == 0])
        values[~ok] = np.nan
        optimizer.tell(points, values, np.full(2, 0.01), ok)
    recommendation = optimizer.recommend()
    assert np.isfinite(recommendation.value)
    assert abs(recommendation.point[0] - 0.4) < 0.1


def test_same_seed_same_points():
    def run():
        optimizer = make_optimizer("bayes", dim=2, seed=11, upper_bound=1.0, n_initial_points=4)
        rng = np.random.default_rng(5)
        asked = []
        for _ in range(4):
            points = optimizer.ask(2)
            asked.append(points)
            optimizer.tell(points, _noisy_bowl(points, rng), np.full(2, 0.01), np.ones(2, bool))
        return np.concatenate(asked)

    np.testing.assert_array_equal(run(), run())


def test_random_search_recommends_best_observed():
    optimizer = RandomSearch(dim=1, seed=0)
    points = optimizer.ask(4)
    optimizer.tell(points, np.array([0.3, 0.1, 0.5, np.nan]), np.full(4, 0.001), np.array([1, 1, 1, 0], bool))
    assert optimizer.recommend().point == pytest.approx(points[1])


def test_bad_optimizer_options_are_named():
    with pytest.raises(ValueError, match="optimizer.kind"):
        make_optimizer("simplex", dim=1, seed=0, upper_bound=1.0)
    with pytest.raises(ValueError, match="optimizer.acq_func"):
        make_optimizer("bayes", dim=1, seed=0, upper_bound=1.0, acq_func="magic")


def test_random_search_interval_leaves_out_failed_points():
    """A failed point (value and stderr inf) is not 'tied with the best': it would widen the spread."""
    optimizer = RandomSearch(dim=1, seed=0)
    points = optimizer.ask(3)
    optimizer.tell(points, np.array([0.1, 0.2, np.nan]), np.array([0.001, 0.001, np.nan]), np.array([1, 1, 0], bool))
    spread = optimizer.recommend().samples
    assert len(spread) == 1 and spread[0] == pytest.approx(points[0])


def test_the_initial_design_scales_to_a_small_budget():
    """At 16,384 events and 2,000 per point (8 points) the default 10-point design used the
    whole budget: every route returned a Sobol point. Now a third of the points are space-
    filling and the rest are the Gaussian process's choice."""
    import warnings

    import advopt

    simulator = advopt.get_simulator("gaussian")
    reference = simulator.simulate(simulator.truth, 4_000, 1)
    kwargs = dict(optimizer="bayes", divergence="chi2", budget=16_384, events_per_point=2_000, seed=3, progress=False)
    with pytest.warns(UserWarning, match="n_initial_points: 10 initial points use the whole budget"):
        sobol_only = advopt.tune(simulator, reference, optimizer_options={"n_initial_points": 10}, **kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scaled = advopt.tune(simulator, reference, **kwargs)
    points = lambda result: [tuple(e.params.values()) for e in result.history]  # noqa: E731
    assert len(points(scaled)) == 8
    assert points(scaled)[:2] == points(sobol_only)[:2]  # the same Sobol start
    assert points(scaled)[2:] != points(sobol_only)[2:]  # then the surrogate's points
