"""The analysis plug-in API: events in, the fills of a measurement's histograms out.

An analysis is what a Rivet analysis is to a generator: it knows how a measurement defined
its observables and turns each event into that measurement's histogram fills. Its contract:

* ``name``: the measurement's name (``"ALEPH_1996_S3486095"``);
* ``histograms``: ``{path: kind}`` for every histogram it can fill, paths as the reference
  file names them without the ``/REF`` prefix (``"/ALEPH_1996_S3486095/d01-x01-y01"``);
  ``kind`` is ``"density"`` (the bin's value is the mean over accepted events of the event's
  fill, divided by the bin's width: 1/N dN/dx, or a per-event spectrum) or ``"mean"`` (the
  value is the mean of the event's fill itself: a mean multiplicity);
* ``fill(events, booking, fills)``: add one chunk of events (:class:`EventRecord`) into
  ``fills`` (:class:`Fills`), using the bins of ``booking`` (:class:`Booking`, read from the
  reference file, so the analysis never restates a binning).

Every bin's value is then a mean over events of a per-event quantity, which is what makes
the fit to histograms a moment fit: ``Fills`` keeps, per bin, the sum over accepted events of
the event's fill and of its square, so the simulation's error of a bin is the events' own
scatter (a spectrum's fills within one event are correlated; their per-fill sum of squared
weights, Rivet's ``sumw2``, would understate it).

Built-in and third-party analyses register in the entry-point group ``advopt.analyses``;
``package.module:attr`` works too (a class or factory, called with no arguments, or an
analysis object).
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any, Protocol, runtime_checkable

import numpy as np

ENTRY_POINT_GROUP = "advopt.analyses"
KINDS = ("density", "mean")


@dataclass(frozen=True)
class EventRecord:
    """A chunk of generated events laid out flat, as ``Pythia.nextBatch`` delivers them: the
    whole event record (partons, hadrons that later decayed, the final state). Rows of event
    ``i`` are ``offsets[i]:offsets[i+1]``; ``mother1`` indexes inside the event (0 = the
    system line); ``status > 0`` is the final state, ``|status| >= 81`` a produced hadron or a
    decay product (Pythia's status codes). Momenta in GeV."""

    offsets: np.ndarray  # int64, n_events + 1
    pid: np.ndarray  # int
    status: np.ndarray  # int
    mother1: np.ndarray  # int
    px: np.ndarray  # float64
    py: np.ndarray
    pz: np.ndarray
    e: np.ndarray
    sqrt_s: float

    @property
    def n_events(self) -> int:
        return len(self.offsets) - 1


@dataclass(frozen=True)
class Booking:
    """The bins an analysis fills, flat: histogram ``k`` of ``paths`` owns bins
    ``first[k]:first[k+1]``, bin ``b`` covering ``[lows[b], highs[b])``. ``slot(path)`` is
    ``k``, or -1 where the path is not booked (the analysis skips it)."""

    paths: tuple[str, ...]
    lows: np.ndarray
    highs: np.ndarray
    first: np.ndarray  # int64, len(paths) + 1

    @classmethod
    def from_bins(cls, bins: Mapping[str, tuple[np.ndarray, np.ndarray]]) -> "Booking":
        paths = tuple(bins)
        lows = [np.asarray(bins[p][0], dtype=np.float64) for p in paths]
        highs = [np.asarray(bins[p][1], dtype=np.float64) for p in paths]
        first = np.concatenate([[0], np.cumsum([len(lo) for lo in lows])]).astype(np.int64)
        def flat(arrays):
            return (np.concatenate(arrays) if arrays else np.zeros(0))
        return cls(paths, flat(lows), flat(highs), first)

    @property
    def n_bins(self) -> int:
        return int(self.first[-1])

    def slot(self, path: str) -> int:
        return self.paths.index(path) if path in self.paths else -1

    def slots(self, paths: Sequence[str]) -> np.ndarray:
        """``slot`` of each of ``paths``, as an int64 array (for compiled kernels)."""
        return np.array([self.slot(p) for p in paths], dtype=np.int64)

    def bins_of(self, path: str) -> slice:
        k = self.paths.index(path)
        return slice(int(self.first[k]), int(self.first[k + 1]))

    def widths(self) -> np.ndarray:
        return self.highs - self.lows


@dataclass
class Fills:
    """Per booked bin, the sum over accepted events of the event's fill (``sums``) and of its
    square (``squares``); ``n_events`` accepted events, ``n_generated`` generated. An analysis
    adds to ``n_events`` what it accepts; when several analyses fill one booking (each its own
    histograms, with its own event selection) :func:`fill_events` keeps each bin's own count
    in ``events``."""

    sums: np.ndarray
    squares: np.ndarray
    n_events: int = 0
    n_generated: int = 0
    events: np.ndarray | None = None  # per bin: the accepted events of the analysis filling it

    @classmethod
    def empty(cls, booking: Booking) -> "Fills":
        return cls(np.zeros(booking.n_bins), np.zeros(booking.n_bins))

    def per_bin_events(self) -> np.ndarray:
        return self.events if self.events is not None else np.full(len(self.sums), float(self.n_events))

    def add(self, other: "Fills") -> None:
        self.events = self.per_bin_events() + other.per_bin_events()
        self.sums += other.sums
        self.squares += other.squares
        self.n_events += other.n_events
        self.n_generated += other.n_generated

    def to_array(self) -> np.ndarray:
        """One float64 row: ``[n_events, n_generated, sums..., squares..., events...]`` (for workers)."""
        return np.concatenate([[self.n_events, self.n_generated], self.sums, self.squares, self.per_bin_events()])

    @classmethod
    def from_array(cls, row: np.ndarray) -> "Fills":
        n = (len(row) - 2) // 3
        return cls(np.array(row[2:2 + n], dtype=np.float64), np.array(row[2 + n:2 + 2 * n], dtype=np.float64),
                   int(row[0]), int(row[1]), np.array(row[2 + 2 * n:], dtype=np.float64))


def fill_events(analyses: Sequence["Analysis"], chunks, booking: Booking) -> Fills:
    """Let every analysis fill its booked histograms from every chunk of events
    (:class:`EventRecord`); each analysis counts its own accepted events, kept per bin. This is
    what a simulator's ``fill_histograms`` does with its events."""
    own = [Fills.empty(booking) for _ in analyses]
    generated = 0
    for chunk in chunks:
        for analysis, fills in zip(analyses, own):
            analysis.fill(chunk, booking, fills)
        generated += chunk.n_events
    total = Fills.empty(booking)
    total.events = np.zeros(booking.n_bins)
    for analysis, fills in zip(analyses, own):
        total.sums += fills.sums
        total.squares += fills.squares
        for path in analysis.histograms:
            if path in booking.paths:
                total.events[booking.bins_of(path)] = fills.n_events
    total.n_events = max((f.n_events for f in own), default=0)
    total.n_generated = generated
    return total


@runtime_checkable
class Analysis(Protocol):
    name: str
    histograms: Mapping[str, str]

    def fill(self, events: EventRecord, booking: Booking, fills: Fills) -> None: ...


# -- registry ---------------------------------------------------------------------------
def registered_analyses() -> dict[str, str]:
    """Name -> 'module:attr' for every analysis registered through entry points."""
    return {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}


def get_analysis(name: str) -> Analysis:
    """A registered analysis by name, or ``package.module:attr``; checked (see :func:`check_analysis`)."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"analysis: expected a registered name or 'module:attr', got {name!r}")
    registered = registered_analyses()
    target = registered.get(name, name)
    if ":" not in target:
        known = ", ".join(sorted(registered)) or "none"
        raise ValueError(f"analysis: unknown analysis {name!r} (registered: {known}; or give 'module:attr')")
    module_name, _, attr = target.partition(":")
    try:
        obj: Any = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as err:
        raise ValueError(f"analysis: cannot load {target!r}: {err}") from None
    if inspect.isclass(obj) or (callable(obj) and not hasattr(obj, "fill")):
        obj = obj()
    return check_analysis(obj)


def check_analysis(analysis) -> Analysis:
    """The conformance check: a name, histograms with known kinds, a fill method."""
    label = getattr(analysis, "name", None) or type(analysis).__name__
    if not isinstance(getattr(analysis, "name", None), str):
        raise ValueError(f"analysis {label!r}: needs a 'name' (the measurement's name)")
    histograms = getattr(analysis, "histograms", None)
    if not isinstance(histograms, Mapping) or not histograms:
        raise ValueError(f"analysis {label!r}: needs 'histograms', a mapping path -> kind")
    for path, kind in histograms.items():
        if not isinstance(path, str) or not path.startswith("/"):
            raise ValueError(f"analysis {label!r}: histogram path {path!r} must start with '/'")
        if kind not in KINDS:
            raise ValueError(f"analysis {label!r}: histogram {path!r} has kind {kind!r}, expected one of {KINDS}")
    if not callable(getattr(analysis, "fill", None)):
        raise ValueError(f"analysis {label!r}: needs a fill(events, booking, fills) method")
    return analysis


@dataclass(frozen=True)
class BinValues:
    """A simulated histogram in the measurement's units: value and statistical error per bin."""

    values: np.ndarray
    errors: np.ndarray
    extra: dict = field(default_factory=dict)


def bin_values(fills: Fills, booking: Booking, kinds: Mapping[str, str]) -> BinValues:
    """Each bin's value (mean fill per accepted event, per unit width for densities) and the
    error of that mean from the events' scatter."""
    n = np.maximum(fills.per_bin_events(), 1.0)
    mean = fills.sums / n
    variance = np.maximum(fills.squares / n - mean**2, 0.0)
    error = np.sqrt(variance / n)
    scale = np.ones(booking.n_bins)
    for path in booking.paths:
        if kinds[path] == "density":
            bins = booking.bins_of(path)
            scale[bins] = 1.0 / booking.widths()[bins]
    return BinValues(mean * scale, error * scale)
