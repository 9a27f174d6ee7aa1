"""optimizer="moments" on an event reference: the fit to histograms on the observables' whitened
means and quartile fractions (advopt/histograms/summaries.py)."""

import json
import subprocess
import sys

import numpy as np
import pytest

import advopt
from advopt.histograms.result import HistogramTuneResult
from advopt.histograms.summaries import ObservableSummaries
from simulators.toy import Degenerate, Gaussian


def test_whitened_summaries_have_the_identity_covariance_on_the_reference():
    events = Degenerate().simulate(Degenerate().truth, 50_000, 3)
    summaries = ObservableSummaries.from_reference(events)
    values = summaries.per_event(events)
    # the multiplicity is discrete: its repeated quartiles give one indicator each, no singular direction
    assert values.shape == (50_000, summaries.n_summaries) and summaries.n_summaries <= 3 * 4
    assert np.allclose(values.mean(axis=0), 0.0, atol=1e-9)
    assert np.allclose(np.cov(values, rowvar=False), np.eye(summaries.n_summaries), atol=1e-6)
    # an independent sample at the same truth: whitened means of sd 1/sqrt(n), so chi2 ~ k (sd sqrt(2k))
    other = summaries.per_event(Degenerate().simulate(Degenerate().truth, 50_000, 4)).mean(axis=0)
    chi2 = float(np.sum(other**2) * 50_000 * 50_000 / (2 * 50_000))  # both samples' noise: variance 2/n
    assert chi2 < summaries.n_summaries + 5 * np.sqrt(2 * summaries.n_summaries)


def test_closure_names_what_the_data_do_not_decide(tmp_path):
    """20k reference events at the truth, 200k of tuning. mean, width and rate are seen; only
    left + right is, and inert changes nothing."""
    simulator = Degenerate()
    reference = simulator.simulate(simulator.truth, 20_000, 7)
    result = advopt.tune(simulator, reference, optimizer="moments", budget=200_000, seed=1, run_dir=tmp_path / "run")
    assert isinstance(result, HistogramTuneResult)
    for name in ("mean", "width", "rate"):
        low, high = result.intervals[name]
        sd = 0.5 * (high - low)
        assert result.status[name] == "constrained"
        # pulls of a calibrated fit: within 4 sd (a false alarm in about 1 of 16,000 per parameter)
        assert abs(result.params[name] - simulator.truth[name]) < 4 * sd, (name, result.params[name], sd)
        assert sd < 0.05 * (simulator.default_space[name][1] - simulator.default_space[name][0])
    assert result.status["inert"] == "not constrained" and result.intervals["inert"] == (0.0, 1.0)
    assert result.p_value > 1e-4  # a correct model (p uniform): fails 1 in 10,000
    record = json.loads((tmp_path / "run" / "result.json").read_text())
    assert record["status"]["inert"] == "not constrained"


def test_a_model_that_cannot_describe_the_reference_says_so():
    """A Gaussian fitted to two peaks at -1.5 and 1.5: its quartile fractions cannot match."""
    rng = np.random.default_rng(11)
    reference = np.concatenate([rng.normal(-1.5, 1.0, 10_000), rng.normal(1.5, 1.0, 10_000)])[:, None]
    result = advopt.tune(Gaussian(), reference, optimizer="moments", budget=100_000, seed=2)
    assert result.p_value < 0.01
    assert "does not describe the data" in result.summary()


def test_per_point_settings_are_refused_with_their_field():
    """From a script the error names the argument; from a config, the field (the CLI test)."""
    reference = Gaussian().simulate(Gaussian().truth, 1_000, 1)
    with pytest.raises(ValueError, match="^divergence: the moments fit"):
        advopt.tune("gaussian", reference, optimizer="moments", divergence="mlp", budget=10_000)
    with pytest.raises(ValueError, match="^events_per_point: the moments fit"):
        advopt.tune("gaussian", reference, optimizer="moments", events_per_point=500, budget=10_000)
    with pytest.raises(ValueError, match=r"^optimizer_options\['sigmas'\]: not an option of the moments fit"):
        advopt.tune("gaussian", reference, optimizer="moments", optimizer_options={"sigmas": 2}, budget=10_000)
    with pytest.raises(ValueError, match=r"^optimizer_options\['rounds'\]: must be a positive integer"):
        advopt.tune("gaussian", reference, optimizer="moments", optimizer_options={"rounds": 0}, budget=10_000)


def test_cli_tunes_resumes_and_prints_the_table(tmp_path):
    config = tmp_path / "moments.toml"
    config.write_text('seed = 3\n[simulator]\nname = "gaussian"\n[reference]\nsimulate_at = "truth"\nevents = 5000\n'
                      '[optimizer]\nkind = "moments"\nrounds = 2\n[budget]\nevents = 60000\n')
    run_dir = tmp_path / "run"

    def advopt_cli(*args):
        return subprocess.run([sys.executable, "-m", "advopt", "-q", *args], capture_output=True, text=True, timeout=300)

    first = advopt_cli("tune", str(config), "--run-dir", str(run_dir))
    assert first.returncode == 0, first.stderr
    assert "chi2 at the tuned point" in first.stdout and "mean" in first.stdout
    tuned = json.loads((run_dir / "result.json").read_text())["params"]
    again = advopt_cli("resume", str(run_dir))
    assert again.returncode == 0, again.stderr
    assert json.loads((run_dir / "result.json").read_text())["params"] == tuned  # replayed from the kept fills
    assert again.stdout.splitlines()[:3] == first.stdout.splitlines()[:3]  # same parameters, same intervals
    config.write_text(config.read_text().replace("rounds = 2", "rounds = 0"))
    bad = advopt_cli("tune", str(config), "--run-dir", str(tmp_path / "bad"))
    assert bad.returncode == 2 and "optimizer.rounds" in bad.stderr and "Traceback" not in bad.stderr
