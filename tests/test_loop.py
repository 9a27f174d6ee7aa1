"""The tuning loop (advopt/loop.py): the next batch simulates while the driver learns from the
one before, when the optimiser's next points do not depend on it; the run stays the same.
Real toy events, real files on disk, the serial executor and local worker processes."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

import advopt
from advopt.divergence.base import DivergenceBase, DivergenceEstimate


class MarkingGaussian:
    """The 1-d Gaussian toy, leaving a file in ``marks`` as each simulation starts."""

    feature_names = ("x",)

    def __init__(self, marks: Path):
        self.marks = marks

    def simulate(self, params, n, seed):
        (self.marks / f"started-{seed}").touch()
        return np.random.default_rng(seed).normal(params["mean"], 1.0, (n, 1))


class WaitingForTheNextBatch(DivergenceBase):
    """|mean difference|; its first estimate waits (up to 20 s) until a simulation beyond the
    first batch has started, and records whether one did."""

    name, upper_bound = "waiting-mean-shift", 10.0

    def __init__(self, marks: Path, first_batch: int):
        self.marks, self.first_batch = marks, first_batch
        self.saw_the_next_batch: bool | None = None

    def estimate(self, simulated, reference, seed):
        if self.saw_the_next_batch is None:
            deadline = time.monotonic() + 20
            while len(list(self.marks.glob("started-*"))) <= self.first_batch and time.monotonic() < deadline:
                time.sleep(0.01)
            self.saw_the_next_batch = len(list(self.marks.glob("started-*"))) > self.first_batch
        shift = abs(float(simulated.mean() - reference.mean()))
        return DivergenceEstimate(shift, 1.0 / np.sqrt(len(simulated)), len(simulated))


def _tune(simulator, divergence, **kwargs):
    reference = np.random.default_rng(0).normal(0.3, 1.0, (4_000, 1))
    options = dict(optimizer="random", budget=6_000, events_per_point=1_000, batch_size=2, seed=5, progress=False)
    return advopt.tune(simulator, reference, {"mean": (-1.0, 1.0)}, divergence=divergence, **{**options, **kwargs})


def test_the_next_batch_simulates_while_the_driver_estimates_this_one(tmp_path):
    divergence = WaitingForTheNextBatch(tmp_path, first_batch=2)
    result = _tune(MarkingGaussian(tmp_path), divergence, workers=2)  # in worker processes: in-process ones wait
    assert divergence.saw_the_next_batch is True
    assert len(result.history) == 6 and result.events_used == 6_000
    assert len(list(tmp_path.glob("started-*"))) == 6  # asked ahead within the budget only


@pytest.mark.parametrize("workers", [1, 2])
def test_asking_ahead_leaves_the_history_as_one_batch_at_a_time_gives(tmp_path, workers):
    """The same run with the next batch asked ahead and without (sample growth turns it off)."""
    ahead = _tune(MarkingGaussian(tmp_path), "chi2", workers=workers)
    one_at_a_time = _tune(MarkingGaussian(tmp_path), "chi2", workers=workers, max_events_per_point=1_000)
    assert [e.outcome() for e in ahead.history] == [e.outcome() for e in one_at_a_time.history]


def test_a_batch_asked_ahead_is_not_counted_when_a_callback_stops_the_run(tmp_path):
    run_dir = tmp_path / "run"
    result = _tune(MarkingGaussian(tmp_path), "chi2", run_dir=run_dir, callback=lambda snapshot: True)
    assert len(result.history) == 2 and result.events_used == 2_000
    assert len((run_dir / "history.jsonl").read_text().splitlines()) == 2
