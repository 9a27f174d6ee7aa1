import json
import math

import numpy as np
import pytest

import advopt
from advopt import Status, TuneResult
from conftest import shifted_gaussian


def test_gaussian_mean_closure(gaussian_reference):
    """The Gaussian toy's mean is recovered within a tolerance set by the sample sizes.

    The mean of n events scatters by width/sqrt(n): with a 20k reference and 1k simulated
    events per point, the located minimum can be off by about
    width * sqrt(1/20000 + 1/1000) = 0.032; five of those is the tolerance.
    """
    simulator, reference = gaussian_reference
    result = advopt.tune(simulator, reference, {"mean": (-2.0, 2.0)}, fixed={"width": 1.0}, optimizer="bayes", budget=24_000,
                         events_per_point=1_000, seed=3, truth=simulator.truth, progress=False)
    tolerance = 5 * 1.0 * math.sqrt(1 / len(reference) + 1 / 1_000)
    assert abs(result.best_params["mean"] - 0.5) < tolerance
    assert set(result.best_params) == {"mean"}
    assert result.events_used == 24_000
    assert result.truth == {"mean": 0.5}


def test_xor_rotation_closure():
    """The XOR angle is recovered: each event's angle about its petal's centre scatters by
    about 0.25/2.83 = 0.09 rad (petal width / distance from the origin), so the located
    minimum can be off by about 0.09 * sqrt(1/20000 + 1/1000); five of those is the tolerance."""
    simulator = advopt.get_simulator("xor")
    reference = simulator.simulate(simulator.truth, 20_000, 77)
    result = advopt.tune("xor", reference, optimizer="bayes", budget=30_000, events_per_point=1_000, seed=5, progress=False)
    scale = 0.09 * math.sqrt(1 / 20_000 + 1 / 1_000)
    assert abs(result.best_params["angle"] - simulator.truth["angle"]) < 5 * scale
    # the stated sd is of the size of that error (measured 0.86 x on this seed), neither collapsed nor the range
    assert 0.3 * scale < result.uncertainty["angle"] < 3 * scale
    assert result.parameter_status == {"angle": "constrained"}


def test_history_does_not_depend_on_worker_count(gaussian_reference):
    simulator, reference = gaussian_reference
    kwargs = dict(optimizer="bayes", budget=8_000, events_per_point=1_000, chunk_size=500, seed=9, batch_size=2, progress=False)
    serial = advopt.tune(simulator, reference, workers=1, **kwargs)
    parallel = advopt.tune(simulator, reference, workers=2, **kwargs)
    assert [e.params for e in serial.history] == [e.params for e in parallel.history]
    assert [e.value for e in serial.history] == [e.value for e in parallel.history]
    assert [e.seed for e in serial.history] == [e.seed for e in parallel.history]
    assert serial.best_params == parallel.best_params


class FlakySimulator:
    """Raises, returns NaN or the wrong shape in some regions: every failure must be recorded."""

    feature_names = ("a", "b")

    def simulate(self, params, n, seed):
        shift = params["shift"]
        if shift > 1.5:
            raise RuntimeError("generator crashed")
        if shift < -1.5:
            return np.full((n, 2), np.nan)
        if -1.6 < shift < -1.4:
            return np.zeros((n, 3))
        return shifted_gaussian(params, n, seed)


def test_failing_simulations_are_recorded_and_the_run_goes_on(tmp_path):
    reference = shifted_gaussian({"shift": 0.3}, 5_000, 1)
    result = advopt.tune(FlakySimulator(), reference, {"shift": (-3.0, 3.0)}, optimizer="bayes", budget=30_000, events_per_point=1_000,
                         seed=2, run_dir=tmp_path, progress=False, optimizer_options={"n_initial_points": 8})
    failed = [e for e in result.history if e.status is Status.FAILED]
    assert failed, "the Sobol start covers the failing regions"
    expected = {"crash": "generator crashed", "nan": "NaN", "shape": "3 features"}
    region = lambda shift: "crash" if shift > 1.5 else "nan" if shift < -1.5 else "shape"  # noqa: E731
    for evaluation in failed:  # each failure carries the reason of its own region
        assert expected[region(evaluation.params["shift"])] in evaluation.reason, evaluation.reason
    assert {region(e.params["shift"]) for e in failed} >= {"crash", "nan"}
    assert all(math.isnan(e.value) for e in failed)
    assert len(result.history) == 30 and result.events_used == 30_000
    assert abs(result.best_params["shift"] - 0.3) < 0.25
    lines = (tmp_path / "history.jsonl").read_text().splitlines()
    assert len(lines) == 30 and sum(json.loads(line)["status"] == "failed" for line in lines) == len(failed)


def test_run_directory_holds_config_history_and_result(tmp_path, gaussian_reference):
    simulator, reference = gaussian_reference
    result = advopt.tune(simulator, reference, optimizer="bayes", budget=6_000, events_per_point=1_000, seed=1, run_dir=tmp_path,
                         truth=simulator.truth, progress=False)
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["resolved"]["budget"] == 6_000 and config["resolved"]["reference_size"] == len(reference)
    history = [json.loads(line) for line in (tmp_path / "history.jsonl").read_text().splitlines()]
    assert [h["index"] for h in history] == list(range(6))
    assert all(h["n_events"] == 1_000 for h in history)
    loaded = TuneResult.load(tmp_path / "result.json")
    assert loaded.best_params == result.best_params and loaded.history == result.history


def test_reference_from_files_and_feature_selection(tmp_path, gaussian_reference):
    simulator, reference = gaussian_reference
    path = advopt.save_sample(tmp_path / "ref.npz", np.column_stack([reference, reference * 2]), ["x", "twice"])
    result = advopt.tune(simulator, path, reference_features=["x"], optimizer="bayes", budget=2_000, events_per_point=1_000, seed=0,
                         progress=False)
    assert result.reference_size == len(reference)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(reference=np.zeros((100, 3))), "reference: it has 3 features, the simulator produces 1"),
        (dict(reference=np.full((100, 1), np.nan)), "NaN"),
        (dict(reference="/no/such/file.npz"), "file not found"),
        (dict(space={"mean": (2.0, -2.0)}), "low < high"),
        (dict(space={"mean": (0.0, 1.0), "spin": (0.0, 1.0)}), r"unknown parameter\(s\) \['spin'\]"),
        (dict(space={"mean": (0.0, 1.0)}, fixed={"mean": 0.5}), "also tuned"),
        (dict(budget=0), "budget"),
        (dict(events_per_point=5_000, budget=1_000), "cannot pay for one evaluation"),
        (dict(optimizer="annealing"), "^optimizer: unknown .annealing.; choose one of"),
        (dict(divergence="kl"), "^divergence: unknown .kl.; choose one of"),
    ],
)
def test_bad_input_is_refused_before_simulating(kwargs, message, gaussian_reference):
    simulator, reference = gaussian_reference
    arguments = dict(simulator=simulator, reference=reference, optimizer="bayes", budget=2_000, events_per_point=1_000, progress=False)
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=message):
        advopt.tune(**arguments)


def test_reference_per_point_draws_that_many_reference_events(gaussian_reference):
    simulator, reference = gaussian_reference
    seen = []

    class Recording:
        name = "recording"
        upper_bound = 1.0

        def estimate(self, simulated, reference, seed):
            seen.append((len(simulated), len(reference)))
            return advopt.DivergenceEstimate(float(abs(simulated.mean() - reference.mean())), 0.01, len(simulated))

    advopt.tune(simulator, reference, {"mean": (-2.0, 2.0)}, fixed={"width": 1.0}, optimizer="bayes", divergence=Recording(),
                budget=4_000, events_per_point=1_000, reference_per_point=3, progress=False)
    assert seen == [(1_000, 3_000)] * 4
    with pytest.raises(ValueError, match="^reference_per_point: must be a positive number"):
        advopt.tune(simulator, reference, {"mean": (-2.0, 2.0)}, optimizer="bayes", budget=4_000, events_per_point=1_000,
                    reference_per_point=0, progress=False)


def test_objectives_spanning_decades_are_modelled_in_log(gaussian_reference):
    """A divergence with ``models_log`` (the chi-square) is told to the optimiser as
    log(value) with stderr/value; the result stays in the divergence's own units."""
    from advopt.optimizers import RandomSearch

    simulator, reference = gaussian_reference
    told = []

    class Recording(RandomSearch):
        def tell(self, points, values, stderrs, ok):
            told.extend(zip(values, stderrs))
            super().tell(points, values, stderrs, ok)

    class Decades:
        name = "decades"
        upper_bound = 1e3
        models_log = True

        def estimate(self, simulated, reference, seed):
            return advopt.DivergenceEstimate(100.0, 10.0, len(simulated))

    result = advopt.tune(simulator, reference, {"mean": (-2.0, 2.0)}, fixed={"width": 1.0}, divergence=Decades(),
                         optimizer=Recording(1, seed=0), budget=2_000, events_per_point=1_000, progress=False)
    assert told == [pytest.approx((math.log(100.0), 0.1))] * 2
    assert result.best_value == pytest.approx(100.0)


def test_a_callback_gets_a_read_only_snapshot_and_stops_the_run_by_returning_true(gaussian_reference):
    import dataclasses

    simulator, reference = gaussian_reference
    seen = []

    def stop_after_two_batches(snapshot):
        seen.append(snapshot)
        with pytest.raises(dataclasses.FrozenInstanceError):
            snapshot.events_used = 0
        assert isinstance(snapshot.history, tuple) and snapshot.recommend() is not None
        return snapshot.iteration == 2

    result = advopt.tune(simulator, reference, optimizer="random", divergence="chi2", budget=20_000, events_per_point=1_000,
                         seed=3, progress=False, callback=stop_after_two_batches)
    assert len(seen) == 2 and len(result.history) == 4 and result.events_used == 4_000
    assert [e.outcome() for e in seen[-1].history] == [e.outcome() for e in result.history]


@pytest.mark.parametrize("optimizer, setting, message", [
    ("pooled", {"batch_size": 2}, "^batch_size: the pooled optimizer plans its own batches"),
    ("variational", {"batch_size": 8}, "^batch_size: the variational optimizer plans its own batches"),
    ("pooled", {"max_events_per_point": 4_000}, "^max_events_per_point: summary-chi2 learns from every point's events"),
    ("variational", {"reference_per_point": 2.0}, "^reference_per_point: jsd-mlp does not draw reference events per point"),
])
def test_settings_a_route_cannot_use_are_refused_before_anything_runs(gaussian_reference, tmp_path, optimizer, setting,
                                                                       message):
    simulator, reference = gaussian_reference
    with pytest.raises(ValueError, match=message):
        advopt.tune(simulator, reference, optimizer=optimizer, budget=40_000, events_per_point=1_000, seed=1,
                    progress=False, run_dir=tmp_path / "run", **setting)
    assert not (tmp_path / "run" / "config.json").exists()


def test_chi2_refuses_a_reference_share_it_would_not_use(gaussian_reference):
    simulator, reference = gaussian_reference
    with pytest.raises(ValueError, match="^reference_per_point: chi2 does not draw reference events per point"):
        advopt.tune(simulator, reference, optimizer="random", divergence="chi2", budget=4_000, events_per_point=1_000,
                    reference_per_point=4.0, progress=False)


def test_a_script_callers_errors_name_its_own_arguments(gaussian_reference):
    """The same bad value reads in tune()'s terms from a script, in the config's from a config."""
    simulator, reference = gaussian_reference
    cases = [(dict(events_per_point=0), "^events_per_point: must be a positive integer"),
             (dict(budget=500, events_per_point=1_000), "^budget: 500 events cannot pay"),
             (dict(workers=0), "^workers: must be a positive integer"),
             (dict(backend="mpi"), "^backend: unknown 'mpi'"),
             (dict(backend="local", execution_options={"retries": -1}), r"^execution_options\['retries'\]: must be"),
             (dict(optimizer="bayes", optimizer_options={"acq_func": "nope"}), r"^optimizer_options\['acq_func'\]"),
             (dict(optimizer="random", batch_size=0), "^batch_size: must be a positive integer")]
    for arguments, message in cases:
        with pytest.raises(ValueError, match=message):
            advopt.tune(simulator, reference, **{"budget": 4_000, "events_per_point": 1_000, "progress": False, **arguments})
    with pytest.raises(ValueError, match="^budget.events_per_point: must be a positive integer"):
        advopt.tune(simulator, reference, events_per_point=0, config={"seed": 0}, progress=False)


def test_the_default_route_closes_and_says_what_it_knows(gaussian_reference):
    """tune() with no route named: the pooled estimator. 20k reference, 40k simulated: each
    parameter within 3 stated sd (two parameters: both hold with ~99% if calibrated), both
    constrained, the goodness of fit tested (4 summaries, 2 parameters: 2 dof) and no fallback."""
    simulator, reference = gaussian_reference
    result = advopt.tune(simulator, reference, budget=40_000, seed=0, truth=simulator.truth, progress=False)
    assert result.optimizer == "pooled"
    for name, value in simulator.truth.items():
        assert abs(result.best_params[name] - value) < 3 * result.uncertainty[name], (name, result.best_params)
    assert result.parameter_status == {"mean": "constrained", "width": "constrained"}
    assert result.goodness_of_fit["dof"] == 2 and result.ok and not result.misfit
