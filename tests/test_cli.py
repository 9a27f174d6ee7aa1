"""The CLI through a real subprocess: tune, simulate, list, check, and bad input (exit 2, one line)."""

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from advopt.data import load_sample


def advopt_cli(*args, cwd=None, timeout=300):
    return subprocess.run([sys.executable, "-m", "advopt", *args], capture_output=True, text=True, cwd=cwd, timeout=timeout)


def test_simulate_writes_a_reference_that_tune_reads(tmp_path):
    out = advopt_cli("simulate", "gaussian", "--param", "mean=0.8", "--param", "width=1.0", "-n", "5000",
                     "-o", str(tmp_path / "ref.npz"), "--seed", "3")
    assert out.returncode == 0, out.stderr
    sample = load_sample(tmp_path / "ref.npz")
    assert sample.events.shape == (5000, 1) and sample.feature_names == ("x",)
    assert sample.events.mean() == pytest.approx(0.8, abs=5 / np.sqrt(5000))

    config = tmp_path / "run.toml"
    config.write_text(textwrap.dedent(f"""
        seed = 4
        [simulator]
        name = "gaussian"
        [parameters]
        mean = [-2.0, 2.0]
        [fixed]
        width = 1.0
        [reference]
        path = "{tmp_path / 'ref.npz'}"
        [optimizer]
        kind = "bayes"
        n_initial_points = 6
        [budget]
        events = 16000
        events_per_point = 1000
        [execution]
        workers = 2
    """))
    out = advopt_cli("-q", "tune", str(config), "--run-dir", str(tmp_path / "run"))
    assert out.returncode == 0, out.stderr
    assert "mean" in out.stdout and "no truth known" in out.stdout
    result = json.loads((tmp_path / "run" / "result.json").read_text())
    assert abs(result["best_params"]["mean"] - 0.8) < 0.25
    assert len((tmp_path / "run" / "history.jsonl").read_text().splitlines()) == 16


def test_default_task_runs_the_pythia_closure(tmp_path):
    """`advopt tune` with no config: the built-in Pythia closure (budget cut to stay fast;
    the full-budget run is tests/test_pythia_closure.py::test_default_task_recovers_monash).
    At this budget either verdict may come; it must be the one the printed numbers give."""
    pytest.importorskip("pythia8mc")
    out = advopt_cli("tune", "--budget", "20000", "--run-dir", str(tmp_path / "run"), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    pulls = {}
    for line in out.stdout.splitlines():
        fields = line.replace("[", " ").replace("]", " ").replace(",", " ").split()
        if fields and fields[0] in ("TimeShower:alphaSvalue", "StringFlav:probStoUD"):
            tuned, uncertainty, low, high, truth = map(float, fields[1:6])
            assert low <= tuned <= high and uncertainty > 0
            assert truth == {"TimeShower:alphaSvalue": 0.1365, "StringFlav:probStoUD": 0.217}[fields[0]]  # Monash
            pulls[fields[0]] = (tuned - truth) / uncertainty
    assert len(pulls) == 2, out.stdout
    off = [name for name, pull in pulls.items() if abs(pull) > 2]
    if off:
        assert "closure: truth NOT recovered: " + off[0] in out.stdout
    else:
        assert "closure: truth recovered, every parameter within 2 standard deviations" in out.stdout
    assert "eval 0  TimeShower:alphaSvalue=0.2, StringFlav:probStoUD=0.4" in out.stderr  # starts far from Monash


def test_simulators_lists_registered_with_bounds():
    out = advopt_cli("simulators")
    assert out.returncode == 0, out.stderr
    assert "xor" in out.stdout and "angle [" in out.stdout and "weinberg" in out.stdout


def test_check_reports_conformance(tmp_path):
    (tmp_path / "mysim.py").write_text("import numpy as np\ndef broken(params, n, seed):\n    return np.zeros((n, 2))\n")
    out = advopt_cli("check", "mysim:broken", "--param", "a=1", cwd=tmp_path)
    assert out.returncode == 1 and "FAIL  seeded" in out.stdout
    assert advopt_cli("check", "xor").returncode == 0


@pytest.mark.parametrize(
    "toml, message",
    [
        ("[simulator\nname = 'xor'", "not valid TOML"),
        ("[simulator]\nname = 'nope'\n[reference]\nsimulate_at = 'truth'", "unknown simulator 'nope'"),
        ("[simulator]\nname = 'xor'\n[parameters]\nangle = [1.0, 0.0]\n[reference]\nsimulate_at = 'truth'", "low < high"),
        ("[simulator]\nname = 'xor'\n[parameters]\nspin = 'default'\n[reference]\nsimulate_at = 'truth'", "parameters.spin"),
        ("[simulator]\nname = 'xor'\n[parameters]\nspin = [0, 1]\n[reference]\nsimulate_at = 'truth'", "unknown parameter(s) ['spin']"),
        ("[simulator]\nname = 'xor'\n[reference]\npath = 'missing.npz'", "file not found"),
        ("[simulator]\nname = 'xor'\n[reference]\npath = 'wide.npy'", "reference: it has 3 features, the simulator produces 2"),
        ("[simulator]\nname = 'xor'\n[reference]\npath = 'nan.npy'", "NaN"),
        ("[simulator]\nname = 'xor'\n[reference]\nsimulate_at = 'truth'\n[optimizer]\nkind = 'genetic'", "optimizer.kind"),
        ("[simulator]\nname = 'xor'\n[reference]\nsimulate_at = 'truth'\n[budjet]\nevents = 3", "unknown section"),
        ("[reference]\nsimulate_at = 'truth'", "simulator.name"),
    ],
)
def test_bad_config_exits_2_with_one_line(tmp_path, toml, message):
    np.save(tmp_path / "wide.npy", np.zeros((100, 3)))
    np.save(tmp_path / "nan.npy", np.full((100, 2), np.nan))
    (tmp_path / "bad.toml").write_text(toml)
    out = advopt_cli("tune", "bad.toml", cwd=tmp_path)
    assert out.returncode == 2
    assert "Traceback" not in out.stderr
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("advopt: error:") and message in lines[0], out.stderr


def test_missing_config_file_and_bad_param_flag_exit_2(tmp_path):
    out = advopt_cli("tune", "nowhere.toml", cwd=tmp_path)
    assert out.returncode == 2 and "config: file not found" in out.stderr
    out = advopt_cli("simulate", "gaussian", "--param", "mean", "-n", "10", "-o", str(tmp_path / "x.npz"))
    assert out.returncode == 2 and "expected KEY=VALUE" in out.stderr and "Traceback" not in out.stderr


def test_chi2_config_with_a_weights_file_tunes(tmp_path):
    """The classical route from a config: chi-square objective, Professor-style weights file."""
    (tmp_path / "weights.txt").write_text("# observable  weight\nx0 1.0\nx1 0.5\n")
    (tmp_path / "chi2.toml").write_text(textwrap.dedent("""
        seed = 3
        [simulator]
        name = "gaussian"
        options = {dim = 2}
        [parameters]
        mean = [-2.0, 2.0]
        [fixed]
        width = 1.0
        [reference]
        simulate_at = "truth"
        events = 20000
        [divergence]
        kind = "chi2"
        bins = 15
        weights = "weights.txt"
        [budget]
        events = 20000
        events_per_point = 1000
    """))
    out = advopt_cli("-q", "tune", "chi2.toml", "--run-dir", "run", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    result = json.loads((tmp_path / "run" / "result.json").read_text())
    assert result["divergence"] == "chi2" and abs(result["best_params"]["mean"] - 0.5) < 0.2
    low, high = result["interval68"]["mean"]
    assert low < high and "68% interval" in out.stdout

    (tmp_path / "weights.txt").write_text("thrust 1.0\n")
    out = advopt_cli("tune", "chi2.toml", "--run-dir", "run2", cwd=tmp_path)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "divergence.weights: pattern 'thrust' matches no observable" in out.stderr


def _pooled_config(tmp_path, extra=""):
    config = tmp_path / "pooled.toml"
    config.write_text(textwrap.dedent("""
        seed = 2
        [simulator]
        name = "smeared-decay"
        [reference]
        simulate_at = "truth"
        events = 20000
        [optimizer]
        kind = "pooled"
    """) + extra + textwrap.dedent("""
        [budget]
        events = 40000
        events_per_point = 500
    """))
    return config


def test_pooled_config_tunes_through_the_cli(tmp_path):
    out = advopt_cli("-q", "tune", str(_pooled_config(tmp_path)), "--run-dir", str(tmp_path / "run"))
    assert out.returncode == 0, out.stderr
    result = json.loads((tmp_path / "run" / "result.json").read_text())
    assert result["optimizer"] == "pooled" and result["events_used"] == 40_000
    for name, truth in {"lifetime": 1.2, "resolution": 0.3}.items():
        assert abs(result["best_params"][name] - truth) < 4 * result["uncertainty"][name], (name, result["best_params"])
    assert len((tmp_path / "run" / "history.jsonl").read_text().splitlines()) == 80


@pytest.mark.parametrize("extra, message", [
    ("folds = 0\n", "optimizer.folds: must be an integer >= 2"),
    ('device = "quantum"\n', "optimizer.device:"),
])
def test_pooled_bad_options_exit_2_with_one_line(tmp_path, extra, message):
    out = advopt_cli("tune", str(_pooled_config(tmp_path, extra)), "--run-dir", str(tmp_path / "run"))
    assert out.returncode == 2, out.stderr
    assert message in out.stderr and len(out.stderr.strip().splitlines()) == 1 and "Traceback" not in out.stderr
    assert not (tmp_path / "run").exists()  # refused before anything was written


def test_default_run_directories_differ_within_one_second():
    """Two runs started in the same second (or on two nodes) must not share a directory."""
    from advopt.cli import _default_run_dir

    config = {"simulator": {"name": "gaussian"}}
    names = {_default_run_dir(config) for _ in range(20)}
    assert len(names) == 20


def test_an_internal_key_error_is_not_reported_as_bad_input(monkeypatch):
    """Exit 2 with one line is for bad input; a bug (here a KeyError inside a command) keeps
    its traceback so that it gets reported instead of blamed on the user."""
    import advopt.cli

    def broken(args):
        raise KeyError("internal")

    monkeypatch.setattr(advopt.cli, "_tune", broken)
    with pytest.raises(KeyError, match="internal"):
        advopt.cli.main(["tune"])
