import sys
import textwrap

import numpy as np
import pytest

import advopt
from advopt.simulator import FunctionSimulator, as_simulator, check_simulator, get_simulator, registered_simulators
from conftest import shifted_gaussian


def test_builtin_toys_are_registered_through_entry_points():
    names = registered_simulators()
    for name in ("xor", "swiss-roll", "gaussian", "camel", "ring", "nsphere", "weinberg", "pythia-ee"):
        assert name in names


def test_module_attr_string_resolves_a_users_module(tmp_path, monkeypatch):
    (tmp_path / "my_generators.py").write_text(textwrap.dedent("""
        import numpy as np

        class Exponential:
            feature_names = ("x",)
            default_space = {"rate": (0.5, 5.0)}
            def __init__(self, offset=0.0):
                self.offset = offset
            def simulate(self, params, n, seed):
                return np.random.default_rng(seed).exponential(1 / params["rate"], (n, 1)) + self.offset
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    simulator = get_simulator("my_generators:Exponential", offset=1.0)
    assert simulator.offset == 1.0
    assert simulator.simulate({"rate": 2.0}, 10, 1).shape == (10, 1)
    sys.modules.pop("my_generators", None)


@pytest.mark.parametrize(
    "name, message",
    [("no-such-simulator", "unknown simulator 'no-such-simulator'"),
     ("no_such_module_xyz:thing", "cannot import module"),
     ("advopt.space:NoSuchThing", "has no attribute")],
)
def test_unresolvable_names_raise_one_line_errors(name, message):
    with pytest.raises(ValueError, match=message):
        get_simulator(name)


def test_plain_function_is_adapted():
    simulator = as_simulator(shifted_gaussian)
    assert isinstance(simulator, FunctionSimulator)
    assert simulator.simulate({"shift": 1.0}, 5, 0).shape == (5, 2)
    with pytest.raises(ValueError, match="takes no options"):
        as_simulator(shifted_gaussian, foo=1)


def test_conformance_check_passes_a_good_simulator():
    report = check_simulator(get_simulator("gaussian"))
    assert report.ok, str(report)
    assert "deterministic" in report.checks


def test_conformance_check_reports_each_broken_contract():
    def unseeded(params, n, seed):
        return np.random.default_rng().normal(size=(n, 2))

    def ignores_seed(params, n, seed):
        return np.zeros((n, 2))

    def wrong_shape(params, n, seed):
        return np.zeros((n + 1, 2))

    def with_nan(params, n, seed):
        out = np.zeros((n, 2))
        out[0, 0] = np.nan
        return out

    def raises(params, n, seed):
        raise RuntimeError("boom")

    params = {"shift": 0.0}
    assert "deterministic" in check_simulator(unseeded, params).failures
    assert "seeded" in check_simulator(ignores_seed, params).failures
    assert "shape" in check_simulator(wrong_shape, params).failures
    assert "finite" in check_simulator(with_nan, params).failures
    report = check_simulator(raises, params)
    assert "boom" in report.failures["runs"] and "does NOT conform" in str(report)


def test_feature_name_mismatch_is_reported():
    simulator = FunctionSimulator(shifted_gaussian, feature_names=("only_one",))
    assert "feature_names" in check_simulator(simulator, {"shift": 0.0}).failures


def test_user_module_simulator_is_tuned_through_module_attr(tmp_path, monkeypatch):
    """The documented plug-in path: a module unknown to advopt, named as 'module:attr',
    tuned by the script API. The rate of n exponential events is known to rate/sqrt(n);
    with a 10k reference and 1k events per point the tolerance is five of
    rate * sqrt(1/10000 + 1/1000)."""
    (tmp_path / "user_generators.py").write_text(textwrap.dedent("""
        import numpy as np

        class Exponential:
            feature_names = ("x",)
            default_space = {"rate": (0.5, 5.0)}
            def simulate(self, params, n, seed):
                return np.random.default_rng(seed).exponential(1 / params["rate"], (n, 1))
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    simulator = advopt.get_simulator("user_generators:Exponential")
    assert advopt.check_simulator(simulator).ok
    reference = simulator.simulate({"rate": 2.0}, 10_000, 99)
    result = advopt.tune("user_generators:Exponential", reference, optimizer="bayes", budget=20_000, events_per_point=1_000, seed=1,
                         workers=2, progress=False)
    assert abs(result.best_params["rate"] - 2.0) < 5 * 2.0 * np.sqrt(1 / 10_000 + 1 / 1_000)
    sys.modules.pop("user_generators", None)
