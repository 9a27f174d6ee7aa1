"""Run a benchmark with every pooled fit explained on stderr: do the folds agree as their
stated simulation shares say, and which kernel width did Lepski's rule keep?

    python experiments/diagnose_pooled_fits.py bench_tunemc_closure.py --sets twenty ... 2> fits.log

Per fit three lines (the estimator's results are unchanged: this only reads its solutions):

- ``FOLDS``: chi-square per parameter of the two folds' difference against its predicted
  covariance (each fold's simulation share plus their differing response to the same
  reference); about 1 when the stated simulation share is right. Then each parameter's
  standardised difference, and the simulation share over the reference share (variances).
- ``WIDTHS``: the candidate kept (width and polynomial), and for each candidate its
  polynomial, its score (simulation over reference variance, summed) and how far its
  solution sits from the kept one, in the kept one's sd.
- ``CENTRE``: the kept solution and its sd (unit cube), so a run's path can be followed.
"""

from __future__ import annotations

import os
import runpy
import sys

import numpy as np

import advopt.optimizers.pooled as pooled
from advopt.pooled import candidates as moments

_solve_at_width, _widest_consistent = moments.solve_at_width, moments.widest_consistent
_moments_of_fits: dict[int, list] = {}


def solve_at_width(points, fold_moments, centre, width, degree=None, **options):
    solution = _solve_at_width(points, fold_moments, centre, width, degree, **options)
    if solution is not None:
        _moments_of_fits[id(solution[2])] = fold_moments
    return solution


def widest_consistent(solutions):
    best = _widest_consistent(solutions)
    if best is not None:
        if len(best[2]) == 2:
            print(folds_line(best, _moments_of_fits[id(best[2])]), file=sys.stderr, flush=True)
        print(widths_line(best, [s for s in solutions if s is not None]), file=sys.stderr, flush=True)
        print(f"CENTRE u={np.round(best[1], 3).tolist()} sd={np.round(np.sqrt(np.diag(best[3] + best[4])), 3).tolist()}",
              file=sys.stderr, flush=True)
    _moments_of_fits.clear()
    return best


def folds_line(best, fold_moments) -> str:
    (fit0, model0), (fit1, model1) = best[2]
    difference = fit0.point - fit1.point
    stacked_gain = np.hstack([fit0.gain, -fit1.gain])
    predicted = (stacked_gain @ moments.joint_reference_covariance(fold_moments) @ stacked_gain.T + fit0.gain @ model0.prediction_cov(fit0.point) @ fit0.gain.T
                 + fit1.gain @ model1.prediction_cov(fit1.point) @ fit1.gain.T)
    chi2 = float(difference @ np.linalg.pinv(predicted) @ difference)
    standardised = difference / np.sqrt(np.diag(predicted))
    share = np.diag(best[4]) / np.diag(best[3])
    return (f"FOLDS chi2/dim={chi2 / len(difference):.2f} z={np.round(standardised, 2).tolist()} "
            f"simulation/reference={np.round(share, 2).tolist()} degrees={model0.degree},{model1.degree}")


def widths_line(best, solutions) -> str:
    kept_sd = np.sqrt(np.diag(best[3] + best[4]))
    parts = []
    for index, solution in enumerate(solutions):
        shift = np.abs(solution[1] - best[1]) / kept_sd
        parts.append(f"c{index}{'*' if solution is best else ''} {solution[2][0][1].degree} score={solution[0]:.3g} "
                     f"shift/sd max={shift.max():.2f} median={np.median(shift):.2f}")
    return "WIDTHS " + " | ".join(parts)


def main() -> None:
    if len(sys.argv) < 2:
        raise SystemExit("usage: python experiments/diagnose_pooled_fits.py BENCHMARK.py [its arguments]")
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.path.basename(sys.argv[1]))
    moments.solve_at_width = solve_at_width
    pooled.widest_consistent = widest_consistent
    sys.argv = [f"{os.path.basename(__file__)} {os.path.basename(script)}", *sys.argv[2:]]
    sys.path.insert(0, os.path.dirname(script))
    runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main()
