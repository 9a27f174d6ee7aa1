"""Build a report: its figures, captions and notes from a run directory (:func:`build_report`),
and write them with the HTML page (:func:`make_report`)."""

from __future__ import annotations

import logging
from pathlib import Path

from advopt import seeds
from advopt.records.files import write_text_atomic
from advopt.report.common import HTML_FILE, REPORT_DIR, Report, ReportSamples, plotting, report_style
from advopt.report.event_figures import observable_figures, roc_figure
from advopt.report.html import page_html
from advopt.report.run_figures import (convergence_figure, estimate_figure, proposal_figure, round_estimates,
                                       surrogate_figure, trajectory_figure)
from advopt.report.samples import report_samples, run_seed
from advopt.records.progress import read_run

logger = logging.getLogger(__name__)

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
    with report_style():
        for name, figure in report.figures.items():
            png = out / f"{name}.png"
            figure.savefig(png, dpi=dpi)
            images[name] = png
    page = out / HTML_FILE
    write_text_atomic(page, page_html(report, images))
    logger.info("report written to %s", page)
    return page


def build_report(run_dir: str | Path, simulate_events: int | None = None, *, simulator=None, reference=None) -> Report:
    """Everything :func:`make_report` draws, as matplotlib figures (nothing written but
    ``report_samples.npz`` when new samples are simulated)."""
    plotting()  # fail early, with the extra to install
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

    if round_estimates(run):  # a fitting optimiser: its estimate per round, not per-point values it does not use
        report.figures["convergence"] = estimate_figure(run)
        report.captions["convergence"] = (
            "The estimate each round's points were centred on, with its 68% band (the fit's stated sd during the "
            "run), against the simulated events spent when that round began; the diamond is the result with its "
            "final 68% interval (the simulation share measured by half-sampling).")
    else:
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

    samples = report_samples(run, report, simulate_events, simulator, reference)
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
                                  run_seed(run, seeds.REPORT_CLASSIFIER))
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


