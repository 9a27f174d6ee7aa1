"""Does a pooled fit's error depend on where its moment model is centred, or on which points it reads?

    python experiments/probe_pooled_fit_centres.py STORE/NAME_inputs.pkl --watch StringFlav:decupletSup

Reads the final fit's inputs that ``diagnose_pooled_bias.py`` keeps (the points, the summary
moments against the run's own reference and against fresh pseudo-data at the truth, the
centre and the kernel widths) and re-solves every candidate (kernel width and polynomial,
as :func:`advopt.pooled.candidates.candidate_solutions` lists them) four ways: centred where the
run ended or at the truth, with every point or with only the last ``--last`` points (the
final half-rounds' design around the estimate). Per candidate it prints the mean error over
the fresh samples for the watched parameters, the candidate's stated simulation sd, and
the largest |mean error| / sd over all parameters:

- if the error vanishes when centred at the truth, the fit is stuck where it starts;
- if it vanishes with the last points only, older points far from the truth bias it;
- if every candidate shares it whatever the centre and the points, the summaries' means
  themselves match the reference away from the truth (the model's width is not the cause).

No simulation: a few minutes of fitting. Writes ``experiments/results/NAME.json``.
"""

from __future__ import annotations

import argparse
import os
import pickle
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from advopt.pooled.candidates import candidate_solutions, widest_consistent  # noqa: E402
from advopt.pooled.resampling import subset_moments  # noqa: E402
from _common import write_result  # noqa: E402


def candidate_errors(points, moments, centre, widths, truth) -> tuple[list, int | None]:
    """Every candidate's (error, simulation sd) in the unit cube, or None where it cannot be
    fitted, and the index of the one Lepski's rule keeps."""
    solutions = candidate_solutions(points, moments, centre, widths)
    kept = widest_consistent(solutions)
    errors = [None if s is None else (s[1] - truth, np.sqrt(np.diag(s[4]))) for s in solutions]
    return errors, next((i for i, s in enumerate(solutions) if s is kept and s is not None), None)


def summarise(per_sample: list[list], names: list[str], watch: list[int]) -> list[dict]:
    """Per candidate over the fresh samples: the mean error, the median stated simulation sd,
    and the worst |mean error| / sd over parameters."""
    rows = []
    for c in range(len(per_sample[0])):
        found = [errors[c] for errors in per_sample if errors[c] is not None]
        if len(found) < 2:
            continue
        mean_error = np.mean([error for error, _ in found], axis=0)
        sim_sd = np.median([sd for _, sd in found], axis=0)
        z = mean_error / sim_sd
        worst = int(np.argmax(np.abs(z)))
        rows.append({"candidate": c, "samples": len(found),
                     "mean_error": {names[i]: float(mean_error[i]) for i in watch},
                     "simulation_sd": {names[i]: float(sim_sd[i]) for i in watch},
                     "worst_z": {"parameter": names[worst], "z": float(z[worst])}})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("inputs", help="the NAME_inputs.pkl that diagnose_pooled_bias.py wrote in its store")
    parser.add_argument("--watch", action="append", help="parameters to print (repeatable); default: the two worst")
    parser.add_argument("--last", type=int, default=372, help="how many of the last points the local variant reads")
    parser.add_argument("--name", default="probe_pooled_fit_centres")
    args = parser.parse_args()
    with open(args.inputs, "rb") as kept_inputs:
        fit = pickle.load(kept_inputs)
    points, truth, names = fit["points"], np.asarray(fit["truth_unit"]), list(fit["names"])
    if not 2 <= args.last <= len(points):
        raise SystemExit(f"--last: must be between 2 and the fit's {len(points)} points, got {args.last}")
    unknown = [name for name in args.watch or [] if name not in names]
    if unknown:
        raise SystemExit(f"--watch: {unknown[0]!r} is not a parameter of this fit")
    last = np.arange(len(points) - args.last, len(points))
    variants = {"run_centre_all_points": (fit["centre"], None), "truth_centre_all_points": (truth, None),
                "run_centre_last_points": (fit["centre"], last), "truth_centre_last_points": (truth, last)}
    figures = {}
    for label, (centre, pick) in variants.items():
        used = points if pick is None else points[pick]
        per_sample, kept = [], []
        for moments in fit["fresh"]:
            errors, index = candidate_errors(used, moments if pick is None else subset_moments(moments, pick),
                                             centre, fit["widths"], truth)
            per_sample.append(errors)
            kept.append(index)
        watch = [names.index(n) for n in args.watch] if args.watch else worst_two(per_sample, kept)
        figures[label] = {"kept": kept, "candidates": summarise(per_sample, names, watch)}
        print(f"== {label}: kept {kept}")
        for row in figures[label]["candidates"]:
            print(f"  c{row['candidate']}: mean error " + ", ".join(f"{n.split(':')[-1]} {e:+.3f} (sd {row['simulation_sd'][n]:.3f})"
                                                               for n, e in row["mean_error"].items())
                  + f" | worst {row['worst_z']['parameter'].split(':')[-1]} z={row['worst_z']['z']:+.2f}")
    write_result(args.name, {"inputs": os.path.basename(args.inputs), "points": len(points), "last": args.last,
                             "centre_unit": np.asarray(fit["centre"]).tolist(), "truth_unit": truth.tolist(),
                             "names": names, "variants": figures})


def worst_two(per_sample: list[list], kept: list) -> list[int]:
    """The two parameters with the largest |mean error| of the kept candidates."""
    errors = [per_sample[s][k][0] for s, k in enumerate(kept) if k is not None]
    return [int(i) for i in np.argsort(-np.abs(np.mean(errors, axis=0)))[:2]] if errors else [0]


if __name__ == "__main__":
    main()
