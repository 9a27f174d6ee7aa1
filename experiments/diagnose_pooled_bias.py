"""Is a pooled Pythia tune's error the reference's fluctuation or a bias of the fit?

    python experiments/diagnose_pooled_bias.py --set mixed6 --seed 1 --samples 6

Runs one pooled TuneMC closure (as ``bench_tunemc_closure.py`` does, the same reference in
the same store), keeps the final fit's inputs (the networks, the points' summary moments, the
centre and kernel widths), and re-solves that fit against ``--samples`` fresh pseudo-data
samples at the same truth. The points and networks are the same in every re-solve, so:

- the mean of the re-solved errors is the fit's own error with the reference noise averaged
  away: against the stated simulation share it says whether the rest is simulation noise
  (|z| ~ 1) or a bias of the moment model (|z| >> 1);
- the spread of the re-solved solutions over the samples is the reference's share as it is,
  to compare with the share the fit states.

Prints one line per parameter and writes ``experiments/results/NAME.json``.
"""

from __future__ import annotations

import argparse
import os
import pickle
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import advopt  # noqa: E402
import bench_tunemc_closure as bench  # noqa: E402
from advopt.execution import make_executor  # noqa: E402
from advopt.optimizers.pooled import PooledOptimizer  # noqa: E402
from advopt.pooled.design import candidate_widths  # noqa: E402
from advopt.pooled.candidates import candidate_solutions, widest_consistent  # noqa: E402
from advopt.pooled.summary_moments import SummaryMoments  # noqa: E402
from advopt.space import Space  # noqa: E402
from _common import simulate_reference, write_result  # noqa: E402

_last_fit: dict = {}
_original_solve = PooledOptimizer._solve


def _recording_solve(self, points, moments):
    """The optimiser's own solve, after keeping what it reads (the last call wins)."""
    _last_fit.update(optimizer=self, points=points, moments=moments, centre=self._centre,
                     widths=candidate_widths(self.dim, None if self._centre is None else self._spread, self.min_spread))
    return _original_solve(self, points, moments)


def moments_with_reference(sample: np.ndarray) -> list[dict]:
    """The last fit's per-fold moments with ``sample`` in place of the reference."""
    sample_moments = SummaryMoments(_last_fit["optimizer"]._nets, sample)
    return [{**m, **dict(zip(("reference", "reference_mean", "reference_cov"), sample_moments.reference(fold)))}
            for fold, m in enumerate(_last_fit["moments"])]


def resolve(moments: list[dict]) -> tuple[list, int]:
    """The last fit re-solved with these moments: every candidate (kernel width and
    polynomial) as (solution, reference sd, simulation sd, degree) in the unit cube, or None
    where it cannot be fitted, and the index of the one Lepski's rule keeps."""
    if _last_fit["centre"] is None:
        raise SystemExit("the run ended before its first local fit: nothing to re-solve")
    solutions = candidate_solutions(_last_fit["points"], moments, _last_fit["centre"], _last_fit["widths"])
    kept = widest_consistent(solutions)
    candidates = [None if s is None else (s[1], np.sqrt(np.diag(s[3])), np.sqrt(np.diag(s[4])), s[2][0][1].degree)
                  for s in solutions]
    return candidates, next(i for i, s in enumerate(solutions) if s is kept)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--set", default="mixed6", choices=sorted(bench.SETS))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--budget", type=int, default=1_000_000)
    parser.add_argument("--reference-events", type=int, default=200_000)
    parser.add_argument("--samples", type=int, default=6, help="fresh pseudo-data samples to re-solve against")
    parser.add_argument("--truth-offset", type=float, default=0.1)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--store", default=str(Path(__file__).parent / "tunemc_runs"),
                        help="the benchmark's store (its references are shared)")
    parser.add_argument("--name", default="pooled_bias")
    args = parser.parse_args()
    if args.samples < 2:
        raise SystemExit("--samples: at least 2 (the spread over samples is one of the figures)")
    # run_one reads these from the benchmark's own arguments
    bench_args = argparse.Namespace(store=args.store, truth_offset=args.truth_offset, events_per_point=2000)
    Path(args.store).mkdir(parents=True, exist_ok=True)

    simulator = advopt.get_simulator("pythia-ee")
    names = bench.SETS[args.set]
    space = Space.from_dict({name: simulator.default_space[name] for name in names})
    full_truth = bench.pseudo_truth(simulator, names, args.truth_offset)
    truth_unit = space.to_unit({name: full_truth[name] for name in names})
    PooledOptimizer._solve = _recording_solve
    executor = make_executor(args.workers, "local")
    try:
        tag = bench._tag(bench_args) and f"_{args.set}{bench._tag(bench_args)}"
        reference = bench.reference_for(simulator, executor, Path(args.store), args.reference_events, args.seed,
                                        full_truth, tag)
        run = bench.run_one(simulator, executor, reference, args.set, "pooled", args.budget, args.seed, bench_args)
        own_moments = moments_with_reference(reference)
        fresh_moments = [moments_with_reference(fresh_sample(
            simulator, executor, Path(args.store) / f"fresh{tag}_{k}_{args.reference_events}.npy", full_truth,
            args.reference_events, 70_000 + k)) for k in range(args.samples)]
    finally:
        executor.close()
    # the fit's inputs, to study other rules offline without rerunning the tune
    with open(Path(args.store) / f"{args.name}_inputs.pkl", "wb") as kept_inputs:
        pickle.dump({"points": _last_fit["points"], "centre": _last_fit["centre"], "widths": _last_fit["widths"],
                     "own": own_moments, "fresh": fresh_moments, "truth_unit": truth_unit, "names": names}, kept_inputs)
    own = resolve(own_moments)
    samples = [resolve(m) for m in fresh_moments]
    kept = [candidates[index] for candidates, index in samples]
    print(f"{args.set} seed {args.seed}, {args.budget:,} events: run distance {run['normalised_distance']:.4f}")
    rows = kept_rows(names, truth_unit, own[0][own[1]], kept)
    candidate_rows = per_candidate_rows(names, truth_unit, own, samples)
    write_result(args.name, {
        "set": args.set, "seed": args.seed, "budget": args.budget, "samples": len(samples),
        "truth_unit": truth_unit.tolist(), "run_pulls": run["pulls"], "run_distance": run["normalised_distance"],
        "solutions_unit": [k[0].tolist() for k in kept], "rows": rows, "candidates": candidate_rows,
    })


def fresh_sample(simulator, executor, path: Path, truth: dict, n_events: int, seed: int) -> np.ndarray:
    """A pseudo-data sample at the truth, simulated once and kept in the store."""
    if not path.exists():
        np.save(path, simulate_reference(simulator, executor, truth, n_events, seed))
    return np.load(path)


def over_samples(entries, truth_unit):
    """Over re-solves (solution, reference sd, simulation sd, ...): the mean error, its z
    against the simulation share (common to every re-solve) plus the reference noise /
    sqrt(K) the mean still holds, and the median stated reference and simulation sds."""
    ref_sd = np.median([e[1] for e in entries], axis=0)
    sim_sd = np.median([e[2] for e in entries], axis=0)
    mean_error = np.mean([e[0] for e in entries], axis=0) - truth_unit
    return mean_error, mean_error / np.sqrt(sim_sd**2 + ref_sd**2 / len(entries)), ref_sd, sim_sd


def kept_rows(names, truth_unit, own, kept) -> list[dict]:
    """Per parameter: the run's own error and sds, and over the fresh samples the mean error of
    the kept solutions (against the simulation share, which every re-solve shares), their
    spread and the reference sd they state."""
    mean_error, z, stated_ref_sd, sim_sd = over_samples(kept, truth_unit)
    spread = np.std([k[0] for k in kept], axis=0, ddof=1)
    own_error, own_sd = own[0] - truth_unit, np.hypot(own[1], own[2])
    print(f"the final fit re-solved against {len(kept)} fresh samples (unit cube; kept candidates)")
    print(f"{'parameter':>26} {'own err':>9} {'own sd':>8} {'mean err':>9} {'z(mean)':>8} {'spread':>8} "
          f"{'stated ref sd':>13} {'sim sd':>8}")
    rows = []
    for i, name in enumerate(names):
        rows.append({"parameter": name, "own_error": float(own_error[i]), "own_reference_sd": float(own[1][i]),
                     "own_simulation_sd": float(own[2][i]), "mean_error": float(mean_error[i]),
                     "z_mean_error": float(z[i]), "spread_over_samples": float(spread[i]),
                     "stated_reference_sd": float(stated_ref_sd[i]), "simulation_sd": float(sim_sd[i])})
        print(f"{name:>26} {own_error[i]:9.4f} {own_sd[i]:8.4f} {mean_error[i]:9.4f} {rows[-1]['z_mean_error']:8.2f} "
              f"{spread[i]:8.4f} {stated_ref_sd[i]:13.4f} {sim_sd[i]:8.4f}")
    return rows


def per_candidate_rows(names, truth_unit, own, samples) -> list[dict]:
    """Per candidate (narrow to wide, full quadratics first above 4 dimensions): how often the
    rule keeps it, and its mean error over the samples in its own simulation sd (a bias of a
    wide kernel shows as |z| >> 1 where the narrow ones are too noisy to reject it)."""
    print("per candidate: times kept (own reference kept *), z = mean error over samples / simulation sd")
    rows = []
    for c, own_candidate in enumerate(own[0]):
        found = [candidates[c] for candidates, _ in samples if candidates[c] is not None]
        if own_candidate is None or len(found) < 2:
            continue
        _, z, _, sim_sd = over_samples(found, truth_unit)
        times_kept = sum(index == c for _, index in samples)
        rows.append({"candidate": c, "degree": own_candidate[3], "times_kept": times_kept, "kept_for_own": own[1] == c,
                     "z_mean_error": dict(zip(names, z.tolist())), "simulation_sd": dict(zip(names, sim_sd.tolist()))})
        print(f"c{c}{'*' if own[1] == c else ' '} {own_candidate[3]:>8} kept {times_kept}/{len(samples)} "
              f"z={np.round(z, 2).tolist()} sim sd={np.round(sim_sd, 4).tolist()}")
    return rows


if __name__ == "__main__":
    main()
