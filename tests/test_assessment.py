"""What a fit says it does not know: Feldman-Cousins intervals at bounds, parameters and
ridges the data do not constrain (advopt.assessment), and the goodness of fit's calibration
(advopt.pooled.goodness)."""

import numpy as np
import pytest
from scipy import stats

from advopt.assessment import AT_LOWER, CONSTRAINED, IN_COMBINATION, NOT_CONSTRAINED, assess, feldman_cousins
from advopt.pooled.goodness import ObservableSummaries, goodness_of_fit


# -- Feldman-Cousins -------------------------------------------------------------------------------
@pytest.mark.parametrize("x, expected", [(0.0, (0.0, 1.00)), (1.0, (0.24, 2.00)), (-1.0, (0.0, 0.27)),
                                         (3.0, (2.0, 4.0))])
def test_feldman_cousins_matches_the_published_table(x, expected):
    """Feldman & Cousins (1998), Table X (68.27%, Gaussian with mu >= 0), in units of sigma;
    the table's values are given to 0.01."""
    low, high = feldman_cousins(0.2 + 0.01 * x, 0.01, low=0.2, high=1.0)
    assert (low - 0.2) / 0.01 == pytest.approx(expected[0], abs=0.011)
    assert (high - 0.2) / 0.01 == pytest.approx(expected[1], abs=0.011)


def test_far_from_the_bounds_the_interval_is_central():
    assert feldman_cousins(0.5, 0.01) == pytest.approx((0.49, 0.51))


@pytest.mark.parametrize("x, expected", [(1.3, (0.99, 1.0)), (-0.3, (0.0, 0.01))])
def test_far_beyond_a_bound_the_interval_is_the_bound_and_one_sigma_inside(x, expected):
    assert feldman_cousins(x, 0.01) == pytest.approx(expected)


# -- unconstrained directions --------------------------------------------------------------------
def test_a_direction_without_information_spans_the_range_and_a_ridge_is_named():
    """Parameters: a (well measured), b - c a ridge (only b + c is seen), d without any effect.
    The fit's own covariance (a delta method over noisy slopes) states them all narrowly; the
    information says which directions the data do not move."""
    information = np.zeros((4, 4))
    information[0, 0] = 1e6
    information[1:3, 1:3] = 1e4 * np.array([[1.0, 1.0], [1.0, 1.0]])  # the sum b + c
    information[3, 3] = 0.5  # d: less than the box's 12
    information[0, 3] = information[3, 0] = 50.0  # noise mixing d into a
    covariance = np.diag([1e-6, 4e-3, 4e-3, 2e-2])
    found = assess(np.array([0.4, 0.3, 0.6, 0.5]), covariance, information)
    assert found.status == [CONSTRAINED, IN_COMBINATION, IN_COMBINATION, NOT_CONSTRAINED]
    assert tuple(found.intervals[3]) == (0.0, 1.0)
    assert found.intervals[0] == pytest.approx((0.399, 0.401))  # the noise mixing d in leaves a as it was
    (ridge,) = found.unconstrained_directions
    assert abs(ridge[1]) == pytest.approx(abs(ridge[2]), abs=1e-6) and ridge[1] * ridge[2] < 0
    assert np.all(found.intervals[1:3, 1] - found.intervals[1:3, 0] > 2 * 0.288 * np.sqrt(0.5))  # widened by the box


def test_a_bound_gives_a_one_sided_interval_and_says_so():
    found = assess(np.array([-0.005]), np.array([[1e-4]]), np.array([[1e4]]))
    assert found.status == [AT_LOWER]
    assert found.intervals[0, 0] == 0.0 and 0.0 < found.intervals[0, 1] < 0.01


def test_nothing_known_is_not_constrained():
    found = assess(np.array([0.3, 0.7]), np.full((2, 2), np.nan))
    assert found.status == [NOT_CONSTRAINED, NOT_CONSTRAINED]
    assert np.array_equal(found.intervals, [[0.0, 1.0], [0.0, 1.0]])


# -- goodness of fit ---------------------------------------------------------------------------------
def _gaussian_problem(rng, shape: str):
    """Points u in [0, 1] of a Gaussian N(2u - 1, 1) simulator, 300 events each; a reference of
    5,000 events at u = 0.4 (``shape`` "gaussian"), or two peaks at -0.8 and 0.8 of sd 0.6
    (the mean and sd a Gaussian could match roughly, not its shape)."""
    points = rng.random((80, 1))
    events = [2 * u[0] - 1 + rng.standard_normal((300, 1)) for u in points]
    if shape == "gaussian":
        reference = -0.2 + rng.standard_normal((5_000, 1))
    else:
        reference = rng.choice([-0.8, 0.8], (5_000, 1)) + 0.6 * rng.standard_normal((5_000, 1))
    return points, events, reference


def test_goodness_of_fit_is_chi_square_on_a_correct_model():
    """J over 150 independent problems, kernel width 0.1 around the truth: chi-square with
    k - p = 4 - 1 = 3 degrees of freedom. Mean 3 +- 0.2 (sd sqrt(6 / 150)), allowed 3 sd; the
    p-values uniform (KS p > 0.001). (A kernel of 0.3 over this curved response gave a mean
    of 4.1: the polynomial's bias over a wide kernel inflates J.)"""
    rng = np.random.default_rng(0)
    found = [goodness_of_fit(*_gaussian_problem(rng, "gaussian"), np.array([0.4]), np.array([0.1])) for _ in range(150)]
    assert {f.dof for f in found} == {3}
    chi2 = np.array([f.chi2 for f in found])
    assert abs(chi2.mean() - 3) < 3 * np.sqrt(6 / 150), chi2.mean()
    assert stats.kstest([f.p_value for f in found], "uniform").pvalue > 1e-3


def test_goodness_of_fit_rejects_a_shape_the_simulator_cannot_make():
    rng = np.random.default_rng(1)
    found = goodness_of_fit(*_gaussian_problem(rng, "two peaks"), np.array([0.5]), np.array([0.3]))
    assert found.p_value < 1e-6, found


def test_observable_summaries_leave_out_constant_observables_and_repeated_quantiles():
    reference = np.column_stack([np.arange(100.0), np.full(100, 3.0), np.repeat([0.0, 1.0], 50)])
    transform = ObservableSummaries(reference)
    summaries = transform(reference)
    # x: mean + 3 quartile fractions; the constant: nothing; the two-valued one: mean + its one distinct quartile edge
    assert summaries.shape == (100, 1 + 3 + 1 + 1)
    assert "2 observables' means" in transform.description


# -- end to end: what a tune reports ---------------------------------------------------------------
def test_a_simulator_that_cannot_describe_the_reference_is_flagged():
    """The Gaussian tuned to two peaks (-1.5 and 1.5, sd 0.5): before, "divergence 0" and a
    tight interval; now the goodness of fit rejects it and says so (seed 0 of the same
    setting at 100k events: J = 972 for 2 degrees of freedom)."""
    import advopt

    rng = np.random.default_rng(3)
    reference = np.concatenate([rng.normal(-1.5, 0.5, 10_000), rng.normal(1.5, 0.5, 10_000)])[:, None]
    result = advopt.tune("gaussian", reference, budget=40_000, seed=0, progress=False)
    assert result.misfit and result.goodness_of_fit["p_value"] < 1e-6
    assert "does NOT describe the reference" in result.summary()


def test_a_parameter_without_effect_spans_its_range_and_a_ridge_is_named():
    """The degenerate toy: inert changes nothing, only left + right is seen."""
    import advopt

    simulator = advopt.get_simulator("degenerate")
    reference = simulator.simulate(simulator.truth, 20_000, 5_000)
    result = advopt.tune(simulator, reference, budget=200_000, seed=0, truth=simulator.truth, progress=False)
    assert result.parameter_status["inert"] == "not constrained"
    assert result.interval68["inert"] == (0.0, 1.0)
    assert all(result.parameter_status[n] == "constrained" for n in ("mean", "width", "rate"))
    assert any(abs(d["left"]) > 0.5 and abs(d["right"]) > 0.5 for d in result.unconstrained_directions)
    assert "not constrained by the data, so not tested: inert" in result.closure_verdict()


def test_too_few_points_for_a_fit_is_named_and_nothing_is_claimed():
    """Five points of 500 events: no moment fit. Before: "+- 0" intervals of zero width."""
    import advopt

    simulator = advopt.get_simulator("gaussian")
    reference = simulator.simulate(simulator.truth, 5_000, 1)
    result = advopt.tune(simulator, reference, budget=2_500, events_per_point=500, seed=0, progress=False)
    assert not result.ok and result.fallbacks[0].startswith("no-moment-fit")
    assert result.interval68 == {"mean": (-2.0, 2.0), "width": (0.5, 2.0)}
    assert set(result.parameter_status.values()) == {"not constrained"}
    assert "fallback: no-moment-fit" in result.summary()


@pytest.mark.slow
def test_a_truth_on_a_bound_is_covered_68_percent_of_the_time():
    """The Gaussian's mean at the lower bound of its range (0.5 in [0.5, 2]), 20k reference, 40k
    events, 30 seeds: the 68% interval holds the truth in 68% +- 8.5% (binomial sd) of them,
    allowed 2.5 sd (measured: 67%, experiments/results/honest_fit.json)."""
    import advopt

    simulator = advopt.get_simulator("gaussian")
    covered = []
    for seed in range(30):
        reference = simulator.simulate({"mean": 0.5, "width": 1.0}, 20_000, 6_000 + seed)
        result = advopt.tune(simulator, reference, space={"mean": (0.5, 2.0), "width": (0.5, 2.0)}, budget=40_000,
                             seed=seed, progress=False)
        low, high = result.interval68["mean"]
        covered.append(low <= 0.5 <= high)
    assert abs(np.mean(covered) - 0.6827) < 2.5 * 0.085, np.mean(covered)


def test_the_estimate_is_checked_against_the_observables_own_fit():
    """A known estimate (no error of its own) against the observables' fit: at the truth the
    statistic is chi-square with 1 degree of freedom (mean 1 +- 0.12 over 150 problems, sd
    sqrt(2 / 150), allowed 3 sd); 7 of the fit's sd away it says they disagree."""
    rng = np.random.default_rng(2)
    exact, information = np.array([[1e-12]]), np.array([[1e12]])
    at_truth = [goodness_of_fit(*_gaussian_problem(rng, "gaussian"), np.array([0.4]), np.array([0.1]), exact,
                                information).agreement for _ in range(150)]
    assert {dof for _, dof, _ in at_truth} == {1}
    assert abs(np.mean([chi2 for chi2, _, _ in at_truth]) - 1) < 3 * np.sqrt(2 / 150)
    chi2, _, p_value = goodness_of_fit(*_gaussian_problem(rng, "gaussian"), np.array([0.45]), np.array([0.1]), exact,
                                       information).agreement
    assert p_value < 1e-6, chi2
    # a direction the data do not constrain is not compared
    assert goodness_of_fit(*_gaussian_problem(rng, "gaussian"), np.array([0.45]), np.array([0.1]), exact,
                           np.array([[1.0]])).agreement[1] == 0
