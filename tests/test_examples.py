"""Every example in examples/ runs, through the CLI (or as a script) in a real subprocess, at a
small budget: what a newcomer copies must work."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from advopt.config import load_config

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def run(*args, cwd: Path, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=cwd, timeout=timeout)


def tune(example: str, budget: int, tmp_path: Path, *extra: str) -> dict:
    """``advopt tune examples/EXAMPLE --budget BUDGET`` from another directory; the result."""
    out = run("-m", "advopt", "-q", "tune", str(EXAMPLES / example), "--budget", str(budget), "--run-dir", "run",
              *extra, cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "68% interval" in out.stdout, out.stdout
    return json.loads((tmp_path / "run" / "result.json").read_text())


def test_every_example_has_a_test():
    tested = {"xor_closure.toml", "pythia_four.toml", "chi2_weights.toml", "chi2_weights.txt", "dask_local.toml",
              "slurm.toml", "own_simulator.py", "aleph1996.toml", "README.md"}
    assert {path.name for path in EXAMPLES.iterdir()} == tested


def test_xor_closure_closes(tmp_path):
    result = tune("xor_closure.toml", 30_000, tmp_path)
    assert abs(result["best_params"]["angle"] - result["truth"]["angle"]) <= 2 * result["uncertainty"]["angle"]


def test_pythia_four_runs_the_pooled_route(tmp_path):
    """The smallest budget the pooled route plans for four parameters (200 points of 100)."""
    result = tune("pythia_four.toml", 20_000, tmp_path)
    assert result["optimizer"] == "pooled" and len(result["best_params"]) == 4


def test_chi2_with_the_weights_file_read_beside_the_config(tmp_path):
    result = tune("chi2_weights.toml", 20_000, tmp_path)
    assert result["divergence"] == "chi2" and result["events_used"] == 20_000
    # The weights file is read relative to the config, not to where advopt runs.
    assert not (tmp_path / "chi2_weights.txt").exists()


def test_dask_local_cluster_runs_the_toy(tmp_path):
    """(That the Dask history equals the local processes' is tested in test_execution.py.)"""
    pytest.importorskip("distributed")
    result = tune("dask_local.toml", 8_000, tmp_path)
    assert result["events_used"] == 8_000 and all(e["status"] == "ok" for e in result["history"])


def test_slurm_config_builds_its_jobs_without_submitting():
    """No batch system here: the config's sections are checked, and the job script it would
    submit is built (dask-jobqueue writes it; scaling would call sbatch)."""
    pytest.importorskip("dask_jobqueue")
    from advopt.execution.cluster import jobqueue_cluster

    config = load_config(EXAMPLES / "slurm.toml")
    assert config["execution"]["backend"] == "dask"
    cluster = jobqueue_cluster(config["execution"]["cluster"])
    try:
        script = cluster.job_script()
    finally:
        cluster.close()
    assert "#SBATCH -p short" in script and "#SBATCH --cpus-per-task=8" in script and "#SBATCH -t 04:00:00" in script


def test_own_simulator_script_tunes_its_toy(tmp_path):
    out = run(str(EXAMPLES / "own_simulator.py"), "--budget", "30000", cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "simulator conforms" in out.stdout and "tau" in out.stdout and "constrained" in out.stdout


def test_aleph1996_tunes_pythia_to_published_histograms(tmp_path):
    out = run("-m", "advopt", "tune", str(EXAMPLES / "aleph1996.toml"), "--budget", "60000", "--run-dir", "run",
              cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "chi2/ndf" in out.stdout and "StringZ:aLund" in out.stdout
    assert (tmp_path / "run" / "histograms_tuned.yoda").is_file()
