"""A toy event generator and analysis for the histogram route: fast, with a known answer.

``ToySpectra`` makes events of particles: a Poisson number (mean ``multiplicity``) of
particles with momentum magnitudes drawn from a Gamma distribution of shape ``shape`` (option, 2) and mean
``mean_p`` GeV, isotropic; ``inert`` changes nothing (a parameter the data cannot decide).
It hands the events to analyses in Pythia's layout (advopt/histograms/analysis.py), so the
same fit, report and run directory serve a generator and this toy; its tests know the truth.

``ToySpectraAnalysis`` (``TOY_SPECTRA``) fills d01 the multiplicity distribution (1/N
dN/dn), d02 the momentum spectrum per event (1/N dn/dp) and d03 the mean multiplicity.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from advopt.histograms.analysis import EventRecord, Fills, fill_events

ANALYSIS = "TOY_SPECTRA"
#: A binning for pseudo-data (no bin empty at the truth with 20k events): multiplicity 6-29 in pairs, |p| in 1/3 GeV, the mean in one bin.
BINS = {f"/{ANALYSIS}/d01-x01-y01": (np.arange(5.5, 27.5, 2.0), np.arange(7.5, 29.5, 2.0)),
        f"/{ANALYSIS}/d02-x01-y01": (np.linspace(0.0, 8.0, 25)[:-1], np.linspace(0.0, 8.0, 25)[1:]),
        f"/{ANALYSIS}/d03-x01-y01": (np.array([-0.5]), np.array([0.5]))}
PATHS = {f"/{ANALYSIS}/d01-x01-y01": "density", f"/{ANALYSIS}/d02-x01-y01": "density", f"/{ANALYSIS}/d03-x01-y01": "mean"}


class ToySpectra:
    default_space = {"multiplicity": (5.0, 30.0), "mean_p": (0.5, 3.0), "inert": (0.0, 1.0)}
    truth = {"multiplicity": 15.0, "mean_p": 1.5, "inert": 0.5}

    def __init__(self, shape: float = 2.0):
        if not (isinstance(shape, (int, float)) and shape > 0):
            raise ValueError(f"toy-spectra: shape must be a positive number, got {shape!r}")
        self.shape = float(shape)  # of the momentum's Gamma distribution: another value is another model

    def fill_histograms(self, params: Mapping[str, float], n: int, seed: int, analyses, booking) -> Fills:
        unknown = set(params) - set(self.default_space)
        if unknown:
            raise ValueError(f"toy-spectra: unknown parameter(s) {sorted(unknown)}")
        values = {**self.truth, **params}
        return fill_events(analyses, self._chunks(values, int(n), np.random.default_rng(seed)), booking)

    def _chunks(self, values, n, rng):
        for start in range(0, n, 1000):
            m = min(1000, n - start)
            counts = rng.poisson(values["multiplicity"], m)
            total = int(counts.sum())
            p = rng.gamma(self.shape, values["mean_p"] / self.shape, total)
            cos, phi = rng.uniform(-1, 1, total), rng.uniform(0, 2 * np.pi, total)
            sin = np.sqrt(1 - cos**2)
            offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
            ones = np.ones(total, dtype=np.int64)
            yield EventRecord(offsets, 211 * ones, ones, 0 * ones, p * sin * np.cos(phi), p * sin * np.sin(phi), p * cos,
                              np.sqrt(p**2 + 0.0195), 91.2)


class ToySpectraAnalysis:
    name = ANALYSIS
    histograms = PATHS

    def fill(self, events: EventRecord, booking, fills: Fills) -> None:
        counts = np.diff(events.offsets)
        p = np.sqrt(events.px**2 + events.py**2 + events.pz**2)
        event_of = np.repeat(np.arange(events.n_events), counts)
        per_event = np.zeros((events.n_events, booking.n_bins))
        for path, value, owner in ((f"/{ANALYSIS}/d01-x01-y01", counts.astype(float), np.arange(events.n_events)),
                                   (f"/{ANALYSIS}/d02-x01-y01", p, event_of)):
            if booking.slot(path) < 0:
                continue
            bins = booking.bins_of(path)
            lows, highs = booking.lows[bins], booking.highs[bins]
            index = np.searchsorted(lows, value, side="right") - 1
            ok = (index >= 0) & (value < highs[np.clip(index, 0, None)])
            np.add.at(per_event, (owner[ok], bins.start + index[ok]), 1.0)
        if booking.slot(f"/{ANALYSIS}/d03-x01-y01") >= 0:
            per_event[:, booking.bins_of(f"/{ANALYSIS}/d03-x01-y01").start] = counts
        fills.sums += per_event.sum(axis=0)
        fills.squares += (per_event**2).sum(axis=0)
        fills.n_events += events.n_events
