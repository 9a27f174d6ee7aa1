"""The pooled estimator (optimizer = "pooled"): the moment fit, a real closure at the
statistical limit, resume, reproducibility, failures and bad options."""

import json
import math

import numpy as np
import pytest

import advopt
from advopt.pooled.estimator import PooledOptimizer
from advopt.pooled.design import round_sizes
from advopt.pooled.moments import fit_moment_model, polynomial_terms, solve_moments


def _pooled(simulator, reference, **extra):
    kwargs = dict(optimizer="pooled", budget=60_000, events_per_point=500, seed=3, progress=False)
    kwargs.update(extra)
    return advopt.tune(simulator, reference, **kwargs)


# -- the moment fit -------------------------------------------------------------------------------
def test_moment_fit_recovers_a_linear_response_and_its_noise():
    """Summary means m(u) = a + B u with noise S / n: the fit finds the u whose mean is the
    reference's, and its stated covariance matches the scatter over noise draws."""
    rng = np.random.default_rng(0)
    a, slope = np.array([0.2, -0.1]), np.array([[2.0, 0.5], [0.3, 1.5]])
    truth = np.array([0.4, 0.6])
    points = 0.4 + 0.4 * rng.random((40, 2))
    counts = np.full(40, 1000.0)
    covs = np.repeat(np.eye(2)[None], 40, axis=0)
    solutions, stated = [], []
    for draw in range(200):
        means = a + points @ slope.T + rng.standard_normal((40, 2)) / np.sqrt(counts[:, None])
        model = fit_moment_model(points, means, counts, covs, np.ones(40), np.full(2, 0.5), np.full(2, 0.2))
        fit = solve_moments(model, a + slope @ truth, np.zeros((2, 2)), np.full(2, 0.5))
        solutions.append(fit.point)
        stated.append(fit.gain @ model.prediction_cov(fit.point) @ fit.gain.T)
    solutions = np.array(solutions)
    assert np.allclose(solutions.mean(axis=0), truth, atol=3 * solutions.std(axis=0).max() / np.sqrt(200))
    ratio = solutions.std(axis=0) / np.sqrt(np.diag(np.mean(stated, axis=0)))
    assert np.all((ratio > 0.8) & (ratio < 1.25)), ratio


def test_polynomial_terms_count_and_order():
    u = np.array([[0.7, 0.2]])
    terms = polynomial_terms(u, np.array([0.5, 0.5]), np.array([0.1, 0.1]), "full")
    assert terms.shape == (1, 6)
    assert np.allclose(terms[0], [1, 2, -3, 4, 9, -6])


def test_round_plan_spends_every_point():
    for total, dim in [(20, 1), (100, 2), (800, 20), (7, 5)]:
        plan = round_sizes(total, dim, 0.25, 8)
        assert sum(plan) == total and min(plan) >= 1


def test_the_next_round_is_asked_while_this_round_simulates():
    """As the loop drives it: from round 2 on, a round's first half is asked while the
    previous round's second half is still out (its design from the mid-round fit); round 1
    waits for the whole start; every point is asked once; the last round trains nothing (its
    fit, with every point, takes the summaries of the round before) and closes on the truth."""
    rng = np.random.default_rng(0)
    total = 60
    plan = round_sizes(total, 1, 0.25, 5)
    round_of = np.repeat(np.arange(len(plan)), plan)  # the round of each asked point
    optimizer = PooledOptimizer(1, 0, total_points=total, rounds=5)
    optimizer.prepare(rng.normal(0.3, 1.0, (20_000, 1)))
    in_flight, asked, crossings = [], 0, []

    def ask():
        nonlocal asked
        n = optimizer.next_size(total - asked)
        if n <= 0:
            return False
        if in_flight:
            crossings.append((int(round_of[asked - 1]), int(round_of[asked])))
        in_flight.append(optimizer.ask(n).points)
        asked += n
        return True

    while in_flight or ask():
        if optimizer.asks_ahead():
            ask()
        points = in_flight.pop(0)
        optimizer.tell_events(points, [rng.normal(u[0], 1.0, (2000, 1)) for u in points])
    assert asked == total
    across = [pair for pair in crossings if pair[0] != pair[1]]
    assert across == [(r, r + 1) for r in range(1, len(plan) - 1)]
    assert optimizer._trained_round == len(plan) - 2 and optimizer._fitted_points == total
    fit = optimizer.recommend()
    assert abs(fit.point[0] - 0.3) < 4 * math.sqrt(optimizer.covariance[0, 0])


# -- closure --------------------------------------------------------------------------------------
def test_gaussian_closure_reaches_the_statistical_limit(gaussian_reference):
    """20k reference events, 60k simulated: the mean and width come back within 3 stated sd,
    and the stated sd is near what the reference alone allows, sd(mean) = 1/sqrt(20k),
    sd(width) = 1/sqrt(40k), times sqrt(1 + N_ref/N_sim) for the simulation's share."""
    simulator, reference = gaussian_reference
    result = _pooled(simulator, reference, truth=simulator.truth)
    limit = {"mean": 1 / math.sqrt(20_000), "width": 1 / math.sqrt(40_000)}
    for name, value in simulator.truth.items():
        assert abs(result.best_params[name] - value) < 3 * result.uncertainty[name], (name, result.best_params)
        ratio = result.uncertainty[name] / (limit[name] * math.sqrt(1 + 20_000 / 60_000))
        assert 0.7 < ratio < 2.0, (name, ratio)
    assert result.events_used == 60_000 and result.optimizer == "pooled" and result.divergence == "summary-chi2"
    assert all(e.ok and math.isfinite(e.value) for e in result.history)


def test_twenty_parameters_get_enough_points_and_close(tmp_path):
    """Twenty parameters (ten Gaussians' means and widths through a mixing), 20k reference
    events, 40k simulated, no events per point named: the pooled route takes 400 points of
    100 events (with 2,000-event points it would get 20, fewer than its start needs; with the
    250 of the efficiency benchmark before, the widths ended ~19 Cramer-Rao sds from the
    reference's own MLE). Every parameter within 3 stated sd, and the median error within
    3 Cramer-Rao sds of the reference alone (measured 1.55)."""
    simulator = advopt.get_simulator("mixed-gaussians", features=10)
    reference = simulator.simulate(simulator.truth, 20_000, 11)
    result = advopt.tune(simulator, reference, budget=40_000, seed=0, truth=simulator.truth, progress=False,
                         run_dir=tmp_path / "run")
    assert len(result.history) == 400 and result.optimizer == "pooled"
    assert json.loads((tmp_path / "run" / "config.json").read_text())["resolved"]["events_per_point"] == 100
    errors = []
    for name, value in simulator.truth.items():
        assert abs(result.best_params[name] - value) < 3 * result.uncertainty[name], (name, result.best_params[name])
        width = simulator.truth["width" + name.removeprefix("mean").removeprefix("width")]
        cramer_rao = width / math.sqrt(20_000 if name.startswith("mean") else 40_000)
        errors.append(abs(result.best_params[name] - value) / cramer_rao)
    assert np.median(errors) < 3.0, np.round(errors, 2)


def test_events_per_point_left_out_is_the_methods_choice():
    from advopt.methods.registry import default_events_per_point

    assert default_events_per_point("pooled", 40_000, 20) == 100  # 2 (dim + 1)(dim + 2) points, at least 100 events each
    assert default_events_per_point("pooled", 200_000, 20) == 216
    assert default_events_per_point("pooled", 40_000, 5) == 200  # at least 200 points
    assert default_events_per_point("pooled", 400_000, 2) == 2_000  # the default Pythia task: unchanged
    assert default_events_per_point("pooled", 50, 1) == 50  # never more than the budget
    assert default_events_per_point("bayes", 40_000, 20) == 2_000  # a per-point estimate needs its events
    assert default_events_per_point(object(), 40_000, 20) == 2_000  # a user's optimiser: the per-point route


# -- the loop's contracts ---------------------------------------------------------------------------
def test_same_seed_same_history_and_resume_replays(tmp_path, gaussian_reference):
    simulator, reference = gaussian_reference
    whole = _pooled(simulator, reference, budget=20_000, run_dir=tmp_path / "whole")
    again = _pooled(simulator, reference, budget=20_000)
    assert [e.outcome() for e in again.history] == [e.outcome() for e in whole.history]
    assert again.best_params == whole.best_params

    cut = tmp_path / "cut"
    _pooled(simulator, reference, budget=20_000, run_dir=cut)
    lines = (cut / "history.jsonl").read_text().splitlines()
    (cut / "history.jsonl").write_text("\n".join(lines[:17]) + "\n")  # stopped mid-round
    (cut / "result.json").unlink()
    resumed = _pooled(simulator, reference, budget=20_000, run_dir=cut, resume=True)
    assert [e.outcome() for e in resumed.history] == [e.outcome() for e in whole.history]
    assert resumed.best_params == whole.best_params and resumed.events_used == 20_000
    assert len((cut / "history.jsonl").read_text().splitlines()) == len(lines)


def test_the_history_does_not_depend_on_the_worker_count(gaussian_reference):
    simulator, reference = gaussian_reference
    serial = _pooled(simulator, reference, budget=10_000)
    parallel = _pooled(simulator, reference, budget=10_000, workers=2, backend="local")
    assert [e.outcome() for e in parallel.history] == [e.outcome() for e in serial.history]


class _FailsAboveOne:
    """The Gaussian toy, raising for mean > 1 and returning two columns for mean < -1.5."""

    feature_names = ("x",)
    default_space = {"mean": (-2.0, 2.0), "width": (0.5, 2.0)}

    def simulate(self, params, n, seed):
        if params["mean"] > 1.0:
            raise RuntimeError("no events above 1")
        x = np.random.default_rng(seed).normal(params["mean"], params["width"], (n, 1))
        return np.hstack([x, x]) if params["mean"] < -1.5 else x


def test_failed_points_are_recorded_and_the_fit_goes_on(gaussian_reference):
    _, reference = gaussian_reference
    result = _pooled(_FailsAboveOne(), reference, budget=30_000)
    reasons = {e.reason for e in result.history if not e.ok}
    assert any("no events above 1" in r for r in reasons)
    assert any("simulator returned 2 features, the reference has 1" in r for r in reasons)
    assert abs(result.best_params["mean"] - 0.5) < 0.05 and abs(result.best_params["width"] - 1.0) < 0.05
    assert result.events_used == 30_000


@pytest.mark.parametrize("option, message", [
    ({"folds": 1}, "optimizer_options['folds']: must be an integer >= 2"),
    ({"max_epochs": -3}, "optimizer_options['max_epochs']: must be an integer >= 1"),
    ({"warm_epoch_events": 0}, "optimizer_options['warm_epoch_events']: must be an integer >= 1"),
    ({"device": "tpu"}, "optimizer_options['device']:"),
    ({"summary": "mean"}, "optimizer_options['summary']: must be 'score' or 'regression'"),
    ({"initial_fraction": 1.5}, "optimizer_options['initial_fraction']: must be in (0, 1)"),
    ({"warp": 2}, "optimizer: bad option for 'pooled'"),
])
def test_bad_options_name_the_field(option, message, gaussian_reference):
    simulator, reference = gaussian_reference
    with pytest.raises(ValueError) as err:
        _pooled(simulator, reference, optimizer_options=option)
    assert message in str(err.value) and "\n" not in str(err.value)


def _shifted_gaussian(params, n, seed):
    if params["mean"] > 0.9:
        raise RuntimeError("out of range")
    return np.random.default_rng(seed).normal(params["mean"], 1.0, (n, 1))


def test_told_a_batch_each_point_records_its_distance_and_failures_stay_failures():
    """The method's tell: a simulated batch in, one evaluation per point out (a failed
    simulation a failure, events counted); a far point lies farther from the reference."""
    from advopt.execution import SerialExecutor
    from advopt.simulation_batches import BatchSimulator
    from advopt.simulator import FunctionSimulator

    optimizer = PooledOptimizer(1, 0, total_points=10)
    optimizer.prepare(np.random.default_rng(1).normal(0.3, 1.0, (4_000, 1)))
    simulations = BatchSimulator(FunctionSimulator(_shifted_gaussian), SerialExecutor(), seed=0, events_per_point=2_000,
                                 chunk_size=2_000, n_features=1)
    params = [{"mean": 0.3}, {"mean": 1.5}, {"mean": -0.6}]
    pending = simulations.begin(0, 0, optimizer.ask(3).points, params, {}, simulate_recorded=optimizer.simulate_recorded)
    near, failed, far = optimizer.tell(simulations.finish(pending, 0))
    assert failed.status.value == "failed" and "out of range" in failed.reason and failed.n_events == 2_000
    assert near.ok and far.ok and [near.index, far.index] == [0, 2]
    assert far.value - 3 * far.stderr > near.value + 3 * near.stderr  # 0.9 sd away against 0: told apart by far


def test_summary_moments_are_those_of_the_current_networks():
    """The kept moments equal a direct computation, and follow the networks once forgotten."""
    import torch

    from advopt.pooled.summary import SummaryNetwork
    from advopt.pooled.summary_moments import SummaryMoments

    rng = np.random.default_rng(3)
    reference = rng.normal(size=(500, 2)).astype(np.float32)
    events = {0: rng.normal(0.3, 1.0, size=(300, 2)).astype(np.float32), 4: rng.normal(-0.2, 1.0, size=(200, 2)).astype(np.float32)}
    nets = [SummaryNetwork(2, 1, np.zeros(2), np.ones(2), hidden=(8,), learning_rate=1e-2, batch_size=64,
                           device=torch.device("cpu"), threads=1, seed=fold) for fold in range(2)]
    moments = SummaryMoments(nets, reference)

    def direct(fold):
        per_point = [nets[fold].transform(e[fold::2]) for e in events.values()]
        return np.array([t.mean(axis=0) for t in per_point]), nets[fold].transform(reference)

    moments.prepare(events)
    for fold in range(2):
        means, ref = direct(fold)
        got = moments.fold_moments(fold, events)
        assert np.array_equal(got["means"], means) and np.array_equal(got["reference"], ref)
        assert np.array_equal(got["reference_mean"], ref.mean(axis=0))
        assert got["counts"].tolist() == [150.0, 100.0]
    u = rng.uniform(size=(300, 1))
    nets[0].fit(events[0], u, np.ones(300), max_epochs=3, patience=3, seed=1)
    assert not np.array_equal(moments.fold_moments(0, events)["means"], direct(0)[0])  # kept until forgotten
    moments.forget()
    assert np.array_equal(moments.fold_moments(0, events)["means"], direct(0)[0])


def test_a_replay_epoch_trains_on_a_fixed_number_of_events():
    """With epoch_events an epoch takes that many events, however large the set: here 2 steps
    of 512 an epoch instead of 36 (Adam counts the steps)."""
    import torch

    from advopt.pooled.summary import SummaryNetwork

    rng = np.random.default_rng(5)
    x, u = rng.normal(size=(20_000, 2)).astype(np.float32), rng.uniform(size=(20_000, 1))

    def steps(epoch_events):
        net = SummaryNetwork(2, 1, np.zeros(2), np.ones(2), hidden=(8,), learning_rate=1e-3, batch_size=512,
                             device=torch.device("cpu"), threads=1, seed=0)
        epochs = net.fit(x, u, np.ones(len(x)), max_epochs=3, patience=10, seed=1, epoch_events=epoch_events)
        return epochs, int(net._optimiser.state[net.alpha]["step"])

    assert steps(1024) == (3, 6)
    assert steps(None) == (3, 3 * 36)  # 18,000 training events (10% held out) in batches of 512
