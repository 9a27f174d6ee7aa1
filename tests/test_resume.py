"""Checkpoint and resume: a run stopped anywhere continues to the result an uninterrupted run gives."""

import json
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import advopt
from advopt import TuneResult


class Stop(Exception):
    pass


def _tune(simulator, reference, run_dir, **extra):
    kwargs = dict(optimizer="bayes", budget=10_000, events_per_point=1_000, batch_size=2, seed=8, run_dir=run_dir, progress=False)
    kwargs.update(extra)
    return advopt.tune(simulator, reference, {"mean": (-2.0, 2.0)}, fixed={"width": 1.0}, **kwargs)


def test_resume_after_a_crash_gives_the_uninterrupted_result(tmp_path, gaussian_reference):
    simulator, reference = gaussian_reference
    whole = _tune(simulator, reference, tmp_path / "whole")

    def crash_after_three_batches(state):
        if state.iteration == 3:
            raise Stop

    with pytest.raises(Stop):
        _tune(simulator, reference, tmp_path / "cut", callback=crash_after_three_batches)
    lines = (tmp_path / "cut" / "history.jsonl").read_text().splitlines()
    assert len(lines) == 6
    # The driver died while writing: half a line at the end, and one finished evaluation of a batch.
    with open(tmp_path / "cut" / "history.jsonl", "a") as file:
        file.write(lines[0][: len(lines[0]) // 2])

    with pytest.warns(UserWarning, match="last line of .* was cut off .* kept the 6 evaluations before"):
        resumed = _tune(simulator, reference, tmp_path / "cut", resume=True)
    assert [e.outcome() for e in resumed.history] == [e.outcome() for e in whole.history]
    assert resumed.best_params == whole.best_params and resumed.events_used == 10_000
    assert len((tmp_path / "cut" / "history.jsonl").read_text().splitlines()) == 10


def test_resume_of_a_partial_batch_simulates_only_the_missing_point(tmp_path, gaussian_reference):
    simulator, reference = gaussian_reference
    whole = _tune(simulator, reference, tmp_path / "whole")
    (tmp_path / "cut").mkdir()
    (tmp_path / "cut" / "config.json").write_text((tmp_path / "whole" / "config.json").read_text())
    lines = (tmp_path / "whole" / "history.jsonl").read_text().splitlines(keepends=True)
    (tmp_path / "cut" / "history.jsonl").write_text("".join(lines[:5]))  # batch 2 has 1 of its 2 points
    resumed = _tune(simulator, reference, tmp_path / "cut", resume=True)
    assert [e.outcome() for e in resumed.history] == [e.outcome() for e in whole.history]


def test_a_run_directory_of_another_config_is_refused(tmp_path, gaussian_reference):
    simulator, reference = gaussian_reference
    _tune(simulator, reference, tmp_path / "run", budget=2_000)
    with pytest.raises(ValueError, match=r"different configuration \(differs in \['seed'\]\)"):
        _tune(simulator, reference, tmp_path / "run", budget=2_000, seed=9, resume=True)
    with pytest.raises(ValueError, match="already holds a run"):
        _tune(simulator, reference, tmp_path / "run", budget=2_000)


@pytest.mark.parametrize("change, field", [
    ({"chunk_size": 500}, "arguments.chunk_size"),
    ({"divergence": "mlp", "divergence_options": {"max_epochs": 7}}, "arguments.divergence.max_epochs"),
    ({"optimizer_options": {"n_initial_points": 4}}, "arguments.optimizer.options"),
    ({"max_events_per_point": 4_000}, "arguments.growth"),
])
def test_resume_refuses_any_other_setting(tmp_path, gaussian_reference, change, field):
    """Every resolved argument the history depends on is recorded and compared on resume
    (options of the optimiser and divergence, chunking, growth), not only the headline ones."""
    simulator, reference = gaussian_reference
    first = {"divergence": "mlp", "divergence_options": {"max_epochs": 6}} if "divergence" in change else {}
    _tune(simulator, reference, tmp_path / "run", budget=2_000, **first)
    with pytest.raises(ValueError, match=rf"differs in \[[^]]*'{field}"):
        _tune(simulator, reference, tmp_path / "run", budget=2_000, resume=True, **change)


def test_resume_tells_simulator_options_apart(tmp_path):
    """PythiaEE(sqrt_s=91) and (sqrt_s=200) once looked the same; options are part of the record."""
    sharp, smeared = advopt.get_simulator("weinberg"), advopt.get_simulator("weinberg", smearing=0.1)
    reference = sharp.simulate(sharp.truth, 2_000, 1)
    kwargs = dict(optimizer="random", divergence="chi2", budget=1_000, events_per_point=500, progress=False)
    advopt.tune(sharp, reference, run_dir=tmp_path / "run", **kwargs)
    with pytest.raises(ValueError, match="arguments.simulator"):
        advopt.tune(smeared, reference, run_dir=tmp_path / "run", resume=True, **kwargs)


def test_cli_driver_killed_with_sigkill_then_resumed(tmp_path):
    config = tmp_path / "run.toml"
    config.write_text(textwrap.dedent("""
        seed = 3
        [simulator]
        name = "gaussian"
        [parameters]
        mean = [-2.0, 2.0]
        [fixed]
        width = 1.0
        [reference]
        simulate_at = "truth"
        events = 5000
        [optimizer]
        kind = "bayes"
        n_initial_points = 4
        [budget]
        events = 24000
        events_per_point = 1000
        [execution]
        workers = 2
    """))
    cli = [sys.executable, "-m", "advopt", "-q"]
    whole = subprocess.run([*cli, "tune", str(config), "--run-dir", str(tmp_path / "whole")], capture_output=True, text=True)
    assert whole.returncode == 0, whole.stderr

    driver = subprocess.Popen([*cli, "tune", str(config), "--run-dir", str(tmp_path / "cut")],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    history = tmp_path / "cut" / "history.jsonl"
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and (not history.exists() or len(history.read_text().splitlines()) < 9):
        time.sleep(0.05)
    driver.send_signal(signal.SIGKILL)
    driver.wait()
    done = len(history.read_text().splitlines())
    assert 9 <= done < 24, f"the kill should land mid-run, after {done} evaluations"

    resumed = subprocess.run([*cli, "resume", str(tmp_path / "cut")], capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    whole_result = json.loads((tmp_path / "whole" / "result.json").read_text())
    cut_result = json.loads((tmp_path / "cut" / "result.json").read_text())
    assert cut_result["best_params"] == whole_result["best_params"]
    timings = ("sim_seconds", "train_seconds")
    def strip(history):
        return [{k: v for k, v in e.items() if k not in timings} for e in history]
    assert strip(cut_result["history"]) == strip(whole_result["history"])
    assert TuneResult.load(tmp_path / "cut" / "result.json").events_used == 24_000


def test_run_files_are_strict_json_even_with_non_finite_numbers(tmp_path):
    """A failed evaluation's NaN, or an interval that could not be computed, is written as null,
    not as a bare NaN that strict JSON readers (jq, JavaScript, pandas' engine) reject."""
    from advopt.records.result import Evaluation, Status
    from advopt.records.rundir import RunDirectory

    def strict(text):
        return json.loads(text, parse_constant=lambda token: pytest.fail(f"non-JSON token {token}"))

    run = RunDirectory(tmp_path / "run")
    run.start({"seed": 0})
    failed = Evaluation(index=0, iteration=0, params={"mean": 1.0}, value=float("nan"), stderr=float("inf"),
                        n_events=10, seed=1, status=Status.FAILED, reason="boom", details={"train_value": float("nan")})
    run.append(failed)
    strict((tmp_path / "run" / "history.jsonl").read_text())
    result = TuneResult(best_params={"mean": 1.0}, best_value=float("nan"), uncertainty={"mean": float("nan")},
                        interval68={"mean": (float("nan"), float("nan"))}, history=(failed,), events_used=10,
                        budget=10, reference_size=10, optimizer="random", divergence="mlp", seed=0)
    result.save(tmp_path / "result.json")
    strict((tmp_path / "result.json").read_text())
    loaded = TuneResult.load(tmp_path / "result.json")
    assert np.isnan(loaded.uncertainty["mean"]) and np.isnan(loaded.interval68["mean"][0])
    assert np.isnan(loaded.history[0].value)


def test_the_machine_is_recorded_and_a_resume_elsewhere_warns(tmp_path, gaussian_reference):
    """environment.json holds what the bits depend on (CPU, flags, thread caps, versions); a
    resume on a machine that differs says in which entries."""
    simulator, reference = gaussian_reference
    _tune(simulator, reference, tmp_path / "run", budget=2_000)
    record = json.loads((tmp_path / "run" / "environment.json").read_text())
    assert record["versions"]["numpy"] == np.__version__ and record["blas_threads"] == 1 and record["cpu_model"]
    record["versions"]["numpy"], record["cpu_model"] = "0.0", "another CPU"
    (tmp_path / "run" / "environment.json").write_text(json.dumps(record))
    with pytest.warns(UserWarning, match=r"differs from the run's start in \['cpu_model', 'versions.numpy'\]"):
        _tune(simulator, reference, tmp_path / "run", budget=2_000, resume=True)


def test_two_runs_of_the_default_route_write_bit_identical_histories(tmp_path):
    """Same machine, same seed: history.jsonl is identical byte for byte once the timings are
    set aside (the default route, the pooled estimator, on a toy)."""
    simulator = advopt.get_simulator("smeared-decay")
    reference = simulator.simulate(simulator.truth, 4_000, 2)
    for name in ("first", "second"):
        advopt.tune(simulator, reference, budget=24_000, events_per_point=500, seed=4, run_dir=tmp_path / name,
                    progress=False)

    def without_timings(path):
        lines = [json.loads(line) for line in path.read_text().splitlines()]
        return [json.dumps({k: v for k, v in line.items() if k not in ("sim_seconds", "train_seconds")}) for line in lines]

    first, second = (without_timings(tmp_path / name / "history.jsonl") for name in ("first", "second"))
    assert len(first) == 48 and first == second


def test_resume_from_a_script_continues_a_config_run(tmp_path, gaussian_reference):
    """advopt.resume(run_dir): a run started from a config (advopt tune), stopped after its
    first batches, ends where the uninterrupted run ends; a script's run is refused by name."""
    config = tmp_path / "run.toml"
    config.write_text('seed = 4\n[simulator]\nname = "gaussian"\n[reference]\nsimulate_at = "truth"\nevents = 2000\n'
                      '[optimizer]\nkind = "random"\n[divergence]\nkind = "boosting"\n'
                      '[budget]\nevents = 6000\nevents_per_point = 500\n')
    whole = subprocess.run([sys.executable, "-m", "advopt", "-q", "tune", str(config), "--run-dir", "whole"],
                           capture_output=True, text=True, cwd=tmp_path)
    assert whole.returncode == 0, whole.stderr
    stopped = tmp_path / "stopped"
    stopped.mkdir()
    for name in ("config.json", "environment.json"):
        (stopped / name).write_bytes((tmp_path / "whole" / name).read_bytes())
    lines = (tmp_path / "whole" / "history.jsonl").read_text().splitlines(keepends=True)
    (stopped / "history.jsonl").write_text("".join(lines[:4]))  # as if the driver died after 4 evaluations
    result = advopt.resume(stopped)
    expected = TuneResult.load(tmp_path / "whole" / "result.json")
    assert result.best_params == expected.best_params and result.events_used == expected.events_used

    script = tmp_path / "script"
    simulator, reference = gaussian_reference
    advopt.tune(simulator, reference[:2000], optimizer="random", divergence="boosting", budget=1000,
                events_per_point=500, run_dir=script, seed=1)
    with pytest.raises(ValueError, match="started from a script"):
        advopt.resume(script)
