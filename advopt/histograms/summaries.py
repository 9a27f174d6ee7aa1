"""An event reference as histograms: the observables' means and quartile fractions, whitened.

The fit to histograms (advopt/histograms/rounds.py) needs summaries that are means over events
of per-event fills, with the reference's errors. A sample of reference events gives them
directly: per observable its mean and the fractions of events at or below the reference's
quartiles. Those summaries are correlated (one event fills all of them), so they are
whitened by the reference's own covariance: each whitened summary is a fixed linear
combination of per-event fills, still a mean over events, and the data's chi-square on them
is the full-covariance chi-square of the raw summaries. The fit then models every
observable's distribution directly, instead of through summaries learnt by a network (at
twenty Pythia parameters the learnt summaries left most of the means' information unused).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from advopt.histograms.analysis import Booking, Fills, fill_events
from advopt.histograms.reference import HistogramReference
from advopt.histograms.yoda import Histogram

NAME = "OBSERVABLE_SUMMARIES"
PATH = f"/{NAME}/whitened"
QUANTILES = (0.25, 0.5, 0.75)
_RANK_TOLERANCE = 1e-10  # eigenvalues below this share of the largest are linear dependences (ties)


@dataclass(frozen=True)
class ObservableSummaries:
    """The per-event summaries of an event reference: ``per_event(events)`` -> whitened fills."""

    scale: np.ndarray  # per observable: its reference sd (1 where it is constant)
    thresholds: tuple[np.ndarray, ...]  # per observable: its distinct reference quartiles
    centre: np.ndarray  # the raw summaries' reference means
    whiten: np.ndarray  # (kept directions, raw summaries)
    n_reference: int

    @classmethod
    def from_reference(cls, reference: np.ndarray) -> "ObservableSummaries":
        reference = np.asarray(reference, dtype=float)
        if reference.ndim != 2 or len(reference) < 2:
            raise ValueError("reference: needs at least two events as an (events, observables) array")
        sd = reference.std(axis=0)
        scale = np.where(sd > 0, sd, 1.0)
        # a discrete observable repeats a quartile: one indicator per distinct threshold
        thresholds = tuple(np.unique(np.quantile(reference[:, j], QUANTILES)) for j in range(reference.shape[1]))
        raw = _raw(reference, scale, thresholds)
        centre = raw.mean(axis=0)
        values, vectors = np.linalg.eigh(np.cov(raw, rowvar=False))
        keep = values > _RANK_TOLERANCE * values.max()
        whiten = (vectors[:, keep] / np.sqrt(values[keep])).T
        return cls(scale, thresholds, centre, whiten, len(reference))

    @property
    def n_summaries(self) -> int:
        return self.whiten.shape[0]

    def per_event(self, events: np.ndarray) -> np.ndarray:
        return (_raw(np.asarray(events, dtype=float), self.scale, self.thresholds) - self.centre) @ self.whiten.T

    def reference(self) -> HistogramReference:
        """The reference's whitened summaries as one histogram: values 0 (they are centred on
        the reference), errors 1/sqrt(events) (their covariance is the identity per event)."""
        k = self.n_summaries
        edges = np.arange(k + 1, dtype=float)
        histogram = Histogram(PATH, edges[:-1], edges[1:], np.zeros(k), np.full(k, 1.0 / np.sqrt(self.n_reference)),
                              "observables' means and quartile fractions, whitened by the reference's covariance")
        return HistogramReference((histogram,), np.ones(k), {})


def _raw(events: np.ndarray, scale: np.ndarray, thresholds) -> np.ndarray:
    columns = [events / scale]
    columns += [(events[:, [j]] <= t[None, :]).astype(float) for j, t in enumerate(thresholds)]
    return np.hstack(columns)


class SummaryAnalysis:
    """Fills the whitened summaries from an (events, observables) array."""

    name = NAME
    histograms = {PATH: "mean"}

    def __init__(self, summaries: ObservableSummaries):
        self.summaries = summaries

    def fill(self, events, booking: Booking, fills: Fills) -> None:
        if PATH not in booking.paths or len(events) == 0:
            return
        values = self.summaries.per_event(events)
        bins = booking.bins_of(PATH)
        fills.sums[bins] += values.sum(axis=0)
        fills.squares[bins] += (values**2).sum(axis=0)
        fills.n_events += len(values)


class EventFills:
    """An event simulator (``simulate(params, n, seed) -> (n, d)``) that feeds analyses of
    event arrays: what the fit to histograms needs of a simulator."""

    def __init__(self, simulator):
        self.simulator = simulator

    def fill_histograms(self, params: Mapping[str, float], n: int, seed: int, analyses, booking: Booking) -> Fills:
        events = np.asarray(self.simulator.simulate(dict(params), n, seed), dtype=float)
        return fill_events(analyses, [_Chunk(events)], booking)

    def __getattr__(self, name: str):
        # the wrapped simulator's start values, truth and space stay visible to the tune
        if name == "simulator":
            raise AttributeError(name)
        return getattr(self.simulator, name)


class _Chunk(np.ndarray):
    """An events array with the ``n_events`` that :func:`fill_events` counts."""

    def __new__(cls, events: np.ndarray):
        return np.asarray(events).view(cls)

    @property
    def n_events(self) -> int:
        return len(self)


def tune_to_events(simulator, reference: np.ndarray, space, *, fixed: Mapping[str, float], budget: int, seed: int,
                   options: Mapping | None, workers: int, backend, execution_options: Mapping | None, run_dir,
                   resume: bool, config: Mapping | None, progress: bool):
    """``tune(..., optimizer="moments")``: the fit to histograms, on the reference events'
    whitened means and quartile fractions. ``options``: ``rounds`` (the histogram fit's)."""
    from advopt.histograms.tune import tune_histograms
    from advopt.settings import check, default

    options = dict(options or {})
    unknown = sorted(set(options) - {"rounds"})
    if unknown:
        raise ValueError(f"optimizer.{unknown[0]}: not an option of the moments fit (it takes rounds)")
    # checked here, where the error is named as the option the caller gave
    rounds = check("optimizer.rounds", options.get("rounds", default("optimizer.rounds")))
    summaries = ObservableSummaries.from_reference(reference)
    return tune_histograms(EventFills(simulator), summaries.reference(), space, [SummaryAnalysis(summaries)],
                           budget=budget, rounds=rounds, seed=seed,
                           workers=workers, backend=backend, execution_options=execution_options, fixed=fixed,
                           run_dir=run_dir, resume=resume, config=config, progress=progress)
