"""No process outlives a command: each CLI command runs in a session of its own, and once it has
ended nothing of that session is left (worker processes, their resource trackers); a driver
killed with SIGKILL takes its workers with it within a minute."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="lists processes by session with ps")

CONFIG = """
seed = 3
[simulator]
name = "gaussian"
[reference]
simulate_at = "truth"
events = 2000
[optimizer]
kind = "random"
[divergence]
kind = "boosting"
[budget]
events = {budget}
events_per_point = 500
[execution]
workers = 2
"""


def in_session(session: int) -> list[str]:
    """The processes whose session is ``session`` (a finished command's, by its pid); ``-ww``: whole
    command lines (ps cuts them to the terminal's width otherwise, and a long venv path hides "loky")."""
    out = subprocess.run(["ps", "-ww", "-eo", "pid=,sid=,stat=,args="], capture_output=True, text=True, check=True).stdout
    rows = [line.split(None, 3) for line in out.splitlines()]
    return [" ".join(row) for row in rows if len(row) >= 3 and row[1] == str(session) and not row[2].startswith("Z")]


def advopt(*args: str, cwd: Path) -> subprocess.Popen:
    """The command in a session of its own; its output goes to files, not pipes, which a
    process left behind would hold open."""
    log = cwd / f"{args[0]}.log"
    with open(log, "w") as out:
        return subprocess.Popen([sys.executable, "-m", "advopt", *args], cwd=cwd, start_new_session=True,
                                stdout=out, stderr=subprocess.STDOUT)


def left_after(process: subprocess.Popen, within: float) -> list[str]:
    """What is still alive of the command's session ``within`` seconds after it ended."""
    deadline = time.monotonic() + within
    while (left := in_session(process.pid)) and time.monotonic() < deadline:
        time.sleep(0.5)
    return left


def test_no_process_outlives_tune_resume_report_or_simulate(tmp_path):
    (tmp_path / "c.toml").write_text(CONFIG.format(budget=4000))
    commands = [("tune", "c.toml", "--run-dir", "run"), ("resume", "run"), ("report", "run", "-o", "report"),
                ("simulate", "gaussian", "-n", "100", "-o", "x.npz")]
    for command in commands:
        process = advopt(*command, cwd=tmp_path)
        process.wait(timeout=300)
        output = (tmp_path / f"{command[0]}.log").read_text()
        assert process.returncode == 0, f"advopt {' '.join(command)}: {output[-800:]}"
        # An orderly exit closes the pool at once; 5 s covers the processes' own shutdown.
        assert left_after(process, within=5) == [], f"advopt {' '.join(command)} left processes behind"


def test_workers_of_a_killed_driver_exit_within_a_minute(tmp_path):
    (tmp_path / "c.toml").write_text(CONFIG.format(budget=10_000_000))
    process = advopt("tune", "c.toml", "--run-dir", "run", cwd=tmp_path)
    try:
        history = tmp_path / "run" / "history.jsonl"
        deadline = time.monotonic() + 120
        while not (history.is_file() and history.read_text().count("\n") >= 2) and time.monotonic() < deadline:
            assert process.poll() is None, (tmp_path / "tune.log").read_text()[-800:]
            time.sleep(0.2)
        workers = [row for row in in_session(process.pid) if "loky" in row and str(process.pid) != row.split()[0]]
        assert workers, f"the tune should be running with its worker processes: {in_session(process.pid)}"
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    left = left_after(process, within=60)
    for row in left:  # do not leave them to the next test either
        os.kill(int(row.split()[0]), signal.SIGKILL)
    assert left == []
