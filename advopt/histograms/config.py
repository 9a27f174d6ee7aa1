"""A TOML run configuration whose reference is published histograms::

    seed = 1
    [simulator]  name = "pythia-ee"; options = { sqrt_s = 91.2 }
    [parameters] "StringZ:aLund" = [0.0, 2.0]                 # as for event references
    [reference]  kind = "histograms"; files = ["ALEPH_1996_S3486095.yoda"]
    [optimizer]  kind = "moments"; rounds = 4
    [budget]     events = 2000000

Every field is declared once in :mod:`advopt.settings` (route ``histograms``; the table in
docs/REFERENCE.md). Relative paths are read relative to the configuration file.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import resources
from pathlib import Path

from advopt.config import ConfigError, config_table, keywords_of, read_tables, space_from_config
from advopt.histograms.reference import HistogramReference
from advopt.settings import default
from advopt.simulator import as_simulator


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
    tables = read_tables(config, "histograms")
    simulator = as_simulator(str(tables["simulator"]["name"]), **tables["simulator"]["options"])
    space = space_from_config(config, simulator)
    table = tables["reference"]
    files = table.get("files")
    if not files:
        raise ConfigError("reference.files: give a list of YODA or HEPData files")
    weights = table.get("weights")
    if isinstance(weights, str):
        weights = _resolve(weights, base, "reference.weights")
    reference = HistogramReference.load([_resolve(f, base, "reference.files") for f in files],
                                        include=table.get("include", default("reference.include")),
                                        exclude=table.get("exclude", default("reference.exclude")),
                                        min_bins=table.get("min_bins", default("reference.min_bins")), weights=weights)
    arguments = keywords_of(tables, "histograms")
    arguments.update(simulator=simulator, reference=reference, space=space, analyses=table.get("analyses"),
                     fixed=tables["fixed"], **overrides)
    return arguments
