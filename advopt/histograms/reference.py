"""A reference made of published histograms: selected from files, weighted, checked.

``HistogramReference.load(files, include, exclude, min_bins, weights)`` reads YODA or
HEPData files (advopt/histograms/yoda.py), keeps the histograms whose paths match ``include``
(shell-style globs, default all) and none of ``exclude``, with at least ``min_bins`` bins,
and weights them as a Professor weights file does: ``PATTERN WEIGHT`` per line, where
``PATTERN`` is a path glob, optionally with a bin range ``PATTERN@LOW:HIGH`` (bins whose
centre lies in [LOW, HIGH]); a later line overrides an earlier one. Weight 0 leaves a bin
out of the fit (it is still simulated and shown).

The chi-square's error per bin is the file's total error; ``covariance`` (``{path: (n, n)
matrix}``) replaces it for a histogram where the publication gives bin-to-bin correlations.
"""

from __future__ import annotations

import fnmatch
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from advopt.histograms.yoda import Histogram, read_histograms


@dataclass(frozen=True)
class HistogramReference:
    """The measured histograms of a tune, in order, with their bins' weights."""

    histograms: tuple[Histogram, ...]
    weights: np.ndarray  # per bin, flat in histogram order
    covariance: Mapping[str, np.ndarray]
    files: tuple[str, ...] = ()

    @classmethod
    def load(cls, files: str | Path | Sequence[str | Path], include: Iterable[str] = ("*",), exclude: Iterable[str] = (),
             min_bins: int = 1, weights: Mapping[str, float] | str | Path | None = None,
             covariance: Mapping[str, np.ndarray] | None = None) -> "HistogramReference":
        files = [files] if isinstance(files, (str, Path)) else list(files)
        if not files:
            raise ValueError("reference.files: give at least one YODA or HEPData file")
        if isinstance(min_bins, bool) or not isinstance(min_bins, int) or min_bins < 1:
            raise ValueError(f"reference.min_bins: must be a positive integer, got {min_bins!r}")
        found: dict[str, Histogram] = {}
        for file in files:
            for path, histogram in read_histograms(file).items():
                if path in found:
                    raise ValueError(f"reference.files: histogram {path} is in more than one file")
                found[path] = histogram
        include, exclude = list(include), list(exclude)
        for pattern in include:
            if not any(fnmatch.fnmatchcase(path, pattern) for path in found):
                raise ValueError(f"reference.include: pattern {pattern!r} matches no histogram of {[Path(f).name for f in files]}")
        chosen = [h for path, h in found.items()
                  if any(fnmatch.fnmatchcase(path, p) for p in include)
                  and not any(fnmatch.fnmatchcase(path, p) for p in exclude) and h.n_bins >= min_bins]
        if not chosen:
            raise ValueError("reference.include: no histogram left after include, exclude and min_bins")
        for h in chosen:
            _check_errors(h)
        covariance = dict(covariance or {})
        for path, matrix in covariance.items():
            _check_covariance(path, matrix, {h.path: h for h in chosen})
        bin_weights = _bin_weights(chosen, _weight_patterns(weights))
        return cls(tuple(chosen), bin_weights, {p: np.asarray(m, dtype=float) for p, m in covariance.items()},
                   tuple(str(f) for f in files))

    @classmethod
    def combined(cls, *references: "HistogramReference") -> "HistogramReference":
        """Several references as one (each selected with its own rules)."""
        histograms = [h for r in references for h in r.histograms]
        paths = [h.path for h in histograms]
        if len(set(paths)) != len(paths):
            raise ValueError("reference: a histogram is in two of the references combined")
        return cls(tuple(histograms), np.concatenate([r.weights for r in references]),
                   {k: v for r in references for k, v in r.covariance.items()}, tuple(f for r in references for f in r.files))

    @property
    def paths(self) -> tuple[str, ...]:
        return tuple(h.path for h in self.histograms)

    @property
    def n_bins(self) -> int:
        return int(sum(h.n_bins for h in self.histograms))

    @property
    def values(self) -> np.ndarray:
        return np.concatenate([h.values for h in self.histograms])

    @property
    def errors(self) -> np.ndarray:
        return np.concatenate([h.errors for h in self.histograms])

    def slices(self) -> dict[str, slice]:
        """Each histogram's bins in the flat order."""
        out, start = {}, 0
        for h in self.histograms:
            out[h.path] = slice(start, start + h.n_bins)
            start += h.n_bins
        return out

    def bins(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """``{path: (lows, highs)}``, what an analysis books."""
        return {h.path: (h.lows, h.highs) for h in self.histograms}

    def analyses(self) -> list[str]:
        """The measurements the histograms come from (first path component), in order."""
        return list(dict.fromkeys(path.split("/")[1] for path in self.paths))


def _check_errors(h: Histogram) -> None:
    bad = np.flatnonzero(~(np.isfinite(h.errors) & (h.errors > 0)) | ~np.isfinite(h.values))
    if bad.size:
        i = int(bad[0])
        raise ValueError(f"reference: histogram {h.path} bin {i} ([{h.lows[i]:g}, {h.highs[i]:g})) has value {h.values[i]:g} "
                         f"and error {h.errors[i]:g}; errors must be positive and finite")


def _check_covariance(path: str, matrix, chosen: Mapping[str, Histogram]) -> None:
    if path not in chosen:
        raise ValueError(f"reference.covariance: histogram {path} is not among the selected histograms")
    m = np.asarray(matrix, dtype=float)
    n = chosen[path].n_bins
    if m.shape != (n, n) or not np.allclose(m, m.T) or np.any(np.linalg.eigvalsh(m) <= 0):
        raise ValueError(f"reference.covariance: histogram {path} needs a symmetric positive-definite {n}x{n} matrix")


def _weight_patterns(weights) -> dict[str, float]:
    if weights is None:
        return {}
    if isinstance(weights, (str, Path)):
        from advopt.divergence.chi2 import read_weights_file

        return read_weights_file(weights, field="reference.weights")
    return dict(weights)


def _bin_weights(histograms: Sequence[Histogram], patterns: Mapping[str, float]) -> np.ndarray:
    """Per bin: 1 where no pattern is given; with patterns, as in Professor, a bin no pattern
    matches is left out (0) and a later pattern overrides an earlier one."""
    per_histogram = [np.full(h.n_bins, 0.0 if patterns else 1.0) for h in histograms]
    for pattern, weight in patterns.items():
        if not (isinstance(weight, (int, float)) and math.isfinite(weight) and weight >= 0):
            raise ValueError(f"reference.weights: weight of {pattern!r} must be a finite number >= 0, got {weight!r}")
        glob, low, high = _split_range(pattern)
        matched = False
        for h, w in zip(histograms, per_histogram):
            if fnmatch.fnmatchcase(h.path, glob):
                centres = 0.5 * (h.lows + h.highs)
                inside = (centres >= low) & (centres <= high)
                w[inside] = weight
                matched |= bool(inside.any())
        if not matched:
            raise ValueError(f"reference.weights: pattern {pattern!r} matches no bin of the selected histograms")
    flat = np.concatenate(per_histogram)
    if not flat.any():
        raise ValueError("reference.weights: every bin has weight 0")
    return flat


def _split_range(pattern: str) -> tuple[str, float, float]:
    glob, at, limits = pattern.partition("@")
    if not at:
        return glob, -math.inf, math.inf
    low, colon, high = limits.partition(":")
    try:
        if not colon:
            raise ValueError
        return glob, float(low) if low else -math.inf, float(high) if high else math.inf
    except ValueError:
        raise ValueError(f"reference.weights: bin range of {pattern!r} must read PATH@LOW:HIGH") from None
