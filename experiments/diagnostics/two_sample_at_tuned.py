"""Can the events tell a tuned Pythia point from the truth? A two-sample test between them.

    python -m experiments.diagnostics.two_sample_at_tuned results/tunemc_twenty_halves_seed3.json --events 200000

Reads a TuneMC closure record (``bench_tunemc_closure.py``: the tuned parameters and the
truth), simulates ``--events`` events at each (the untuned parameters at Monash, as in the
closure; ``--truth-for`` puts named parameters at their truth in the tuned point, to see
which errors the events see, every one of them a null test; ``--chunk`` simulates the tuned
point's sample in tasks of that many events, as a tune's points are) and compares them two ways:

- the 45 observables' means: Hotelling's chi-square of their difference with its p-value
  (45 degrees of freedom), and the largest per-observable difference in its sd;
- a gradient-boosted classifier (scikit-learn) trained on half of each sample: its held-out
  AUC against 0.5, in units of the AUC's sd under no difference;
- with ``--reference PATH`` (the closure's stored reference), each sample's means against the
  reference's: how well the tuned point describes the data it was fitted to, beside the truth.

If neither tells them apart with as many events as the reference has, the tuned point's
error lies along a direction the data do not see at that size (the maximum-likelihood fit
would scatter along it too, and the fault is the stated interval); if they do, the
information is in the events and the pooled fit's summaries lose it.
Writes ``experiments/results/NAME.json``.
"""

from __future__ import annotations

import argparse
import os

import numpy as np
from scipy import stats
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score

import advopt
from advopt.execution import make_executor
from advopt.pooled.moments import chi2_per_summary
from experiments._common import pooled_run, simulate_reference, write_result


def hotelling(a: np.ndarray, b: np.ndarray) -> tuple[float, float, float]:
    """Chi-square of the difference of two samples' means (the noise of both counts), its
    p-value, and the largest per-observable |difference| / sd."""
    b_mean_cov = np.cov(b, rowvar=False) / len(b)
    k = a.shape[1]
    chi2 = chi2_per_summary(a, b.mean(axis=0), b_mean_cov)[0] * k
    sd = np.sqrt(a.var(axis=0, ddof=1) / len(a) + np.diag(b_mean_cov))
    return chi2, float(stats.chi2.sf(chi2, k)), float(np.max(np.abs(a.mean(axis=0) - b.mean(axis=0)) / sd))


def classifier_auc(a: np.ndarray, b: np.ndarray, seed: int) -> tuple[float, float]:
    """Held-out AUC of a classifier between the samples, and its sd were they the same."""
    rng = np.random.default_rng(seed)
    x = np.concatenate([a, b])
    y = np.concatenate([np.zeros(len(a)), np.ones(len(b))])
    train = rng.random(len(x)) < 0.5
    model = HistGradientBoostingClassifier(max_iter=200, random_state=seed).fit(x[train], y[train])
    auc = float(roc_auc_score(y[~train], model.predict_proba(x[~train])[:, 1]))
    n0, n1 = np.sum(y[~train] == 0), np.sum(y[~train] == 1)
    return auc, float(np.sqrt((n0 + n1 + 1) / (12.0 * n0 * n1)))  # Mann-Whitney's sd under no difference


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("record", help="a bench_tunemc_closure.py result (its first pooled run is used)")
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--truth-for", action="append", default=[], metavar="PARAMETER",
                        help="put this parameter at its truth in the tuned point (repeatable): which errors the events see")
    parser.add_argument("--chunk", type=int, default=10_000,
                        help="events per simulation task of the tuned-point sample (the truth's: 10,000)")
    parser.add_argument("--reference", default=None, metavar="PATH",
                        help="the closure's stored reference (.npy): also compare each sample's means with it")
    parser.add_argument("--method", default="pooled", help="whose tuned point: the record's run of this method")
    parser.add_argument("--name", default="two_sample_at_tuned")
    args = parser.parse_args()
    if args.events < 1_000:
        raise SystemExit(f"--events: at least 1000, got {args.events}")
    if args.chunk < 1:
        raise SystemExit(f"--chunk: at least 1 event per task, got {args.chunk}")
    run = pooled_run(args.record, args.method)
    unknown = [name for name in args.truth_for if name not in run["tuned"]]
    if unknown:
        raise SystemExit(f"--truth-for: {unknown[0]!r} is not a tuned parameter of this run")
    simulator = advopt.get_simulator("pythia-ee")
    truth = {**simulator.truth, **run["truth"]}
    tuned = {**simulator.truth, **run["tuned"], **{name: truth[name] for name in args.truth_for}}
    executor = make_executor(args.workers, "local")
    try:
        at_tuned = simulate_reference(simulator, executor, tuned, args.events, 60_000 + args.seed, chunk=args.chunk)
        at_truth = simulate_reference(simulator, executor, truth, args.events, 61_000 + args.seed)
    finally:
        executor.close()
    against_reference = {} if args.reference is None else means_against_reference(np.load(args.reference), at_tuned, at_truth)
    chi2, p_value, worst = hotelling(at_tuned, at_truth)
    auc, auc_sd = classifier_auc(at_tuned, at_truth, args.seed)
    print(f"{run['set']} seed {run['seed']}: {args.events:,} events at the tuned point and at the truth"
          + (f" (at the truth in the tuned point: {', '.join(args.truth_for)})" if args.truth_for else ""))
    print(f"  means: chi2 {chi2:.1f} for {at_tuned.shape[1]} observables (p = {p_value:.3g}), largest difference {worst:.2f} sd")
    print(f"  classifier: held-out AUC {auc:.4f} ({(auc - 0.5) / auc_sd:+.1f} sd from 0.5)")
    for label, (chi2_ref, p_ref, worst_ref) in against_reference.items():
        print(f"  {label} against the stored reference: means chi2 {chi2_ref:.1f} (p = {p_ref:.3g}), largest {worst_ref:.2f} sd")
    write_result(args.name, {"record": os.path.basename(args.record), "set": run["set"], "seed": run["seed"],
                             "events": args.events, "tuned": run["tuned"], "truth": run["truth"],
                             "at_truth_in_tuned_point": args.truth_for, "tuned_sample_chunk": args.chunk,
                             "means_chi2": chi2, "observables": int(at_tuned.shape[1]), "means_p_value": p_value,
                             "largest_mean_difference_sd": worst, "auc": auc, "auc_sd_if_same": auc_sd,
                             "auc_z": (auc - 0.5) / auc_sd, "reference": args.reference,
                             "means_against_reference": {label: {"chi2": c, "p_value": p, "largest_difference_sd": w}
                                                         for label, (c, p, w) in against_reference.items()}})


def means_against_reference(reference: np.ndarray, at_tuned: np.ndarray, at_truth: np.ndarray) -> dict:
    """Hotelling's chi-square of each sample's means against the stored reference's: how well
    the tuned point describes the data it was fitted to, beside the truth's (the null)."""
    return {"tuned": hotelling(at_tuned, reference), "truth": hotelling(at_truth, reference)}


if __name__ == "__main__":
    main()
