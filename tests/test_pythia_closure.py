"""End-to-end Pythia closures: tune to Monash pseudo-data and land near Monash."""

import subprocess
import sys

import pytest

import advopt

pytest.importorskip("pythia8mc")
ALPHA = "TimeShower:alphaSvalue"


def test_short_alphas_closure():
    """alphaS alone, 60k simulated events: within 0.01 of Monash (5% of its range; a broken
    divergence or optimiser lands anywhere in [0.06, 0.25])."""
    simulator = advopt.get_simulator("pythia-ee")
    reference = simulator.simulate(simulator.truth, 30_000, 2024)
    result = advopt.tune(simulator, reference, {ALPHA: (0.06, 0.25)}, optimizer="bayes", budget=60_000, events_per_point=3_000,
                         workers=2, seed=4, truth={ALPHA: 0.1365}, progress=False,
                         optimizer_options={"n_initial_points": 6})
    assert abs(result.best_params[ALPHA] - 0.1365) < 0.01
    assert result.n_failed == 0 and result.events_used == 60_000
    assert 0 < result.uncertainty[ALPHA] < 0.02


@pytest.mark.slow
def test_default_task_recovers_monash(tmp_path):
    out = subprocess.run([sys.executable, "-m", "advopt", "tune", "--run-dir", str(tmp_path / "run")],
                         capture_output=True, text=True, cwd=tmp_path, timeout=900)
    assert out.returncode == 0, out.stderr
    assert "closure: truth recovered" in out.stdout, out.stdout


def test_cli_simulates_a_pythia_reference_with_feature_names(tmp_path):
    out = subprocess.run([sys.executable, "-m", "advopt", "simulate", "pythia-ee", "--param", f"{ALPHA}=0.15",
                          "-n", "500", "-o", str(tmp_path / "ref.npz"), "--seed", "5"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    sample = advopt.load_sample(tmp_path / "ref.npz")
    simulator = advopt.get_simulator("pythia-ee")
    assert sample.feature_names == simulator.feature_names and sample.events.shape == (500, len(simulator.feature_names))
    expected = simulator.simulate({**simulator.truth, ALPHA: 0.15}, 500, 5)
    assert (sample.events == expected).all()


def test_cli_refuses_an_unknown_pythia_parameter(tmp_path):
    out = subprocess.run([sys.executable, "-m", "advopt", "simulate", "pythia-ee", "--param", "TimeShower:alphaSvalu=0.15",
                          "-n", "10", "-o", str(tmp_path / "x.npz")], capture_output=True, text=True)
    assert out.returncode == 2 and "alphaSvalu" in out.stderr and "Traceback" not in out.stderr


def test_pooled_alphas_closure():
    """The pooled estimator on real Pythia events: alphaS alone, 60k simulated events in
    points of 1,000 against a 30k reference; Monash within 3 stated sd, and the stated sd
    far below the per-point route's (~0.001 at these budgets, README)."""
    simulator = advopt.get_simulator("pythia-ee")
    reference = simulator.simulate(simulator.truth, 30_000, 2024)
    result = advopt.tune(simulator, reference, {ALPHA: (0.06, 0.25)}, optimizer="pooled", budget=60_000,
                         events_per_point=1_000, workers=2, seed=4, truth={ALPHA: 0.1365}, progress=False)
    assert abs(result.best_params[ALPHA] - 0.1365) < 3 * result.uncertainty[ALPHA]
    assert 0 < result.uncertainty[ALPHA] < 0.0008
    assert result.n_failed == 0 and result.events_used == 60_000
