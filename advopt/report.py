"""Plots and one self-contained HTML page from a run directory: ``advopt report RUN_DIR``.

:func:`make_report` writes PNG figures and ``report.html`` (the PNGs embedded as base64
data URIs: no network, no JavaScript; the file can be mailed on its own) to
``RUN_DIR/report`` for a finished or a running run:

* ``convergence``  divergence (with its standard error) against cumulative simulated
  events, the lowest estimate so far, and the budget;
* ``trajectories`` every evaluated parameter value against cumulative events, coloured
  by its divergence, with the truth (closure tests) and the tuned value with its 68%
  interval;
* ``surrogate``    (Bayesian runs) a Gaussian process refitted to the history, its mean
  +- sd along each parameter through the tuned point; ``proposal`` (variational runs, when
  the history records the proposal) its mean and width against events;
* ``observables_K`` normalised histograms of every feature for the reference, the
  starting point (the first evaluation) and the tuned point, with ratio panels;
* ``roc``          the discriminator's view: ROC curves and AUCs of a gradient-boosted
  classifier trained between each simulated sample and the reference (AUC 0.5: cannot
  tell them apart).

The observable and ROC plots need events at the start and tuned points. They are
simulated once (``simulate_events`` each, default 20,000, fixed seeds) from the
simulator and reference rebuilt from ``config.json`` and saved, with the parameter
points and seeds, in ``RUN_DIR/report_samples.npz``; a later report at the same points
reuses them. These events are not part of the tuning budget (the run is over). A run
started from a script has no config to rebuild from: pass ``simulator`` and
``reference`` to :func:`make_report`, or get the other plots only.

Plotting needs the ``plot`` extra (matplotlib, mplhep, hist), imported only here, inside
the functions. Figures are made without pyplot (``matplotlib.figure.Figure`` drawn by
Agg), so a report never switches the backend of an interactive session, and the
mplhep style is applied in a context, never globally.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import html
import json
import logging
import math
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from advopt import seeds
from advopt.status import RunFiles, read_run, run_status

logger = logging.getLogger(__name__)

REPORT_DIR = "report"
SAMPLES_FILE = "report_samples.npz"
HTML_FILE = "report.html"
DEFAULT_EVENTS = 20_000
FEATURES_PER_PAGE = 12
PLOT_EXTRA_MESSAGE = "report needs the plot extra: pip install 'advopt[plot]'"
# Seed purposes of the report's own samples (the tuner uses 0-2, the config's pseudo-data 99).

_COLORS = {"reference": "black", "start": "#e66101", "tuned": "#0571b0", "truth": "#d7191c", "band": "0.75"}


@dataclass
class ReportSamples:
    """Events of the reference (a subsample), the start point and the tuned point."""

    feature_names: tuple[str, ...]
    reference: "object"  # np.ndarray (n_ref, d)
    start: "object"
    tuned: "object"
    start_params: dict[str, float]
    tuned_params: dict[str, float]
    events: int
    reference_total: int
    path: Path
    reused: bool


@dataclass
class Report:
    """The figures of a report (matplotlib ``Figure`` objects by name, in page order),
    their captions, notes for the reader, and the classifier AUCs."""

    run: RunFiles
    figures: dict = field(default_factory=dict)
    captions: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    aucs: dict[str, tuple[float, float]] = field(default_factory=dict)
    samples: ReportSamples | None = None
    # observable -> (start, tuned) quantile MSE over its statistical expectation
    quantile_mse: dict[str, tuple[float, float]] = field(default_factory=dict)


# -- public entry points ----------------------------------------------------------------------
def make_report(run_dir: str | Path, out_dir: str | Path | None = None, simulate_events: int | None = None, *,
                simulator=None, reference=None, dpi: int = 100) -> Path:
    """Write the report of the run in ``run_dir``; return the path of ``report.html``.

    out_dir: where the PNGs and ``report.html`` go (default ``RUN_DIR/report``).
    simulate_events: events simulated at each of the start and tuned points for the
        observable and ROC plots (default: those already in ``report_samples.npz``, else
        20,000). Not counted in the tuning budget.
    simulator, reference: for a run started from a script (no config to rebuild them
        from): the simulator (object, function or name) and the reference (array,
        :class:`~advopt.data.Sample` or file path) the run used.

    Raises ValueError for a bad run directory, a bad ``simulate_events``, or when the plot
    extra is missing.
    """
    report = build_report(run_dir, simulate_events, simulator=simulator, reference=reference)
    out = Path(out_dir) if out_dir is not None else report.run.path / REPORT_DIR
    out.mkdir(parents=True, exist_ok=True)
    images = {}
    with _style():
        for name, figure in report.figures.items():
            png = out / f"{name}.png"
            figure.savefig(png, dpi=dpi)
            images[name] = png
    page = out / HTML_FILE
    _write_text_atomic(page, _html(report, images))
    logger.info("report written to %s", page)
    return page


def build_report(run_dir: str | Path, simulate_events: int | None = None, *, simulator=None, reference=None) -> Report:
    """Everything :func:`make_report` draws, as matplotlib figures (nothing written but
    ``report_samples.npz`` when new samples are simulated)."""
    _plotting()  # fail early, with the extra to install
    if simulate_events is not None and (isinstance(simulate_events, bool) or not isinstance(simulate_events, int)
                                        or simulate_events < 100):
        raise ValueError(f"--events: must be an integer >= 100, got {simulate_events!r}")
    run = read_run(run_dir)
    report = Report(run)
    if not run.history:
        report.notes.append("The history is empty: no evaluation has finished yet, so there is nothing to plot.")
        return report
    if run.partial_line:
        report.notes.append("The last line of history.jsonl is cut off (the run is writing it); it is left out.")
    if not run.finished:
        report.notes.append("The run has no result.json yet (still running, or stopped): the 'tuned' point is the "
                            "evaluation with the lowest divergence so far, without an uncertainty.")

    report.figures["convergence"] = convergence_figure(run)
    report.captions["convergence"] = (
        "Divergence estimate of every evaluation (error bar: its standard error) against the simulated events "
        "spent so far. The line follows the lowest estimate so far (noisy: the luckiest draw, not the result); "
        "the dashed vertical line is the budget. 0 means the discriminator cannot tell simulation from reference.")
    report.figures["trajectories"] = trajectory_figure(run)
    report.captions["trajectories"] = (
        "Every evaluated parameter value against simulated events, coloured by its divergence (darker is "
        "closer to the reference); failed evaluations as red crosses. The y range is the search range.")
    if run.truth:
        report.captions["trajectories"] += " Dashed red: the truth of this closure test."
    if run.finished:
        report.captions["trajectories"] += (
            " Blue diamond, bar and band at the right: the tuned value and its 68% interval (for Bayesian "
            "optimisation: where the minimum lies in draws from the surrogate, widened by the reference sample's "
            "own statistical scatter; it need not be centred on the tuned value).")

    if run.optimizer == "bayes":
        figure = surrogate_figure(run)
        if figure is None:
            report.notes.append("Surrogate plot skipped: fewer than 3 successful evaluations.")
        else:
            report.figures["surrogate"] = figure
            report.captions["surrogate"] = (
                "A Gaussian process refitted to the history (unit-cube inputs, each point's squared standard "
                "error as its noise), cut along each parameter through the tuned point: mean, 1 and 2 sd bands. "
                "The points are all evaluations projected onto that axis (others differ in the other parameters). "
                "A narrow, deep valley means a well-constrained parameter; a flat one, a parameter the "
                "observables barely see.")
    elif run.optimizer == "variational":
        figure = proposal_figure(run)
        if figure is None:
            report.notes.append("Proposal plot skipped: the history records no proposal mean/width.")
        else:
            report.figures["proposal"] = figure
            report.captions["proposal"] = "Mean and width (+-1 sd band) of the variational proposal against events."

    samples = _report_samples(run, report, simulate_events, simulator, reference)
    report.samples = samples
    if samples is not None:
        pages = observable_figures(samples.reference, samples.start, samples.tuned, samples.feature_names)
        for number, figure in enumerate(pages, start=1):
            report.figures[f"observables_{number}"] = figure
            report.captions[f"observables_{number}"] = (
                f"Normalised distributions (1/N dN/dx) of the observables, page {number} of {len(pages)}: the "
                f"reference ({len(samples.reference):,} events, black points), the start point (dashed orange) and "
                f"the tuned point (solid blue), {samples.events:,} events each; error bars are statistical. "
                "Lower panels: simulation / reference, with the reference's statistical uncertainty as the grey "
                "band. chi2/ndf compares each histogram with the reference over the bins shown.")
        report.quantile_mse = quantile_mse_ratios(samples)
        figure, aucs = roc_figure(samples.reference, samples.start, samples.tuned,
                                  _seed(run, seeds.REPORT_CLASSIFIER))
        report.figures["roc"] = figure
        report.aucs = aucs
        report.captions["roc"] = (
            "The discriminator's view: a gradient-boosted classifier (scikit-learn HistGradientBoosting) trained on "
            "two thirds of each simulated sample against the reference, ROC on the other third. An AUC of 0.5 "
            "(the diagonal) means the classifier cannot tell the samples apart; 1 means it always can.")
    return report


def quantile_mse_ratios(samples: ReportSamples) -> dict[str, tuple[float, float]]:
    """Per observable, the quantile MSE (Butter et al., advopt.quality) of the start and the
    tuned sample against the reference, over what statistics alone give (about 1: as good as
    the reference's own sampling noise)."""
    from advopt.quality import quantile_mse_ratio

    start = quantile_mse_ratio(samples.start, samples.reference)
    tuned = quantile_mse_ratio(samples.tuned, samples.reference)
    return {name: (float(a), float(b)) for name, a, b in zip(samples.feature_names, start, tuned)}


# -- figures -----------------------------------------------------------------------------------
def convergence_figure(run: RunFiles):
    """Divergence +- standard error against cumulative simulated events, the lowest so far
    and the budget."""
    np, mpl = _numpy(), _plotting()
    with _style():
        figure = mpl.figure.Figure(figsize=(10, 6.5), layout="constrained")
        ax = figure.add_subplot()
        x = np.cumsum([e.n_events for e in run.history])
        ok = np.array([e.ok for e in run.history])
        values = np.array([e.value for e in run.history], dtype=float)
        errors = np.array([e.stderr for e in run.history], dtype=float)
        if ok.any():
            ax.errorbar(x[ok], values[ok], yerr=errors[ok], fmt="o", ms=5, color=_COLORS["tuned"], elinewidth=1.2,
                        capsize=0, label="evaluation $\\pm$ stat. error", zorder=3)
            running = np.minimum.accumulate(np.where(ok, values, np.inf))
            shown = np.isfinite(running)
            ax.step(x[shown], running[shown], where="post", color="0.25", lw=1.8, label="lowest estimate so far")
        if (~ok).any():
            ax.plot(x[~ok], np.full((~ok).sum(), 0.96), "x", color=_COLORS["truth"], ms=9, mew=2,
                    transform=ax.get_xaxis_transform(), label=f"failed ({(~ok).sum()})", zorder=4)
        if run.result is not None and math.isfinite(run.result.best_value):
            ax.plot([run.events_used], [run.result.best_value], "*", ms=16, color=_COLORS["start"], zorder=5,
                    label=f"result (surrogate minimum) {run.result.best_value:.3g}")
        ax.axhline(0.0, color="0.5", lw=0.8)
        if run.budget:
            ax.axvline(run.budget, color="0.3", ls="--", lw=1.5, label=f"budget {run.budget:,} events")
            ax.set_xlim(0, run.budget * 1.04)
        ax.set_xlabel("simulated events (cumulative)")
        ax.set_ylabel(_divergence_label(run.divergence))
        ax.xaxis.set_major_formatter(mpl.ticker.EngFormatter(sep=""))
        if ok.any():
            low = min(0.0, float(np.nanmin(values[ok] - errors[ok])))
            high = float(np.nanmax(values[ok] + errors[ok]))
            ax.set_ylim(low - 0.05 * (high - low), high + 0.12 * (high - low))
        handles, labels = ax.get_legend_handles_labels()
        order = sorted(range(len(labels)), key=lambda i: not labels[i].startswith("evaluation"))
        ax.legend([handles[i] for i in order], [labels[i] for i in order], loc="upper right", fontsize="x-small",
                  frameon=False)
        ax.set_title(f"{len(run.history)} evaluations, {run.events_used:,} events", fontsize="small", loc="left")
    return figure


def trajectory_figure(run: RunFiles):
    """One panel per parameter: evaluated values against cumulative events (coloured by
    divergence), the truth and the tuned value with its 68% interval."""
    np, mpl = _numpy(), _plotting()
    names = run.parameter_names
    space = run.resolved.get("space") or {}
    ncols = min(len(names), 3) if len(names) > 1 else 1
    nrows = math.ceil(len(names) / ncols)
    with _style():
        figure = mpl.figure.Figure(figsize=(6.0 * ncols + 1.5, 4.6 * nrows + 0.6), layout="constrained")
        axes = np.atleast_1d(figure.subplots(nrows, ncols, sharex=True, squeeze=False)).ravel()
        x = np.cumsum([e.n_events for e in run.history])
        ok = np.array([e.ok for e in run.history])
        values = np.array([e.value for e in run.history], dtype=float)
        good = values[ok]
        norm = mpl.colors.Normalize(vmin=float(np.min(good)) if good.size else 0.0,
                                    vmax=float(np.max(good)) if good.size else 1.0)
        cmap = mpl.colormaps["viridis"]
        scatter = None
        tuned = run.tuned_params()
        right = max(run.budget or 0, run.events_used)
        for ax, name in zip(axes, names):
            ax.set_xlim(0, right * 1.06)
            y = np.array([e.params.get(name, np.nan) for e in run.history], dtype=float)
            ax.plot(x, y, color="0.8", lw=0.8, zorder=1)
            if ok.any():
                scatter = ax.scatter(x[ok], y[ok], c=values[ok], cmap=cmap, norm=norm, s=40, zorder=3,
                                     edgecolors="0.3", linewidths=0.5)
            if (~ok).any():
                ax.plot(x[~ok], y[~ok], "x", color=_COLORS["truth"], ms=7, mew=1.8, zorder=4, label="failed")
            facts = []
            if name in run.truth:
                ax.axhline(run.truth[name], color=_COLORS["truth"], ls="--", lw=1.6, label="truth", zorder=2)
            if run.result is None and tuned is not None and name in tuned:
                facts.append(f"best so far {tuned[name]:.4g}")
            if run.result is not None and name in run.result.best_params and math.isfinite(run.result.best_params[name]):
                best = run.result.best_params[name]
                low, high = run.result.interval68.get(name, (best, best))
                edge = run.events_used + 0.03 * right
                ax.axhline(best, color=_COLORS["tuned"], lw=1.2, alpha=0.6, zorder=2)
                # the interval comes from posterior draws of the minimum and need not contain ``best``
                ax.axhspan(low, high, color=_COLORS["tuned"], alpha=0.12, zorder=0)
                ax.vlines([edge], low, high, color=_COLORS["tuned"], lw=2.5, zorder=5)
                ax.plot([edge], [best], "D", color=_COLORS["tuned"], ms=8, zorder=6, label="tuned, 68% interval")
                facts.append(f"tuned {best:.4g}, 68% [{low:.4g}, {high:.4g}]")
            bounds = space.get(name)
            if bounds:
                if bounds.get("log"):
                    ax.set_yscale("log")
                pad = 0.02 * (bounds["high"] - bounds["low"])
                ax.set_ylim(bounds["low"] - (0 if bounds.get("log") else pad), bounds["high"] + pad)
            if name in run.truth:
                facts.append(f"truth {run.truth[name]:.4g}")
            ax.set_title("; ".join(facts), fontsize="xx-small", loc="left")
            ax.set_ylabel(name, fontsize="small")
            ax.xaxis.set_major_formatter(mpl.ticker.EngFormatter(sep=""))
        for ax in axes[len(names):]:
            ax.set_visible(False)
        for k, ax in enumerate(axes[: len(names)]):
            ax.tick_params(labelbottom=True)
            if k + ncols >= len(names):
                ax.set_xlabel("simulated events (cumulative)", fontsize="small")
        legend = {}
        for ax in axes[: len(names)]:
            for handle, label in zip(*ax.get_legend_handles_labels()):
                legend.setdefault(label, handle)
        if legend:
            figure.legend(list(legend.values()), list(legend), loc="outside upper center", ncols=len(legend),
                          frameon=False, fontsize="x-small")
        if scatter is not None:
            bar = figure.colorbar(scatter, ax=list(axes[: len(names)]), shrink=0.9, pad=0.01)
            bar.set_label(_divergence_label(run.divergence), fontsize="small")
    return figure


def surrogate_figure(run: RunFiles):
    """A Gaussian process refitted to the history, cut along each parameter through the
    tuned point (mean, 1 and 2 sd). None with fewer than 3 successful evaluations."""
    np, mpl = _numpy(), _plotting()
    from advopt.space import Space

    names = run.parameter_names
    ok = [e for e in run.history if e.ok and all(n in e.params for n in names)]
    if len(ok) < 3 or not run.resolved.get("space"):
        return None
    space = Space.from_dict(run.resolved["space"])
    units = np.array([space.to_unit({n: min(max(e.params[n], space[n].low), space[n].high) for n in names})
                      for e in ok])
    values = np.array([e.value for e in ok])
    variances = np.array([e.stderr for e in ok]) ** 2
    gp = _fit_gp(units, values, variances, _seed(run, 0))
    tuned = run.tuned_params()
    centre = space.to_unit({n: min(max(tuned[n], space[n].low), space[n].high) for n in names})
    ncols = min(len(names), 3)
    nrows = math.ceil(len(names) / ncols)
    grid = np.linspace(0.0, 1.0, 201)
    with _style():
        figure = mpl.figure.Figure(figsize=(6.0 * ncols, 4.6 * nrows + 0.6), layout="constrained")
        axes = np.atleast_1d(figure.subplots(nrows, ncols, sharey=True, squeeze=False)).ravel()
        for k, (ax, name) in enumerate(zip(axes, names)):
            points = np.repeat(centre[None], len(grid), axis=0)
            points[:, k] = grid
            mean, sd = gp.predict(points, return_std=True)
            xs = np.array([space[name].from_unit(u) for u in grid])
            ax.fill_between(xs, mean - 2 * sd, mean + 2 * sd, color=_COLORS["tuned"], alpha=0.12, lw=0,
                            label="surrogate $\\pm 2\\sigma$")
            ax.fill_between(xs, mean - sd, mean + sd, color=_COLORS["tuned"], alpha=0.25, lw=0,
                            label="surrogate $\\pm 1\\sigma$")
            ax.plot(xs, mean, color=_COLORS["tuned"], lw=2, label="surrogate mean")
            ax.errorbar([e.params[name] for e in ok], values, yerr=np.sqrt(variances), fmt="o", ms=3.5,
                        color="0.45", alpha=0.6, elinewidth=0.8, label="evaluations (projected)")
            ax.axvline(tuned[name], color=_COLORS["tuned"], lw=1.2, ls=":", label=f"tuned {tuned[name]:.4g}")
            if run.result is not None and name in run.result.interval68:
                low, high = run.result.interval68[name]
                if math.isfinite(low) and math.isfinite(high):
                    ax.axvspan(low, high, color=_COLORS["tuned"], alpha=0.08, lw=0, label="68% interval")
            if name in run.truth:
                ax.axvline(run.truth[name], color=_COLORS["truth"], ls="--", lw=1.6, label="truth")
            if space[name].log:
                ax.set_xscale("log")
            ax.set_xlim(space[name].low, space[name].high)
            ax.set_xlabel(name, fontsize="small")
            ax.axhline(0.0, color="0.5", lw=0.8)
            if k % ncols == 0:
                ax.set_ylabel(_divergence_label(run.divergence), fontsize="small")
        for ax in axes[len(names):]:
            ax.set_visible(False)
        low = min(0.0, float(np.min(values - np.sqrt(variances))))
        high = float(np.max(values + np.sqrt(variances)))
        axes[0].set_ylim(low - 0.05 * (high - low), high + 0.1 * (high - low))
        seen = {}
        for ax in axes[: len(names)]:
            for handle, label in zip(*ax.get_legend_handles_labels()):
                key = "tuned" if label.startswith("tuned") else label
                seen.setdefault(key, (handle, "tuned" if key == "tuned" else label))
        figure.legend([h for h, _ in seen.values()], [t for _, t in seen.values()], loc="outside upper center",
                      ncols=min(len(seen), 4), frameon=False, fontsize="x-small")
    return figure


def proposal_figure(run: RunFiles):
    """Variational runs: the proposal's mean and width per parameter against events, read
    from each evaluation's ``details`` (``proposal_mean``/``proposal_sd`` by parameter name,
    or ``proposal: {mean, sd}``). None when the history does not record them."""
    np, mpl = _numpy(), _plotting()
    names = run.parameter_names
    rows = []
    x = np.cumsum([e.n_events for e in run.history])
    for events, evaluation in zip(x, run.history):
        details = evaluation.details or {}
        proposal = details.get("proposal") if isinstance(details.get("proposal"), dict) else {}
        mean = details.get("proposal_mean", proposal.get("mean"))
        sd = details.get("proposal_sd", details.get("proposal_std", proposal.get("sd", proposal.get("std"))))
        if isinstance(mean, dict) and isinstance(sd, dict) and all(n in mean and n in sd for n in names):
            rows.append((events, [float(mean[n]) for n in names], [float(sd[n]) for n in names]))
    if not rows:
        return None
    events = np.array([r[0] for r in rows])
    means = np.array([r[1] for r in rows])
    sds = np.array([r[2] for r in rows])
    ncols = min(len(names), 3)
    nrows = math.ceil(len(names) / ncols)
    with _style():
        figure = mpl.figure.Figure(figsize=(6.0 * ncols, 4.6 * nrows + 0.6), layout="constrained")
        axes = np.atleast_1d(figure.subplots(nrows, ncols, sharex=True, squeeze=False)).ravel()
        for k, (ax, name) in enumerate(zip(axes, names)):
            ax.fill_between(events, means[:, k] - sds[:, k], means[:, k] + sds[:, k], color=_COLORS["tuned"],
                            alpha=0.25, lw=0, label="proposal $\\pm 1$ sd")
            ax.plot(events, means[:, k], color=_COLORS["tuned"], lw=2, label="proposal mean")
            if name in run.truth:
                ax.axhline(run.truth[name], color=_COLORS["truth"], ls="--", lw=1.6, label="truth")
            ax.set_ylabel(name, fontsize="small")
            ax.set_xlabel("simulated events (cumulative)", fontsize="small")
            ax.xaxis.set_major_formatter(mpl.ticker.EngFormatter(sep=""))
        for ax in axes[len(names):]:
            ax.set_visible(False)
        axes[0].legend(fontsize="xx-small", frameon=False)
    return figure


def observable_figures(reference, start, tuned, feature_names, per_page: int = FEATURES_PER_PAGE,
                       labels: tuple[str, str, str] = ("reference", "start", "tuned")) -> list:
    """Pages of normalised histograms (reference as points, start dashed, tuned solid) with
    ratio-to-reference panels, ``per_page`` features a page. Returns matplotlib Figures."""
    np, mpl = _numpy(), _plotting()
    import mplhep

    names = list(feature_names)
    pages = []
    for first in range(0, len(names), per_page):
        chunk = list(range(first, min(first + per_page, len(names))))
        ncols = 1 if len(chunk) == 1 else 2 if len(chunk) <= 4 else 3 if len(chunk) <= 9 else 4
        nrows = math.ceil(len(chunk) / ncols)
        single = len(chunk) == 1
        with _style():
            figure = mpl.figure.Figure(figsize=(9.0, 8.5) if single else (5.2 * ncols, 4.9 * nrows + 0.7),
                                       layout="constrained")
            figure.get_layout_engine().set(h_pad=0.03, w_pad=0.05, hspace=0.0, wspace=0.02)
            outer = figure.add_gridspec(nrows, ncols)
            for slot, column in enumerate(chunk):
                inner = outer[slot // ncols, slot % ncols].subgridspec(2, 1, height_ratios=(3, 1))
                top = figure.add_subplot(inner[0])
                bottom = figure.add_subplot(inner[1], sharex=top)
                _histogram_panel(np, mplhep, top, bottom, names[column],
                                 reference[:, column], start[:, column], tuned[:, column], labels, single)
            handles, texts = figure.axes[0].get_legend_handles_labels()
            figure.legend(handles, texts, loc="outside upper center", ncols=3, frameon=False, fontsize="small")
            pages.append(figure)
    return pages


def roc_figure(reference, start, tuned, seed: int):
    """ROC curves of a HistGradientBoosting classifier between each simulated sample and
    the reference (trained on 2/3, evaluated on 1/3). Returns (Figure, {label: (auc, err)})."""
    np, mpl = _numpy(), _plotting()
    aucs = {}
    with _style():
        figure = mpl.figure.Figure(figsize=(8.5, 8.0), layout="constrained")
        ax = figure.add_subplot()
        ax.plot([0, 1], [0, 1], color="0.5", ls=":", lw=1.2, label="indistinguishable (AUC 0.5)")
        for label, sample, style in (("start", start, "--"), ("tuned", tuned, "-")):
            fpr, tpr, auc, error = _roc(np, sample, reference, seed)
            aucs[label] = (auc, error)
            ax.plot(fpr, tpr, ls=style, lw=2.2, color=_COLORS[label], label=f"{label}: AUC = {auc:.3f} $\\pm$ {error:.3f}")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_aspect("equal")
        ax.set_xlabel("reference events classed simulated (FPR)", fontsize="small")
        ax.set_ylabel("simulated events classed simulated (TPR)", fontsize="small")
        ax.legend(loc="lower right", fontsize="x-small", frameon=False)
    return figure, aucs


# -- pieces -----------------------------------------------------------------------------------
def _histogram_panel(np, mplhep, top, bottom, name, reference, start, tuned, labels, single) -> None:
    from matplotlib.ticker import MaxNLocator

    edges, spike, integer = _binning(np, [reference, start, tuned])
    widths = np.diff(edges)
    hists = {}
    for key, data in zip(("reference", "start", "tuned"), (reference, start, tuned)):
        shown = data if spike is None else data[data != spike]
        counts = _counts(shown, edges)
        hists[key] = (counts / (len(data) * widths), np.sqrt(counts) / (len(data) * widths))
    ref, ref_err = hists["reference"]
    mplhep.histplot(ref, edges, yerr=ref_err, histtype="errorbar", color=_COLORS["reference"], ax=top,
                    label=f"{labels[0]}", markersize=4 if not single else 6, flow=None)
    mplhep.histplot(hists["start"][0], edges, yerr=hists["start"][1], histtype="step", ls="--", lw=1.6,
                    color=_COLORS["start"], ax=top, label=labels[1], flow=None)
    mplhep.histplot(hists["tuned"][0], edges, yerr=hists["tuned"][1], histtype="step", lw=1.8,
                    color=_COLORS["tuned"], ax=top, label=labels[2], flow=None)
    top.set_ylabel("1/N dN/dx", fontsize="x-small" if not single else "small")
    peak = max(np.max(ref + ref_err), np.max(hists["tuned"][0]), np.max(hists["start"][0]))
    if _steeply_falling(np, ref):
        top.set_yscale("log")
        floor = np.min(ref[ref > 0]) if (ref > 0).any() else peak * 1e-3
        top.set_ylim(floor / 3, peak * 6)
    else:
        top.set_ylim(0, peak * 1.35)
    if integer:
        bottom.xaxis.set_major_locator(MaxNLocator(integer=True))
    top.tick_params(labelbottom=False, labelsize="x-small" if not single else "small")
    chi2 = {key: _chi2(np, hists[key], hists["reference"]) for key in ("start", "tuned")}
    lines = [f"$\\chi^2$/ndf {labels[1]} {chi2['start'][0]:.1f}/{chi2['start'][1]}",
             f"$\\chi^2$/ndf {labels[2]} {chi2['tuned'][0]:.1f}/{chi2['tuned'][1]}"]
    if spike is not None:
        share = {key: float(np.mean(d == spike)) for key, d in zip(("reference", "start", "tuned"), (reference, start, tuned))}
        lines.append(f"at {spike:g} (not shown): ref {share['reference']:.0%}, start {share['start']:.0%}, "
                     f"tuned {share['tuned']:.0%}")
    right_heavy = np.argmax(ref) >= len(ref) / 2 if ref.size else False
    top.text(0.03 if right_heavy else 0.97, 0.95, "\n".join(lines), transform=top.transAxes,
             ha="left" if right_heavy else "right", va="top",
             fontsize="xx-small" if not single else "x-small", linespacing=1.3)
    # ratio panel: simulation / reference, reference's own uncertainty as a band
    with np.errstate(divide="ignore", invalid="ignore"):
        band = np.where(ref > 0, ref_err / ref, np.nan)
        bottom.stairs(1 + np.nan_to_num(band), edges, baseline=1 - np.nan_to_num(band), fill=True,
                      color=_COLORS["band"], alpha=0.7, lw=0)
        for key, style in (("start", "--"), ("tuned", "-")):
            ratio = np.where(ref > 0, hists[key][0] / ref, np.nan)
            error = np.where(ref > 0, hists[key][1] / ref, np.nan)
            centres = 0.5 * (edges[1:] + edges[:-1])
            bottom.stairs(ratio, edges, color=_COLORS[key], ls=style, lw=1.4, baseline=None)
            bottom.errorbar(centres, ratio, yerr=error, fmt="none", color=_COLORS[key], lw=1, capsize=0)
    bottom.axhline(1.0, color="black", lw=0.8)
    bottom.set_ylim(*_ratio_limits(np, ref, ref_err, [hists["start"][0], hists["tuned"][0]]))
    bottom.set_ylabel("sim / ref", fontsize="xx-small" if not single else "x-small")
    bottom.set_xlabel(name, fontsize="x-small" if not single else "small")
    bottom.tick_params(labelsize="x-small" if not single else "small")
    bottom.set_xlim(edges[0], edges[-1])


def _steeply_falling(np, ref) -> bool:
    """Log scale for distributions that fall by orders of magnitude from a peak at the low
    edge (event shapes like D or the aplanarity; counts that are almost always 0)."""
    positive = ref[ref > 0]
    if positive.size < 2:
        return False
    if len(ref) <= 8:
        return bool(positive.max() / positive.min() > 30)
    return bool(np.argmax(ref) < 0.15 * len(ref) and positive.max() / np.median(positive) > 10)


def _ratio_limits(np, ref, ref_err, simulated) -> tuple[float, float]:
    """A symmetric ratio range around 1 (+-0.1, 0.2, 0.5 or 1) that holds 90% of the ratios
    of the bins where the reference is known to better than 15%."""
    with np.errstate(divide="ignore", invalid="ignore"):
        good = (ref > 0) & (ref_err < 0.15 * ref)
        ratios = np.concatenate([values[good] / ref[good] for values in simulated]) if good.any() else np.array([1.0])
    spread = float(np.quantile(np.abs(ratios - 1), 0.9)) if ratios.size else 0.0
    for half in (0.1, 0.2, 0.5, 1.0):
        if spread < 0.9 * half:
            return 1 - half, 1 + half
    return 0.0, 2.0


def _binning(np, samples):
    """Bin edges for a feature, a value left out of the plot (a spike holding > 20% of the
    events of a continuous feature, like 0 for 'x_b of events without a b') or None, and
    whether the feature is integer-valued.

    Integer-valued features get one bin per integer (wider when the range is large);
    continuous ones 40 equal bins over the central 99.6% of the pooled events."""
    pooled = np.concatenate([np.asarray(s, dtype=float) for s in samples])
    pooled = pooled[np.isfinite(pooled)]
    if pooled.size == 0:
        return np.array([0.0, 1.0]), None, False
    integer = bool(np.all(pooled == np.round(pooled)))
    spike = None
    if not integer:
        values, counts = np.unique(pooled, return_counts=True)
        top = int(np.argmax(counts))
        if counts[top] > 0.2 * pooled.size and counts[top] < pooled.size:
            spike = float(values[top])
            pooled = pooled[pooled != spike]
    if integer:
        low, high = np.quantile(pooled, [0.001, 0.999])
        low, high = math.floor(low), math.ceil(high)
        # values on a lattice (the charged multiplicity is always even): one bin per lattice step
        present = np.unique(pooled).astype(np.int64)
        lattice = int(np.gcd.reduce(np.diff(present))) if present.size > 1 else 1
        step = lattice * max(1, math.ceil((high - low + lattice) / lattice / 40))
        first = low - 0.5 * lattice
        return np.arange(first, high + 0.5 * lattice + step, step, dtype=float), None, True
    low, high = np.quantile(pooled, [0.002, 0.998])
    if not high > low:
        low, high = low - 0.5, high + 0.5
    n_bins = int(np.clip(np.sqrt(pooled.size / 3) / 2, 10, 40))
    return np.linspace(low, high, n_bins + 1), spike, False


def _counts(values, edges):
    import hist
    import numpy as np

    histogram = hist.Hist(hist.axis.Variable(edges, underflow=True, overflow=True))
    histogram.fill(np.asarray(values, dtype=float))
    return histogram.values(flow=False).astype(float)


def _chi2(np, simulated, reference) -> tuple[float, int]:
    value, error = simulated
    ref, ref_error = reference
    variance = error**2 + ref_error**2
    used = variance > 0
    return float(np.sum((value[used] - ref[used]) ** 2 / variance[used])), int(used.sum())


def _roc(np, simulated, reference, seed: int):
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import roc_auc_score, roc_curve

    rng = np.random.default_rng(seed)
    n = min(len(simulated), len(reference))
    sim = simulated[rng.permutation(len(simulated))[:n]]
    ref = reference[rng.permutation(len(reference))[:n]]
    cut = (2 * n) // 3
    x_train = np.vstack([sim[:cut], ref[:cut]])
    y_train = np.r_[np.ones(cut), np.zeros(cut)]
    x_test = np.vstack([sim[cut:], ref[cut:]])
    y_test = np.r_[np.ones(n - cut), np.zeros(n - cut)]
    from threadpoolctl import threadpool_limits

    classifier = HistGradientBoostingClassifier(max_iter=200, early_stopping=True, random_state=seed % 2**32)
    # One OpenMP thread: in a process that has loaded torch, sklearn's OpenMP threads were
    # measured to spin against torch's (a 1 s fit took 8-15 s); one thread is fast enough.
    with threadpool_limits(limits=1, user_api="openmp"):
        classifier.fit(x_train, y_train)
    score = classifier.predict_proba(x_test)[:, 1]
    fpr, tpr, _ = roc_curve(y_test, score)
    auc = float(roc_auc_score(y_test, score))
    return fpr, tpr, auc, _auc_error(auc, n - cut, n - cut)


def _auc_error(auc: float, n_pos: int, n_neg: int) -> float:
    """Hanley & McNeil (1982) standard error of an AUC."""
    q1, q2 = auc / (2 - auc), 2 * auc**2 / (1 + auc)
    variance = (auc * (1 - auc) + (n_pos - 1) * (q1 - auc**2) + (n_neg - 1) * (q2 - auc**2)) / (n_pos * n_neg)
    return math.sqrt(max(variance, 0.0))


def _fit_gp(units, values, variances, seed: int):
    """sklearn GP like the Bayesian optimiser's: Matern 5/2 with one length scale per
    parameter, normalised targets, each point's squared standard error as its noise."""
    np = _numpy()
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

    dim = units.shape[1]
    kernel = (ConstantKernel(1.0, (0.01, 1000.0)) * Matern(length_scale=np.full(dim, 0.3), length_scale_bounds=(0.02, 10.0), nu=2.5)
              + WhiteKernel(1e-3, (1e-6, 1e-1)))
    scale = values.var() if values.var() > 0 else 1.0
    gp = GaussianProcessRegressor(kernel=kernel, alpha=np.maximum(variances / scale, 1e-10), normalize_y=True,
                                  n_restarts_optimizer=2, random_state=seed % 2**32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        gp.fit(units, values)
    return gp


# -- samples for the observable plots -------------------------------------------------------------
def _report_samples(run: RunFiles, report: Report, simulate_events, simulator, reference) -> ReportSamples | None:
    """Load ``report_samples.npz`` when it holds this run's start and tuned points (and the
    asked number of events), else simulate them and save it."""
    np = _numpy()
    start = {**run.fixed, **run.start_params()}
    tuned_point = run.tuned_params()
    if tuned_point is None:
        report.notes.append("Observable plots skipped: no successful evaluation yet.")
        return None
    tuned = {**run.fixed, **tuned_point}
    path = run.path / SAMPLES_FILE
    stored = _load_samples(path, start, tuned, simulate_events)
    if stored is not None:
        report.notes.append(f"Observable and ROC plots reuse {stored.events:,} events per point from {path} "
                            "(simulated for an earlier report).")
        return stored
    if simulator is None:
        if not run.config:
            report.notes.append(
                "Observable and ROC plots skipped: this run was started from a script, so config.json holds no "
                "config to rebuild the simulator and reference from. Run from a config (advopt tune CONFIG.toml), "
                "or call advopt.report.make_report(run_dir, simulator=..., reference=...).")
            return None
        from advopt.config import tune_arguments

        arguments = tune_arguments(run.config, {"run_dir": None})
        simulator, reference = arguments["simulator"], arguments["reference"]
    elif reference is None:
        raise ValueError("reference: make_report(simulator=...) needs the run's reference too")
    sim, ref = _resolve(simulator, reference, run)
    expected = run.resolved.get("reference_sha256")
    if expected and hashlib.sha256(np.ascontiguousarray(ref.events)).hexdigest() != expected:
        report.notes.append("Warning: the reference rebuilt for this report differs from the one the run used "
                            "(its checksum does not match config.json): has the reference file changed?")
    n = simulate_events or DEFAULT_EVENTS
    seed = lambda purpose: _seed(run, purpose)
    try:
        start_events = np.asarray(sim.simulate(dict(start), n, seed(seeds.REPORT_START)), dtype=float)
        tuned_events = np.asarray(sim.simulate(dict(tuned), n, seed(seeds.REPORT_TUNED)), dtype=float)
    except Exception as err:  # a simulator failure must not lose the rest of the report
        report.notes.append(f"Observable plots skipped: the simulator failed: {type(err).__name__}: {err}")
        return None
    for label, events in (("start", start_events), ("tuned", tuned_events)):
        if events.ndim != 2 or events.shape[1] != ref.events.shape[1] or not np.isfinite(events).all():
            report.notes.append(f"Observable plots skipped: the simulator returned bad events at the {label} point "
                                f"(shape {events.shape}, or NaN/inf).")
            return None
    rng = np.random.default_rng(seed(seeds.REPORT_REFERENCE))
    keep = np.sort(rng.choice(len(ref.events), min(len(ref.events), n), replace=False))
    reference_events = ref.events[keep]
    names = tuple(ref.feature_names or run.resolved.get("feature_names") or getattr(sim, "feature_names", None)
                  or [f"x{i}" for i in range(ref.events.shape[1])])
    samples = ReportSamples(tuple(names), reference_events, start_events, tuned_events, start, tuned, n,
                            len(ref.events), path, reused=False)
    _save_samples(samples, {"start": seed(seeds.REPORT_START), "tuned": seed(seeds.REPORT_TUNED),
                            "reference_subsample": seed(seeds.REPORT_REFERENCE)})
    report.notes.append(f"Simulated {n:,} events at each of the start and tuned points for the observable and ROC "
                        f"plots ({2 * n:,} in all, not counted in the tuning budget); saved in {path}.")
    return samples


def _resolve(simulator, reference, run: RunFiles):
    from advopt.data import Sample, check_sample, load_sample
    from advopt.simulator import as_simulator

    sim = as_simulator(simulator)
    if isinstance(reference, (str, Path)):
        ref = load_sample(reference)
    elif isinstance(reference, Sample):
        ref = reference
    else:
        ref = check_sample(reference, what="reference")
    names = run.resolved.get("feature_names")
    if names and ref.feature_names and tuple(ref.feature_names) != tuple(names):
        ref = ref.select(names)
    return sim, ref


def _save_samples(samples: ReportSamples, seeds: dict) -> None:
    from advopt.data import save_sample

    np = _numpy()
    counts = [len(samples.reference), len(samples.start), len(samples.tuned)]
    temporary = samples.path.with_name(f".{samples.path.stem}.tmp.npz")
    save_sample(temporary, np.vstack([samples.reference, samples.start, samples.tuned]), samples.feature_names,
                purpose="advopt report samples: reference subsample, start point, tuned point (rows in that order)",
                counts=counts, start=samples.start_params, tuned=samples.tuned_params, events_per_point=samples.events,
                reference_total=samples.reference_total, seeds=seeds)
    os.replace(temporary, samples.path)


def _load_samples(path: Path, start: dict, tuned: dict, events: int | None) -> ReportSamples | None:
    if not path.is_file():
        return None
    np = _numpy()
    from advopt.data import load_sample

    try:
        with np.load(path, allow_pickle=False) as archive:
            meta = json.loads(str(archive["metadata"]))
        sample = load_sample(path)
    except (OSError, KeyError, ValueError) as err:
        logger.warning("ignoring unreadable %s: %s", path, err)
        return None
    if (not _same_point(meta.get("start", {}), start) or not _same_point(meta.get("tuned", {}), tuned)
            or (events is not None and meta.get("events_per_point") != events)):
        return None
    n_ref, n_start, n_tuned = meta["counts"]
    rows = sample.events
    names = sample.feature_names or tuple(f"x{i}" for i in range(rows.shape[1]))
    return ReportSamples(tuple(names), rows[:n_ref], rows[n_ref:n_ref + n_start], rows[n_ref + n_start:],
                         meta["start"], meta["tuned"], int(meta["events_per_point"]), int(meta.get("reference_total", n_ref)),
                         path, reused=True)


def _same_point(a: dict, b: dict) -> bool:
    return set(a) == set(b) and all(math.isclose(float(a[k]), float(b[k]), rel_tol=1e-12, abs_tol=1e-15) for k in a)


def _seed(run: RunFiles, purpose: int) -> int:
    from advopt.seeds import task_seed

    return task_seed(int(run.resolved.get("seed", 0) or 0), 0, 0, purpose)


# -- HTML ---------------------------------------------------------------------------------------
def _html(report: Report, images: dict[str, Path]) -> str:
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
            "<th>68% interval</th><th>truth</th><th>pull</th></tr>"]
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
            _number(run.truth.get(name)),
            f"{pulls[name]:+.2f}" if name in pulls and math.isfinite(pulls[name]) else "",
        ]
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    rows.append("</table>")
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


# -- helpers -------------------------------------------------------------------------------------
def _plotting():
    """matplotlib (with ``figure``, ``ticker``, ``colors``, ``colormaps`` loaded); checks
    that mplhep and hist are there too."""
    try:
        import hist  # noqa: F401
        import matplotlib
        import matplotlib.colors
        import matplotlib.figure
        import matplotlib.ticker
        import mplhep  # noqa: F401
    except ImportError:
        raise ValueError(PLOT_EXTRA_MESSAGE) from None
    return matplotlib


def _numpy():
    import numpy

    return numpy


@contextlib.contextmanager
def _style():
    """mplhep's ROOT style, in a context (never set globally), a little smaller for grids."""
    import matplotlib
    import mplhep

    with matplotlib.rc_context(), matplotlib.style.context(mplhep.style.ROOT):
        matplotlib.rcParams.update({"font.size": 18, "axes.titlesize": "medium", "savefig.bbox": None,
                                    "figure.max_open_warning": 0})
        yield


def _divergence_label(name: str) -> str:
    return "JS divergence [nats]" if name.startswith("jsd") else f"divergence ({name})"


def _write_text_atomic(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text)
    os.replace(temporary, path)


# -- command line --------------------------------------------------------------------------------
def add_report_commands(subparsers) -> None:
    """Add ``report RUN_DIR [-o OUT] [--events N]`` and ``status RUN_DIR`` to the CLI's
    argparse subparsers. Handlers return an exit code and raise ValueError for bad input."""
    report = subparsers.add_parser("report", help="plots and an HTML page from a run directory (finished or running)")
    report.add_argument("run_dir", help="the run directory")
    report.add_argument("-o", "--output", help="output directory (default: RUN_DIR/report)")
    report.add_argument("--events", type=int, help=f"events simulated at the start and tuned points for the observable "
                                                   f"plots (default: reuse RUN_DIR/{SAMPLES_FILE}, else {DEFAULT_EVENTS})")
    report.set_defaults(handler=_report_command)
    status = subparsers.add_parser("status", help="events spent, evaluations and the best point of a run so far")
    status.add_argument("run_dir", help="the run directory")
    status.set_defaults(handler=_status_command)


def _report_command(args) -> int:
    page = make_report(args.run_dir, args.output, args.events)
    print(f"report: {page}")
    return 0


def _status_command(args) -> int:
    print(run_status(args.run_dir))
    return 0
