"""A plain baseline for many Pythia parameters: fit the observables' means with a local linear model.

    python -m experiments.bench_means_baseline [--set twenty] [--seed 0] [--truth-offset 0.1]
        [--budget 4000000] [--rounds 5] [--events-per-point 2000] [--store experiments/runs/tunemc]
        [--name means_baseline_twenty_s0]

The honest-fit issue's yardstick for the pooled route at twenty parameters, on the same
pseudo-data as ``bench_tunemc_closure.py`` (its stored reference for the set, seed and truth
offset): ``--rounds`` rounds of budget / (rounds x events per point) points, a scrambled Sobol
design over a box that starts as the whole range and halves around the estimate each round;
per round a linear model of each observable's mean over that round's points (kernel weight 1,
its residual scatter inflating the model's noise: advopt.pooled.moments.fit_moment_model), and
the estimate that minimises the whitened distance between the modelled and the reference's
means (the reference means' full covariance plus the model's prediction noise:
``solve_moments``). Writes a record in ``bench_tunemc_closure.py``'s format (method
``means-baseline``), which ``two_sample_at_tuned.py --method means-baseline`` reads.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

import advopt
from advopt import seeds
from advopt.execution import SimulationTask, make_executor, run_simulation
from advopt.pooled.design import sobol_points
from advopt.pooled.moments import fit_moment_model, information_inverse, solve_moments
from experiments._common import git_commit, write_result
from experiments.bench_tunemc_closure import SETS, pseudo_truth, reference_for

_PURPOSE = 31  # the baseline's simulation tasks, apart from any tune's


def point_moments(samples: list[np.ndarray], scale: np.ndarray):
    """Per point the mean, count and covariance of the observables (divided by ``scale``)."""
    standardised = [s / scale for s in samples]
    return (np.array([s.mean(axis=0) for s in standardised]), np.array([float(len(s)) for s in standardised]),
            np.array([np.cov(s, rowvar=False) for s in standardised]))


def baseline_fit(simulator, executor, reference: np.ndarray, names: list[str], fixed: dict, *, budget: int,
                 rounds: int, events_per_point: int, seed: int) -> dict:
    """The baseline's tuned point and sds (physical units) and its last chi-square."""
    low = np.array([simulator.default_space[n][0] for n in names])
    high = np.array([simulator.default_space[n][1] for n in names])
    scale = np.where(reference.std(axis=0) > 0, reference.std(axis=0), 1.0)
    reference_mean = (reference / scale).mean(axis=0)
    reference_cov = np.cov(reference / scale, rowvar=False) / len(reference)
    per_round = budget // (rounds * events_per_point)
    centre, half_width, fit, model = np.full(len(names), 0.5), 0.5, None, None
    for round_index in range(rounds):
        box_low = np.clip(centre - half_width, 0.0, 1.0 - 2 * half_width)  # the box kept inside the cube
        cube = sobol_points(len(names), np.random.default_rng([seed, round_index, _PURPOSE]), 0, per_round)
        points = box_low + 2 * half_width * cube
        tasks = [SimulationTask({**fixed, **dict(zip(names, low + u * (high - low)))}, events_per_point,
                                seeds.task_seed(seed, round_index, j, _PURPOSE)) for j, u in enumerate(points)]
        outcomes = executor.map(run_simulation, simulator, tasks)
        kept = [j for j, o in enumerate(outcomes) if o.events is not None]
        means, counts, covs = point_moments([outcomes[j].events for j in kept], scale)
        model = fit_moment_model(points[kept], means, counts, covs, np.ones(len(kept)), centre,
                                 np.full(len(names), half_width), degrees=["linear"])
        fit = solve_moments(model, reference_mean, reference_cov, centre)
        print(f"round {round_index}: {len(kept)} points, box half-width {half_width:g}, chi2 {fit.chi2:.1f}", flush=True)
        centre, half_width = fit.point, half_width / 2
    # the estimate's covariance, the inverse of its information with no floor (the fit's own gain
    # floors it at the box's, which understates weakly known directions)
    jacobian = model.jacobian(fit.point)
    information = jacobian.T @ np.linalg.pinv(reference_cov + model.prediction_cov(fit.point)) @ jacobian
    covariance = information_inverse(information, 1e-12)
    return {"tuned": dict(zip(names, (low + fit.point * (high - low)).tolist())),
            "uncertainty": dict(zip(names, (np.sqrt(np.diag(covariance)) * (high - low)).tolist())),
            "final_chi2": fit.chi2}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", default="twenty", choices=sorted(SETS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--truth-offset", type=float, default=0.1)
    parser.add_argument("--budget", type=int, default=4_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--events-per-point", type=int, default=2_000)
    parser.add_argument("--reference-events", type=int, default=200_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--store", default=str(Path(__file__).parent / "runs" / "tunemc"))
    parser.add_argument("--name", default="means_baseline")
    args = parser.parse_args()
    simulator = advopt.get_simulator("pythia-ee")
    names = SETS[args.set]
    full_truth = pseudo_truth(simulator, names, args.truth_offset)
    truth = {n: full_truth[n] for n in names}
    fixed = {n: v for n, v in full_truth.items() if n not in names and n in simulator.default_space}
    tag = f"_{args.set}_off{args.truth_offset:g}" if args.truth_offset else ""
    store = Path(args.store)
    store.mkdir(parents=True, exist_ok=True)
    executor = make_executor(args.workers, "local")
    started = time.perf_counter()
    try:
        reference = reference_for(simulator, executor, store, args.reference_events, args.seed, full_truth, tag)
        fit = baseline_fit(simulator, executor, reference, names, fixed, budget=args.budget, rounds=args.rounds,
                           events_per_point=args.events_per_point, seed=args.seed)
    finally:
        executor.close()
    tuned, sd = fit["tuned"], fit["uncertainty"]
    low = np.array([simulator.default_space[n][0] for n in names])
    high = np.array([simulator.default_space[n][1] for n in names])
    offsets = np.array([tuned[n] - truth[n] for n in names]) / (high - low)
    run = {"set": args.set, "method": "means-baseline", "budget": args.budget, "seed": args.seed, "tuned": tuned,
           "truth": truth, "uncertainty": sd, "pulls": {n: (tuned[n] - truth[n]) / sd[n] for n in names},
           "normalised_distance": float(np.sqrt(np.sum(offsets**2))), "final_chi2": fit["final_chi2"],
           "wall_seconds": time.perf_counter() - started, "commit": git_commit()}
    print("pulls: " + ", ".join(f"{n.split(':')[-1]} {p:+.2f}" for n, p in run["pulls"].items()))
    write_result(args.name, {"runs": [run]})


if __name__ == "__main__":
    main()
