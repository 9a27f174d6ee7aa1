"""Statistical efficiency: how close each route comes to the limit the reference itself allows.

    python -m experiments.bench_efficiency [--tasks gaussian,camel,xor,smeared-decay,mixed-gaussians]
        [--methods pooled,jsd-bo,chi2-bo[,sbi-nre]] [--seeds 5] [--budgets 2,10] [--reference-events 20000]
        [--replicas 400] [--store experiments/runs/efficiency] [--summarise-only]

On toys whose density is known, the limit is the spread of the maximum-likelihood fit
(scipy, from the truth, inside the default space) to ``--replicas`` independent reference
samples of ``--reference-events`` events: per parameter, the median |MLE - truth| over the
replicas (400 by default: with 12, the median itself scatters by ~25%, and camel's mu1 limit
came out 2.4x below its Cramer-Rao value; the Cramer-Rao figure is printed beside it). Every tune gets its own reference (replica ``seed``) and a budget of B x the
reference's size (``--budgets``); the per-point routes simulate min(2000, budget / 40)
events per point, the pooled route as many as it chooses (``events_per_point`` left out:
max(200, 2 (p + 1)(p + 2)) points for p parameters, of 100-2,000 events). ``mixed-gaussians`` (10 parameters) and
``mixed-gaussians-20`` (20) are the toys between the camel back and twenty Pythia
parameters. Figures per (task, method, budget, parameter): the
median |tuned - truth| over seeds divided by the limit (1 is the ML fit; an efficient
estimator with N_sim simulated events reaches about sqrt(1 + N_ref / N_sim)); the share of
seeds whose 68% interval holds the truth; the median wall time. Methods:

- ``pooled``: ``optimizer = "pooled"`` (learnt summaries of all events, one moment fit);
- ``jsd-bo``: per-point JSD (the ``mlp`` divergence) + Bayesian optimisation;
- ``chi2-bo``: the binned chi-square + Bayesian optimisation;
- ``sbi-nre``: sbi's neural ratio estimation on single-event simulations from a uniform prior,
  fit by maximising the learnt log ratio summed over the reference (``_sbi_nre.py``; needs
  ``pip install -e ".[peers]"``: sbi, which advopt does not depend on).

Resumable: each finished tune is a JSON file in --store; --summarise-only tabulates them.
Writes results/efficiency.json.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import time
from pathlib import Path

import numpy as np
from scipy import optimize, stats

import advopt
from experiments._common import space_bounds, write_result
from simulators.toy import MixedGaussians

SQRT_2PI_LOG = 0.5 * math.log(2 * math.pi)


def _normal_logpdf(x, mean, sd):
    return -0.5 * ((x - mean) / sd) ** 2 - np.log(sd) - SQRT_2PI_LOG


def gaussian_logpdf(p, x):
    return _normal_logpdf(x[:, 0], p["mean"], p["width"])


def mixed_gaussians_logpdf(p, x):
    """Unmix (y = M^-1 x, M the simulator's fixed mixing), then independent Gaussians."""
    mixing = MixedGaussians(features=x.shape[1]).mixing
    y = np.linalg.solve(mixing, x.T).T
    terms = [_normal_logpdf(y[:, i], p[f"mean{i}"], p[f"width{i}"]) for i in range(x.shape[1])]
    return np.sum(terms, axis=0) - math.log(abs(np.linalg.det(mixing)))


def camel_logpdf(p, x):
    x = x[:, 0]
    return np.logaddexp(np.log(p["a"]) + _normal_logpdf(x, p["mu1"], p["s1"]),
                        np.log1p(-p["a"]) + _normal_logpdf(x, p["mu2"], p["s2"]))


def xor_logpdf(p, x):
    """Two petals N(+-(2, 2), A'A), A = [[0.25, 0.5], [0.5, 0.25]], rotated by the angle."""
    c, s = math.cos(p["angle"]), math.sin(p["angle"])
    rotation = np.array([[c, -s], [s, c]])
    shape = np.array([[0.25, 0.5], [0.5, 0.25]])
    cov = rotation @ (shape.T @ shape) @ rotation.T
    centre = rotation @ np.array([2.0, 2.0])
    petal = [stats.multivariate_normal(sign * centre, cov).logpdf(x) for sign in (1, -1)]
    return np.logaddexp(*petal) - math.log(2)


def smeared_decay_logpdf(p, x):
    return stats.exponnorm.logpdf(x[:, 0], p["lifetime"] / p["resolution"], scale=p["resolution"])


TASKS = {"gaussian": gaussian_logpdf, "camel": camel_logpdf, "xor": xor_logpdf, "smeared-decay": smeared_decay_logpdf,
         "mixed-gaussians": mixed_gaussians_logpdf, "mixed-gaussians-20": mixed_gaussians_logpdf}
# Tasks that are a registered simulator with options: name -> (simulator, options).
TASK_SIMULATORS = {"mixed-gaussians-20": ("mixed-gaussians", {"features": 10})}
METHODS = {
    "pooled": {"optimizer": "pooled"},
    "jsd-bo": {"optimizer": "bayes", "divergence": "mlp"},
    "chi2-bo": {"optimizer": "bayes", "divergence": "chi2"},
    "sbi-nre": None,  # not an advopt route: _sbi_nre.tune_nre
}


def simulator_for(task: str):
    name, options = TASK_SIMULATORS.get(task, (task, {}))
    return advopt.get_simulator(name, **options)


def events_per_point(method: str, budget: int, pooled_points: int | None = None) -> int | None:
    """BO routes: min(2000, budget / 40) (each point's own estimate needs events); the pooled
    estimator its own default (None: max(200, 2 (dim + 1)(dim + 2)) points of 100-2,000 events, see
    ``advopt.pooled.design.events_per_point``), or with ``pooled_points`` (``--pooled-points``)
    min(1000, budget / pooled_points), the rule here before the route chose (160)."""
    if not method.startswith("pooled"):
        return min(2000, budget // 40)
    return None if pooled_points is None else min(1000, budget // pooled_points)


def reference_sample(task: str, replica: int, n_events: int) -> np.ndarray:
    simulator = simulator_for(task)
    return simulator.simulate(simulator.truth, n_events, 50_000 + replica)


def ml_fit(task: str, reference: np.ndarray) -> dict[str, float]:
    """The maximum-likelihood estimate inside the default space, started at the truth."""
    simulator = simulator_for(task)
    names, low, high = space_bounds(simulator)

    def nll(unit):
        return -float(np.mean(TASKS[task](dict(zip(names, low + unit * (high - low))), reference)))

    start = (np.array([simulator.truth[n] for n in names]) - low) / (high - low)
    found = optimize.minimize(nll, start, method="L-BFGS-B", bounds=[(1e-6, 1 - 1e-6)] * len(names))
    return dict(zip(names, (low + found.x * (high - low)).tolist()))


def ml_limit(task: str, replicas: int, n_events: int) -> dict[str, float]:
    """Per parameter, the median |MLE - truth| over independent reference replicas."""
    truth = simulator_for(task).truth
    fits = [ml_fit(task, reference_sample(task, r, n_events)) for r in range(replicas)]
    return {name: float(np.median([abs(f[name] - truth[name]) for f in fits])) for name in truth}


def cramer_rao_median(task: str, n_events: int, n_draws: int = 1_000_000) -> dict[str, float]:
    """The same figure from the Fisher information (a check on ``ml_limit``): per parameter,
    0.6745 sqrt((I^-1)_ii / N), the median |error| of an efficient Gaussian estimator, with I
    the covariance of the per-event score, by central differences, at the truth."""
    simulator = simulator_for(task)
    truth, names = simulator.truth, list(simulator.truth)
    x = simulator.simulate(truth, n_draws, 7)
    scores = []
    for name in names:
        step = 1e-4 * (simulator.default_space[name][1] - simulator.default_space[name][0])
        shifted = [TASKS[task]({**truth, name: truth[name] + sign * step}, x) for sign in (1, -1)]
        scores.append((shifted[0] - shifted[1]) / (2 * step))
    fisher = np.cov(np.array(scores))
    sd = np.sqrt(np.diag(np.linalg.inv(np.atleast_2d(fisher))) / n_events)
    return {name: float(stats.norm.ppf(0.75) * s) for name, s in zip(names, sd)}


def run_one(task: str, method: str, multiple: int, seed: int, n_reference: int, store: Path,
            pooled_points: int | None = None) -> dict:
    path = store / f"{task}_{method}_x{multiple}_seed{seed}.json"
    if path.exists():
        return json.loads(path.read_text())
    simulator = simulator_for(task)
    budget = multiple * n_reference
    reference = reference_sample(task, seed, n_reference)
    started = time.perf_counter()
    if method == "sbi-nre":
        from experiments._sbi_nre import (
            tune_nre,  # imported here: sbi is needed by this method only
        )
        found = tune_nre(simulator, reference, budget, seed)
    else:
        result = advopt.tune(simulator, reference, budget=budget, events_per_point=events_per_point(method, budget, pooled_points),
                             seed=seed, truth=simulator.truth, progress=False, **METHODS[method])
        found = {"tuned": result.best_params, "interval68": result.interval68, "events_used": result.events_used}
    record = {"task": task, "method": method, "multiple": multiple, "seed": seed, "truth": simulator.truth,
              **found, "wall_seconds": time.perf_counter() - started}
    path.write_text(json.dumps(record, indent=1))
    return record


def summarise(records: list[dict], limits: dict[str, dict[str, float]], n_reference: int) -> list[dict]:
    rows = []
    keys = sorted({(r["task"], r["method"], r["multiple"]) for r in records})
    for task, method, multiple in keys:
        mine = [r for r in records if (r["task"], r["method"], r["multiple"]) == (task, method, multiple)]
        fits = {seed: ml_fit(task, reference_sample(task, seed, n_reference)) for seed in {r["seed"] for r in mine}}
        for name, limit in limits[task].items():
            errors = [abs(r["tuned"][name] - r["truth"][name]) for r in mine]
            from_ml = [abs(r["tuned"][name] - fits[r["seed"]][name]) for r in mine]
            covered = [r["interval68"][name][0] <= r["truth"][name] <= r["interval68"][name][1] for r in mine]
            rows.append({"task": task, "method": method, "budget_multiple": multiple, "parameter": name,
                         "seeds": len(mine), "median_abs_error": float(np.median(errors)), "ml_limit": limit,
                         "ratio_to_limit": float(np.median(errors) / limit),
                         "ratio_to_limit_vs_same_reference_ml": float(np.median(from_ml) / limit), "coverage68": float(np.mean(covered)),
                         "median_wall_s": float(np.median([r["wall_seconds"] for r in mine]))})
    return rows


def print_markdown(rows: list[dict], methods: list[str]) -> None:
    """One line per (task, budget, parameter): each method's median |error| / limit, the
    pooled route's |error - same-reference MLE| / limit and its coverage, as a markdown table."""
    print("\n| task | budget | parameter | " + " | ".join(methods) + " | pooled vs MLE | pooled cover68 |")
    print("|---|---|---|" + "---|" * (len(methods) + 2))
    keys = sorted({(r["task"], r["budget_multiple"], r["parameter"]) for r in rows})
    for task, multiple, name in keys:
        cells = {r["method"]: r for r in rows if (r["task"], r["budget_multiple"], r["parameter"]) == (task, multiple, name)}
        ratios = " | ".join(f"{cells[m]['ratio_to_limit']:.2f}" if m in cells else "-" for m in methods)
        pooled = cells.get("pooled")
        tail = f"{pooled['ratio_to_limit_vs_same_reference_ml']:.2f} | {pooled['coverage68']:.0%}" if pooled else "- | -"
        print(f"| {task} | x{multiple} | {name} | {ratios} | {tail} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", default=",".join(TASKS))
    parser.add_argument("--methods", default="pooled,jsd-bo,chi2-bo",
                        help=f"comma-separated, of {', '.join(METHODS)} (sbi-nre needs the peers extra)")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--budgets", default="2,10", help="budgets as multiples of the reference size")
    parser.add_argument("--reference-events", type=int, default=20_000)
    parser.add_argument("--replicas", type=int, default=400)
    parser.add_argument("--store", type=Path, default=Path(__file__).parent / "runs" / "efficiency")
    parser.add_argument("--pooled-points", type=int, default=None,
                        help="the pooled route at min(1000, budget / N) events per point (default: its own choice)")
    parser.add_argument("--summarise-only", action="store_true")
    parser.add_argument("--name", default="efficiency")
    args = parser.parse_args()
    args.store.mkdir(parents=True, exist_ok=True)
    tasks, methods = args.tasks.split(","), args.methods.split(",")
    if "sbi-nre" in methods and importlib.util.find_spec("sbi") is None:  # one line, before any tune
        raise SystemExit('--methods: sbi-nre needs sbi: pip install -e ".[peers]"')
    multiples = [int(b) for b in args.budgets.split(",")]
    limits = {task: ml_limit(task, max(args.replicas, args.seeds), args.reference_events) for task in tasks}
    cramer_rao = {task: cramer_rao_median(task, args.reference_events) for task in tasks}
    for task in tasks:
        print(f"{task}: ML limit (median |MLE - truth|, {max(args.replicas, args.seeds)} replicas) / Cramer-Rao: "
              + ", ".join(f"{n} {limits[task][n]:.4g} / {cramer_rao[task][n]:.4g}" for n in limits[task]), flush=True)
    records = []
    for task in tasks:
        for multiple in multiples:
            for method in methods:
                for seed in range(args.seeds):
                    path = args.store / f"{task}_{method}_x{multiple}_seed{seed}.json"
                    if args.summarise_only and not path.exists():
                        continue
                    record = run_one(task, method, multiple, seed, args.reference_events, args.store, args.pooled_points)
                    records.append(record)
                    print(f"{task} {method} x{multiple} seed {seed}: "
                          + ", ".join(f"{k}={v:.4g}" for k, v in record["tuned"].items())
                          + f"  ({record['wall_seconds']:.0f} s)", flush=True)
    rows = summarise(records, limits, args.reference_events)
    print(f"\n{'task':<14} {'method':<8} {'budget':>6} {'parameter':<11} {'median|err|':>11} {'ML limit':>9} "
          f"{'ratio':>6} {'vs MLE':>6} {'cover68':>7} {'wall s':>7}")
    for row in rows:
        print(f"{row['task']:<14} {row['method']:<8} {'x' + str(row['budget_multiple']):>6} {row['parameter']:<11} "
              f"{row['median_abs_error']:11.4g} {row['ml_limit']:9.4g} {row['ratio_to_limit']:6.2f} "
              f"{row['ratio_to_limit_vs_same_reference_ml']:6.2f} "
              f"{row['coverage68']:7.0%} {row['median_wall_s']:7.0f}")
    print_markdown(rows, methods)
    write_result(args.name, {"reference_events": args.reference_events, "replicas": max(args.replicas, args.seeds),
                             "limits": limits, "cramer_rao_median": cramer_rao, "rows": rows})


if __name__ == "__main__":
    main()
