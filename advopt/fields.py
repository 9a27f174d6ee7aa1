"""Checks of single option values, each raising one line that names its config field.

A leaf module (numpy only), so that any package's option checks can use it without
importing another package's ``__init__``."""

from __future__ import annotations

import numpy as np


def check_int_option(field: str, value, minimum: int) -> None:
    """An integer optimiser option of at least ``minimum``; ValueError naming ``optimizer.FIELD``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"optimizer.{field}: must be an integer >= {minimum}, got {value!r}")
