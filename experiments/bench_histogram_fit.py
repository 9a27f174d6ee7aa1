"""The fit to histograms on a toy with a known truth: are its intervals right, does it name the
parameter without effect, does it say when the model cannot describe the data?

Pseudo-data: the toy-spectra generator (simulators/toy_spectra.py) at its truth, 20k events,
each bin's error its own statistical one; a fresh reference and a fresh tune seed per row.
Rows:
- ``closure``: coverage of the 68% intervals of multiplicity and mean_p (pulls), how often
  ``inert`` comes back not constrained, chi2/ndf at the tuned point;
- ``independent``: the same with each histogram's pseudo-data from its own events (in
  ``closure`` the three histograms share the reference's events, so their bins fluctuate
  together, which a chi-square without a covariance cannot know);
- ``misfit``: data from a broader momentum spectrum (Gamma shape 1.5, the model makes 2):
  the misfit scale and p-value, how often it is flagged;
- ``bayes``: the chi-square + Bayesian optimisation route at the same budget and references
  as ``closure``: its error against the moment fit's.

    python -m experiments.bench_histogram_fit --seeds 30 --budget 400000
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np

from advopt.histograms.reference import HistogramReference
from advopt.histograms.simulation import pseudo_data
from advopt.histograms.tune import tune_histograms
from advopt.histograms.yoda import write_scatter2d
from advopt.space import Space
from experiments._common import write_result
from simulators.toy_spectra import BINS, ToySpectra, ToySpectraAnalysis

CONSTRAINED = ("multiplicity", "mean_p")


def reference(directory: Path, seed: int, shape: float, independent: bool = False) -> HistogramReference:
    """20k pseudo-data events; ``independent``: each histogram from its own 20k events, so that
    the bins of different histograms do not share fluctuations (as the chi-square assumes)."""
    if independent:
        histograms = [h for k, path in enumerate(BINS) for h in pseudo_data(
            ToySpectra(shape), [ToySpectraAnalysis()], {path: BINS[path]}, ToySpectra.truth, 20_000, 20_000 + 10 * seed + k)]
    else:
        histograms = pseudo_data(ToySpectra(shape), [ToySpectraAnalysis()], BINS, ToySpectra.truth, 20_000, 10_000 + seed)
    return HistogramReference.load(write_scatter2d(directory / f"ref_{seed}_{shape}_{independent}.yoda", histograms))


def run(seeds: int, budget: int, rows: list[str]) -> dict:
    space = Space.from_dict(ToySpectra.default_space)
    out: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        for row in rows:
            shape = 1.5 if row == "misfit" else 2.0
            method = "bayes" if row == "bayes" else "moments"
            records = []
            for seed in range(seeds):
                result = tune_histograms(ToySpectra(), reference(Path(tmp), seed, shape, row == "independent"), space,
                                         budget=budget, seed=seed, optimizer=method)
                record = {"seed": seed, "params": result.params, "intervals": result.intervals, "status": result.status,
                          "chi2": result.chi2, "ndf": result.ndf, "p_value": result.p_value,
                          "misfit_scale": result.misfit_scale}
                for name in CONSTRAINED:
                    truth = ToySpectra.truth[name]
                    record[f"error_{name}"] = result.params[name] - truth
                    if name in result.intervals:
                        low, high = result.intervals[name]
                        record[f"covered_{name}"] = bool(low <= truth <= high)
                        record[f"pull_{name}"] = (result.params[name] - truth) / max(0.5 * (high - low), 1e-300)
                records.append(record)
                print(row, seed, json.dumps({k: v for k, v in record.items() if k.startswith(("pull", "error"))}), flush=True)
            summary = summarise(records)
            out[row] = {"summary": summary, "runs": records}
            print(row, json.dumps(summary), flush=True)
    return out


def summarise(records: list[dict]) -> dict:
    """Coverage and pulls against the truth; and, for rows with no true point (misfit), the
    spread of the estimates over the references against the sd each run reports."""
    summary = {"n": len(records)}
    for name in CONSTRAINED:
        errors = np.array([r[f"error_{name}"] for r in records])
        summary[f"rms_error_{name}"] = float(np.sqrt(np.mean(errors**2)))
        if f"covered_{name}" in records[0]:
            pulls = np.array([r[f"pull_{name}"] for r in records])
            summary[f"coverage_{name}"] = float(np.mean([r[f"covered_{name}"] for r in records]))
            summary[f"pull_mean_{name}"], summary[f"pull_sd_{name}"] = float(pulls.mean()), float(pulls.std(ddof=1))
            reported = np.median([0.5 * (r["intervals"][name][1] - r["intervals"][name][0]) for r in records])
            summary[f"spread_over_reported_sd_{name}"] = float(np.std(errors, ddof=1) / reported)
    summary["inert_not_constrained"] = sum(r["status"].get("inert") == "not constrained" for r in records)
    summary["flagged_p_below_0.01"] = sum(r["p_value"] < 0.01 for r in records)
    summary["median_chi2_per_ndf"] = float(np.median([r["chi2"] / r["ndf"] for r in records]))
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=30)
    parser.add_argument("--budget", type=int, default=400_000)
    parser.add_argument("--rows", nargs="+", default=["closure", "misfit", "bayes"])
    parser.add_argument("--name", default="histogram_fit")
    args = parser.parse_args()
    figures = run(args.seeds, args.budget, args.rows)
    print(write_result(args.name, {"settings": {"seeds": args.seeds, "budget": args.budget, "reference_events": 20_000},
                                   **figures}))


if __name__ == "__main__":
    main()
