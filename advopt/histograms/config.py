"""A TOML run configuration whose reference is published histograms::

    seed = 1
    [simulator]  name = "pythia-ee"; options = { sqrt_s = 91.2 }
    [parameters] "StringZ:aLund" = [0.0, 2.0]                 # as for event references
    [fixed]      "TimeShower:pTminChgQ" = 0.5
    [reference]  kind = "histograms"
                 files = ["ALEPH_1996_S3486095.yoda"]         # YODA or HEPData CSV; a bare name is also
                                                              # looked up among the shipped measurements
                 include = ["/ALEPH_1996_S3486095/*"]; exclude = ["*/d35-*"]; min_bins = 2
                 weights = "weights.txt"                      # Professor-style PATTERN[@LOW:HIGH] WEIGHT
                 analyses = ["ALEPH_1996_S3486095"]           # default: the measurements' own names
    [optimizer]  kind = "moments" | "bayes"; rounds = 4
    [budget]     events = 2000000
    [execution]  workers = 2; backend = "local" | "serial" | "dask"; ...

Relative paths are read relative to the configuration file.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import resources
from pathlib import Path

from advopt.config import ConfigError, only_fields, space_from_config, config_table
from advopt.histograms.reference import HistogramReference
from advopt.simulator import as_simulator

REFERENCE_FIELDS = {"kind", "files", "include", "exclude", "min_bins", "weights", "analyses"}


def is_histogram_config(config: Mapping) -> bool:
    return config_table(config, "reference").get("kind") == "histograms"


def shipped_file(name: str) -> Path:
    """A measurement shipped with advopt (advopt/histograms/data)."""
    return Path(str(resources.files("advopt.histograms").joinpath("data").joinpath(name)))


def _resolve(path: str, base: Path | None, field: str) -> Path:
    if not isinstance(path, str) or not path:
        raise ConfigError(f"{field}: expected a file name, got {path!r}")
    candidate = Path(path)
    if not candidate.is_absolute() and base is not None:
        candidate = base / candidate
    if candidate.is_file():
        return candidate
    if Path(path).name == path and shipped_file(path).is_file():
        return shipped_file(path)
    raise ConfigError(f"{field}: file not found: {path}")


def histogram_tune_arguments(config: Mapping, overrides: Mapping | None = None, base: Path | None = None) -> dict:
    """Keyword arguments for :func:`advopt.histograms.tune.tune_histograms` from a checked config."""
    overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
    sim_table = config_table(config, "simulator")
    only_fields(sim_table, "simulator", {"name", "options"})
    simulator = as_simulator(str(sim_table["name"]), **config_table(sim_table, "options", "simulator.options"))
    space = space_from_config(config, simulator)
    table = config_table(config, "reference")
    only_fields(table, "reference", REFERENCE_FIELDS)
    files = table.get("files")
    if isinstance(files, str):
        files = [files]
    if not files or not isinstance(files, list):
        raise ConfigError("reference.files: give a list of YODA or HEPData files")
    files = [_resolve(f, base, "reference.files") for f in files]
    weights = table.get("weights")
    if isinstance(weights, str):
        weights = _resolve(weights, base, "reference.weights")
    for key in ("include", "exclude", "analyses"):
        value = table.get(key)
        if value is not None and not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            raise ConfigError(f"reference.{key}: expected a list of strings, got {value!r}")
    reference = HistogramReference.load(files, include=table.get("include", ["*"]), exclude=table.get("exclude", []),
                                        min_bins=table.get("min_bins", 1), weights=weights)
    optimizer = config_table(config, "optimizer")
    only_fields(optimizer, "optimizer", {"kind", "rounds"})
    budget = config_table(config, "budget")
    only_fields(budget, "budget", {"events"})
    execution = config_table(config, "execution")
    only_fields(execution, "execution", {"workers", "backend", "address", "cluster", "retries", "task_timeout"})
    return dict(
        simulator=simulator, reference=reference, space=space, analyses=table.get("analyses"),
        budget=overrides.get("budget", budget.get("events", 2_000_000)), rounds=optimizer.get("rounds", 4),
        method=optimizer.get("kind", "moments"), seed=overrides.get("seed", config.get("seed", 0)),
        n_workers=overrides.get("workers", execution.pop("workers", 1)),
        backend=overrides.get("backend", execution.pop("backend", None)), execution=execution,
        fixed=config_table(config, "fixed"), run_dir=overrides.get("run_dir"),
    )
