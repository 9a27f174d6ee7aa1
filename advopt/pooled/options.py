"""Checks of the pooled optimizer's options: one line naming ``optimizer.FIELD`` per mistake."""

from __future__ import annotations

from advopt.fields import check_int_option

# Integer options and the least value each may take.
_INT_MINIMA = {"total_points": 1, "rounds": 1, "folds": 2, "resamplings": 0, "max_epochs": 1, "warm_epochs": 1,
               "patience": 1, "batch_size": 1, "max_train_events": 1, "max_pool_events": 1, "warm_epoch_events": 1}


def check_pooled_options(options: dict) -> None:
    """Raise ValueError naming the first option of ``options`` (name -> value) that is out of range."""
    for field, minimum in _INT_MINIMA.items():
        if field in options:
            check_int_option(field, options[field], minimum)
    fraction, rate, spread = options["initial_fraction"], options["learning_rate"], options["min_spread"]
    if not (isinstance(fraction, (int, float)) and 0 < fraction < 1):
        raise ValueError(f"optimizer.initial_fraction: must be in (0, 1), got {fraction!r}")
    if not (isinstance(rate, (int, float)) and rate > 0):
        raise ValueError(f"optimizer.learning_rate: must be a positive number, got {rate!r}")
    if not (isinstance(spread, (int, float)) and 0 < spread < 0.5):
        raise ValueError(f"optimizer.min_spread: must be in (0, 0.5), got {spread!r}")
    hidden = options["hidden"]
    if not hidden or min(int(h) for h in hidden) < 1:
        raise ValueError(f"optimizer.hidden: layer sizes must be positive integers, got {list(hidden)}")
    if options["summary"] not in ("score", "regression"):
        raise ValueError(f"optimizer.summary: must be 'score' or 'regression', got {options['summary']!r}")
