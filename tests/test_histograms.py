"""Histogram references: YODA/HEPData files, the analysis contract, the fit to histograms on a
toy with a known truth, bad input. Real files, real subprocesses; the toy generator stands in
for Pythia (tests/test_lep_aleph.py runs the real thing)."""

import dataclasses
import json
import subprocess
import sys

import numpy as np
import pytest

from advopt.histograms.analysis import Booking, get_analysis
from advopt.histograms.config import shipped_file
from advopt.histograms.reference import HistogramReference
from advopt.histograms.result import write_simulated
from advopt.histograms.rounds import RESAMPLES
from advopt.histograms.simulation import SimulatedHistograms, pseudo_data
from advopt.histograms.tune import tune_histograms
from advopt.histograms.yoda import read_histograms, write_scatter2d
from advopt.space import Space
from simulators.toy_spectra import BINS, ToySpectra, ToySpectraAnalysis

ALEPH = shipped_file("ALEPH_1996_S3486095.yoda")


def toy_reference(tmp_path, seed=11, n=20_000, shape=2.0, params=None):
    histograms = pseudo_data(ToySpectra(shape), [ToySpectraAnalysis()], BINS, params or ToySpectra.truth, n, seed)
    return write_scatter2d(tmp_path / f"toy_{seed}_{shape}.yoda", histograms)


def test_reads_the_shipped_aleph_file():
    histograms = read_histograms(ALEPH)
    assert len(histograms) == 67 and sum(h.n_bins for h in histograms.values()) == 774
    d01 = histograms["/ALEPH_1996_S3486095/d01-x01-y01"]  # sphericity: first bin [0, 0.005), 12.36 +- 0.408
    assert (d01.lows[0], d01.highs[0], d01.values[0]) == (0.0, 0.005, 12.36)
    assert d01.errors[0] == pytest.approx(0.4079216)
    assert np.all(d01.highs[:-1] <= d01.lows[1:] + 1e-12)


def test_simulated_histograms_round_trip_through_histo1d(tmp_path):
    reference = HistogramReference.load(ALEPH, include=["*/d0[1-3]-*"])
    rng = np.random.default_rng(0)
    sample = SimulatedHistograms(reference.values * rng.uniform(0.9, 1.1, reference.n_bins),
                                 reference.errors * 0.5, reference.errors, np.full(reference.n_bins, 1000.0))
    back = read_histograms(write_simulated(tmp_path / "sim.yoda", reference, sample))
    for h, bins in zip(reference.histograms, reference.slices().values()):
        np.testing.assert_allclose(back[h.path].values, sample.values[bins], rtol=1e-6)
        np.testing.assert_allclose(back[h.path].errors, sample.errors[bins], rtol=1e-6)
        np.testing.assert_allclose(back[h.path].lows, h.lows)


def test_hepdata_csv_table(tmp_path):
    path = tmp_path / "Table1.csv"
    path.write_text("#: name: Table 1\n#: description: thrust\n$1-T$,$1-T$ LOW,$1-T$ HIGH,1/N dN/d(1-T),stat +,stat -,sys +,sys -\n"
                    "0.005,0.0,0.01,10.0,0.3,-0.3,0.4,-0.4\n0.015,0.01,0.02,5.0,0.1,-0.1,0.0,0.0\n")
    (h,) = read_histograms(path).values()
    assert h.path == "/Table1/Table_1"
    np.testing.assert_allclose(h.errors, [0.5, 0.1])
    np.testing.assert_allclose(h.lows, [0.0, 0.01])


def test_selection_min_bins_and_weights(tmp_path):
    reference = HistogramReference.load(ALEPH, min_bins=2, exclude=["*/d35-*", "*/d36-*", "*/d39-*", "*/d40-*"])
    # the 2025 study's objective: d01-d18 and d25-d43 have >= 2 bins (37), less d35, d36, d39, d40
    assert len(reference.histograms) == 33
    weights = tmp_path / "weights.txt"
    weights.write_text("/ALEPH_1996_S3486095/d01-* 1\n/ALEPH_1996_S3486095/d03-*@0.0:0.05 2  # peak only\n")
    weighted = HistogramReference.load(ALEPH, include=["*/d01-*", "*/d03-*"], weights=weights)
    d03 = weighted.weights[weighted.slices()["/ALEPH_1996_S3486095/d03-x01-y01"]]
    centres = 0.5 * (weighted.histograms[1].lows + weighted.histograms[1].highs)
    np.testing.assert_array_equal(d03, np.where(centres <= 0.05, 2.0, 0.0))
    assert np.all(weighted.weights[weighted.slices()["/ALEPH_1996_S3486095/d01-x01-y01"]] == 1.0)


@pytest.mark.parametrize("text, message", [
    ("BEGIN YODA_SCATTER2D_V2 /REF/A/d01-x01-y01\nPath: /REF/A/d01-x01-y01\n---\n0.5 0.5 0.5 1.0 x 0.1\nEND YODA_SCATTER2D_V2\n",
     "bad.yoda line 4: histogram /REF/A/d01-x01-y01: cannot read"),
    ("BEGIN YODA_SCATTER2D_V2 /REF/A/d01-x01-y01\n0.5 0.5 0.5 1.0 0.1\nEND YODA_SCATTER2D_V2\n",
     "bad.yoda line 2: histogram /REF/A/d01-x01-y01: expected 6 columns, got 5"),
    ("BEGIN YODA_SCATTER2D_V2 /REF/A/d01-x01-y01\n0.5 0.5 0.5 1.0 0.1 0.1\n", "bad.yoda line 1: /REF/A/d01-x01-y01 has no END"),
])
def test_a_file_that_does_not_parse_names_file_line_and_histogram(tmp_path, text, message):
    (tmp_path / "bad.yoda").write_text(text)
    with pytest.raises(ValueError, match="^" + message.replace("(", r"\(")):
        read_histograms(tmp_path / "bad.yoda")


def test_bad_references_name_the_field(tmp_path):
    with pytest.raises(ValueError, match=r"reference.include: pattern '\*/d99-\*' matches no histogram"):
        HistogramReference.load(ALEPH, include=["*/d99-*"])
    zero = tmp_path / "zero.yoda"
    zero.write_text("BEGIN YODA_SCATTER2D_V2 /REF/A/d01-x01-y01\n0.5 0.5 0.5 1.0 0.0 0.0\nEND YODA_SCATTER2D_V2\n")
    with pytest.raises(ValueError, match=r"histogram /A/d01-x01-y01 bin 0 .* errors must be positive"):
        HistogramReference.load(zero)
    with pytest.raises(ValueError, match="reference.weights: pattern '/nothing' matches no bin"):
        HistogramReference.load(ALEPH, weights={"/nothing": 1.0})
    with pytest.raises(ValueError, match="analysis: unknown analysis 'NOPE_2000'"):
        get_analysis("NOPE_2000")


def test_an_analysis_whose_binning_disagrees_is_refused(tmp_path):
    class Coarse(ToySpectraAnalysis):
        bins = {"/TOY_SPECTRA/d02-x01-y01": (np.linspace(0, 8, 9)[:-1], np.linspace(0, 8, 9)[1:])}

    reference = HistogramReference.load(toy_reference(tmp_path))
    with pytest.raises(ValueError, match="analysis TOY_SPECTRA: binning of /TOY_SPECTRA/d02-x01-y01 .8 bins. disagrees"):
        tune_histograms(ToySpectra(), reference, Space.from_dict(ToySpectra.default_space), [Coarse()], budget=10_000)


def test_toy_closure_recovers_the_truth_and_names_the_inert_parameter(tmp_path):
    """Pseudo-data of 20k events at the truth; 400k events of tuning. The pulls' scale is
    measured in experiments/bench_histogram_fit.py (coverage over 30 references)."""
    reference = HistogramReference.load(toy_reference(tmp_path))
    space = Space.from_dict(ToySpectra.default_space)
    result = tune_histograms(ToySpectra(), reference, space, budget=400_000, seed=1, run_dir=tmp_path / "run")
    for name in ("multiplicity", "mean_p"):
        low, high = result.intervals[name]
        sd = 0.5 * (high - low)
        assert result.status[name] == "constrained"
        assert abs(result.params[name] - ToySpectra.truth[name]) < 4 * sd, (name, result.params[name], sd)
        assert sd < 0.02 * space[name].width  # the data decide it: far narrower than the range
    assert result.status["inert"] == "not constrained" and result.intervals["inert"] == (0.0, 1.0)
    assert result.start_chi2 > result.chi2 or result.start_chi2 < 2 * result.ndf  # the truth is the start here
    # every bootstrap refit of the last box succeeded (20 points or more for 10 coefficients): no fallback named
    assert result.rounds[-1]["model_noise_refits"] == RESAMPLES and "could not be measured" not in result.summary()
    unmeasured = dataclasses.replace(result, rounds=[*result.rounds[:-1], {**result.rounds[-1], "model_noise_refits": 3,
                                                                             "model_noise_measured": False}])
    assert "the model's own noise could not be measured (3 refits succeeded)" in unmeasured.summary()
    record = json.loads((tmp_path / "run" / "result.json").read_text())
    assert record["status"]["inert"] == "not constrained"
    tuned = read_histograms(tmp_path / "run" / "histograms_tuned.yoda")
    assert set(tuned) == set(reference.paths)
    # 4 rounds of 2 points per coefficient of a quadratic in 3 parameters (10), then the tuned point and the start;
    # the model's variance at the estimate is below the data's, so nothing more is simulated there
    assert "at_estimate" not in result.rounds[-1]
    assert len((tmp_path / "run" / "history.jsonl").read_text().splitlines()) == 4 * 20 + 2


def test_the_estimate_is_simulated_where_the_model_knows_less_than_the_data(tmp_path):
    """Data of 2M events (errors 10x smaller than 20k's) and 200k events of tuning: the last
    round's model is noisier at its estimate than the data, so the estimate is simulated with
    as many events as the data hold, capped at one final share (20k), and the fit redone."""
    reference = HistogramReference.load(toy_reference(tmp_path, n=2_000_000))
    result = tune_histograms(ToySpectra(), reference, Space.from_dict(ToySpectra.default_space), budget=200_000,
                             seed=3, run_dir=tmp_path / "run")
    history = [json.loads(line) for line in (tmp_path / "run" / "history.jsonl").read_text().splitlines()]
    last_round = [h for h in history if h["iteration"] == 3 and h["purpose"] == 0]
    at_estimate = [h for h in history if h["iteration"] == 4 and h["purpose"] == 0]
    assert result.rounds[-1]["at_estimate"] == sum(h["n_events"] for h in at_estimate) == 20_000
    assert result.rounds[-1]["anchored"]  # the later fits take their level from these events
    assert len({json.dumps(h["params"], sort_keys=True) for h in at_estimate}) == 1  # all at the last round's estimate
    assert {h["n_events"] for h in at_estimate} <= {last_round[0]["n_events"], 20_000 // len(at_estimate)}
    finals = [h for h in history if h["purpose"] == 3]
    assert 199_000 < sum(h["n_events"] for h in history) <= 200_000  # the finals gave up what the estimate took
    assert [h["n_events"] for h in finals] == [10_000, 10_000]


def test_a_model_that_cannot_describe_the_data_says_so(tmp_path):
    """Data from a broader momentum spectrum (Gamma shape 1.5) than the model can make (shape 2)."""
    reference = HistogramReference.load(toy_reference(tmp_path, shape=1.5))
    result = tune_histograms(ToySpectra(), reference, Space.from_dict(ToySpectra.default_space), budget=400_000, seed=1)
    assert result.misfit_scale > 3 and result.p_value < 1e-6
    assert "does not describe the data" in result.summary()


def test_same_seed_same_result_with_one_or_two_workers(tmp_path):
    reference = HistogramReference.load(toy_reference(tmp_path))
    space = Space.from_dict(ToySpectra.default_space)
    one = tune_histograms(ToySpectra(), reference, space, budget=100_000, rounds=2, seed=5)
    two = tune_histograms(ToySpectra(), reference, space, budget=100_000, rounds=2, seed=5, workers=2)
    assert one.params == two.params and one.chi2 == two.chi2


def test_a_raising_analysis_is_a_failed_simulation_and_the_run_goes_on(tmp_path):
    class Flaky(ToySpectraAnalysis):
        def fill(self, events, booking, fills):
            if np.mean(np.diff(events.offsets)) > 22:  # points of high multiplicity, far from the truth (15)
                raise RuntimeError("flaky analysis")
            super().fill(events, booking, fills)

    reference = HistogramReference.load(toy_reference(tmp_path))
    result = tune_histograms(ToySpectra(), reference, Space.from_dict(ToySpectra.default_space), [Flaky()],
                             budget=200_000, seed=2, run_dir=tmp_path / "run")
    history = [json.loads(line) for line in (tmp_path / "run" / "history.jsonl").read_text().splitlines()]
    failed = [h for h in history if h["status"] == "failed"]
    assert failed and result.n_failed == len(failed)
    assert "RuntimeError: flaky analysis" in failed[0]["reason"]
    assert np.isfinite(result.chi2)


def test_cli_tunes_to_histograms_and_refuses_bad_input(tmp_path):
    toy_reference(tmp_path)
    config = tmp_path / "toy.toml"
    config.write_text('seed = 2\n[simulator]\nname = "toy-spectra"\n[reference]\nkind = "histograms"\n'
                      'files = ["toy_11_2.0.yoda"]\n[budget]\nevents = 200000\n')
    run = subprocess.run([sys.executable, "-m", "advopt", "-q", "tune", str(config), "--run-dir", str(tmp_path / "run")],
                         capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "multiplicity" in run.stdout and "chi2 at the tuned point" in run.stdout
    assert (tmp_path / "run" / "histograms_start.yoda").is_file()
    config.write_text(config.read_text().replace("toy_11_2.0.yoda", "missing.yoda"))
    bad = subprocess.run([sys.executable, "-m", "advopt", "tune", str(config)], capture_output=True, text=True, cwd=tmp_path)
    assert bad.returncode == 2 and bad.stderr.strip() == "advopt: error: reference.files: file not found: missing.yoda"


def test_each_analysis_normalises_by_its_own_accepted_events():
    """Two analyses in one booking, one selecting only busy events: each bin is a mean over the
    events its own analysis accepted (a shared count would halve the first one's mean)."""
    from advopt.histograms.analysis import bin_values

    class Busy:
        name = "TOY_BUSY"
        histograms = {"/TOY_BUSY/d01-x01-y01": "mean"}

        def fill(self, events, booking, fills):
            counts = np.diff(events.offsets)
            busy = counts[counts > 15]
            slot = booking.bins_of("/TOY_BUSY/d01-x01-y01").start
            fills.sums[slot] += busy.sum()
            fills.squares[slot] += (busy.astype(float) ** 2).sum()
            fills.n_events += len(busy)

    bins = {**{p: BINS[p] for p in ("/TOY_SPECTRA/d03-x01-y01",)}, "/TOY_BUSY/d01-x01-y01": (np.array([-0.5]), np.array([0.5]))}
    booking = Booking.from_bins(bins)
    fills = ToySpectra().fill_histograms({}, 20_000, 3, [ToySpectraAnalysis(), Busy()], booking)
    values = bin_values(fills, booking, {"/TOY_SPECTRA/d03-x01-y01": "mean", "/TOY_BUSY/d01-x01-y01": "mean"}).values
    assert values[0] == pytest.approx(15.0, abs=0.1)  # Poisson(15): mean 15, sd of the mean 0.03
    assert values[1] == pytest.approx(18.56, abs=0.1)  # mean of Poisson(15) above 15: 18.56; sd of the mean ~0.03
    assert fills.n_generated == 20_000


def test_cli_lists_the_analyses():
    run = subprocess.run([sys.executable, "-m", "advopt", "analyses"], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    lines = {line.split()[0]: line for line in run.stdout.splitlines()}
    assert "57 histograms" in lines["ALEPH_1996_S3486095"] and "3 histograms" in lines["TOY_SPECTRA"]
    assert "unavailable" not in run.stdout


def test_pythia_alpha_s_tuned_to_aleph_event_shapes(tmp_path):
    """The real thing, small: Pythia's alphaS(FSR) alone, tuned to ALEPH's measured 1-T and C
    parameter distributions (45 bins) with 120k events from the whole range [0.06, 0.25].
    Every LEP tune puts it at 0.13-0.14 (Monash 0.1365); the box is 0.19 wide."""
    from simulators.pythia import PythiaEE

    reference = HistogramReference.load(ALEPH, include=["*/d03-*", "*/d07-*"])
    space = Space.from_dict({"TimeShower:alphaSvalue": (0.06, 0.25)})
    result = tune_histograms(PythiaEE(sqrt_s=91.2), reference, space, budget=120_000, rounds=3, seed=4, workers=2,
                             run_dir=tmp_path / "run")
    alpha_s = result.params["TimeShower:alphaSvalue"]
    low, high = result.intervals["TimeShower:alphaSvalue"]
    # seeds 4, 5, 6 gave 0.1329, 0.1349, 0.1348, each +- 0.001 to 0.0016, chi2 41-69 for 44 ndf (Monash: 61-70)
    assert 0.128 < alpha_s < 0.142 and result.status["TimeShower:alphaSvalue"] == "constrained"
    assert low <= alpha_s <= high and high - low < 0.01
    assert result.chi2 < 2.5 * result.ndf
    assert (tmp_path / "run" / "histograms_tuned.yoda").is_file()


def test_a_stopped_histogram_run_resumes_from_its_kept_fills(tmp_path):
    """A run whose process died after its first rounds: ``advopt resume`` takes every point
    simulated so far from ``fills/`` and ends with the result an uninterrupted run gives."""
    toy_reference(tmp_path)
    config = tmp_path / "toy.toml"
    config.write_text('seed = 3\n[simulator]\nname = "toy-spectra"\n[reference]\nkind = "histograms"\n'
                      'files = ["toy_11_2.0.yoda"]\n[budget]\nevents = 100000\n[optimizer]\nrounds = 3\n')
    whole = subprocess.run([sys.executable, "-m", "advopt", "-q", "tune", str(config), "--run-dir", str(tmp_path / "whole")],
                           capture_output=True, text=True)
    assert whole.returncode == 0, whole.stderr
    status = subprocess.run([sys.executable, "-m", "advopt", "status", str(tmp_path / "whole")], capture_output=True,
                            text=True)
    assert status.returncode == 0, status.stderr
    assert "finished" in status.stdout and "of 100,000 simulated" in status.stdout and "chi2" in status.stdout
    stopped = tmp_path / "stopped"
    killer = ("import sys, runpy; import advopt.histograms.tune as t\n"
              "orig = t._Run.simulate\n"
              "def stop(self, params, n, purpose, iteration=0):\n"
              "    if iteration == 2: raise SystemExit(3)  # dies before the third round\n"
              "    return orig(self, params, n, purpose, iteration)\n"
              "t._Run.simulate = stop\n"
              f"sys.argv = ['advopt', '-q', 'tune', {str(config)!r}, '--run-dir', {str(stopped)!r}]\n"
              "runpy.run_module('advopt', run_name='__main__')\n")
    died = subprocess.run([sys.executable, "-c", killer], capture_output=True, text=True)
    assert died.returncode == 3 and not (stopped / "result.json").exists()
    kept = len(list((stopped / "fills").glob("*.npz")))
    assert kept == 2 * 20  # two rounds of 20 points
    again = subprocess.run([sys.executable, "-m", "advopt", "-q", "tune", str(config), "--run-dir", str(stopped)],
                           capture_output=True, text=True)
    assert again.returncode == 2 and "already holds a run" in again.stderr
    resumed = subprocess.run([sys.executable, "-m", "advopt", "-q", "resume", str(stopped)], capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    history = [json.loads(line) for line in (stopped / "history.jsonl").read_text().splitlines()]
    assert sum(h["kept"] for h in history) == kept
    one = json.loads((tmp_path / "whole" / "result.json").read_text())
    two = json.loads((stopped / "result.json").read_text())
    assert one["params"] == two["params"] and one["chi2"] == two["chi2"]
