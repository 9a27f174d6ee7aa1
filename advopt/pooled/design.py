"""The pooled estimator's design: how many points each round gets, which events each
cross-fitting fold trains on, and how a local design is folded back into the unit cube."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


def round_sizes(total_points: int, dim: int, initial_fraction: float, rounds: int) -> list[int]:
    """Points per round: a space-filling start, then equal local rounds of at least dim + 2."""
    initial = min(total_points, max(2 * dim + 2, round(initial_fraction * total_points)))
    rest = total_points - initial
    if rest <= 0:
        return [initial]
    n_rounds = max(1, min(rounds, rest // max(4, dim + 2)))
    base, extra = divmod(rest, n_rounds)
    return [initial] + [base + (1 if r < extra else 0) for r in range(n_rounds)]


def without_fold(events: np.ndarray, fold: int, folds: int) -> np.ndarray:
    """The events a fold's network trains on: all but every ``folds``-th from ``fold``."""
    keep = np.ones(len(events), dtype=bool)
    keep[fold::folds] = False
    return events[keep]


def fold_into_cube(points: np.ndarray) -> np.ndarray:
    """Reflect coordinates at 0 and 1 (period 2), so a design never piles up on a bound."""
    folded = np.mod(points, 2.0)
    return np.where(folded > 1.0, 2.0 - folded, folded)


class Segment(NamedTuple):
    """A half-round: ``size`` points from position ``offset`` of round ``round``'s design,
    the ``start``-th to be asked in the run; ``ends_round`` for a round's last."""

    round: int
    offset: int
    size: int
    start: int
    ends_round: bool


def round_segments(round_index: int, round_size: int, start: int) -> list[Segment]:
    """A round's two halves (one when it has a single point): the summaries learn from the
    first while the second simulates."""
    first = max(1, (round_size + 1) // 2)
    if first >= round_size:
        return [Segment(round_index, 0, round_size, start, True)]
    return [Segment(round_index, 0, first, start, False),
            Segment(round_index, first, round_size - first, start + first, True)]


def kernel_weights(points: np.ndarray, centre: np.ndarray, width: np.ndarray) -> np.ndarray:
    """Gaussian weights of points around ``centre`` (per-dimension ``width``, unit cube)."""
    return np.exp(-0.5 * np.sum(((points - centre) / width) ** 2, axis=1))
