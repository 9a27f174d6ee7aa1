import numpy as np
import pytest

from advopt.data import check_sample, load_sample, save_sample


@pytest.fixture
def events():
    return np.random.default_rng(0).normal(size=(50, 3))


def test_npz_round_trip_with_names(tmp_path, events):
    path = save_sample(tmp_path / "s.npz", events, ["a", "b", "c"], simulator="toy")
    sample = load_sample(path)
    np.testing.assert_array_equal(sample.events, events)
    assert sample.feature_names == ("a", "b", "c")
    assert load_sample(path, features=["c", "a"]).events[:, 0] == pytest.approx(events[:, 2])


def test_npy_and_csv(tmp_path, events):
    np.save(tmp_path / "s.npy", events)
    np.testing.assert_array_equal(load_sample(tmp_path / "s.npy").events, events)
    np.savetxt(tmp_path / "s.csv", events, delimiter=",", header="a,b,c", comments="")
    sample = load_sample(tmp_path / "s.csv", features=["b"])
    assert sample.events[:, 0] == pytest.approx(events[:, 1])


def test_parquet(tmp_path, events):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"a": events[:, 0], "b": events[:, 1]}), tmp_path / "s.parquet")
    sample = load_sample(tmp_path / "s.parquet")
    assert sample.feature_names == ("a", "b") and sample.events.shape == (50, 2)


def test_root_ttree(tmp_path, events):
    uproot = pytest.importorskip("uproot")
    with uproot.recreate(tmp_path / "s.root") as file:
        tree = file.mktree("events", {"a": np.float64, "b": np.float64, "c": np.float64})
        tree.extend({"a": events[:, 0], "b": events[:, 1], "c": events[:, 2]})
        file["ntuple"] = {"x": events[:, 0]}  # an RNTuple, uproot's default for dicts
    sample = load_sample(tmp_path / "s.root", tree="events", features=["c", "a"])
    np.testing.assert_allclose(sample.events, events[:, [2, 0]])
    assert load_sample(f"{tmp_path / 's.root'}:events", features=["b"]).events.shape == (50, 1)
    assert load_sample(tmp_path / "s.root", tree="ntuple", features=["x"]).events[:, 0] == pytest.approx(events[:, 0])
    with pytest.raises(ValueError, match="no TTree 'nope'"):
        load_sample(tmp_path / "s.root", tree="nope")
    with pytest.raises(ValueError, match="name one"):
        load_sample(tmp_path / "s.root", features=["a"])


@pytest.mark.parametrize(
    "setup, message",
    [
        (lambda d: d / "missing.npz", "file not found"),
        (lambda d: (d / "s.txt").write_text("1") and d / "s.txt", "unsupported format"),
    ],
)
def test_bad_files(tmp_path, setup, message):
    with pytest.raises(ValueError, match=message):
        load_sample(setup(tmp_path))


def test_checks_reject_nan_and_empty():
    with pytest.raises(ValueError, match="NaN/inf values in 1 events"):
        check_sample(np.array([[1.0, np.nan], [0.0, 0.0]]))
    with pytest.raises(ValueError, match="non-empty"):
        check_sample(np.zeros((0, 2)))
    with pytest.raises(ValueError, match="1 feature names for 2 columns"):
        check_sample(np.zeros((3, 2)), ["a"])


def test_a_sample_given_to_tune_is_checked_like_an_array():
    """A Sample built by hand (NaN inside) used to skip check_sample and reach the divergence."""
    import advopt
    from advopt.data import Sample

    simulator = advopt.get_simulator("gaussian")
    events = simulator.simulate(simulator.truth, 500, 1)
    events[7, 0] = np.nan
    with pytest.raises(ValueError, match="reference: 1 NaN/inf values"):
        advopt.tune(simulator, Sample(events, ("x",)), budget=1_000, events_per_point=500, optimizer="random",
                    divergence="chi2", progress=False)


def test_config_pseudo_data_holds_the_fixed_parameters_and_is_checked():
    """simulate_at pseudo-data is simulated as the tune simulates: [fixed] values held. A fixed
    width of 1.5 with simulate_at = 'truth' (width 1 there) gave a reference of width 1."""
    from advopt.config import tune_arguments

    config = {"simulator": {"name": "gaussian"}, "parameters": {"mean": [-1.0, 2.0]}, "fixed": {"width": 1.5},
              "reference": {"simulate_at": "truth", "events": 20_000, "seed": 3}}
    reference = tune_arguments(config)["reference"]
    assert reference.events.std() == pytest.approx(1.5, rel=0.03)
    config["reference"]["simulate_at"] = {"mean": 0.5, "width": float("nan")}
    with pytest.raises(ValueError, match="width"):
        tune_arguments(config)
