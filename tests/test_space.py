import math

import numpy as np
import pytest

from advopt import Parameter, Space


def test_unit_transforms_round_trip_linear_and_log():
    space = Space.from_dict({"a": (0.0, 2.0), "b": {"low": 0.01, "high": 100.0, "log": True}})
    params = {"a": 0.5, "b": 1.0}
    unit = space.to_unit(params)
    assert unit == pytest.approx([0.25, 0.5])
    back = space.from_unit(unit)
    assert back["a"] == pytest.approx(0.5) and back["b"] == pytest.approx(1.0)


def test_from_unit_clips_into_bounds():
    space = Space.from_dict({"a": (1.0, 3.0)})
    assert space.from_unit([1.5]) == {"a": 3.0}
    assert space.from_unit([-0.5]) == {"a": 1.0}


@pytest.mark.parametrize(
    "spec, message",
    [
        ({"a": (2.0, 1.0)}, "low < high"),
        ({"a": (1.0, 1.0)}, "low < high"),
        ({"a": (0.0, 1.0, "log")}, "log scale needs low > 0"),
        ({"a": (0.0, math.inf)}, "finite"),
        ({"a": {"low": 0, "hi": 1}}, "unknown field"),
        ({"a": "wide"}, "expected (low, high)"),
        ({}, "empty"),
    ],
)
def test_bad_spaces_name_the_problem(spec, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Space.from_dict(spec)


def test_validate_rejects_unknown_missing_and_out_of_bounds():
    space = Space.from_dict({"a": (0.0, 1.0), "b": (0.0, 1.0)})
    with pytest.raises(ValueError, match=r"unknown parameter\(s\) \['c'\]"):
        space.validate({"a": 0.1, "b": 0.2, "c": 3})
    with pytest.raises(ValueError, match=r"missing parameter\(s\) \['b'\]"):
        space.validate({"a": 0.1})
    with pytest.raises(ValueError, match="'a': value 1.5 is outside its bounds"):
        space.validate({"a": 1.5, "b": 0.2})
    with pytest.raises(KeyError, match="unknown parameter 'z'"):
        space["z"]


def test_dict_round_trip_keeps_log_flag_and_order():
    space = Space([Parameter("x", -1, 1), Parameter("y", 1e-3, 1, log=True)])
    assert Space.from_dict(space.to_dict()) == space
    assert space.names == ("x", "y")


def test_distance_is_in_units_of_the_range():
    space = Space.from_dict({"a": (0.0, 10.0), "b": (0.0, 1.0)})
    assert space.distance({"a": 0.0, "b": 0.0}, {"a": 3.0, "b": 0.4}) == pytest.approx(0.5)
    assert np.isclose(space.distance({"a": 5, "b": 0.5}, {"a": 5, "b": 0.5}), 0)
