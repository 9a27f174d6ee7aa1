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


from advopt.report.build import build_report, make_report, quantile_mse_ratios
from advopt.report.common import DEFAULT_EVENTS, HTML_FILE, REPORT_DIR, SAMPLES_FILE, Report, ReportSamples
from advopt.report.event_figures import observable_figures, roc_figure

__all__ = ["make_report", "build_report", "quantile_mse_ratios", "observable_figures", "roc_figure", "Report", "ReportSamples", "REPORT_DIR", "SAMPLES_FILE",
           "HTML_FILE", "DEFAULT_EVENTS"]
