"""Does refitting on halves of the points state the pooled fit's simulation share honestly?

    python experiments/diagnose_pooled_resampling.py --inputs STORE/diag_mixed6_s0_inputs.pkl ...
    python experiments/diagnose_pooled_resampling.py --toy 40

``--inputs``: final fits kept by ``diagnose_pooled_bias.py`` (its ``NAME_inputs.pkl``); each is
re-solved against its own reference and its pulls printed with the simulation share as the
delta method states it and as ``--halves`` random halves of the points measure it.
``--toy``: that many independent realisations of a two-parameter linear problem (the
unit test's); over them, the fit's actual spread against the median sd each rule states
(the delta method, half-sampling, and a pairs bootstrap with replacement).
Writes ``experiments/results/NAME.json``.
"""

from __future__ import annotations

import argparse
import os
import pickle
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))

from advopt.pooled.candidates import candidate_solutions, widest_consistent  # noqa: E402
from advopt.pooled.resampling import half_sample_covariance, half_sample_solutions, subset_moments  # noqa: E402
from _common import write_result  # noqa: E402


def kept_fit_rows(path: str, halves: int) -> dict:
    """One kept fit: per parameter its error, reference sd, stated and half-sampled simulation sd."""
    with open(path, "rb") as kept:
        fit = pickle.load(kept)
    truth = np.asarray(fit["truth_unit"])
    _, solution, _, reference_cov, simulation_cov = widest_consistent(
        candidate_solutions(fit["points"], fit["own"], fit["centre"], fit["widths"]))
    solutions = half_sample_solutions(fit["points"], fit["own"], fit["centre"], fit["widths"],
                                      np.random.default_rng(0), halves)
    half_sd = np.sqrt(np.diag(half_sample_covariance(solutions, solution)))
    reference_sd, stated_sd = np.sqrt(np.diag(reference_cov)), np.sqrt(np.diag(simulation_cov))
    error = solution - truth
    rows = []
    print(f"{path}: {len(solutions)} halves")
    for i, name in enumerate(fit["names"]):
        before, after = error[i] / np.hypot(reference_sd[i], stated_sd[i]), error[i] / np.hypot(reference_sd[i], half_sd[i])
        rows.append({"parameter": name, "error": float(error[i]), "reference_sd": float(reference_sd[i]),
                     "stated_simulation_sd": float(stated_sd[i]), "half_sample_simulation_sd": float(half_sd[i]),
                     "pull_stated": float(before), "pull_half_sampled": float(after)})
        print(f"{name:>28} error {error[i]:+.4f} ref sd {reference_sd[i]:.4f} sim sd {stated_sd[i]:.4f} -> "
              f"{half_sd[i]:.4f}   pull {before:+.2f} -> {after:+.2f}")
    return {"inputs": os.path.basename(path), "halves": len(solutions), "rows": rows}


def toy_calibration(realisations: int, resamplings: int = 10) -> dict:
    """The linear toy: the fit's spread over independent realisations against each rule's median sd."""
    from test_pooled_resampling import TRUTH, linear_problem

    widths = [factor * np.full(2, 0.05) for factor in (1.5, 3.0, 6.0, 12.0)]  # Lepski's rule chooses among these
    problems, draws = np.random.default_rng(11), np.random.default_rng(12)

    def solve(points, folds, pick):
        return widest_consistent(candidate_solutions(points[pick], subset_moments(folds, pick), TRUTH, widths))[1]

    solutions, stated, halved, pairs = [], [], [], []
    for _ in range(realisations):
        points, folds = linear_problem(problems, n_points=60)
        best = widest_consistent(candidate_solutions(points, folds, TRUTH, widths))
        n = len(points)
        solutions.append(best[1])
        stated.append(np.sqrt(np.diag(best[4])))
        halves = np.array([solve(points, folds, np.sort(draws.choice(n, n // 2, replace=False))) for _ in range(resamplings)])
        halved.append(np.sqrt(np.diag(half_sample_covariance(halves, best[1]))))
        pairs.append(np.std([solve(points, folds, draws.integers(n, size=n)) for _ in range(resamplings)], axis=0, ddof=1))
    solutions = np.array(solutions)
    spread = np.std(solutions, axis=0, ddof=1)
    figures = {"realisations": realisations, "resamplings": resamplings, "spread": spread.tolist()}
    print(f"linear toy, {realisations} realisations: the fit's spread {np.round(spread, 5).tolist()}")
    for rule, sds in (("delta_method", stated), ("half_sampling", halved), ("pairs_bootstrap", pairs)):
        ratio = np.median(sds, axis=0) / spread
        rms_pull = np.sqrt(np.mean(((solutions - TRUTH) / np.array(sds)) ** 2, axis=0))
        figures[rule] = {"median_sd_over_spread": ratio.tolist(), "rms_pull": rms_pull.tolist()}
        print(f"{rule:>16}: median stated sd / spread {np.round(ratio, 2).tolist()}, rms pull {np.round(rms_pull, 2).tolist()}")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--inputs", nargs="*", default=[], help="NAME_inputs.pkl files of diagnose_pooled_bias.py")
    parser.add_argument("--halves", type=int, default=20)
    parser.add_argument("--toy", type=int, default=0, help="realisations of the linear toy (0: none)")
    parser.add_argument("--name", default="pooled_resampling")
    args = parser.parse_args()
    if not args.inputs and not args.toy:
        raise SystemExit("nothing to do: give --inputs and/or --toy")
    figures = {"fits": [kept_fit_rows(path, args.halves) for path in args.inputs]}
    if args.toy:
        figures["toy"] = toy_calibration(args.toy)
    write_result(args.name, figures)


if __name__ == "__main__":
    main()
