"""Does a tune's own design, near its solution, agree with the reference there?

    python -m experiments.diagnostics.check_local_model_at_solution STORE/twenty_off0.1_pooled_4000000_seed3 \
        results/tunemc_twenty_halves_seed3.json STORE/reference_twenty_off0.1_seed3_200000.npy --last 186

Re-simulates the run's last ``--last`` points with their recorded seeds (the run's own events,
bit for bit), fits a linear model of the 45 observables' means on the parameters through them
(weighted by events), and compares its prediction at the tuned point with a fresh sample
there (``--events``; does the local model hold?) and with the stored reference (does the
solution describe the data?), each as Hotelling's chi-square with both sides' noise. A run
whose moment fit states a small chi-square at its solution while this check's prediction
there differs from the reference has a moment model that misstates its own fit.
Writes ``experiments/results/NAME.json``.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np

import advopt
from advopt.execution import SimulationTask, make_executor, run_simulation
from experiments._common import pooled_run, simulate_reference, write_result
from experiments.diagnostics.two_sample_at_tuned import hotelling


def linear_prediction(tasks: list, events: list[np.ndarray], names: list[str], at: np.ndarray):
    """Events-weighted least squares of the points' observable means on (1, u - at): the
    intercept (the prediction at ``at``), its covariance, and the residuals' chi-square per
    degree of freedom."""
    u = np.array([[task.params[name] for name in names] for task in tasks])
    scale = np.where(u.std(axis=0) > 0, u.std(axis=0), 1.0)
    x = np.column_stack([np.ones(len(u)), (u - at) / scale])
    means = np.array([e.mean(axis=0) for e in events])
    counts = np.array([len(e) for e in events], dtype=float)
    normal_inv = np.linalg.inv(x.T @ (counts[:, None] * x))
    coef = normal_inv @ x.T @ (counts[:, None] * means)
    per_event_cov = np.cov(np.concatenate(events), rowvar=False)
    residuals = means - x @ coef
    misfit = np.einsum("ja,ab,jb,j->", residuals, np.linalg.pinv(per_event_cov), residuals, counts)
    return coef[0], normal_inv[0, 0] * per_event_cov, float(misfit / (means.shape[1] * (len(u) - x.shape[1])))


def chi2_with_noise(difference: np.ndarray, covariance: np.ndarray) -> float:
    return float(difference @ np.linalg.pinv(covariance) @ difference)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("run_dir", help="the tune's run directory (its history.jsonl)")
    parser.add_argument("record", help="the bench_tunemc_closure.py record of that run (its tuned point)")
    parser.add_argument("reference", help="the closure's stored reference (.npy)")
    parser.add_argument("--last", type=int, default=186, help="the run's last points to re-simulate (a round: 186 at 20 parameters, 4M)")
    parser.add_argument("--events", type=int, default=200_000, help="events of the fresh sample at the tuned point")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--name", default="check_local_model_at_solution")
    args = parser.parse_args()
    if args.last < 3:
        raise SystemExit(f"--last: at least 3 points, got {args.last}")
    run = pooled_run(args.record)
    history = [json.loads(line) for line in (Path(args.run_dir) / "history.jsonl").read_text().splitlines()]
    simulator = advopt.get_simulator("pythia-ee")
    tasks = [SimulationTask({**simulator.truth, **h["params"]}, h["n_events"], h["seed"])
             for h in history[-args.last:] if h["status"] == "ok"]
    names = list(run["tuned"])
    executor = make_executor(args.workers, "local")
    try:
        events = [outcome.events for outcome in executor.map(run_simulation, simulator, tasks)]
        fresh = simulate_reference(simulator, executor, {**simulator.truth, **run["tuned"]}, args.events, 60_000, chunk=2_000)
    finally:
        executor.close()
    reference = np.load(args.reference)
    prediction, prediction_cov, misfit = linear_prediction(tasks, events, names, np.array([run["tuned"][n] for n in names]))
    mean_cov = lambda sample: np.cov(sample, rowvar=False) / len(sample)  # noqa: E731
    figures = {
        "points": len(tasks), "events_per_point": int(np.median([len(e) for e in events])),
        "linear_model_residual_chi2_per_dof": misfit,
        "prediction_vs_fresh_chi2": chi2_with_noise(prediction - fresh.mean(axis=0), prediction_cov + mean_cov(fresh)),
        "prediction_vs_reference_chi2": chi2_with_noise(prediction - reference.mean(axis=0), prediction_cov + mean_cov(reference)),
        "fresh_vs_reference_chi2": hotelling(fresh, reference)[0], "observables": int(reference.shape[1]),
    }
    print(f"{run['set']} seed {run['seed']}: a linear model through the last {len(tasks)} points (residual chi2/dof "
          f"{misfit:.2f}) predicts at the tuned point: chi2 {figures['prediction_vs_fresh_chi2']:.1f} against "
          f"{args.events:,} fresh events there, {figures['prediction_vs_reference_chi2']:.1f} against the reference "
          f"({reference.shape[1]} observables); fresh vs reference {figures['fresh_vs_reference_chi2']:.1f}")
    write_result(args.name, {"run_dir": os.path.basename(args.run_dir.rstrip("/")), "record": os.path.basename(args.record),
                             "reference": os.path.basename(args.reference), "last": args.last, **figures})


if __name__ == "__main__":
    main()
