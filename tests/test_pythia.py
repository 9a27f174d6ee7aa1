"""Tests for the Pythia8 e+e- simulator (simulators/pythia.py) and its observables.

Event shapes are compared with Pythia's own ``Thrust`` and ``Sphericity`` classes on the
very same events: ``simulate`` runs on the cached generator, then a second Pythia object
with the same settings and seed replays the events one ``next()`` at a time.
"""

from __future__ import annotations

import math
import os
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest

pytest.importorskip("pythia8mc")
pytest.importorskip("awkward")
pytest.importorskip("numba")

import pythia8mc  # noqa: E402

import simulators.pythia as sp  # noqa: E402
from advopt.simulator import check_simulator, get_simulator  # noqa: E402
from advopt.space import Space  # noqa: E402
from simulators import observables as ob  # noqa: E402
from simulators.pythia import PythiaEE  # noqa: E402

COL = {name: i for i, name in enumerate(ob.FEATURE_NAMES)}
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def sim():
    return PythiaEE()


def _replay(params, n, seed):
    """The events simulate(params, n, seed) uses, generated one next() at a time on a new object."""
    pythia = pythia8mc.Pythia("", False)
    for line in sp.base_settings(91.189):
        assert pythia.readString(line)
    for name, value in params.items():
        assert pythia.readString(f"{name} = {value!r}")
    assert pythia.init()
    pythia.rndm.init(sp.seed_to_pythia(seed))
    thrust, sph2, sph1 = pythia8mc.Thrust(2), pythia8mc.Sphericity(2.0, 2), pythia8mc.Sphericity(1.0, 2)
    rows = []
    while len(rows) < n:
        if not pythia.next():
            continue
        event = pythia.event
        thrust.analyze(event)
        sph2.analyze(event)
        sph1.analyze(event)
        lam = [sph1.eigenValue(i) for i in (1, 2, 3)]
        n_vis = n_ch = 0
        for i in range(event.size()):
            particle = event[i]
            if particle.isFinal() and particle.isVisible():
                n_vis += 1
                n_ch += particle.isCharged()
        rows.append((
            1.0 - thrust.thrust(),
            sph2.sphericity(),
            sph2.aplanarity(),
            3.0 * (lam[0] * lam[1] + lam[1] * lam[2] + lam[2] * lam[0]),
            27.0 * lam[0] * lam[1] * lam[2],
            n_vis,
            n_ch,
        ))
    return np.array(rows)


# -- event shapes against Pythia's own classes ---------------------------------------------------
def test_event_shapes_match_pythia_classes(sim):
    n, seed = 300, 2024
    ours = sim.simulate({}, n, seed)
    ref = _replay({}, n, seed)
    thrust_ok = np.abs(ours[:, COL["one_minus_thrust"]] - ref[:, 0]) <= 1e-4
    assert thrust_ok.mean() >= 0.999, f"thrust differs on {(~thrust_ok).sum()} of {n} events"
    # exact algorithms on both sides: in practice they agree to rounding
    np.testing.assert_allclose(ours[:, COL["one_minus_thrust"]], ref[:, 0], atol=1e-9)
    np.testing.assert_allclose(ours[:, COL["sphericity"]], ref[:, 1], atol=1e-9)
    np.testing.assert_allclose(ours[:, COL["aplanarity"]], ref[:, 2], atol=1e-9)
    np.testing.assert_allclose(ours[:, COL["c_parameter"]], ref[:, 3], atol=1e-9)
    np.testing.assert_allclose(ours[:, COL["d_parameter"]], ref[:, 4], atol=1e-9)
    np.testing.assert_array_equal(ours[:, COL["n_visible"]], ref[:, 5])
    np.testing.assert_array_equal(ours[:, COL["n_charged"]], ref[:, 6])


def _random_momenta(rng, m, kind):
    p = rng.normal(size=(m, 3)) * rng.exponential(size=(m, 1))
    if kind == 1:  # two back-to-back jets
        p[:, 2] *= 8.0
    elif kind == 2:  # jets plus particles perpendicular to the jet axis
        p[:, 2] = np.sign(p[:, 2]) * np.abs(p[:, 2]) * 10.0
        p[: m // 3, 2] = 0.01 * rng.normal(size=m // 3)
    return [np.ascontiguousarray(p[:, k]) for k in range(3)]


@pytest.mark.parametrize("kind", [0, 1, 2])
def test_thrust_is_the_exact_global_maximum(kind):
    rng = np.random.default_rng(100 + kind)
    for _ in range(150):
        m = int(rng.integers(1, 45))
        x, y, z = _random_momenta(rng, m, kind)
        p = np.sqrt(x * x + y * y + z * z)
        t, nx, ny, nz = ob.thrust(x, y, z, p, m)
        assert t == pytest.approx(ob.thrust_bruteforce(x, y, z, m), abs=1e-12)
        # the axis reproduces the value
        assert np.abs(x * nx + y * ny + z * nz).sum() / p.sum() == pytest.approx(t, abs=1e-12)


def test_thrust_planar_events():
    # the pair enumeration is degenerate for coplanar momenta; compare with the 2-d exact value
    rng = np.random.default_rng(7)
    for _ in range(50):
        m = int(rng.integers(2, 40))
        x, y, _ = _random_momenta(rng, m, 0)
        z = np.zeros(m)
        p = np.sqrt(x * x + y * y)
        t = ob.thrust(x, y, z, p, m)[0]
        angles = np.arctan2(y, x) + np.pi / 2
        cand = np.concatenate([angles - 1e-9, angles + 1e-9])
        signs = np.sign(np.cos(cand)[:, None] * x + np.sin(cand)[:, None] * y)
        exact = np.hypot(signs @ x, signs @ y).max() / p.sum()
        assert t == pytest.approx(exact, abs=1e-12)


# -- contract ---------------------------------------------------------------------------------
def test_shape_names_and_finite(sim):
    out = sim.simulate({}, 400, 5)
    assert out.shape == (400, len(sim.feature_names)) and out.dtype == np.float64
    assert len(set(sim.feature_names)) == len(sim.feature_names)
    assert np.isfinite(out).all()
    assert (out[:, COL["one_minus_thrust"]] >= 0).all() and (out[:, COL["one_minus_thrust"]] <= 0.5).all()
    assert (out[:, COL["n_charged"]] % 2 == 0).all()  # charge conservation in e+e- -> hadrons
    assert 17 < out[:, COL["n_charged"]].mean() < 25  # LEP: 20.9
    assert set(np.unique(out[:, COL["b_event"]])) <= {0.0, 1.0}
    assert sim.simulate({}, 0, 5).shape == (0, len(sim.feature_names))


def test_conformance_and_registry(sim):
    report = check_simulator(sim, params=sim.truth, n=64)
    assert report.ok, str(report)
    assert isinstance(get_simulator("pythia-ee"), PythiaEE)


def test_determinism_across_reinit_and_fresh_object(sim):
    a_params = {"TimeShower:alphaSvalue": 0.12, "StringZ:bLund": 1.1}
    b_params = {"StringFlav:probStoUD": 0.3}
    sp._GENERATORS.clear()
    a = sim.simulate(a_params, 150, 11)  # fresh object
    b = sim.simulate(b_params, 150, 11)  # re-init; bLund/alphaS must go back to Monash
    again = sim.simulate(a_params, 150, 11)  # re-init back to A
    same = sim.simulate(a_params, 150, 11)  # no re-init, same seed
    other = sim.simulate(a_params, 150, 12)
    monash = sim.simulate({}, 150, 11)
    np.testing.assert_array_equal(a, again)
    np.testing.assert_array_equal(a, same)
    assert not np.array_equal(a, b) and not np.array_equal(a, other)
    sp._GENERATORS.clear()
    np.testing.assert_array_equal(monash, sim.simulate({}, 150, 11))
    # the values left over from B do not leak into a later point that omits them
    np.testing.assert_array_equal(sim.simulate(b_params, 150, 11), b)


def test_same_array_in_a_fresh_process(sim):
    params = {"StringPT:sigma": 0.4}
    here = sim.simulate(params, 100, 77)
    code = textwrap.dedent(
        """
        import sys, numpy as np
        from simulators.pythia import PythiaEE
        np.save(sys.argv[1], PythiaEE().simulate({"StringPT:sigma": 0.4}, 100, 77))
        """
    )
    path = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"advopt_pythia_{os.getpid()}.npy")
    try:
        subprocess.run([sys.executable, "-c", code, path], check=True, cwd=REPO, timeout=120)
        np.testing.assert_array_equal(np.load(path), here)
    finally:
        if os.path.exists(path):
            os.remove(path)


def test_seed_mapping():
    """Every seed lands in Pythia's range 1..9e8, the same seed always on the same stream, and
    seeds 9e8 apart (which ``seed % 9e8`` put on one stream) on different ones."""
    seeds = [0, 1, 5, 899_999_999, 2**32 - 1, 2**63 + 5, -1]
    mapped = [sp.seed_to_pythia(seed) for seed in seeds]
    assert all(1 <= m <= 900_000_000 for m in mapped) and mapped == [sp.seed_to_pythia(seed) for seed in seeds]
    assert len(set(mapped)) == len(seeds)
    for seed in (5, 123_456, 2**31):
        assert sp.seed_to_pythia(seed) != sp.seed_to_pythia(seed + 900_000_000)


def test_pickles_cheaply(sim):
    sim.simulate({}, 5, 1)  # the cached Pythia object exists now
    blob = pickle.dumps(sim)
    assert len(blob) < 1000
    copy = pickle.loads(blob)
    assert "pythia" not in vars(copy)
    np.testing.assert_array_equal(copy.simulate({}, 50, 3), sim.simulate({}, 50, 3))
    assert copy.default_space == sim.default_space and copy.truth == sim.truth


# -- validation ---------------------------------------------------------------------------------
@pytest.fixture
def no_generation(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("events were generated before validation")

    monkeypatch.setattr(sp._Generator, "generate", refuse)


@pytest.mark.parametrize(
    "params, fragment",
    [
        ({"TimeShower:alphaSvalueX": 0.1}, "alphaSvalueX"),
        ({"TimeShower:alphaSvalue": 0.5}, "TimeShower:alphaSvalue"),
        ({"StringZ:bLund": float("nan")}, "StringZ:bLund"),
        ({"StringFlav:probStoUD": -0.1}, "StringFlav:probStoUD"),
    ],
)
def test_bad_params_raise_before_generating(sim, no_generation, params, fragment):
    with pytest.raises(ValueError, match=fragment):
        sim.simulate(params, 10, 1)


def test_bad_params_do_not_poison_the_cache(sim):
    good = sim.simulate({}, 20, 9)
    with pytest.raises(ValueError):
        sim.simulate({"TimeShower:alphaSvalue": 0.9}, 20, 9)
    np.testing.assert_array_equal(sim.simulate({}, 20, 9), good)


def test_check_space(sim, no_generation):
    sim.check_space(Space.from_dict(sim.default_space))
    sim.check_space({"StringZ:aLund": (0.3, 1.5)})  # any Pythia parameter
    with pytest.raises(ValueError, match="StringZ:bLundd"):
        sim.check_space(Space.from_dict({"StringZ:bLundd": (0.5, 1.0)}))
    with pytest.raises(ValueError, match=r"TimeShower:alphaSvalue.*maximum 0.25"):
        sim.check_space(Space.from_dict({"TimeShower:alphaSvalue": (0.1, 0.3)}))
    with pytest.raises(ValueError, match=r"StringZ:aExtraSQuark.*minimum -1"):
        sim.check_space(Space.from_dict({"StringZ:aExtraSQuark": (-2.0, 1.0)}))
    for text in (str(err) for err in _errors(sim)):
        assert "\n" not in text


def _errors(sim):
    for spec in ({"Foo:bar": (0.0, 1.0)}, {"StringPT:sigma": (0.0, 1.5)}):
        try:
            sim.check_space(spec)
        except ValueError as err:
            yield err


def test_bad_settings_line():
    with pytest.raises(ValueError, match="NoSuch:setting"):
        PythiaEE(settings=["NoSuch:setting = 3"])


def test_default_space_and_truth_agree_with_pythia(sim):
    limits = sp.pythia_limits()
    assert len(sim.default_space) == 20 and set(sim.default_space) == set(sim.truth)
    gen = sp._generator(sim.sqrt_s, sim.settings)
    for name, (low, high) in sim.default_space.items():
        _, pmin, pmax, _ = limits[name.lower()]
        assert pmin <= low < high <= pmax, name
        assert low <= sim.truth[name] <= high, name
        assert gen.pythia.settings.parm(name) == pytest.approx(sim.truth[name], abs=1e-12), name


# -- physics ----------------------------------------------------------------------------------
def _mean_and_error(sample, column):
    values = sample[:, COL[column]]
    return values.mean(), values.std(ddof=1) / math.sqrt(len(values))


def test_alpha_s_sensitivity(sim):
    low = sim.simulate({"TimeShower:alphaSvalue": 0.10}, 1500, 31)
    high = sim.simulate({"TimeShower:alphaSvalue": 0.17}, 1500, 31)
    for column in ("one_minus_thrust", "n_charged", "c_parameter", "b_wide"):
        m_lo, e_lo = _mean_and_error(low, column)
        m_hi, e_hi = _mean_and_error(high, column)
        assert m_hi - m_lo > 5.0 * math.hypot(e_lo, e_hi), column


# parameter -> (feature, sign of its change from the low to the high end of the range,
# condition: only events where this column is > 0, or None). aExtraSQuark and
# aExtraDiquark are weak (known to be poorly constrained by LEP data too).
SENSITIVITY = {
    "TimeShower:alphaSvalue": ("one_minus_thrust", +1, None),
    "TimeShower:pTmin": ("n_charged", -1, None),
    "TimeShower:pTminChgQ": ("n_shower_photons", -1, None),
    "StringPT:sigma": ("pt_thrust_mean", +1, None),
    "StringZ:bLund": ("n_charged", -1, None),
    "StringZ:aExtraSQuark": ("pt_thrust_mean", -1, None),
    "StringZ:aExtraDiquark": ("x_baryon_lead", -1, "x_baryon_lead"),
    "StringZ:rFactC": ("x_c", -1, "c_event"),
    "StringZ:rFactB": ("x_b", -1, "b_event"),
    "StringFlav:probStoUD": ("n_k_pm", +1, None),
    "StringFlav:probQQtoQ": ("n_p", +1, None),
    "StringFlav:probSQtoQQ": ("n_sigma_pm", +1, None),
    "StringFlav:probQQ1toQQ0": ("n_delta_pp", +1, None),
    "StringFlav:etaSup": ("n_eta", +1, None),
    "StringFlav:etaPrimeSup": ("n_etaprime", +1, None),
    "StringFlav:decupletSup": ("n_delta_pp", +1, None),
    "StringFlav:mesonUDvector": ("n_rho", +1, None),
    "StringFlav:mesonSvector": ("n_kstar_pm", +1, None),
    "StringFlav:mesonCvector": ("n_dstar", +1, None),
    "StringFlav:mesonBvector": ("n_bstar", +1, None),
}


# Weakly seen parameters need more events for a 5-sigma shift: aExtraSQuark moves
# pt_thrust_mean by ~4 sigma at 20k events (measured 4.2 with the hashed seeds; the old
# seeds happened to pass), so it gets 3x the events.
EVENTS_FOR_A_MARK = {"StringZ:aExtraSQuark": 60_000}


@pytest.mark.slow
@pytest.mark.parametrize("name", list(SENSITIVITY))
def test_every_tunemc_parameter_leaves_a_mark(sim, name):
    """Moving one parameter from the low to the high end of its range shifts its feature by > 5 sigma."""
    low, high = sim.default_space[name]
    column, sign, condition = SENSITIVITY[name]
    n = EVENTS_FOR_A_MARK.get(name, 20_000)
    a = sim.simulate({name: low}, n, 500)
    b = sim.simulate({name: high}, n, 501)
    if condition is not None:
        a = a[a[:, COL[condition]] > 0]
        b = b[b[:, COL[condition]] > 0]
    m_a, e_a = _mean_and_error(a, column)
    m_b, e_b = _mean_and_error(b, column)
    assert sign * (m_b - m_a) > 5.0 * math.hypot(e_a, e_b), (name, column, m_a, m_b)
