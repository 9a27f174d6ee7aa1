"""TOML run configurations: read, check field by field, and turn into ``tune`` arguments.

Every field is declared once, with its type, bounds, default and help, in
:mod:`advopt.settings`; docs/REFERENCE.md shows them (generated). This module reads the
tables, resolves the simulator, the space and the reference, and hands the rest on as the
keywords the declarations name.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from importlib import resources
from pathlib import Path

from advopt.data import Sample, check_sample, load_sample
from advopt.seeds import CONFIG_REFERENCE, task_seed
from advopt.settings import FREE_TABLES, TABLES, default, keyword_arguments, read_table
from advopt.simulator import as_simulator, default_space, feature_names, truth
from advopt.space import Space

SECTIONS = {"seed", *TABLES}


class ConfigError(ValueError):
    """A configuration problem; the message names the field."""


def load_config(path: str | Path | None) -> dict:
    """Read a TOML file (None: the built-in default task) and check its sections."""
    if path is None:
        text = resources.files("advopt").joinpath("default_task.toml").read_text()
        source = "default task"
    else:
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"config: file not found: {path}")
        text, source = path.read_text(), str(path)
    try:
        config = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"config: {source} is not valid TOML ({err})") from None
    unknown = sorted(set(config) - SECTIONS)
    if unknown:
        raise ConfigError(f"config: unknown section(s) {unknown}; known: {sorted(SECTIONS)}")
    if "simulator" not in config or "name" not in config_table(config, "simulator"):
        raise ConfigError("simulator.name: missing; name a registered simulator or 'package.module:attr'")
    return config


def read_tables(config: Mapping, route: str) -> dict[str, dict]:
    """The config's tables (the top level's fields under ""), each field checked against its
    declaration for ``route``; [parameters] and [fixed] as they are (the space checks them)."""
    top = {key: value for key, value in config.items() if key not in TABLES}
    tables = {"": read_table("", top, route)}
    for table in TABLES:
        values = config_table(config, table)
        tables[table] = values if table in FREE_TABLES else read_table(table, values, route)
    tables["simulator"]["options"] = config_table(tables["simulator"], "options", "simulator.options")
    return tables


def tune_arguments(config: Mapping, overrides: Mapping | None = None) -> dict:
    """Resolve a checked config into keyword arguments for :func:`advopt.tune`.

    ``overrides`` (from CLI flags) replace ``seed``, ``workers``, ``backend``, ``budget`` and ``run_dir``.
    """
    overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
    tables = read_tables(config, "events")
    simulator = as_simulator(str(tables["simulator"]["name"]), **tables["simulator"]["options"])
    space = space_from_config(config, simulator)
    reference, known_truth = _reference(tables, simulator, space)
    arguments = keywords_of(tables, "events")
    arguments.update(simulator=simulator, reference=reference, space=space, truth=known_truth,
                     fixed=tables["fixed"], config=dict(config), **overrides)
    return arguments


def keywords_of(tables: Mapping[str, dict], route: str) -> dict:
    """The keywords the checked tables name (:func:`advopt.settings.keyword_arguments`); the
    simulator, the space and the fixed values are resolved by the reader itself."""
    return keyword_arguments({table: values for table, values in tables.items()
                              if table not in FREE_TABLES and table != "simulator"}, route)


def space_from_config(config: Mapping, simulator) -> Space:
    table = config_table(config, "parameters")
    defaults = default_space(simulator)
    if not table:
        if defaults is None:
            raise ConfigError("parameters: none given and the simulator has no default_space")
        return defaults
    spec = {}
    for name, value in table.items():
        if value == "default":
            if defaults is None or name not in defaults:
                raise ConfigError(f"parameters.{name}: 'default' bounds asked for, but the simulator's default space has no {name!r}")
            value = defaults[name]
        spec[name] = value
    try:
        return Space.from_dict(spec)
    except ValueError as err:
        raise ConfigError(f"parameters: {err}") from None


def _reference(tables: Mapping[str, dict], simulator, space: Space) -> tuple[Sample, dict | None]:
    table = tables["reference"]
    if "path" in table and "simulate_at" in table:
        raise ConfigError("reference: give either 'path' or 'simulate_at', not both")
    if "path" in table:
        sample = load_sample(table["path"], tree=table.get("tree"))
        wanted = table.get("features") or (feature_names(simulator) if sample.feature_names else None)
        return sample.select(wanted), None
    if "simulate_at" not in table:
        raise ConfigError("reference: give 'path' (a data file) or 'simulate_at' (pseudo-data at known parameters)")
    at = table["simulate_at"]
    fixed = tables["fixed"]
    if at == "truth":
        at = truth(simulator)
        if at is None:
            raise ConfigError("reference.simulate_at: 'truth' asked for, but the simulator has no truth")
        at = {**at, **fixed}  # the tune cannot move a fixed parameter: its truth is its fixed value
    if not isinstance(at, Mapping):
        raise ConfigError(f"reference.simulate_at: expected 'truth' or a table of parameter values, got {at!r}")
    events = table.get("events", default("reference.events"))
    seed = table.get("seed", task_seed(tables[""].get("seed", default("seed")), 0, 0, CONFIG_REFERENCE))
    data = simulator.simulate({**fixed, **dict(at)}, events, seed)  # [fixed] held as the tune holds it
    known = {name: float(at[name]) for name in space.names if name in at}
    return check_sample(data, feature_names(simulator), what="reference (simulate_at)"), known


def config_table(config: Mapping, key: str, field: str | None = None) -> dict:
    value = config.get(key, {})
    if not isinstance(value, Mapping):
        raise ConfigError(f"{field or key}: expected a table, got {type(value).__name__}")
    return dict(value)
