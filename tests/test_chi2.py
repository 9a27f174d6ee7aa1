"""The binned chi-square objective: its statistics, weights files, edges, and a real closure."""

import numpy as np
import pytest

import advopt
from advopt.divergence import make_divergence
from advopt.divergence.chi2 import Chi2Divergence, observable_weights, read_weights_file


def test_same_distribution_gives_about_one_per_bin_and_a_shift_more():
    rng = np.random.default_rng(0)
    reference = rng.normal(size=(100_000, 3))
    divergence = make_divergence("chi2")
    same = [divergence.estimate(rng.normal(size=(5_000, 3)), reference, 0) for _ in range(20)]
    values = np.array([e.value for e in same])
    assert abs(values.mean() - 1.0) < 3 * values.std() / np.sqrt(values.size) + 0.05
    shifted = rng.normal(size=(5_000, 3))
    shifted[:, 0] += 0.2
    far = divergence.estimate(shifted, reference, 0)
    assert far.value > values.mean() + 5 * far.stderr
    assert far.details["n_bins"] == 60


def test_stated_standard_error_matches_the_scatter_within_a_factor_two():
    rng = np.random.default_rng(1)
    reference = rng.normal(size=(50_000, 2))
    divergence = make_divergence("chi2", bins=10)
    estimates = []
    for _ in range(30):
        sim = rng.normal(size=(4_000, 2))
        sim[:, 1] += 0.1
        estimates.append(divergence.estimate(sim, reference, 0))
    scatter = np.std([e.value for e in estimates], ddof=1)
    stated = np.mean([e.stderr for e in estimates])
    assert 0.5 < stated / scatter < 2.0


def test_weights_file_selects_and_weighs_observables(tmp_path):
    path = tmp_path / "weights.txt"
    path.write_text("# Professor-style weights\nn_*  2.0\nthrust 1   # shape\n")
    weights = read_weights_file(path)
    assert weights == {"n_*": 2.0, "thrust": 1.0}
    assert observable_weights(["thrust", "n_charged", "n_photons", "sphericity"], weights).tolist() == [1, 2, 2, 0]

    rng = np.random.default_rng(2)
    reference = rng.normal(size=(20_000, 2))
    sim = rng.normal(size=(4_000, 2))
    sim[:, 1] += 1.0  # only the second observable differs
    only_first = Chi2Divergence(weights={"a": 1.0})
    only_first.prepare(reference, ["a", "b"])
    both = Chi2Divergence()
    both.prepare(reference, ["a", "b"])
    assert only_first.estimate(sim, reference, 0).value < 3 < both.estimate(sim, reference, 0).value


@pytest.mark.parametrize(
    "text, message",
    [("thrust\n", "line 1: expected 'PATTERN WEIGHT'"), ("thrust heavy\n", "line 1"), ("a 1\nb 2 3\n", "line 2")],
)
def test_bad_weights_file_names_the_line(tmp_path, text, message):
    path = tmp_path / "w.txt"
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        read_weights_file(path)


def test_bad_weights_and_edges_are_refused_with_the_field():
    reference = np.random.default_rng(3).normal(size=(1_000, 2))
    with pytest.raises(ValueError, match="pattern 'z' matches no observable"):
        Chi2Divergence(weights={"z": 1.0}).prepare(reference, ["a", "b"])
    with pytest.raises(ValueError, match="every observable has weight 0"):
        Chi2Divergence(weights={"a": 0.0}).prepare(reference, ["a", "b"])
    with pytest.raises(ValueError, match="divergence.edges.a"):
        Chi2Divergence(edges={"a": [1.0, 0.0]})
    with pytest.raises(ValueError, match=r"divergence.edges: \['c'\]"):
        Chi2Divergence(edges={"c": [0.0, 1.0]}).prepare(reference, ["a", "b"])
    with pytest.raises(ValueError, match="divergence.bins"):
        Chi2Divergence(bins=1)
    with pytest.raises(ValueError, match="cannot read"):
        Chi2Divergence(weights="/nonexistent/weights.txt")


def test_explicit_edges_are_used():
    reference = np.random.default_rng(4).uniform(size=(10_000, 1))
    divergence = Chi2Divergence(edges={"u": [0.25, 0.5, 0.75]})
    divergence.prepare(reference, ["u"])
    assert divergence.estimate(reference[:2_000], reference, 0).details["n_bins"] == 4


def test_chi2_tune_recovers_the_gaussian_truth_with_an_interval(gaussian_reference):
    simulator, reference = gaussian_reference
    result = advopt.tune(simulator, reference, optimizer="bayes", divergence="chi2", budget=60_000, events_per_point=2_000, seed=1,
                         truth=simulator.truth, progress=False)
    assert result.divergence == "chi2"
    for name, truth in simulator.truth.items():
        low, high = simulator.default_space[name]
        assert abs(result.best_params[name] - truth) < 0.1
        assert 0 < result.uncertainty[name] < (high - low) / 4
        assert low <= result.interval68[name][0] < result.interval68[name][1] <= high
    assert result.history[0].details["n_bins"] == 20
