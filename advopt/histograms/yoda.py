"""YODA text files (Rivet's and Professor's format) and HEPData CSV tables, read and written.

Read: ``Scatter2D`` (reference data: bin centre, distances to the edges, value, errors) and
``Histo1D`` (a generator's own output: sums of weights per bin), YODA's V1 and V2 block
headers alike; HEPData's CSV export (``x, x LOW, x HIGH, y`` and then ``+``/``-`` error
column pairs, added in quadrature). Written: ``Histo1D`` (V2), so the histograms a run
simulated can be read by Rivet's and Professor's tools.

Every histogram becomes a :class:`Histogram`: bin edges, values, the total error per bin
(the larger of the two sides, as the chi-square uses one error). A file that does not parse
raises ``ValueError`` naming the file, the line and the histogram.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class Histogram:
    """One measured (or simulated) histogram: bin ``i`` covers ``[lows[i], highs[i])``."""

    path: str  # without the /REF prefix: /ANALYSIS/dNN-xNN-yNN
    lows: np.ndarray
    highs: np.ndarray
    values: np.ndarray
    errors: np.ndarray
    title: str = ""

    @property
    def n_bins(self) -> int:
        return len(self.values)

    @property
    def widths(self) -> np.ndarray:
        return self.highs - self.lows


def analysis_path(path: str) -> str:
    """``/REF/ANA/d01-x01-y01`` -> ``/ANA/d01-x01-y01`` (reference and simulation share paths)."""
    return path[4:] if path.startswith("/REF/") else path


def read_histograms(path: str | Path) -> dict[str, Histogram]:
    """Every histogram of a YODA file (``.yoda``) or a HEPData CSV table (``.csv``), by path."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as err:
        raise ValueError(f"reference.files: cannot read {path} ({err.strerror})") from None
    if path.suffix.lower() == ".csv":
        return _read_hepdata_csv(path, text)
    return _read_yoda(path, text)


def _read_yoda(path: Path, text: str) -> dict[str, Histogram]:
    out: dict[str, Histogram] = {}
    block: list[tuple[int, str]] | None = None
    kind = name = ""
    start = 0
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith("BEGIN "):
            if block is not None:
                raise ValueError(f"{path.name} line {number}: BEGIN inside {name} (no END since line {start})")
            parts = stripped.split()
            if len(parts) < 3:
                raise ValueError(f"{path.name} line {number}: BEGIN without a histogram path")
            kind, name, start, block = parts[1], parts[2], number, []
        elif stripped.startswith("END "):
            if block is None:
                raise ValueError(f"{path.name} line {number}: END without BEGIN")
            histogram = _parse_block(path, kind, name, block)
            if histogram is not None:
                out[histogram.path] = histogram
            block = None
        elif block is not None:
            block.append((number, stripped))
    if block is not None:
        raise ValueError(f"{path.name} line {start}: {name} has no END")
    if not out:
        raise ValueError(f"{path.name}: no Scatter2D or Histo1D histogram in the file")
    return out


def _parse_block(path: Path, kind: str, name: str, lines: list[tuple[int, str]]) -> Histogram | None:
    kind = kind.upper()
    if kind.startswith("YODA_SCATTER2D"):
        columns = 6
    elif kind.startswith("YODA_HISTO1D"):
        columns = 7
    else:
        return None  # counters, 2D objects: not histograms of one variable
    title = ""
    rows: list[list[float]] = []
    for number, text in lines:
        if text.startswith("Title:"):
            title = text[6:].strip().strip("~").strip()
        if not text or text.startswith("#") or ":" in text.split()[0] or text == "---":
            continue
        parts = text.split()
        if parts[0] in ("Total", "Underflow", "Overflow"):
            continue
        try:
            row = [float(v) for v in parts]
        except ValueError:
            raise ValueError(f"{path.name} line {number}: histogram {name}: cannot read {text!r} as numbers") from None
        if len(row) != columns:
            raise ValueError(f"{path.name} line {number}: histogram {name}: expected {columns} columns, got {len(row)}")
        rows.append(row)
    if not rows:
        raise ValueError(f"{path.name} line {lines[0][0] if lines else 0}: histogram {name} has no bins")
    a = np.array(rows)
    if columns == 6:  # x, x-, x+, y, y-, y+
        lows, highs, values = a[:, 0] - a[:, 1], a[:, 0] + a[:, 2], a[:, 3]
        errors = np.maximum(np.abs(a[:, 4]), np.abs(a[:, 5]))
    else:  # xlow, xhigh, sumw, sumw2, sumwx, sumwx2, n: a density per unit x
        lows, highs = a[:, 0], a[:, 1]
        width = highs - lows
        values, errors = a[:, 2] / width, np.sqrt(a[:, 3]) / width
    return Histogram(analysis_path(name), lows, highs, values, errors, title)


def _read_hepdata_csv(path: Path, text: str) -> dict[str, Histogram]:
    """HEPData's CSV export: ``#:`` comment lines (one names the table), a header row, then
    ``x, x LOW, x HIGH, y, (err+, err-)...``; several tables are separated by blank lines."""
    out: dict[str, Histogram] = {}
    table = path.stem
    rows: list[tuple[int, list[float]]] = []

    def flush():
        if rows:
            name = f"/{path.stem}/{table}" if not table.startswith("/") else table
            a = np.array([r for _, r in rows])
            errors = np.sqrt(sum(np.maximum(np.abs(a[:, i]), np.abs(a[:, i + 1]))**2 for i in range(4, a.shape[1] - 1, 2))) \
                if a.shape[1] > 4 else np.zeros(len(a))
            out[name] = Histogram(name, a[:, 1], a[:, 2], a[:, 3], errors)
            rows.clear()

    for number, row in enumerate(csv.reader(text.splitlines()), start=1):
        if not row or not "".join(row).strip():
            flush()
            continue
        if row[0].startswith("#:"):
            key, _, value = row[0][2:].partition(":")
            if key.strip().lower() == "name":
                flush()
                table = value.strip().replace(" ", "_")
            continue
        try:
            values = [float(v) for v in row]
        except ValueError:
            continue  # the header row
        if len(values) < 4 or len(values) % 2:
            raise ValueError(f"{path.name} line {number}: table {table}: expected x, x LOW, x HIGH, y and error pairs, got {len(values)} columns")
        rows.append((number, values))
    flush()
    if not out:
        raise ValueError(f"{path.name}: no table in the file")
    return out


def write_histo1d(path: str | Path, histograms: Mapping[str, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float]]) -> Path:
    """Write Histo1D objects: ``{path: (lows, highs, sumw, sumw2, n_entries)}``, with sumw per
    bin in the histogram's own units times the bin's width (Rivet's convention: the density is
    sumw / width)."""
    path = Path(path)
    blocks = []
    for name, (lows, highs, sumw, sumw2, entries) in histograms.items():
        lines = [f"BEGIN YODA_HISTO1D_V2 {name}", f"Path: {name}", "Title: ", "Type: Histo1D", "---",
                 "# ID\t ID\t sumw\t sumw2\t sumwx\t sumwx2\t numEntries",
                 _row("Total", "Total", float(np.sum(sumw)), float(np.sum(sumw2)), entries),
                 _row("Underflow", "Underflow", 0.0, 0.0, 0),
                 _row("Overflow", "Overflow", 0.0, 0.0, 0),
                 "# xlow\t xhigh\t sumw\t sumw2\t sumwx\t sumwx2\t numEntries"]
        for lo, hi, w, w2 in zip(lows, highs, sumw, sumw2):
            centre = 0.5 * (lo + hi)
            lines.append(f"{lo:.6e}\t{hi:.6e}\t{w:.6e}\t{w2:.6e}\t{w * centre:.6e}\t{w * centre * centre:.6e}\t{entries:.6e}")
        lines.append("END YODA_HISTO1D_V2")
        blocks.append("\n".join(lines))
    path.write_text("\n\n".join(blocks) + "\n")
    return path


def _row(a: str, b: str, sumw: float, sumw2: float, entries) -> str:
    return f"{a}\t{b}\t{sumw:.6e}\t{sumw2:.6e}\t0.000000e+00\t0.000000e+00\t{float(entries):.6e}"



def write_scatter2d(path: str | Path, histograms) -> Path:
    """Write :class:`Histogram` objects as reference Scatter2D blocks (``/REF`` paths)."""
    path = Path(path)
    blocks = []
    for h in histograms:
        centre, half = 0.5 * (h.lows + h.highs), 0.5 * (h.highs - h.lows)
        rows = "\n".join(f"{c:.9e}\t{d:.9e}\t{d:.9e}\t{v:.9e}\t{e:.9e}\t{e:.9e}"
                         for c, d, v, e in zip(centre, half, h.values, h.errors))
        blocks.append(f"BEGIN YODA_SCATTER2D_V2 /REF{h.path}\nIsRef: 1\nPath: /REF{h.path}\nTitle: {h.title or '~'}\n"
                      f"Type: Scatter2D\n---\n# xval\t xerr-\t xerr+\t yval\t yerr-\t yerr+\n{rows}\nEND YODA_SCATTER2D_V2")
    path.write_text("\n\n".join(blocks) + "\n")
    return path
