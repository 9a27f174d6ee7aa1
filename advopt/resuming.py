"""Continue a stopped run from its run directory: ``advopt.resume(run_dir)``, the CLI's
``advopt resume``. The run's own config (in ``config.json``) says what to run; every recorded
evaluation (or, for a tune to histograms, every point's kept fills) is re-used, and the result
is the one an uninterrupted run gives."""

from __future__ import annotations

from pathlib import Path


def resume(run_dir: str | Path, *, workers: int | None = None, backend: str | None = None,
           progress: bool | None = None):
    """Resume the run in ``run_dir`` started from a config (``advopt tune``); a run started
    from a script is resumed by calling its function again with ``resume=True``. ``workers``
    and ``backend`` may differ from the first start: the history does not depend on them.
    Returns the run's result (a TuneResult, or a HistogramTuneResult for histograms)."""
    from advopt.records.rundir import read_config

    path = Path(run_dir)
    if not path.is_dir():
        raise ValueError(f"run_dir: no such directory: {run_dir}")
    record = read_config(path)
    config = record.get("config")
    if not config:
        from advopt.histograms.summaries import NAME

        by_tune = record.get("kind") != "histograms" or record.get("settings", {}).get("analyses") == [NAME]
        call = "advopt.tune" if by_tune else "tune_histograms"
        raise ValueError(f"run_dir: {run_dir} was started from a script; resume it with {call}(..., resume=True)")
    overrides = {"workers": workers, "backend": backend, "run_dir": str(run_dir)}
    from advopt.histograms.config import is_histogram_config

    if is_histogram_config(config):  # an event reference fitted by moments resumes through tune()
        from advopt.histograms.config import histogram_tune_arguments
        from advopt.histograms.tune import tune_histograms

        base = record.get("config_dir")
        arguments = histogram_tune_arguments(config, overrides, Path(base) if base else None)
        return tune_histograms(**arguments, config=config, config_dir=base, resume=True, progress=bool(progress))
    from advopt.config import tune_arguments
    from advopt.tuner import tune

    return tune(**tune_arguments(config, overrides), resume=True, progress=progress)
