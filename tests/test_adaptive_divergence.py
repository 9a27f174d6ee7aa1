"""Adaptive divergences (Borisyak et al. 2020), the Wasserstein critic and total variation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from advopt.divergence import (LN2, AdaptiveBoostingDivergence, AdaptiveMLPDivergence, MLPDivergence,
                               TotalVariationDivergence, WassersteinDivergence, make_divergence)
from advopt.divergence.adaptive import (linear_schedule, linear_thresholds, log_schedule, log_thresholds,
                                        stages_for_thresholds)

NEW_KINDS = ["adaptive-linear", "adaptive-log", "adaptive-boosting", "wasserstein", "tv"]
N = 1000  # events per sample: enough for clear orderings, fast on two busy cores


def gaussian(shift: float, seed: int, n: int = N, dim: int = 2) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, dim))
    x[:, 0] += shift
    return x


def small(kind: str, **options):
    """The registered kind, with a smaller network where it has one (speed only)."""
    if kind != "adaptive-boosting":
        options = {"hidden": (32, 32), "device": "cpu", **options}
    return make_divergence(kind, **options)


# -- schedules: pure functions -----------------------------------------------------------------
@pytest.mark.parametrize("schedule", [linear_schedule, log_schedule])
def test_schedule_lowers_regularisation_as_loss_nears_ln2(schedule):
    losses = np.linspace(0.0, LN2, 50)
    coefficients = np.array([schedule(loss) for loss in losses])
    assert np.all(np.diff(coefficients) < 0), "capacity must rise (regularisation fall) strictly towards ln 2"
    assert coefficients[0] > 0.9
    assert coefficients[-1] == 0.0
    assert schedule(1.2 * LN2) == 0.0  # a loss above chance (early training) never gives a negative penalty


def test_schedule_formulas():
    assert linear_schedule(0.0) == pytest.approx(1.0)
    assert linear_schedule(LN2 / 2, strength=3.0) == pytest.approx(1.5)
    assert log_schedule(0.0) == pytest.approx(math.log(100))  # capped at ln(1 / floor)
    assert log_schedule(LN2 / 2, strength=2.0) == pytest.approx(2 * math.log(2))
    # the log schedule regularises less than the linear one near ln 2, more when far apart
    assert log_schedule(0.95 * LN2) < linear_schedule(0.95 * LN2) * 1.1
    assert log_schedule(0.05 * LN2) > 2 * linear_schedule(0.05 * LN2)


@pytest.mark.parametrize("make", [linear_thresholds, log_thresholds])
def test_boosting_thresholds_fall_from_ln2_to_zero(make):
    thresholds = make(20)
    assert len(thresholds) == 20
    assert thresholds[0] == pytest.approx(LN2) and thresholds[-1] == pytest.approx(0.0)
    assert np.all(np.diff(thresholds) < 0)


def test_stages_cut_at_first_threshold_crossing():
    thresholds = np.array([0.69, 0.5, 0.3, 0.1, 0.0])
    assert stages_for_thresholds(np.array([0.2, 0.4, 0.6, 0.65, 0.66]), thresholds) == 3  # 0.6 > 0.3
    assert stages_for_thresholds(np.array([0.0, 0.0, 0.0, 0.0, 0.0]), thresholds) == 5  # never: all stages
    assert stages_for_thresholds(np.array([0.0, 0.6, 0.6, 0.6, 0.6]), thresholds) == 2


# -- behaviour on samples --------------------------------------------------------------------
def test_adaptive_mlp_regularises_far_samples_more_than_near_ones():
    reference = gaussian(0.0, 1)
    for schedule in ("linear", "log"):
        divergence = AdaptiveMLPDivergence(schedule, hidden=(32, 32), device="cpu")
        near = divergence.estimate(gaussian(0.3, 2), reference, seed=5)
        far = divergence.estimate(gaussian(4.0, 2), reference, seed=5)
        assert far.details["regularisation"] > 3 * near.details["regularisation"], (schedule, near, far)
        assert far.details["train_loss"] < near.details["train_loss"]


def test_adaptive_mlp_limits_capacity_only_far_from_the_optimum():
    """Far apart, the regularised network reads a smaller divergence than the fixed one; near,
    the same (the adaptive divergence keeps the JSD's sensitivity where it matters). Same seed,
    so both see the same split and the comparison is paired."""
    reference = gaussian(0.0, 1)
    fixed = MLPDivergence(hidden=(32, 32), device="cpu")
    far_f, near_f = (fixed.estimate(gaussian(s, 2), reference, seed=5) for s in (5.0, 0.3))
    for schedule in ("linear", "log"):
        adaptive = AdaptiveMLPDivergence(schedule, hidden=(32, 32), device="cpu")
        far_a, near_a = (adaptive.estimate(gaussian(s, 2), reference, seed=5) for s in (5.0, 0.3))
        assert far_f.value - far_a.value > 0.01, (schedule, far_a, far_f)
        assert abs(near_a.value - near_f.value) < 0.25 * near_f.stderr, (schedule, near_a, near_f)


@pytest.mark.parametrize("kind", NEW_KINDS)
def test_estimates_ordered_with_distance(kind):
    divergence = small(kind)
    reference = gaussian(0.0, 1)
    same, near, far = (divergence.estimate(gaussian(shift, 2), reference, seed=7) for shift in (0.0, 0.7, 3.0))
    assert same.value < near.value < far.value, (same, near, far)
    assert near.value - same.value > 2 * math.hypot(near.stderr, same.stderr), (same, near)
    assert same.n_events == N
    assert far.value <= divergence.upper_bound


def test_wasserstein_grows_linearly_where_the_jsd_saturates():
    reference = gaussian(0.0, 1)
    critic = WassersteinDivergence(hidden=(32, 32), device="cpu")
    w = {s: critic.estimate(gaussian(s, 2), reference, seed=3) for s in (3.0, 6.0, 12.0)}
    for s, estimate in w.items():  # in units of the reference's standard deviation: W1 = shift
        assert estimate.value == pytest.approx(s, rel=0.2), (s, estimate)
    jsd = MLPDivergence(hidden=(32, 32), device="cpu")
    j6, j12 = (jsd.estimate(gaussian(s, 2), reference, seed=3).value for s in (6.0, 12.0))
    assert j12 - j6 < 0.01 and j6 > LN2 - 0.02  # the JSD is saturated ...
    assert w[12.0].value - w[6.0].value > 4.0  # ... the Wasserstein distance is not


def test_tv_identical_near_zero_and_disjoint_near_one():
    tv = TotalVariationDivergence(hidden=(32, 32), device="cpu")
    reference = gaussian(0.0, 1)
    same = tv.estimate(gaussian(0.0, 2), reference, seed=4)
    assert abs(same.value) <= 3 * same.stderr + 1e-12 and same.stderr > 0, same
    disjoint = tv.estimate(gaussian(20.0, 2), reference, seed=4)
    assert disjoint.value > 0.99, disjoint
    assert tv.upper_bound == 1.0


@pytest.mark.parametrize("kind", NEW_KINDS)
def test_deterministic_for_a_seed(kind):
    simulated, reference = gaussian(1.0, 2, n=400), gaussian(0.0, 1, n=400)
    first = small(kind).estimate(simulated, reference, seed=11)
    again = small(kind).estimate(simulated, reference, seed=11)
    other = small(kind).estimate(simulated, reference, seed=12)
    assert first.value == again.value and first.stderr == again.stderr
    assert other.value != first.value  # the seed does matter (split, initialisation)


def test_names_and_bounds():
    assert make_divergence("adaptive-linear").name == "jsd-adaptive-linear"
    assert make_divergence("adaptive-log").name == "jsd-adaptive-log"
    assert make_divergence("adaptive-boosting").name == "jsd-adaptive-boosting"
    assert make_divergence("wasserstein").name == "wasserstein"
    assert make_divergence("tv").name == "tv"
    for kind in ("adaptive-linear", "adaptive-log", "adaptive-boosting"):
        assert make_divergence(kind).upper_bound == LN2
    assert math.isfinite(make_divergence("wasserstein").upper_bound) and make_divergence("wasserstein").upper_bound > 1
    assert make_divergence("wasserstein", upper_bound=25.0).upper_bound == 25.0
    assert isinstance(make_divergence("adaptive-boosting", schedule="log"), AdaptiveBoostingDivergence)


@pytest.mark.parametrize("kind, options, field", [
    ("adaptive-linear", {"penalty": -1.0}, "divergence.penalty"),
    ("adaptive-log", {"strength": -2}, "divergence.strength"),
    ("adaptive-log", {"smoothing": 1.0}, "divergence.smoothing"),
    ("adaptive-log", {"floor": 0.0}, "divergence.floor"),
    ("adaptive-linear", {"schedule": "log"}, "schedule"),
    ("adaptive-linear", {"hidden": []}, "divergence.hidden"),
    ("adaptive-boosting", {"schedule": "cubic"}, "divergence.schedule"),
    ("adaptive-boosting", {"n_stages": 1}, "divergence.n_stages"),
    ("adaptive-boosting", {"learning_rate": 2.0}, "divergence.learning_rate"),
    ("wasserstein", {"gp_weight": 0}, "divergence.gp_weight"),
    ("wasserstein", {"upper_bound": -1}, "divergence.upper_bound"),
    ("wasserstein", {"holdout_fraction": 1.5}, "divergence.holdout_fraction"),
    ("tv", {"dropout": 1.0}, "divergence.dropout"),
    ("tv", {"colour": "red"}, "colour"),
])
def test_bad_options_are_named_in_one_line(kind, options, field):
    with pytest.raises(ValueError) as info:
        make_divergence(kind, **options)
    message = str(info.value)
    assert field in message and "\n" not in message, message


def test_bad_schedule_for_the_class():
    with pytest.raises(ValueError, match="divergence.schedule"):
        AdaptiveMLPDivergence("cubic")
