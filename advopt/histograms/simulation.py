"""Simulating histograms: one worker task fills the booked bins at one parameter point.

A simulator that can feed analyses has ``fill_histograms(params, n, seed, analyses,
booking) -> Fills`` (advopt/histograms/analysis.py; ``simulators.pythia.PythiaEE`` has it).
Workers run :func:`run_fills` through any executor (advopt/execution), so histogram tunes
use the same local processes, Dask or batch clusters as event tunes; a simulation or an
analysis that raises comes back as a failed outcome with its reason, never a crash.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from advopt.execution.tasks import SimulationOutcome, SimulationTask, call_with_timeout, Hung
from advopt.histograms.analysis import Booking, Fills, bin_values


@dataclass(frozen=True)
class HistogramJob:
    """What a worker needs (pickled once per task): the simulator, the analyses, the bins."""

    simulator: object
    analyses: tuple
    booking: Booking


def run_fills(job: HistogramJob, task: SimulationTask) -> SimulationOutcome:
    """Fill the booked bins with ``task.n`` events: the outcome's one row is the
    ``Fills.to_array()`` of the point."""
    started = time.perf_counter()
    try:
        fills = call_with_timeout(job.simulator.fill_histograms,
                                  (dict(task.params), task.n, task.seed, job.analyses, job.booking), task.timeout)
    except Hung:
        return SimulationOutcome(None, f"simulation hung: no result within {task.timeout:g} s (execution.task_timeout)",
                                 time.perf_counter() - started)
    except Exception as err:  # a failing simulation or analysis is data, not a crash
        return SimulationOutcome(None, f"simulation or analysis raised {type(err).__name__}: {err}",
                                 time.perf_counter() - started)
    if fills.n_events <= 0:
        return SimulationOutcome(None, f"no event of {fills.n_generated} passed the analyses' selection",
                                 time.perf_counter() - started)
    rows = fills.to_array()[None]
    if not np.all(np.isfinite(rows)):
        return SimulationOutcome(None, "the analyses filled NaN or inf", time.perf_counter() - started)
    return SimulationOutcome(rows, "", time.perf_counter() - started)


def merged_fills(rows: np.ndarray) -> Fills:
    """The point's fills from the rows of :func:`run_fills` (one; a run directory kept by an earlier version may hold two halves)."""
    total = Fills.from_array(rows[0])
    for row in rows[1:]:
        total.add(Fills.from_array(row))
    return total


@dataclass(frozen=True)
class SimulatedHistograms:
    """One point's simulated bins in the measurement's units: values, their statistical
    errors, and the events' variance of each bin's fill (same units), from ``n_events``."""

    values: np.ndarray
    errors: np.ndarray
    per_event_variance: np.ndarray
    n_events: np.ndarray  # per bin: the accepted events of the analysis filling it

    @classmethod
    def from_fills(cls, fills: Fills, booking: Booking, kinds) -> "SimulatedHistograms":
        binned = bin_values(fills, booking, kinds)
        n = np.maximum(fills.per_bin_events(), 1.0)
        return cls(binned.values, binned.errors, binned.errors**2 * n, n)

    @classmethod
    def from_rows(cls, rows: np.ndarray, booking: Booking, kinds) -> "SimulatedHistograms":
        """From :func:`run_fills`'s rows."""
        return cls.from_fills(merged_fills(rows), booking, kinds)


def check_simulator(simulator) -> None:
    if not callable(getattr(simulator, "fill_histograms", None)):
        raise ValueError(f"simulator: {type(simulator).__name__} cannot feed analyses (it needs a "
                         "fill_histograms(params, n, seed, analyses, booking) method, as pythia-ee has)")


def pseudo_data(simulator, analyses, bins, params, n: int, seed: int):
    """Histograms simulated at ``params`` with ``n`` events, each bin's error its own
    statistical one: a reference with a known truth (closure tests). ``bins``: ``{path:
    (lows, highs)}``."""
    from advopt.histograms.analysis import Booking
    from advopt.histograms.yoda import Histogram

    booking = Booking.from_bins(bins)
    kinds = {p: k for a in analyses for p, k in a.histograms.items()}
    sample = SimulatedHistograms.from_fills(simulator.fill_histograms(dict(params), n, seed, list(analyses), booking),
                                            booking, kinds)
    return [Histogram(path, np.asarray(lo, float), np.asarray(hi, float), sample.values[booking.bins_of(path)],
                      sample.errors[booking.bins_of(path)]) for path, (lo, hi) in bins.items()]


def simulate_histograms(executor, job: HistogramJob, kinds, params, n: int, seed: int, tasks: int = 1) -> SimulatedHistograms:
    """``n`` events at ``params`` in ``tasks`` worker tasks (seeds keyed by ``seed``), merged;
    raises if any task failed."""
    from advopt import seeds

    sizes = [n // tasks + (1 if i < n % tasks else 0) for i in range(tasks)]
    outcomes = executor.map(run_fills, job, [SimulationTask(dict(params), size, seeds.task_seed(seed, 0, i, seeds.SIMULATION))
                                             for i, size in enumerate(sizes)])
    failed = [o.error for o in outcomes if o.events is None]
    if failed:
        raise RuntimeError(f"simulation at {dict(params)} failed: {failed[0]}")
    total = merged_fills(outcomes[0].events)
    for outcome in outcomes[1:]:
        total.add(merged_fills(outcome.events))
    return SimulatedHistograms.from_fills(total, job.booking, kinds)
