"""Every setting of a run, declared once: its TOML table and field, the ``tune()`` keyword it
is, its type, bounds, default and help.

The config readers (advopt/config.py, advopt/histograms/config.py), ``tune()``'s and
``tune_histograms()``'s checks and defaults, the executors' checks, a script caller's error
messages (:func:`in_argument_terms`) and the configuration reference in docs/REFERENCE.md
(:func:`reference_table`, kept current by tests/test_docs.py) all read :data:`SETTINGS`.
A leaf module (standard library only): any package may use it.

Each table is one typed, frozen section (:data:`SECTIONS`); ``route`` says whether a field
belongs to a tune to events (``events``), to published histograms (``histograms``) or both.
Fields a table leaves open (a method's or a divergence's own options, parameter names) are
checked by what reads them: the method's class, the space.
"""

from __future__ import annotations

import functools
import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass

BOTH, EVENTS, HISTOGRAMS = ("events", "histograms"), ("events",), ("histograms",)
_REQUIRED = object()


@dataclass(frozen=True)
class Setting:
    """One field: ``table`` ("" for the top level) and ``name``; ``kind`` one of ``int``,
    ``number``, ``string``, ``strings`` (a list of strings), ``table`` or ``any``; ``minimum``
    (inclusive, or exclusive with ``above``); ``choices`` for a string; ``unit`` for the
    message; ``argument`` the keyword of ``tune()`` / ``tune_histograms()`` it becomes (None:
    read by the config alone), ``in_options`` when it is a key of that keyword's dict."""

    table: str
    name: str
    help: str
    kind: str = "any"
    default: object = None
    route: tuple[str, ...] = BOTH
    minimum: float | None = None
    above: bool = False
    choices: tuple[str, ...] = ()
    unit: str = ""
    argument: str | None = None
    in_options: bool = False
    histograms_default: object = _REQUIRED  # where the histogram route's default differs

    @property
    def path(self) -> str:
        return f"{self.table}.{self.name}" if self.table else self.name

    def default_for(self, route: str) -> object:
        return self.default if route == "events" or self.histograms_default is _REQUIRED else self.histograms_default

    def check(self, value, path: str | None = None):
        """``value`` if it fits; else ValueError naming the field (``path``, by default its own)."""
        field = path or self.path
        if self.kind == "int":
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or (self.minimum is not None and value < self.minimum):
                raise ValueError(f"{field}: must be {_int_phrase(self.minimum)}, got {value!r}")
        elif self.kind == "number":
            number = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
            low = self.minimum
            if not number or (low is not None and (value < low or (self.above and value == low))):
                unit = f" ({self.unit})" if self.unit else ""
                raise ValueError(f"{field}: must be {_number_phrase(low, self.above)}{unit}, got {value!r}")
        elif self.kind == "string":
            if not isinstance(value, str) or (self.choices and value not in self.choices):
                wanted = f"one of {', '.join(self.choices)}" if self.choices else "a string"
                raise ValueError(f"{field}: unknown {value!r}; choose {wanted}" if isinstance(value, str)
                                 else f"{field}: must be {wanted}, got {value!r}")
        elif self.kind == "strings":
            if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
                raise ValueError(f"{field}: expected a list of strings, got {value!r}")
        elif self.kind == "table" and not isinstance(value, Mapping):
            raise ValueError(f"{field}: expected a table, got {type(value).__name__}")
        return value


def _int_phrase(minimum) -> str:
    if minimum == 1:
        return "a positive integer"
    if minimum == 0:
        return "a non-negative integer"
    return "an integer" if minimum is None else f"an integer >= {minimum:g}"


def _number_phrase(minimum, above: bool) -> str:
    if minimum == 0:
        return "a positive number" if above else "a non-negative number"
    return "a finite number" if minimum is None else f"a number {'>' if above else '>='} {minimum:g}"


SETTINGS: tuple[Setting, ...] = (
    Setting("", "seed", "the run seed: same seed, same history, any worker count or backend", "int", 0, minimum=0,
            argument="seed"),
    # [simulator]
    Setting("simulator", "name", "a registered simulator (`advopt simulators`) or `package.module:attr`", "string",
            _REQUIRED, argument="simulator"),
    Setting("simulator", "options", "keyword arguments of the simulator's class", "table", {},
            argument="simulator_options"),
    # [reference], events
    Setting("reference", "path", "the reference events: .npz .npy .csv .parquet .root (`file.root:TREE`); "
            "relative to the config file", "string", route=EVENTS),
    Setting("reference", "features", "the columns (branches) to compare, by name", "strings", route=EVENTS,
            argument="reference_features"),
    Setting("reference", "tree", "the TTree of a .root file", "string", route=EVENTS),
    Setting("reference", "simulate_at", "pseudo-data instead of a file: `\"truth\"` (the simulator's) or a table of "
            "parameter values", "any", route=EVENTS),
    Setting("reference", "events", "pseudo-data events (with `simulate_at`)", "int", 20_000, route=EVENTS, minimum=8),
    Setting("reference", "seed", "pseudo-data seed (default: from the run seed)", "int", route=EVENTS, minimum=0),
    Setting("reference", "per_point", "reference events drawn per simulated event at each point (classifier "
            "divergences): free, and less noise", "number", 1.0, route=EVENTS, minimum=0, above=True,
            argument="reference_per_point"),
    # [reference], histograms
    Setting("reference", "kind", "`\"histograms\"`: the reference is published histograms (docs/HISTOGRAMS.md)",
            "string", choices=("histograms",)),
    Setting("reference", "files", "YODA or HEPData CSV files (a bare name may be a shipped measurement); relative "
            "to the config file", "strings", route=HISTOGRAMS),
    Setting("reference", "include", "histogram path patterns to fit", "strings", ["*"], route=HISTOGRAMS),
    Setting("reference", "exclude", "histogram path patterns to leave out", "strings", [], route=HISTOGRAMS),
    Setting("reference", "min_bins", "leave out histograms with fewer bins", "int", 1, route=HISTOGRAMS, minimum=1),
    Setting("reference", "weights", "Professor-style `PATTERN[@LOW:HIGH] WEIGHT` lines (a file, relative to the "
            "config) or a table", "any", route=HISTOGRAMS),
    Setting("reference", "analyses", "the analyses that fill the histograms (default: the measurements' own names)",
            "strings", route=HISTOGRAMS),
    # [divergence]: its other fields are the kind's own options
    Setting("divergence", "kind", "`mlp` (default once options are given), `boosting`, `adaptive-linear`, "
            "`adaptive-log`, `adaptive-boosting`, `wasserstein`, `tv`, `chi2`, `jsd`; not with the pooled estimator",
            "string", route=EVENTS, argument="divergence"),
    # [optimizer]: its other fields are the method's own options
    Setting("optimizer", "kind", "events: `pooled` (default), `bayes` (default with a divergence), `random`, "
            "`variational`, `moments` (the fit to histograms on the observables' means and quartile fractions, "
            "docs/METHODS.md); histograms: `moments` (default), `bayes`", "string", argument="optimizer",
            histograms_default="moments"),
    Setting("optimizer", "batch_size", "points simulated in parallel per step (default 2; the pooled and "
            "variational methods plan their own)", "int", route=EVENTS, minimum=1, argument="batch_size"),
    Setting("optimizer", "rounds", "rounds of the fit to histograms (events: an option of `kind = \"moments\"`)",
            "int", 4, route=HISTOGRAMS, minimum=1, argument="rounds"),
    # [budget]
    Setting("budget", "events", "total simulated events; every one counts", "int", 200_000, minimum=1,
            argument="budget", histograms_default=2_000_000),
    Setting("budget", "events_per_point", "events simulated at each point (default: 2,000; the pooled estimator "
            "max(200, 2 (p + 1)(p + 2)) points of 100-2,000 events)", "int", route=EVENTS, minimum=1,
            argument="events_per_point"),
    Setting("budget", "chunk_size", "events per simulation task (default: events_per_point)", "int", route=EVENTS,
            minimum=1, argument="chunk_size"),
    Setting("budget", "max_events_per_point", "adaptive sample size: a point compatible with the optimum has its "
            "sample doubled up to this", "int", route=EVENTS, minimum=1, argument="max_events_per_point"),
    Setting("budget", "growth_threshold", "grow while value - 2 sd < agreement + this", "number", 0.01,
            route=EVENTS, minimum=0, above=True, unit="the divergence's units", argument="growth_threshold"),
    # [execution]
    Setting("execution", "workers", "simulation worker processes (or Dask workers)", "int", 1, minimum=1,
            argument="workers"),
    Setting("execution", "backend", "where simulations run (default: serial for one worker, else local)", "string",
            choices=("serial", "local", "dask"), argument="backend"),
    Setting("execution", "address", "dask: a running scheduler (`tcp://host:8786`)", "string",
            argument="execution_options", in_options=True),
    Setting("execution", "cluster", "dask-jobqueue: `kind = \"slurm\" | \"htcondor\"`, cores, memory, walltime, jobs, "
            "... (docs/RUNNING.md)", "table", argument="execution_options", in_options=True),
    Setting("execution", "retries", "times a task lost with its worker is run again", "int", 2, minimum=0,
            argument="execution_options", in_options=True),
    Setting("execution", "task_timeout", "a task running longer fails (its point is a failed evaluation)", "number",
            minimum=0, above=True, unit="seconds", argument="execution_options", in_options=True),
)

# Tables whose fields are free names: [parameters] and [fixed]; and those whose other fields
# are the kind's own options (passed on as ``*_options``)
FREE_TABLES = {"parameters": "space", "fixed": "fixed"}
OPEN_TABLES = {"optimizer": "optimizer_options", "divergence": "divergence_options"}
TABLES = ("simulator", "parameters", "fixed", "reference", "divergence", "optimizer", "budget", "execution")

SECTIONS: dict[str, dict[str, Setting]] = {}
for _setting in SETTINGS:
    SECTIONS.setdefault(_setting.table, {})[_setting.name] = _setting


def setting(path: str) -> Setting:
    """The declaration of ``table.field`` (or a top-level field)."""
    table, _, name = path.rpartition(".")
    return SECTIONS[table][name]


def default(path: str, route: str = "events"):
    """The declared default of ``path`` on ``route``."""
    return setting(path).default_for(route)


def check(path: str, value):
    """``value`` checked against the declaration of ``path`` (ValueError naming the field)."""
    return setting(path).check(value)


def read_table(table: str, values: Mapping, route: str) -> dict:
    """A config table's fields, each checked; ValueError naming an unknown field (one that is
    not declared for ``route``, unless the table is open to the kind's own options)."""
    declared = {name: s for name, s in SECTIONS.get(table, {}).items() if route in s.route}
    unknown = sorted(set(values) - set(declared))
    if unknown and table not in OPEN_TABLES:
        raise ValueError(f"{table}: unknown field(s) {unknown}; known: {sorted(declared)}")
    return {name: declared[name].check(value, f"{table}.{name}") if name in declared else value
            for name, value in values.items()}


def keyword_arguments(tables: Mapping[str, Mapping], route: str) -> dict:
    """``tune()`` (or ``tune_histograms()``) keyword arguments from checked config tables: each
    field declared for ``route`` to its keyword (or a key of its keyword's dict), an open
    table's other fields to its ``*_options``; fields the config reads alone are left out."""
    arguments: dict = {}
    for table, values in tables.items():
        for name, value in values.items():
            s = SECTIONS.get(table, {}).get(name)
            if s is not None and route not in s.route:  # e.g. the histogram fit's rounds, an option of events' moments
                s = None
            if s is None:
                if table in OPEN_TABLES:
                    arguments.setdefault(OPEN_TABLES[table], {})[name] = value
            elif s.in_options:
                arguments.setdefault(s.argument, {})[name] = value
            elif s.argument is not None:
                arguments[s.argument] = value
    return arguments


def is_required(s: Setting) -> bool:
    return s.default is _REQUIRED


def argument_name(path: str, route: str = "events") -> str | None:
    """The ``tune()`` keyword a config field becomes (``budget.events`` -> ``budget``, an
    execution option -> ``execution_options['address']``, an open table's other fields ->
    ``optimizer_options['X']``); None when the field is the config's alone."""
    if path.split(".")[0] in FREE_TABLES:
        return FREE_TABLES[path.split(".")[0]]
    table, _, name = path.partition(".") if "." in path else ("", "", path)
    first, _, rest = name.partition(".")
    keys = "".join(f"[{key!r}]" for key in rest.split(".")) if rest else ""
    known = {name: s for name, s in SECTIONS.get(table, {}).items() if route in s.route}
    if first in known:
        s = known[first]
        if s.argument is None:
            return None
        return (f"{s.argument}[{first!r}]" if s.in_options else s.argument) + keys
    if table in OPEN_TABLES:
        return f"{OPEN_TABLES[table]}[{first!r}]{keys}"
    return None


def in_argument_terms(message: str, route: str = "events") -> str:
    """A one-line error whose leading field is a config path (``section.field: ...``), with
    that field as the keyword it is on ``route`` (:func:`argument_name`); any other message as it is."""
    field, colon, rest = message.partition(": ")
    argument = argument_name(field, route) if colon and " " not in field else None
    return message if argument is None else f"{argument}: {rest}"


def errors_in_argument_terms(route: str):
    """A decorator: a script caller's errors name its own arguments. ValueErrors raised in
    config terms (``budget.events_per_point: ...``) are re-raised in the function's
    (``events_per_point: ...``; ``route`` says which keywords it takes), unless the call
    comes from a config (``config`` given), whose fields they name."""

    def decorate(function):
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            try:
                return function(*args, **kwargs)
            except ValueError as err:
                renamed = str(err) if kwargs.get("config") is not None else in_argument_terms(str(err), route)
                if renamed == str(err):
                    raise
                raise ValueError(renamed) from None

        return wrapper

    return decorate


def reference_table() -> str:
    """The configuration reference (markdown), rendered from :data:`SETTINGS`."""
    rows = ["| field | type | default | route | `tune()` keyword | what it sets |", "|---|---|---|---|---|---|"]
    for s in SETTINGS:
        shown = "required" if is_required(s) else "-" if s.default is None else f"`{s.default!r}`"
        if s.histograms_default is not _REQUIRED:
            shown += f" (histograms `{s.histograms_default!r}`)"
        kind = s.kind + (f" >= {s.minimum:g}" if s.minimum is not None and not s.above else
                         f" > {s.minimum:g}" if s.minimum is not None else "")
        if s.choices:
            kind += ": " + " / ".join(f"`{c}`" for c in s.choices)
        argument = "-" if s.argument is None else f"`{s.argument}['{s.name}']`" if s.in_options else f"`{s.argument}`"
        route = "both" if s.route == BOTH else s.route[0]
        rows.append(f"| `{s.path}` | {kind} | {shown} | {route} | {argument} | {s.help} |")
    rows.append("| `[parameters]` NAME | `[low, high]`, `{ low, high, log }` or `\"default\"` | the simulator's "
                "default space | both | `space` | the parameters tuned, with their bounds |")
    rows.append("| `[fixed]` NAME | number | the simulator's nominal values | both | `fixed` | parameters held at a value |")
    rows.append("| `[optimizer]`, `[divergence]` other fields | | | events | `optimizer_options`, `divergence_options` "
                "| the kind's own options (below) |")
    return "\n".join(rows)
