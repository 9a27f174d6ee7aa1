import math

import numpy as np
import pytest

from advopt.divergence import LN2, BoostingDivergence, MLPDivergence, jsd_from_losses, make_divergence


def test_jsd_from_losses_maths():
    # A classifier that always says 1/2 has loss ln 2 on every event: JSD estimate 0.
    value, stderr = jsd_from_losses(np.full(100, LN2), np.full(50, LN2))
    assert value == pytest.approx(0.0) and stderr == pytest.approx(0.0)
    # Perfect separation: loss 0, JSD ln 2.
    value, _ = jsd_from_losses(np.zeros(10), np.zeros(10))
    assert value == pytest.approx(LN2)
    # Standard error: both classes' variances, each weighted 1/4.
    rng = np.random.default_rng(0)
    a, b = rng.exponential(size=400), rng.exponential(size=100)
    _, stderr = jsd_from_losses(a, b)
    assert stderr == pytest.approx(math.sqrt(0.25 * a.var(ddof=1) / 400 + 0.25 * b.var(ddof=1) / 100))


def _samples(shift, n=3000, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(shift, 1.0, (n, 2)), rng.normal(0.0, 1.0, (n, 2))


@pytest.mark.parametrize("divergence", [MLPDivergence(), BoostingDivergence()], ids=["mlp", "boosting"])
def test_divergence_orders_distances_and_bounds(divergence):
    estimates = []
    for shift in (0.0, 0.5, 1.5, 6.0):
        simulated, reference = _samples(shift)
        estimate = divergence.estimate(simulated, reference, seed=1)
        assert estimate.n_events == len(simulated)
        estimates.append(estimate)
    same, small, large, disjoint = (e.value for e in estimates)
    assert abs(same) < 3 * estimates[0].stderr + 0.005  # identical distributions: zero within noise
    assert same < small < large < disjoint
    assert disjoint == pytest.approx(LN2, abs=0.03)
    # A shift of 1.5 in both coordinates is a 1-d shift of 1.5*sqrt(2) along the diagonal.
    true_jsd = _gaussian_shift_jsd(1.5 * math.sqrt(2))
    assert large == pytest.approx(true_jsd, abs=3 * estimates[2].stderr + 0.01)


def _gaussian_shift_jsd(shift: float) -> float:
    """Exact JSD (nats) between N(0,1) and N(shift,1), by quadrature."""
    from scipy import integrate, stats

    def integrand(x):
        p, q = stats.norm.pdf(x), stats.norm.pdf(x, shift)
        m = 0.5 * (p + q)
        return 0.5 * p * np.log(p / m) + 0.5 * q * np.log(q / m)

    return integrate.quad(integrand, -12, 12 + shift)[0]


@pytest.mark.parametrize("kind", ["mlp", "boosting"])
def test_divergence_is_deterministic_for_a_seed(kind):
    simulated, reference = _samples(0.3)
    first = make_divergence(kind).estimate(simulated, reference, seed=7)
    again = make_divergence(kind).estimate(simulated, reference, seed=7)
    other = make_divergence(kind).estimate(simulated, reference, seed=8)
    assert (first.value, first.stderr) == (again.value, again.stderr)
    assert first.value != other.value


def test_stderr_matches_spread_over_repeats():
    values, stderrs = [], []
    for seed in range(8):
        simulated, reference = _samples(0.5, n=2000, seed=100 + seed)
        estimate = MLPDivergence().estimate(simulated, reference, seed=seed)
        values.append(estimate.value)
        stderrs.append(estimate.stderr)
    # the quoted error and the observed scatter agree within a factor of 3
    assert 1 / 3 < np.std(values, ddof=1) / np.mean(stderrs) < 3


def test_bad_options_are_named():
    with pytest.raises(ValueError, match="divergence.kind"):
        make_divergence("nope")
    with pytest.raises(ValueError, match="divergence.dropout"):
        MLPDivergence(dropout=1.5)
    with pytest.raises(ValueError, match="divergence.device"):
        MLPDivergence(device="tpu:0")
    with pytest.raises(ValueError, match="bad option"):
        make_divergence("mlp", layers=3)


def test_feature_count_mismatch_is_refused():
    with pytest.raises(ValueError, match="features"):
        MLPDivergence().estimate(np.zeros((10, 2)), np.zeros((10, 3)), seed=0)


def test_total_variation_claims_no_fisher_information():
    """TV is linear, not quadratic, at its minimum: a curvature gives it no Fisher information."""
    tv = make_divergence("tv")
    assert getattr(tv, "fisher_information", None) is None
    assert MLPDivergence().fisher_information is not None


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
@pytest.mark.parametrize("kind", ["mlp", "adaptive-log", "tv", "wasserstein"])
def test_loss_never_finite_fails_the_estimate_cleanly(kind):
    """Events the network cannot learn from (non-finite inputs) raise FloatingPointError, which
    the tuner records as a failed evaluation, instead of a TypeError that ends the run."""
    simulated, reference = _samples(0.5, n=400)
    simulated[:, 0] = np.inf
    with pytest.raises(FloatingPointError, match="never finite"):
        make_divergence(kind, max_epochs=3, patience=1).estimate(simulated, reference, seed=0)
