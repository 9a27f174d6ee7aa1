"""Adaptive sample size: far points stay small, near ones grow; every event counts."""

import numpy as np

import advopt


def _tune(**extra):
    simulator = advopt.get_simulator("gaussian")
    reference = simulator.simulate(simulator.truth, 20_000, 31)
    kwargs = dict(optimizer="bayes", budget=30_000, events_per_point=500, chunk_size=500, max_events_per_point=4_000,
                  growth_threshold=0.01, seed=6, progress=False, optimizer_options={"n_initial_points": 6})
    kwargs.update(extra)
    return advopt.tune(simulator, reference, {"mean": (-2.0, 2.0)}, fixed={"width": 1.0}, **kwargs)


def test_far_points_stay_small_and_near_points_grow():
    result = _tune()
    sizes = np.array([e.n_events for e in result.history])
    distance = np.abs(np.array([e.params["mean"] for e in result.history]) - 0.5)
    far, near = sizes[distance > 1.0], sizes[distance < 0.1]
    assert far.size and near.size
    assert np.median(far) == 500  # told apart at once: no growth
    assert np.median(near) > 500  # overfitting near the truth: the sample grew
    assert sizes.max() <= 4_000 and set(sizes) <= {500, 1_000, 2_000, 4_000}
    assert result.events_used == sizes.sum() <= 30_000
    assert abs(result.best_params["mean"] - 0.5) < 5 * np.sqrt(1 / 20_000 + 1 / 500)


def test_growth_is_deterministic_across_worker_counts():
    serial = _tune(budget=8_000)
    parallel = _tune(budget=8_000, workers=2)
    assert [e.outcome() for e in serial.history] == [e.outcome() for e in parallel.history]


def test_chi_square_points_near_the_truth_grow_too():
    """The threshold is measured above the divergence's value at agreement: a chi-square per
    bin reads ~1 there, so a threshold in nats above 0 never let its points grow."""
    result = _tune(divergence="chi2", growth_threshold=0.1)
    sizes = np.array([e.n_events for e in result.history])
    distance = np.abs(np.array([e.params["mean"] for e in result.history]) - 0.5)
    near, far = sizes[distance < 0.1], sizes[distance > 1.0]
    assert near.size and far.size
    assert np.median(near) > 500 and np.median(far) == 500
