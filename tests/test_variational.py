"""Adversarial variational optimisation (``optimizer="variational"``, advopt/avo/)."""

import json
import math
import subprocess
import sys

import numpy as np
import pytest

import advopt
from advopt import Status
from advopt.avo.proposal import VariationalOptimizer, leave_one_out_baselines, reflect_into_unit, score_gradients

# Every run here: 8 draws x 250 events per iteration = 2,000 simulated events per iteration.
EVENTS_PER_POINT = 250
PER_ITERATION = 8 * EVENTS_PER_POINT
# The critic trains on 3/4 of a 20k reference (a quarter is held out for the recorded value).
REFERENCE_EVENTS = 20_000
REFERENCE_TRAIN = REFERENCE_EVENTS * 3 // 4


def _single_iteration_sd(per_event_sd: float) -> float:
    """Statistical resolution of one iteration's comparison: its simulated events against
    the critic's training reference, sd * sqrt(1/n_sim + 1/n_ref)."""
    return per_event_sd * math.sqrt(1 / PER_ITERATION + 1 / REFERENCE_TRAIN)


@pytest.fixture(scope="module")
def gaussian_run():
    """One AVO run on the Gaussian toy, shared by the tests that read it (~100 iterations).
    The budget is not a multiple of an iteration, so the last partial one must be skipped."""
    simulator = advopt.get_simulator("gaussian")
    reference = simulator.simulate(simulator.truth, REFERENCE_EVENTS, 4242)
    result = advopt.tune(simulator, reference, {"mean": (-2.0, 2.0)}, fixed={"width": 1.0}, optimizer="variational",
                         optimizer_options={"learning_rate": 0.1, "min_width": 0.01}, budget=100 * PER_ITERATION + 1_234,
                         events_per_point=EVENTS_PER_POINT, seed=3, truth=simulator.truth, progress=False)
    return simulator, result


def test_gaussian_mean_converges(gaussian_run):
    """The proposal mean lands on the Gaussian toy's mean (0.5).

    Tolerance: once the proposal has narrowed, each iteration compares ~2,000 events
    simulated near one mean with the critic's 15k training reference, which resolves a
    mean shift of width * sqrt(1/2000 + 1/15000) = 0.024 (width 1). The proposal mean
    follows these comparisons with a damped step, so its scatter should be no larger than
    one iteration's; three of those (0.072) is the tolerance. A biased method (e.g. the
    proposal stuck wide, or drifting with the critic) fails it.
    """
    simulator, result = gaussian_run
    tolerance = 3 * _single_iteration_sd(1.0)
    assert abs(result.best_params["mean"] - simulator.truth["mean"]) < tolerance
    assert result.optimizer == "variational"
    assert result.divergence == "jsd-mlp"
    assert set(result.best_params) == {"mean"}


def test_width_shrinks_to_the_floor_and_budget_is_respected(gaussian_run):
    _, result = gaussian_run
    sds = [e.details["proposal_sd"]["mean"] for e in result.history]
    floor = 0.01 * 4.0  # min_width (unit cube) x the range of mean
    assert sds[0] == pytest.approx(0.25 * 4.0)  # the initial width
    assert sds[-1] < 0.25 * sds[0]
    assert min(sds) >= floor * (1 - 1e-9)
    assert sds[-1] == pytest.approx(floor)  # shrunk to the floor ...
    assert result.uncertainty["mean"] == pytest.approx(sds[-1], rel=0.1)  # ... and the interval is the proposal's width
    low, high = result.interval68["mean"]
    assert low < result.best_params["mean"] < high
    # budget: whole iterations only, never more than the budget
    assert result.events_used == 100 * PER_ITERATION
    assert result.events_used <= result.budget
    assert len(result.history) == 100 * 8
    assert sum(e.n_events for e in result.history) == result.events_used
    assert all(e.ok for e in result.history)
    assert all(math.isfinite(e.value) and math.isfinite(e.stderr) for e in result.history)


def _weinberg_sqrt_s_resolution(n_events: float) -> float:
    """sd of sqrt_s from n events of the Weinberg toy at its truth (gf_scale fixed at 0.9):
    the Fisher information per event for the cos(theta) coefficient A of the density
    (3/8)(1 + c^2 + A c) is I = int c^2 / (1 + c^2 + A c) (3/8) dc (the normalisation does
    not depend on A), and dA/dsqrt_s = 2 gf (10/MZ) sech^2(10 (sqrt_s - MZ)/MZ)."""
    weinberg = advopt.get_simulator("weinberg")
    sqrt_s, gf = weinberg.truth["sqrt_s"], weinberg.truth["gf_scale"]
    a = weinberg.asymmetry_coefficient(sqrt_s, gf)
    c = np.linspace(-1, 1, 20_001)
    info = np.trapezoid(c**2 / (1 + c**2 + a * c) * 3 / 8, c)
    slope = 2 * gf * (10 / weinberg.MZ) / math.cosh(10 * (sqrt_s - weinberg.MZ) / weinberg.MZ) ** 2
    return 1 / math.sqrt(info * n_events) / slope


def test_weinberg_sqrt_s_converges():
    """AVO finds sqrt_s of the Weinberg toy (gf_scale fixed at its truth; with both free the
    one feature cos(theta) only fixes their combination A), starting 6 GeV away at the centre.

    Tolerance: one iteration's 2,000 events against the 15k training reference resolve
    sqrt_s to sd = (Fisher information of A, per event, times
    1/(1/2000 + 1/15000) events)^-1/2 / (dA/dsqrt_s), about 0.35 GeV; three of those.
    """
    simulator = advopt.get_simulator("weinberg")
    reference = simulator.simulate(simulator.truth, REFERENCE_EVENTS, 4242)
    result = advopt.tune(simulator, reference, {"sqrt_s": (80.0, 100.0)}, fixed={"gf_scale": 0.9},
                         optimizer="variational", optimizer_options={"learning_rate": 0.1},
                         budget=80 * PER_ITERATION, events_per_point=EVENTS_PER_POINT, seed=1, progress=False)
    tolerance = 3 * _weinberg_sqrt_s_resolution(1 / (1 / PER_ITERATION + 1 / REFERENCE_TRAIN))
    assert 0.5 < tolerance < 2.0  # the derivation above, kept honest
    assert abs(result.best_params["sqrt_s"] - 84.0) < tolerance
    assert result.history[-1].details["proposal_sd"]["sqrt_s"] < 0.2 * result.history[0].details["proposal_sd"]["sqrt_s"]


def test_deterministic_for_a_seed_and_draws_stay_in_bounds():
    """Same seed: identical histories (timings aside). A start at the lower bound with a
    wide proposal must fold its draws back inside."""
    simulator = advopt.get_simulator("gaussian")
    reference = simulator.simulate(simulator.truth, 4_000, 1)
    kwargs = dict(fixed={"width": 1.0}, optimizer="variational", budget=6 * 8 * 100, events_per_point=100, seed=11,
                  optimizer_options={"start": {"mean": -2.0}, "width": 0.5}, progress=False)
    first = advopt.tune(simulator, reference, {"mean": (-2.0, 2.0)}, **kwargs)
    second = advopt.tune(simulator, reference, {"mean": (-2.0, 2.0)}, **kwargs)
    assert [e.outcome() for e in first.history] == [e.outcome() for e in second.history]
    assert first.best_params == second.best_params
    means = [e.params["mean"] for e in first.history]
    assert all(-2.0 <= m <= 2.0 for m in means)
    assert first.history[0].details["proposal_mean"]["mean"] == pytest.approx(-2.0)
    other = advopt.tune(simulator, reference, {"mean": (-2.0, 2.0)}, **{**kwargs, "seed": 12})
    assert [e.params for e in other.history] != [e.params for e in first.history]


def _flaky(params, n, seed):
    """Fails for shift > 0.5: those draws must become failed evaluations."""
    if params["shift"] > 0.5:
        raise RuntimeError("no events above 0.5")
    return np.random.default_rng(seed).normal(params["shift"], 1.0, (n, 1))


def test_failed_simulations_are_recorded_and_left_out(tmp_path):
    reference = np.random.default_rng(0).normal(0.0, 1.0, (4_000, 1))
    result = advopt.tune(_flaky, reference, {"shift": (-1.0, 1.0)}, optimizer="variational",
                         optimizer_options={"width": 0.4}, budget=5 * 8 * 100, events_per_point=100, seed=2,
                         run_dir=tmp_path / "run", progress=False)
    failed = [e for e in result.history if not e.ok]
    assert failed and all(e.status is Status.FAILED and "no events above 0.5" in e.reason for e in failed)
    assert all(math.isnan(e.value) for e in failed)
    assert any(e.ok for e in result.history)
    assert result.events_used == 5 * 8 * 100  # failed draws count too
    lines = (tmp_path / "run" / "history.jsonl").read_text().splitlines()
    assert len(lines) == len(result.history)
    assert json.loads((tmp_path / "run" / "result.json").read_text())["optimizer"] == "variational"
    assert "proposal_mean" in json.loads(lines[0])["details"]


def test_a_stopped_run_resumes_to_the_uninterrupted_history(tmp_path):
    """The critic and the proposal are rebuilt by replaying the recorded draws' events, so a
    run stopped after two of five iterations and resumed ends where the whole run ends."""
    reference = np.random.default_rng(0).normal(0.0, 1.0, (4_000, 1))
    kwargs = dict(optimizer="variational", optimizer_options={"width": 0.4}, budget=5 * 8 * 100,
                  events_per_point=100, seed=2, progress=False)
    whole = advopt.tune(_flaky, reference, {"shift": (-1.0, 1.0)}, run_dir=tmp_path / "whole", **kwargs)
    cut = advopt.tune(_flaky, reference, {"shift": (-1.0, 1.0)}, run_dir=tmp_path / "cut",
                      callback=lambda snapshot: snapshot.iteration == 2, **kwargs)
    assert len(cut.history) == 16
    resumed = advopt.tune(_flaky, reference, {"shift": (-1.0, 1.0)}, run_dir=tmp_path / "cut", resume=True, **kwargs)
    assert [e.outcome() for e in resumed.history] == [e.outcome() for e in whole.history]
    assert resumed.best_params == whole.best_params and resumed.events_used == whole.events_used
    assert len((tmp_path / "cut" / "history.jsonl").read_text().splitlines()) == 40


def test_bad_options_and_budget_are_refused():
    simulator = advopt.get_simulator("gaussian")
    reference = simulator.simulate(simulator.truth, 1_000, 1)
    with pytest.raises(ValueError, match="min_width"):
        advopt.tune(simulator, reference, optimizer="variational", optimizer_options={"min_width": 0.5, "width": 0.1},
                    budget=10_000, events_per_point=100, progress=False)
    with pytest.raises(ValueError, match="one variational iteration"):
        advopt.tune(simulator, reference, optimizer="variational", budget=500, events_per_point=100, progress=False)
    with pytest.raises(ValueError, match="MLP critic"):
        advopt.tune(simulator, reference, optimizer="variational", divergence="boosting", budget=1_000,
                    events_per_point=100, progress=False)


def test_proposal_maths():
    assert reflect_into_unit(np.array([-0.2, 0.3, 1.2, 2.3, -1.5])) == pytest.approx([0.2, 0.3, 0.8, 0.3, 0.5])
    assert leave_one_out_baselines(np.array([1.0, 2.0, 3.0])) == pytest.approx([2.5, 2.0, 1.5])
    # E[L grad log q] for L = (z - 1)^2, z = mu + sd eps: d/dmu = 2 (mu - 1), d/dlogsd = 2 sd^2
    rng = np.random.default_rng(0)
    eps = rng.standard_normal((400_000, 1))
    mu, sd = 0.2, 0.3
    losses = ((mu + sd * eps[:, 0]) - 1.0) ** 2
    grad_mean, grad_logsd = score_gradients(eps, losses, leave_one_out_baselines(losses), np.array([sd]))
    assert grad_mean[0] == pytest.approx(2 * (mu - 1), rel=0.02)
    assert grad_logsd[0] == pytest.approx(2 * sd**2, rel=0.05)
    # Adam steps move the mean towards lower loss and respect the floor
    opt = VariationalOptimizer(dim=1, seed=0, width=0.2, min_width=0.05, entropy=-1.0)
    for step in range(60):
        units, e = opt.draw(8, np.random.default_rng(step))
        opt.update(e, (units[:, 0] - 0.8) ** 2)
    assert opt.mean[0] == pytest.approx(0.8, abs=0.1)
    assert opt.sd[0] == pytest.approx(0.05)


def test_cli_config_runs(tmp_path):
    config = tmp_path / "avo.toml"
    config.write_text(
        'seed = 4\n'
        '[simulator]\nname = "gaussian"\n'
        '[parameters]\nmean = [-2.0, 2.0]\n'
        '[fixed]\nwidth = 1.0\n'
        '[reference]\nsimulate_at = "truth"\nevents = 4000\n'
        '[optimizer]\nkind = "variational"\npoints_per_iteration = 4\nlearning_rate = 0.1\nr1_gamma = 2.0\n'
        'entropy = -0.05\nmin_width = 0.01\ncritic_epochs = 2\nstart = { mean = -1.0 }\n'
        '[budget]\nevents = 2000\nevents_per_point = 100\n'
    )
    run_dir = tmp_path / "run"
    completed = subprocess.run([sys.executable, "-m", "advopt", "tune", str(config), "--run-dir", str(run_dir)],
                               capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr
    result = json.loads((run_dir / "result.json").read_text())
    assert result["optimizer"] == "variational"
    assert result["events_used"] == 2_000 and len(result["history"]) == 20
    assert result["history"][0]["details"]["proposal_mean"]["mean"] == pytest.approx(-1.0)


@pytest.mark.parametrize("kind", ["tv", "adaptive-log"])
def test_critic_divergence_subclasses_are_refused(kind):
    """tv and adaptive-* are MLPDivergence subclasses, but AVO trains the plain JSD critic: it
    must refuse them rather than run the JSD under their names."""
    simulator = advopt.get_simulator("gaussian")
    reference = simulator.simulate(simulator.truth, 1_000, 1)
    with pytest.raises(ValueError, match="MLP critic"):
        advopt.tune(simulator, reference, optimizer="variational", divergence=kind, budget=1_000,
                    events_per_point=100, progress=False)


def test_refusals_come_before_any_side_effect(tmp_path):
    """AVO's checks ran after config.json was written, and the directory then 'already held a
    run'; now nothing is written (and no worker started) before they pass."""
    simulator = advopt.get_simulator("gaussian")
    reference = simulator.simulate(simulator.truth, 1_000, 1)
    for bad in ({"divergence": "tv", "budget": 1_000}, {"budget": 500}):
        with pytest.raises(ValueError):
            advopt.tune(simulator, reference, optimizer="variational", events_per_point=100, progress=False,
                        run_dir=tmp_path / "run", workers=2, **{"divergence": "mlp", **bad})
        assert not (tmp_path / "run").exists()
