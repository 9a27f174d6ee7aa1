"""Tests for the built-in toy simulators (simulators/toy.py, toys_geometric.py, toys_physics.py).

Contract checks run for every registered toy; each toy also gets a physics check that
compares sample statistics with the analytic expectation (tolerance: 5 standard errors,
or a KS test against the analytic CDF at p > 1e-3 with a fixed seed).
"""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest
from scipy import stats

import advopt
from advopt.simulator import check_simulator, get_simulator, registered_simulators

TOYS = ["xor", "swiss-roll", "gaussian", "mixed-gaussians", "camel", "ring", "nsphere", "weinberg"]
N = 200_000  # events for the statistical checks
Z = 5.0  # tolerance in standard errors


def _within(measured: float, expected: float, stderr: float) -> bool:
    return abs(measured - expected) <= Z * stderr


# -- contract, for every toy ---------------------------------------------------------------------
TOY_MODULES = {"xor": "simulators.toys_geometric", "swiss-roll": "simulators.toys_geometric", "gaussian": "simulators.toy",
               "mixed-gaussians": "simulators.toy", "camel": "simulators.toy", "ring": "simulators.toys_geometric", "nsphere": "simulators.toys_geometric",
               "weinberg": "simulators.toys_physics"}


@pytest.mark.parametrize("name", TOYS)
def test_registered_where_the_toy_is_defined(name):
    cls = type(get_simulator(name))
    assert registered_simulators()[name] == f"{TOY_MODULES[name]}:{cls.__qualname__}"
    assert cls.__module__ == TOY_MODULES[name]


@pytest.mark.parametrize("name", TOYS)
def test_conforms(name):
    sim = get_simulator(name)
    report = check_simulator(sim)
    assert report.ok, str(report)
    report = check_simulator(sim, params=sim.truth)
    assert report.ok, str(report)


@pytest.mark.parametrize("name", TOYS)
def test_shape_dtype_and_feature_names(name):
    sim = get_simulator(name)
    x = sim.simulate(sim.truth, 1000, 7)
    assert isinstance(sim.feature_names, tuple) and all(isinstance(f, str) for f in sim.feature_names)
    assert x.shape == (1000, len(sim.feature_names))
    assert x.dtype == np.float64
    assert np.isfinite(x).all()
    assert sim.simulate(sim.truth, 0, 7).shape == (0, len(sim.feature_names))


@pytest.mark.parametrize("name", TOYS)
def test_truth_inside_default_space_not_centre_not_bound(name):
    sim = get_simulator(name)
    assert type(sim.default_space) is dict and type(sim.truth) is dict
    assert set(sim.truth) == set(sim.default_space)
    for key, (low, high) in sim.default_space.items():
        value = sim.truth[key]
        assert low < value < high, key
        width = high - low
        assert min(value - low, high - value) > 0.05 * width, f"{key} too close to a bound"
    # at least one coordinate is off-centre so a closure test cannot pass by luck
    assert any(abs(sim.truth[k] - 0.5 * (lo + hi)) > 0.05 * (hi - lo) for k, (lo, hi) in sim.default_space.items())


@pytest.mark.parametrize("name", TOYS)
def test_deterministic_and_seeded(name):
    sim = get_simulator(name)
    a = sim.simulate(sim.truth, 500, 3)
    b = sim.simulate(dict(sim.truth), 500, 3)
    c = sim.simulate(sim.truth, 500, 4)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize("name", TOYS)
def test_does_not_touch_global_random_state(name):
    sim = get_simulator(name)
    np.random.seed(0)
    before = np.random.random(3)
    np.random.seed(0)
    sim.simulate(sim.truth, 100, 1)
    assert np.array_equal(np.random.random(3), before)


@pytest.mark.parametrize("name", TOYS)
def test_picklable_and_same_output_after_pickling(name):
    sim = get_simulator(name)
    clone = pickle.loads(pickle.dumps(sim))
    assert np.array_equal(clone.simulate(sim.truth, 300, 11), sim.simulate(sim.truth, 300, 11))


@pytest.mark.parametrize("name", TOYS)
def test_bad_parameter_names_raise(name):
    sim = get_simulator(name)
    with pytest.raises(ValueError, match="'bogus'"):
        sim.simulate({**sim.truth, "bogus": 1.0}, 10, 0)
    first = next(iter(sim.truth))
    with pytest.raises(ValueError, match=repr(first)):
        sim.simulate({**sim.truth, first: float("nan")}, 10, 0)
    with pytest.raises(ValueError, match="n must"):
        sim.simulate(sim.truth, -1, 0)


@pytest.mark.parametrize("name", TOYS)
def test_a_parameter_left_out_keeps_its_nominal_value(name):
    """As the README promises for a space naming only some parameters: the others keep the
    simulator's nominal values (the toys' truth)."""
    sim = get_simulator(name)
    first = next(iter(sim.truth))
    partial = {k: v for k, v in sim.truth.items() if k != first}
    assert np.array_equal(sim.simulate(partial, 200, 5), sim.simulate(sim.truth, 200, 5))


def test_a_space_naming_some_parameters_tunes():
    sim = get_simulator("gaussian")
    reference = sim.simulate(sim.truth, 2_000, 1)
    result = advopt.tune(sim, reference, space={"mean": (0.0, 2.0)}, optimizer="random", divergence="chi2",
                         budget=4_000, events_per_point=500, progress=False)
    assert set(result.best_params) == {"mean"} and result.n_failed == 0


@pytest.mark.parametrize("name", TOYS)
def test_unknown_option_raises(name):
    with pytest.raises(ValueError, match="'colour'"):
        get_simulator(name, colour="red")


@pytest.mark.parametrize(
    "name, options, option",
    [
        ("xor", {"petals": 3}, "petals"),
        ("swiss-roll", {"noise": -0.1}, "noise"),
        ("gaussian", {"dim": 0}, "dim"),
        ("mixed-gaussians", {"features": 1}, "features"),
        ("nsphere", {"dim": 1}, "dim"),
        ("nsphere", {"dim": 2.5}, "dim"),
        ("weinberg", {"smearing": float("inf")}, "smearing"),
    ],
)
def test_bad_option_values_raise(name, options, option):
    with pytest.raises(ValueError, match=f"'{option}'"):
        get_simulator(name, **options)


# -- rotations (Borisyak et al.) ---------------------------------------------------------------------
def _rotation(angle: float) -> np.ndarray:
    c, s = math.cos(angle), math.sin(angle)
    return np.array([[c, -s], [s, c]])


@pytest.mark.parametrize("name, options", [("xor", {}), ("xor", {"petals": 4}), ("swiss-roll", {})])
def test_rotation_is_exact(name, options):
    sim = get_simulator(name, **options)
    angle = 0.7
    rotated = sim.simulate({"angle": angle}, 2000, 5)
    plain = sim.simulate({"angle": 0.0}, 2000, 5)
    np.testing.assert_allclose(rotated @ _rotation(angle), plain, atol=1e-12)  # row @ R = rotate back
    np.testing.assert_allclose(plain @ _rotation(angle).T, rotated, atol=1e-12)


@pytest.mark.parametrize("angle", [0.0, 0.4, -0.15, 1.2])
def test_xor_petal_axis_follows_angle(angle):
    """The two petals lie along the diagonal; after rotation the main axis is at pi/4 + angle."""
    x = get_simulator("xor").simulate({"angle": angle}, 50_000, 2)
    assert np.allclose(x.mean(axis=0), 0.0, atol=0.05)
    w, v = np.linalg.eigh(np.cov(x.T))
    axis = v[:, np.argmax(w)]
    measured = math.atan2(axis[1], axis[0]) % math.pi
    expected = (math.pi / 4 + angle) % math.pi
    diff = min(abs(measured - expected), math.pi - abs(measured - expected))
    assert diff < 0.01
    # petal centres at distance 2 sqrt(2) along that axis; spread along it 0.75, across 0.25
    along = x @ np.array([math.cos(expected), math.sin(expected)])
    across = x @ np.array([-math.sin(expected), math.cos(expected)])
    assert abs(np.abs(along).mean() - 2 * math.sqrt(2)) < 0.02
    assert abs(across.std() - 0.25) < 0.005


def test_xor_default_space_narrower_than_symmetry_period():
    for petals in (2, 4):
        sim = get_simulator("xor", petals=petals)
        low, high = sim.default_space["angle"]
        assert high - low < sim.symmetry_period
    swiss = get_simulator("swiss-roll")
    low, high = swiss.default_space["angle"]
    assert high - low < swiss.symmetry_period


def test_xor_symmetry_is_real():
    """Rotating by the symmetry period gives the same distribution (so the space must be narrower)."""
    for petals in (2, 4):
        sim = get_simulator("xor", petals=petals)
        a = sim.simulate({"angle": 0.3}, 20_000, 1)
        b = sim.simulate({"angle": 0.3 + sim.symmetry_period}, 20_000, 2)
        c = sim.simulate({"angle": 0.3 + sim.symmetry_period / 2}, 20_000, 3)
        same = [stats.ks_2samp(a[:, i], b[:, i]).pvalue for i in range(2)]
        other = [stats.ks_2samp(a[:, i], c[:, i]).pvalue for i in range(2)]
        assert min(same) > 1e-3
        assert min(other) < 1e-6


def test_xor_four_petals_sit_in_four_quadrants():
    x = get_simulator("xor", petals=4).simulate({"angle": 0.0}, 40_000, 9)
    quadrant = (x[:, 0] > 0).astype(int) * 2 + (x[:, 1] > 0).astype(int)
    counts = np.bincount(quadrant, minlength=4) / len(x)
    assert np.all(np.abs(counts - 0.25) < 5 * math.sqrt(0.25 * 0.75 / len(x)) + 0.002)


def test_swiss_roll_lies_on_the_spiral_without_noise():
    sim = get_simulator("swiss-roll", noise=0.0)
    angle = 0.9
    x = sim.simulate({"angle": angle}, 5000, 4)
    t = 10.0 * np.hypot(x[:, 0], x[:, 1])
    assert t.min() >= 1.5 * math.pi - 1e-9 and t.max() <= 4.5 * math.pi + 1e-9
    polar = np.arctan2(x[:, 1], x[:, 0])
    residual = np.angle(np.exp(1j * (polar - t - angle)))
    assert np.abs(residual).max() < 1e-9
    # t is uniform on [1.5 pi, 4.5 pi]
    assert stats.kstest(t, stats.uniform(1.5 * math.pi, 3 * math.pi).cdf).pvalue > 1e-3


def test_swiss_roll_noise_option():
    clean = get_simulator("swiss-roll", noise=0.0).simulate({"angle": 0.0}, N, 1)
    noisy = get_simulator("swiss-roll", noise=0.05).simulate({"angle": 0.0}, N, 1)
    residual = (noisy - clean).ravel()  # same seed: same t, noise added on top
    assert _within(residual.std(), 0.05, 0.05 / math.sqrt(2 * residual.size))


# -- Gaussian ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dim", [1, 3])
@pytest.mark.parametrize("mean, width", [(0.5, 1.0), (-1.7, 0.6)])
def test_gaussian_moments(dim, mean, width):
    x = get_simulator("gaussian", dim=dim).simulate({"mean": mean, "width": width}, N, 2)
    assert x.shape == (N, dim)
    for column in x.T:
        assert _within(column.mean(), mean, width / math.sqrt(N))
        assert _within(column.std(), width, width / math.sqrt(2 * N))
    if dim > 1:
        corr = np.corrcoef(x.T)[np.triu_indices(dim, 1)]
        assert np.all(np.abs(corr) < Z / math.sqrt(N))


def test_gaussian_rejects_nonpositive_width():
    with pytest.raises(ValueError, match="'width'"):
        get_simulator("gaussian").simulate({"mean": 0.0, "width": 0.0}, 10, 0)


def test_mixed_gaussians_moments_are_the_mixed_ones():
    """Mean M mu and covariance M diag(width^2) M^T, M = I + 0.5 x (cyclic shift)."""
    simulator = get_simulator("mixed-gaussians", features=3)
    params = {"mean0": 1.0, "mean1": -0.5, "mean2": 0.2, "width0": 0.6, "width1": 1.5, "width2": 1.0}
    x = simulator.simulate(params, N, 3)
    mixing = np.array([[1.0, 0.5, 0.0], [0.0, 1.0, 0.5], [0.5, 0.0, 1.0]])
    expected_cov = mixing @ np.diag([0.36, 2.25, 1.0]) @ mixing.T
    for i, (column, expected) in enumerate(zip(x.T, mixing @ np.array([1.0, -0.5, 0.2]))):
        assert _within(column.mean(), expected, math.sqrt(expected_cov[i, i] / N))
    cov = np.cov(x, rowvar=False)
    assert np.all(np.abs(cov - expected_cov) <= Z * np.sqrt((expected_cov**2 + np.outer(np.diag(expected_cov), np.diag(expected_cov))) / N))
    assert len(simulator.default_space) == 6


def test_mixed_gaussians_rejects_nonpositive_width():
    with pytest.raises(ValueError, match="'width1'"):
        get_simulator("mixed-gaussians").simulate({"width1": -1.0}, 10, 0)


# -- camel back ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "p",
    [
        {"a": 0.3, "mu1": 0.0, "s1": 1.0, "mu2": 4.0, "s2": 1.0},
        {"a": 0.65, "mu1": -1.5, "s1": 0.6, "mu2": 5.0, "s2": 1.8},
    ],
)
def test_camel_mixture(p):
    x = get_simulator("camel").simulate(p, N, 3)[:, 0]
    a, mu1, s1, mu2, s2 = p["a"], p["mu1"], p["s1"], p["mu2"], p["s2"]
    # mass below the midpoint between the humps: analytic, binomial standard error
    cut = 0.5 * (mu1 + mu2)
    expected = a * stats.norm.cdf(cut, mu1, s1) + (1 - a) * stats.norm.cdf(cut, mu2, s2)
    fraction = np.mean(x < cut)
    assert _within(fraction, expected, math.sqrt(expected * (1 - expected) / N))
    # mean and full shape
    mean = a * mu1 + (1 - a) * mu2
    var = a * (s1**2 + mu1**2) + (1 - a) * (s2**2 + mu2**2) - mean**2
    assert _within(x.mean(), mean, math.sqrt(var / N))

    def cdf(v):
        return a * stats.norm.cdf(v, mu1, s1) + (1 - a) * stats.norm.cdf(v, mu2, s2)

    assert stats.kstest(x, cdf).pvalue > 1e-3


def test_camel_humps_cannot_swap():
    space = get_simulator("camel").default_space
    assert space["mu1"][1] < space["mu2"][0]


def test_camel_rejects_bad_fraction():
    sim = get_simulator("camel")
    with pytest.raises(ValueError, match="'a'"):
        sim.simulate({**sim.truth, "a": 1.2}, 10, 0)


# -- ring and shell -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("name, options, dim", [("ring", {}, 2), ("nsphere", {}, 5), ("nsphere", {"dim": 3}, 3)])
@pytest.mark.parametrize("radius, width", [(4.0, 0.5), (2.0, 0.3)])
def test_shell_radius_and_isotropy(name, options, dim, radius, width):
    sim = get_simulator(name, **options)
    x = sim.simulate({"radius": radius, "width": width}, N, 4)
    assert x.shape == (N, dim) and len(sim.feature_names) == dim
    r = np.linalg.norm(x, axis=1)  # radius/width >= 6: a negative radius draw is negligible
    assert _within(r.mean(), radius, width / math.sqrt(N))
    assert _within(r.std(), width, width / math.sqrt(2 * N))
    # directions uniform: every coordinate has mean 0 and variance E[r^2] / dim
    per_coord = math.sqrt((radius**2 + width**2) / dim)
    assert np.all(np.abs(x.mean(axis=0)) < Z * per_coord / math.sqrt(N))
    assert np.allclose(x.var(axis=0), per_coord**2, rtol=0.02)
    if dim == 2:
        phi = np.arctan2(x[:, 1], x[:, 0])
        assert stats.kstest(phi, stats.uniform(-math.pi, 2 * math.pi).cdf).pvalue > 1e-3


# -- Weinberg ---------------------------------------------------------------------------------------------------
def _weinberg_cdf(c, a):
    """CDF of (1 + c^2 + a c) / (8/3) on [-1, 1]; valid for |a| <= 2 (no clipping)."""
    return ((c + 1) + (c**3 + 1) / 3 + a * (c**2 - 1) / 2) / (8 / 3)


def _afb(x):
    forward = np.mean(x > 0)
    return 2 * forward - 1, 2 * math.sqrt(forward * (1 - forward) / x.size)


@pytest.mark.parametrize("sqrt_s, gf", [(84.0, 0.9), (92.0, 1.0), (97.0, 0.6), (80.0, 0.5)])
def test_weinberg_matches_analytic_shape(sqrt_s, gf):
    a = get_simulator("weinberg").asymmetry_coefficient(sqrt_s, gf)
    assert abs(a) <= 2  # the region where the closed-form CDF applies
    x = get_simulator("weinberg").simulate({"sqrt_s": sqrt_s, "gf_scale": gf}, N, 6)[:, 0]
    assert x.min() >= -1 and x.max() <= 1
    assert stats.kstest(x, lambda c: _weinberg_cdf(c, a)).pvalue > 1e-3
    afb, err = _afb(x)
    assert _within(afb, 3 * a / 8, err)


def test_weinberg_asymmetry_moves_with_energy_and_gf():
    sim = get_simulator("weinberg")
    afbs = []
    for sqrt_s in (82.0, 86.0, 90.0, 94.0, 98.0):
        afb, err = _afb(sim.simulate({"sqrt_s": sqrt_s, "gf_scale": 1.0}, N, 8)[:, 0])
        afbs.append(afb)
        if sqrt_s == 90.0:
            assert abs(afb) < Z * err  # zero at the (toy) Z mass
    assert afbs[0] < -0.3 and afbs[-1] > 0.3  # negative below the Z, positive above
    assert all(b > a for a, b in zip(afbs, afbs[1:]))  # rises monotonically with sqrt(s)
    low, _ = _afb(sim.simulate({"sqrt_s": 86.0, "gf_scale": 0.6}, N, 9)[:, 0])
    high, _ = _afb(sim.simulate({"sqrt_s": 86.0, "gf_scale": 1.4}, N, 9)[:, 0])
    assert high < low < 0  # a larger G_f scale makes the asymmetry larger in size
    assert abs(high / low - 1.4 / 0.6) < 0.1


def test_weinberg_clips_negative_density():
    """At a corner of the space |A| > 2: no events where the formula is negative."""
    sim = get_simulator("weinberg")
    a = sim.asymmetry_coefficient(100.0, 1.5)
    assert a > 2
    x = sim.simulate({"sqrt_s": 100.0, "gf_scale": 1.5}, N, 10)[:, 0]
    root = (-a + math.sqrt(a * a - 4)) / 2  # 1 + c^2 + a c < 0 for c below this root
    assert x.min() >= root
    grid = np.linspace(root, 1, 20_001)
    density = 1 + grid**2 + a * grid
    cdf = np.concatenate([[0], np.cumsum((density[1:] + density[:-1]) / 2 * np.diff(grid))])
    cdf /= cdf[-1]
    assert stats.kstest(x, lambda c: np.interp(c, grid, cdf)).pvalue > 1e-3


def test_weinberg_smearing_option():
    clean = get_simulator("weinberg").simulate({"sqrt_s": 84.0, "gf_scale": 0.9}, N, 12)[:, 0]
    smeared = get_simulator("weinberg", smearing=0.05).simulate({"sqrt_s": 84.0, "gf_scale": 0.9}, N, 12)[:, 0]
    assert smeared.min() >= -1 and smeared.max() <= 1
    inside = np.abs(clean) < 0.7  # away from the clipping at +-1
    residual = (smeared - clean)[inside]  # same seed: same cos(theta), smearing on top
    assert _within(residual.std(), 0.05, 0.05 / math.sqrt(2 * residual.size))
    assert np.mean(np.abs(smeared) == 1) > 0  # some events clipped to the edges


def test_weinberg_truth_is_the_avo_example():
    sim = get_simulator("weinberg")
    assert sim.truth == {"sqrt_s": 84.0, "gf_scale": 0.9}  # E_beam = 42 GeV, G_f = 0.9
    assert sim.default_space == {"sqrt_s": (80.0, 100.0), "gf_scale": (0.5, 1.5)}
