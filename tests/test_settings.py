"""Every configuration field declared once (advopt/settings.py): its checks, its keyword, and
the functions that take the keywords agree with the declarations."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import advopt
from advopt.settings import SETTINGS, argument_name, check, default, in_argument_terms, is_required, read_table


def _route_function(route: str):
    return advopt.tune if route == "events" else advopt.tune_histograms


def test_every_declared_keyword_is_taken_with_its_declared_default():
    for s in SETTINGS:
        if s.argument is None:
            continue
        for route in s.route:
            parameters = inspect.signature(_route_function(route)).parameters
            assert s.argument in parameters, f"{s.path}: {s.argument} is not a keyword of the {route} route"
            if not s.in_options and s.argument not in ("simulator", "simulator_options") and s.default is not None:
                assert parameters[s.argument].default == s.default_for(route), s.path


@pytest.mark.parametrize("s", [s for s in SETTINGS if s.kind in ("int", "number") and s.minimum is not None],
                         ids=lambda s: s.path)
def test_a_number_below_its_bound_is_refused_in_one_line_naming_the_field(s):
    below = s.minimum if s.above else s.minimum - 1
    with pytest.raises(ValueError, match=rf"^{s.path}: must be ") as err:
        check(s.path, below)
    assert "\n" not in str(err.value)
    assert check(s.path, s.minimum + 1) == s.minimum + 1
    with pytest.raises(ValueError, match=rf"^{s.path}: "):
        check(s.path, True)  # a bool is not a number here


def test_numpy_integers_are_integers():
    assert check("budget.events", np.int64(5)) == 5


def test_each_default_passes_its_own_check():
    for s in SETTINGS:
        if s.default is not None and not is_required(s):
            check(s.path, s.default)


def test_a_table_refuses_an_unknown_field_but_an_open_table_passes_the_kinds_options():
    with pytest.raises(ValueError, match=r"^budget: unknown field\(s\) \['evnts'\]"):
        read_table("budget", {"evnts": 3}, "events")
    with pytest.raises(ValueError, match=r"^budget: unknown field\(s\) \['events_per_point'\]"):
        read_table("budget", {"events_per_point": 3}, "histograms")  # the histogram fit plans its own points
    assert read_table("optimizer", {"kind": "pooled", "folds": 3}, "events") == {"kind": "pooled", "folds": 3}


@pytest.mark.parametrize("field, keyword", [
    ("budget.events", "budget"), ("budget.growth_threshold", "growth_threshold"), ("parameters", "space"),
    ("execution.workers", "workers"), ("execution.cluster.kind", "execution_options['cluster']['kind']"),
    ("optimizer.kind", "optimizer"), ("optimizer.max_epochs", "optimizer_options['max_epochs']"),
    ("simulator.options.dim", "simulator_options['dim']"), ("reference.per_point", "reference_per_point"),
    ("reference.path", None), ("divergence", None), ("budget.chunk_size", "chunk_size"),
    ("divergence.kind", "divergence"), ("fixed", "fixed"), ("a sentence", None),
])
def test_a_config_field_names_its_keyword(field, keyword):
    assert argument_name(field) == keyword
    message = f"{field}: is wrong"
    assert in_argument_terms(message) == (message if keyword is None else f"{keyword}: is wrong")


def test_defaults_differ_by_route_where_declared():
    assert default("budget.events") == 200_000 and default("budget.events", "histograms") == 2_000_000
    assert default("optimizer.kind") is None and default("optimizer.kind", "histograms") == "moments"


def test_a_field_of_one_route_is_an_option_of_the_other():
    """``rounds`` is the histogram fit's keyword, and one of the pooled estimator's options."""
    assert argument_name("optimizer.rounds", "histograms") == "rounds"
    assert argument_name("optimizer.rounds") == "optimizer_options['rounds']"
