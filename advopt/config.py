"""TOML run configurations: read, check field by field, and turn into ``tune`` arguments.

Sections (all optional but ``simulator``)::

    seed = 1
    [simulator]   name = "xor"; options = {...}
    [parameters]  angle = { low = -0.2, high = 1.5, log = false }   # or [low, high]; default: the simulator's space
    [fixed]       width = 1.0                                       # parameters held at a value
    [reference]   path = "ref.npz"; features = [...]; tree = "events"
                  # or pseudo-data: simulate_at = "truth" (or a table of values); events = 20000; seed = 7
                  per_point = 4          # reference events per simulated event at each point (default 1)
    [divergence]  kind = "mlp"; ...options of the divergence (not with the pooled optimizer)
    [optimizer]   kind = "pooled" | "bayes" | "random" | "variational"; ...options of the optimiser
                  (neither kind given: "pooled"; only a divergence kind: "bayes")
    [budget]      events = 200000; events_per_point = 2000 (left out: the optimiser's choice); chunk_size = 2000
                  max_events_per_point = 16000; growth_threshold = 0.01   # adaptive sample size
    [execution]   workers = 2; backend = "local" | "serial" | "dask"; retries = 2; task_timeout = 600
                  address = "tcp://scheduler:8786"      # dask: a running scheduler, or
    [execution.cluster] kind = "slurm"; cores = 8; memory = "16 GiB"; walltime = "04:00:00"; jobs = 4
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from importlib import resources
from pathlib import Path

from advopt.data import Sample, check_sample, load_sample
from advopt.seeds import CONFIG_REFERENCE, task_seed
from advopt.simulator import as_simulator, default_space, feature_names, truth
from advopt.space import Space

SECTIONS = {"seed", "simulator", "parameters", "fixed", "reference", "divergence", "optimizer", "budget", "execution"}


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


def tune_arguments(config: Mapping, overrides: Mapping | None = None) -> dict:
    """Resolve a checked config into keyword arguments for :func:`advopt.tune`.

    ``overrides`` (from CLI flags) replace ``seed``, ``workers``, ``backend``, ``budget`` and ``run_dir``.
    """
    overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
    sim_table = config_table(config, "simulator")
    only_fields(sim_table, "simulator", {"name", "options"})
    simulator = as_simulator(str(sim_table["name"]), **config_table(sim_table, "options", "simulator.options"))
    space = space_from_config(config, simulator)
    seed = overrides.get("seed", config.get("seed", 0))
    reference, known_truth = _reference(config, simulator, space)
    reference_per_point = config_table(config, "reference").get("per_point", 1.0)

    budget_table = config_table(config, "budget")
    only_fields(budget_table, "budget", {"events", "events_per_point", "chunk_size", "max_events_per_point", "growth_threshold"})
    optimizer_table = dict(config_table(config, "optimizer"))
    divergence_table = dict(config_table(config, "divergence"))
    execution_table = dict(config_table(config, "execution"))
    only_fields(execution_table, "execution", {"workers", "backend", "address", "cluster", "retries", "task_timeout"})
    if "backend" in overrides:
        execution_table["backend"] = overrides["backend"]
    workers = overrides.get("workers", execution_table.pop("workers", 1))
    return dict(
        simulator=simulator,
        reference=reference,
        space=space,
        optimizer=optimizer_table.pop("kind", None),
        batch_size=optimizer_table.pop("batch_size", None),
        optimizer_options=optimizer_table,
        divergence=divergence_table.pop("kind", "mlp" if divergence_table else None),
        divergence_options=divergence_table,
        budget=overrides.get("budget", budget_table.get("events", 200_000)),
        events_per_point=budget_table.get("events_per_point"),  # None: the optimiser's choice
        chunk_size=budget_table.get("chunk_size"),
        max_events_per_point=budget_table.get("max_events_per_point"),
        growth_threshold=budget_table.get("growth_threshold", 0.01),
        reference_per_point=reference_per_point,
        workers=workers,
        backend=execution_table.pop("backend", None),
        execution_options=execution_table,
        run_dir=overrides.get("run_dir"),
        seed=seed,
        truth=known_truth,
        fixed=config_table(config, "fixed"),
        config=dict(config),
    )


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


def _reference(config: Mapping, simulator, space: Space) -> tuple[Sample, dict | None]:
    table = config_table(config, "reference")
    only_fields(table, "reference", {"path", "features", "tree", "simulate_at", "events", "seed", "per_point"})
    if "path" in table and "simulate_at" in table:
        raise ConfigError("reference: give either 'path' or 'simulate_at', not both")
    if "path" in table:
        sample = load_sample(table["path"], tree=table.get("tree"))
        wanted = table.get("features") or (feature_names(simulator) if sample.feature_names else None)
        return sample.select(wanted), None
    if "simulate_at" not in table:
        raise ConfigError("reference: give 'path' (a data file) or 'simulate_at' (pseudo-data at known parameters)")
    at = table["simulate_at"]
    fixed = config_table(config, "fixed")
    if at == "truth":
        at = truth(simulator)
        if at is None:
            raise ConfigError("reference.simulate_at: 'truth' asked for, but the simulator has no truth")
        at = {**at, **fixed}  # the tune cannot move a fixed parameter: its truth is its fixed value
    if not isinstance(at, Mapping):
        raise ConfigError(f"reference.simulate_at: expected 'truth' or a table of parameter values, got {at!r}")
    events = table.get("events", 20_000)
    if not isinstance(events, int) or events < 8:
        raise ConfigError(f"reference.events: must be an integer >= 8, got {events!r}")
    seed = table.get("seed", task_seed(config.get("seed", 0), 0, 0, CONFIG_REFERENCE))
    data = simulator.simulate({**fixed, **dict(at)}, events, seed)  # [fixed] held as the tune holds it
    known = {name: float(at[name]) for name in space.names if name in at}
    return check_sample(data, feature_names(simulator), what="reference (simulate_at)"), known


def config_table(config: Mapping, key: str, field: str | None = None) -> dict:
    value = config.get(key, {})
    if not isinstance(value, Mapping):
        raise ConfigError(f"{field or key}: expected a table, got {type(value).__name__}")
    return dict(value)


def only_fields(table: Mapping, section: str, allowed: set[str]) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise ConfigError(f"{section}: unknown field(s) {unknown}; known: {sorted(allowed)}")
