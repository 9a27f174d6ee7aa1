"""What every part of the report shares: its constants, colours and data, and the lazily
imported plotting stack (the ``plot`` extra)."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path

from advopt.records.progress import RunFiles

REPORT_DIR = "report"
SAMPLES_FILE = "report_samples.npz"
HTML_FILE = "report.html"
DEFAULT_EVENTS = 20_000
FEATURES_PER_PAGE = 12
PLOT_EXTRA_MESSAGE = "report needs the plot extra: pip install 'advopt[plot]'"

COLORS = {"reference": "black", "start": "#e66101", "tuned": "#0571b0", "truth": "#d7191c", "band": "0.75"}


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


def plotting():
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


def numpy_module():
    import numpy

    return numpy


@contextlib.contextmanager
def report_style():
    """mplhep's ROOT style, in a context (never set globally), a little smaller for grids."""
    import matplotlib
    import mplhep

    with matplotlib.rc_context(), matplotlib.style.context(mplhep.style.ROOT):
        matplotlib.rcParams.update({"font.size": 18, "axes.titlesize": "medium", "savefig.bbox": None,
                                    "figure.max_open_warning": 0})
        yield


def divergence_label(name: str) -> str:
    return "JS divergence [nats]" if name.startswith("jsd") else f"divergence ({name})"


