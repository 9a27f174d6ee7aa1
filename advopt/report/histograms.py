"""The report of a tune to published histograms: ``advopt report RUN_DIR`` on such a run.

One figure per histogram, in Rivet's look: the data with their errors, the start (e.g.
Monash) and the tune as lines, a ratio panel (simulation / data, the data's relative error
as a band) and each line's chi-square in the legend; the parameters' correlation matrix;
an HTML page with the parameters, intervals, statuses and the chi-square per histogram.
Reads only the run directory (result.json, histograms_start.yoda, histograms_tuned.yoda)
and the reference files it names.
"""

from __future__ import annotations

import base64
import html
import json
import math
from pathlib import Path

import numpy as np

from advopt.histograms.yoda import read_histograms
from advopt.report.common import plotting, report_style

COLUMNS = 3


def is_histogram_run(run_dir: str | Path) -> bool:
    return (Path(run_dir) / "histograms_tuned.yoda").is_file()


def make_histogram_report(run_dir: str | Path, out_dir: str | Path | None = None) -> Path:
    run_dir = Path(run_dir)
    out = Path(out_dir) if out_dir is not None else run_dir / "report"
    out.mkdir(parents=True, exist_ok=True)
    result = json.loads((run_dir / "result.json").read_text())
    data: dict = {}
    for file in result["reference_files"]:
        data.update(read_histograms(file))
    tuned = read_histograms(run_dir / "histograms_tuned.yoda")
    start_file = run_dir / "histograms_start.yoda"
    start = read_histograms(start_file) if start_file.is_file() else {}
    paths = [p for p in result["chi2_per_histogram"] if p in tuned]
    plotting()
    images = {}
    with report_style():
        for page, first in enumerate(range(0, len(paths), COLUMNS * 2)):
            figure = _page(paths[first:first + COLUMNS * 2], data, start, tuned, result)
            images[f"histograms_{page + 1}"] = _save(figure, out / f"histograms_{page + 1}.png")
        if result.get("correlation") and len(result["correlation"]) > 1:
            images["correlation"] = _save(_correlation(result), out / "correlation.png")
    page = out / "report.html"
    page.write_text(_html(run_dir, result, images))
    return page


def _page(paths, data, start, tuned, result):
    import matplotlib.figure

    rows = math.ceil(len(paths) / COLUMNS)
    figure = matplotlib.figure.Figure(figsize=(7 * COLUMNS, 7 * rows))
    grid = figure.add_gridspec(rows * 2, COLUMNS, height_ratios=[3, 1] * rows, hspace=0.05, wspace=0.3)
    for i, path in enumerate(paths):
        top = figure.add_subplot(grid[2 * (i // COLUMNS), i % COLUMNS])
        bottom = figure.add_subplot(grid[2 * (i // COLUMNS) + 1, i % COLUMNS], sharex=top)
        _histogram(top, bottom, data[path], start.get(path), tuned[path], path, result)
    figure.subplots_adjust(left=0.06, right=0.98, top=0.97, bottom=0.05)
    return figure


def _histogram(top, bottom, measured, start, tuned, path, result):
    with np.errstate(divide="ignore", invalid="ignore"):  # a data bin at 0: no ratio there
        _draw(top, bottom, measured, start, tuned, path, result)


def _draw(top, bottom, measured, start, tuned, path, result):
    import mplhep

    centres = 0.5 * (measured.lows + measured.highs)
    edges = np.append(measured.lows, measured.highs[-1])
    contiguous = np.allclose(measured.lows[1:], measured.highs[:-1])
    top.errorbar(centres, measured.values, yerr=measured.errors, fmt="o", color="black", markersize=4, label="data")
    for sim, colour, label, chi2 in ((start, "tab:blue", "start", result["start_chi2_per_histogram"].get(path)),
                                     (tuned, "tab:red", "tune", result["chi2_per_histogram"].get(path))):
        if sim is None:
            continue
        text = f"{label} ($\\chi^2$ {chi2:.1f} / {len(centres)})" if chi2 is not None else label
        if contiguous and len(centres) > 1:
            mplhep.histplot(sim.values, edges, ax=top, color=colour, label=text)
            mplhep.histplot(sim.values / measured.values, edges, ax=bottom, color=colour)
        else:
            top.errorbar(centres, sim.values, xerr=0.5 * (measured.highs - measured.lows), fmt="s", color=colour,
                         markersize=4, label=text)
            bottom.plot(centres, sim.values / measured.values, "s", color=colour, markersize=4)
    band = measured.errors / np.abs(measured.values)
    bottom.fill_between(edges, np.append(1 - band, 1 - band[-1]), np.append(1 + band, 1 + band[-1]), step="post",
                        color="0.8")
    bottom.axhline(1.0, color="black", linewidth=0.8)
    bottom.set_ylim(0.7, 1.3)
    bottom.set_ylabel("MC / data", fontsize=12)
    top.set_title(path, fontsize=12)
    if np.all(measured.values > 0) and measured.values.max() / measured.values.min() > 50:
        top.set_yscale("log")
    top.legend(fontsize=10)
    top.tick_params(labelbottom=False)


def _correlation(result):
    import matplotlib.figure

    names = list(result["params"])
    matrix = np.array(result["correlation"], dtype=float)
    figure = matplotlib.figure.Figure(figsize=(2 + 0.9 * len(names), 1.5 + 0.8 * len(names)))
    ax = figure.add_subplot()
    image = ax.imshow(matrix, cmap="RdBu_r", vmin=-1, vmax=1)
    ax.set_xticks(range(len(names)), names, rotation=60, ha="right", fontsize=10)
    ax.set_yticks(range(len(names)), names, fontsize=10)
    for i in range(len(names)):
        for j in range(len(names)):
            if np.isfinite(matrix[i, j]):
                ax.text(j, i, f"{matrix[i, j]:.2f}", ha="center", va="center", fontsize=8)
    figure.colorbar(image, ax=ax)
    figure.subplots_adjust(left=0.3, bottom=0.3)
    return figure


def _save(figure, path: Path) -> Path:
    figure.savefig(path, dpi=70)
    return path


def _html(run_dir: Path, result: dict, images: dict[str, Path]) -> str:
    esc = html.escape
    rows = "".join(
        f"<tr><td>{esc(name)}</td><td>{value:.5g}</td><td>{_interval(result['intervals'].get(name))}</td>"
        f"<td>{esc(result['status'].get(name, ''))}</td><td>{result['start'].get(name, float('nan')):.5g}</td></tr>"
        for name, value in result["params"].items())
    per = "".join(f"<tr><td>{esc(p)}</td><td>{result['n_bins_per_histogram'][p]}</td><td>{_n(result['start_chi2_per_histogram'][p])}</td>"
                  f"<td>{_n(c)}</td></tr>" for p, c in result["chi2_per_histogram"].items())
    figures = "".join(f'<h3>{esc(name)}</h3><img src="data:image/png;base64,{base64.b64encode(png.read_bytes()).decode()}" '
                      f'alt="{esc(name)}" style="max-width:100%">' for name, png in images.items())
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>advopt: {esc(run_dir.name)}</title>"
            "<style>body{font-family:sans-serif;max-width:1300px;margin:1em auto}td,th{border:1px solid #bbb;"
            "padding:0.2em 0.5em}table{border-collapse:collapse}</style></head><body>"
            f"<h1>Tune to published histograms: {esc(run_dir.name)}</h1>"
            f"<p>chi2 at the tuned point {_n(result['chi2'])} for {result['ndf']} degrees of freedom; at the start "
            f"{_n(result['start_chi2'])}. Method {esc(result['method'])}, {result['n_events']:,} events.</p>"
            "<table><tr><th>parameter</th><th>tuned</th><th>68% interval</th><th>status</th><th>start</th></tr>"
            f"{rows}</table><h2>chi-square per histogram</h2><table><tr><th>histogram</th><th>bins</th><th>start</th>"
            f"<th>tune</th></tr>{per}</table><h2>Figures</h2>{figures}</body></html>\n")


def _interval(interval) -> str:
    return "" if not interval else f"[{interval[0]:.5g}, {interval[1]:.5g}]"


def _n(value) -> str:
    return "n/a" if value is None or not math.isfinite(value) else f"{value:.1f}"
