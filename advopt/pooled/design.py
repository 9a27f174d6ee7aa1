"""The pooled estimator's design: how many points each round gets and where they go, which
events each cross-fitting fold trains on, and the kernel widths the moment fit tries."""

from __future__ import annotations

import math
import warnings
from typing import NamedTuple

import numpy as np
from scipy.stats import qmc


def round_sizes(total_points: int, dim: int, initial_fraction: float, rounds: int) -> list[int]:
    """Points per round: a space-filling start, then equal local rounds of at least dim + 2."""
    initial = min(total_points, max(2 * dim + 2, round(initial_fraction * total_points)))
    rest = total_points - initial
    if rest <= 0:
        return [initial]
    n_rounds = max(1, min(rounds, rest // max(4, dim + 2)))
    base, extra = divmod(rest, n_rounds)
    return [initial] + [base + (1 if r < extra else 0) for r in range(n_rounds)]


def events_per_point(budget: int, dim: int) -> int:
    """Events per point when the run names none: enough points to fit the full quadratic
    moment model four times over, 2 (dim + 1)(dim + 2), and at least 200; each of 100 to
    2,000 events (never more than the budget).

    The fit pools every event, so a point's own sample only needs to be large enough for its
    summaries' mean and covariance; what a many-parameter fit lacks is points. Measured on
    twenty Gaussian parameters through a mixing (``mixed-gaussians``, features = 10) at 2x a
    20k reference: 160 points of 250 events left the widths 19x the Cramer-Rao sd from the
    same-reference MLE (rms, 3 seeds), 400 of 100 2.8x; at 10x 400 of 1,000 gave 0.92 and
    1,000 of 400 0.62. Up to 8 parameters 200 points, near what the toys' benchmark used (160
    of budget / 160 events before): more points of fewer events there moved camel at 10x from
    0.42 to 0.72 limits from the same-reference MLE (5 seeds). The Pythia tunes measured (2
    to 20 parameters, 400k to 4M events) keep 2,000."""
    points = max(200, 2 * (dim + 1) * (dim + 2))
    return int(min(budget, max(100, min(2_000, budget // points))))


def without_fold(events: np.ndarray, fold: int, folds: int) -> np.ndarray:
    """The events a fold's network trains on: all but every ``folds``-th from ``fold``."""
    keep = np.ones(len(events), dtype=bool)
    keep[fold::folds] = False
    return events[keep]


def training_set(events: list[np.ndarray], points: np.ndarray, point_weights: np.ndarray, fold: int, folds: int,
                 cap: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(events, their point's parameters, its weight) that network ``fold`` trains on: every
    point's events but the fold's held-out ones, points of weight below 1e-3 left out, at
    most ``cap`` of them (a random subsample, drawn with ``rng``)."""
    xs = [without_fold(sample, fold, folds) for sample in events]
    counts = np.array([len(x) for x in xs])
    x, u, w = np.concatenate(xs), np.repeat(points, counts, axis=0), np.repeat(point_weights, counts)
    keep = w > 1e-3
    x, u, w = x[keep], u[keep], w[keep]
    if len(x) > cap:
        chosen = rng.choice(len(x), cap, replace=False)
        x, u, w = x[chosen], u[chosen], w[chosen]
    return x, u, w


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


def sobol_points(dim: int, rng: np.random.Generator, first: int, n: int) -> np.ndarray:
    """Points ``first .. first+n`` of a scrambled Sobol sequence over the unit cube."""
    sobol = qmc.Sobol(dim, scramble=True, seed=rng)
    with warnings.catch_warnings():  # rounds need not be powers of 2; the points stay low-discrepancy
        warnings.simplefilter("ignore", UserWarning)
        return sobol.random(first + n)[first:]


def design_sds(dim: int) -> float:
    """How many sd of the current estimate a local round's points spread over.

    1.5 up to 6 parameters: 3 left the kernel-weighted fit only ~40% of a round's weight in
    5 dimensions, and 1.5 brought camel's |tuned - same-reference MLE| from 1.69 to 1.21 x
    the ML limit (10 seeds, x2 budget), 1.0 to 1.37 (the slope is then less well known);
    Gaussian, XOR, smeared decay unchanged. 3 from 7 on: at 20 Pythia parameters the stated
    sds are small against the errors the moment model still has, a 1.5-sd box left the truth
    outside the last rounds' points and the fit settled inside them (decupletSup -3.57 sd on
    reference 3); with 3 sd it ends at -1.31 and every parameter within 1.84 sd.
    """
    return 1.5 if dim <= 6 else 3.0


def local_design(cube: np.ndarray, centre: np.ndarray, spread: np.ndarray) -> np.ndarray:
    """Unit-cube points mapped to a box of half-width sqrt(3) x ``spread`` (its sd) around
    ``centre``, folded back into the cube."""
    return fold_into_cube(centre + math.sqrt(3) * spread * (2 * cube - 1))


def candidate_widths(dim: int, spread: np.ndarray | None, min_spread: float) -> list[np.ndarray]:
    """Kernel widths (unit cube, per dimension) to fit the moment model over, narrow to
    wide: 1.5 to 12 design spreads (one, 0.3, before any fit, ``spread`` None). Wider kernels
    take in more points but need the polynomial to hold further out (``widest_consistent``
    chooses); widened with the dimension, so that a round's design keeps comparable weights."""
    widen = max(1.0, math.sqrt(dim / 4))
    if spread is None:
        return [np.full(dim, 0.3 * widen)]
    base = widen * np.maximum(spread, min_spread)
    return [factor * base for factor in (1.5, 3.0, 6.0, 12.0)]
