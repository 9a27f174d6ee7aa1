"""The run directory's format: today's directories carry a version, a stored directory of the
format before it resumes to its uninterrupted result, and a newer one is refused."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from advopt.records.rundir import FORMAT_VERSION, RunDirectory, read_config

STORED = Path(__file__).parent / "data" / "rundir_format0"


def test_a_stored_run_directory_of_format_0_resumes_to_its_uninterrupted_result(tmp_path):
    """Written by advopt before the format number (Bayesian chi2 on the Gaussian, stopped
    after 12 of 20 evaluations; result_uninterrupted.json is the whole run's result)."""
    run = tmp_path / "run"
    shutil.copytree(STORED, run)
    done = subprocess.run([sys.executable, "-m", "advopt", "-q", "resume", str(run)], capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr
    resumed = json.loads((run / "result.json").read_text())
    whole = json.loads((STORED / "result_uninterrupted.json").read_text())
    strip = lambda e: {k: v for k, v in e.items() if k not in ("sim_seconds", "train_seconds")}  # noqa: E731
    stored = len((STORED / "history.jsonl").read_text().splitlines())
    # The recorded evaluations come back bit for bit; the new ones match the uninterrupted
    # run to rounding: on another CPU (AVX-512 against the AVX2 machine that wrote it) OpenBLAS
    # picks other kernels and the GP's next points differ in the last bits (measured: 4e-16).
    assert [strip(e) for e in resumed["history"][:stored]] == [strip(e) for e in whole["history"][:stored]]
    assert _to_rounding([strip(e) for e in resumed["history"]]) == _to_rounding([strip(e) for e in whole["history"]])
    assert _to_rounding(resumed["best_params"]) == _to_rounding(whole["best_params"])
    assert _to_rounding(resumed["interval68"]) == _to_rounding(whole["interval68"])
    assert len((run / "history.jsonl").read_text().splitlines()) == 20
    assert "format" not in json.loads((run / "config.json").read_text())  # resuming leaves the record as it was


def _to_rounding(value):
    """``value`` with every float rounded to 9 significant digits (nested lists and dicts)."""
    if isinstance(value, float):
        return float(f"{value:.9g}")
    if isinstance(value, dict):
        return {key: _to_rounding(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_to_rounding(item) for item in value]
    return value


def test_a_new_run_records_its_format(tmp_path):
    RunDirectory(tmp_path).start({"config": None, "resolved": {"seed": 0}})
    assert read_config(tmp_path)["format"] == FORMAT_VERSION


def test_a_newer_format_is_refused_in_one_line(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"format": FORMAT_VERSION + 1, "resolved": {}}))
    with pytest.raises(ValueError, match=f"format {FORMAT_VERSION + 1}, newer than this advopt reads"):
        RunDirectory(tmp_path).resume({"config": None, "resolved": {}})
