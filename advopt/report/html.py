"""The self-contained HTML page: figures embedded as data URIs, the parameter and quantile-MSE
tables, notes and captions."""

from __future__ import annotations

import base64
import html
import math
from pathlib import Path

from advopt.report.common import Report
from advopt.records.progress import run_status


def page_html(report: Report, images: dict[str, Path]) -> str:
    run = report.run
    esc = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f"<title>advopt report: {esc(str(run.path))}</title>",
        "<style>",
        "body { font-family: sans-serif; max-width: 1300px; margin: 1em auto; padding: 0 1em; color: #222; }",
        "table { border-collapse: collapse; margin: 0.5em 0 1em 0; }",
        "th, td { border: 1px solid #bbb; padding: 0.25em 0.6em; text-align: right; }",
        "th:first-child, td:first-child { text-align: left; }",
        "img { max-width: 100%; border: 1px solid #ddd; }",
        "pre { background: #f5f5f5; padding: 0.6em; overflow-x: auto; }",
        ".note { background: #fff7e0; border-left: 4px solid #e6a700; padding: 0.4em 0.8em; margin: 0.4em 0; }",
        "figcaption { color: #444; margin: 0.3em 0 1.5em 0; }",
        "</style>",
        "</head>",
        "<body>",
        f"<h1>advopt report: {esc(run.path.name)}</h1>",
        f"<p>Run directory <code>{esc(str(run.path.resolve()))}</code>. "
        f"{'Finished.' if run.finished else 'Not finished (no result.json): running, or stopped.'}</p>",
        "<h2>Summary</h2>",
        f"<pre>{esc(run_status(run.path))}</pre>",
    ]
    parts += _parameter_table(report)
    if report.aucs:
        aucs = ", ".join(f"{label} {auc:.3f} &plusmn; {err:.3f}" for label, (auc, err) in report.aucs.items())
        parts.append(f"<p>Classifier AUC against the reference (0.5: indistinguishable): {aucs}.</p>")
    for note in report.notes:
        parts.append(f'<p class="note">{esc(note)}</p>')
    parts += _quantile_mse_table(report)
    if images:
        parts.append("<h2>Figures</h2>")
        parts.append("<ul>" + "".join(f'<li><a href="#{esc(name)}">{esc(name)}</a></li>' for name in images) + "</ul>")
    for name, png in images.items():
        data = base64.b64encode(png.read_bytes()).decode("ascii")
        parts.append(f'<figure id="{esc(name)}">')
        parts.append(f"<h3>{esc(name.replace('_', ' '))}</h3>")
        parts.append(f'<img src="data:image/png;base64,{data}" alt="{esc(name)}" title="{esc(png.name)}">')
        parts.append(f"<figcaption>{esc(report.captions.get(name, ''))} (<code>{esc(png.name)}</code>)</figcaption>")
        parts.append("</figure>")
    if report.samples is not None:
        s = report.samples
        parts.append("<h2>Report samples</h2>")
        parts.append(
            f"<p>The observable and ROC plots use {s.events:,} simulated events at each of the start and tuned points "
            f"({2 * s.events:,} events in all) and {len(s.reference):,} of the reference's {s.reference_total:,} "
            f"events, stored in <code>{esc(str(s.path))}</code> with the points and seeds. They were simulated for "
            "this report after the run and are not counted in its budget; a report at the same points reuses them "
            "(delete the file to simulate again).</p>")
    parts += ["</body>", "</html>", ""]
    return "\n".join(parts)


def _parameter_table(report: Report) -> list[str]:
    run = report.run
    esc = html.escape
    start = run.start_params() or {}
    tuned = run.tuned_params() or {}
    space = run.resolved.get("space") or {}
    result = run.result
    rows = ["<table>", "<tr><th>parameter</th><th>range</th><th>start</th><th>tuned</th><th>&plusmn; (half the 68% interval)</th>"
            "<th>68% interval</th><th>status</th><th>truth</th><th>pull</th></tr>"]
    pulls = result.pulls() if result is not None else {}
    for name in run.parameter_names:
        bounds = space.get(name, {})
        cells = [
            esc(name),
            f"[{bounds['low']:.4g}, {bounds['high']:.4g}]{' log' if bounds.get('log') else ''}" if bounds else "",
            _number(start.get(name)),
            _number(tuned.get(name)),
            _number(result.uncertainty.get(name)) if result is not None else "",
            ("[" + ", ".join(_number(v) for v in result.interval68[name]) + "]") if result is not None and name in result.interval68 else "",
            esc((result.parameter_status or {}).get(name, "")) if result is not None else "",
            _number(run.truth.get(name)),
            f"{pulls[name]:+.2f}" if name in pulls and math.isfinite(pulls[name]) else "",
        ]
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    rows.append("</table>")
    if result is not None:  # what the fit could not decide: misfit, unconstrained combinations, fallbacks
        rows += [f"<p>{esc(line)}</p>" for line in result.assessment_lines()]
    if run.fixed:
        fixed = ", ".join(f"{esc(k)}={v:.4g}" for k, v in run.fixed.items())
        rows.append(f"<p>Fixed (not tuned): {fixed}.</p>")
    return rows


def _quantile_mse_table(report: Report, rows_shown: int = 10) -> list[str]:
    """The observables the tune reproduces worst, by quantile MSE over its statistical floor."""
    if not report.quantile_mse:
        return []
    esc = html.escape
    worst = sorted(report.quantile_mse.items(), key=lambda item: item[1][1], reverse=True)[:rows_shown]
    median_tuned = sorted(v[1] for v in report.quantile_mse.values())[len(report.quantile_mse) // 2]
    rows = ["<h2>Closure per observable</h2>",
            "<p>Quantile MSE (Butter et al., <i>GANplifying event samples</i>): the reference's 20 equal-probability "
            "quantiles of each observable, and the mean squared difference of the simulated and reference "
            "occupancies, divided by what sampling noise alone gives (about 1 for a perfect tune). "
            f"Median over the {len(report.quantile_mse)} observables at the tuned point: {median_tuned:.2f}. "
            f"The {len(worst)} worst at the tuned point:</p>",
            "<table>", "<tr><th>observable</th><th>start</th><th>tuned</th></tr>"]
    rows += [f"<tr><td>{esc(name)}</td><td>{a:.2f}</td><td>{b:.2f}</td></tr>" for name, (a, b) in worst]
    rows.append("</table>")
    return rows


def _number(value) -> str:
    return "" if value is None or not math.isfinite(value) else f"{value:.5g}"


