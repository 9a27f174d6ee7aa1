"""What a histogram tune returns: the parameters with intervals and statuses, the chi-square
overall and per histogram at the tuned point and at the start, the pulls, the correlations."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from scipy import stats

from advopt.records.files import write_json_atomic
from advopt.records.result import MISFIT_P_VALUE
from advopt.histograms.reference import HistogramReference
from advopt.histograms.yoda import write_histo1d


def histogram_chi2(reference: HistogramReference, values: np.ndarray, errors: np.ndarray) -> tuple[float, dict[str, float]]:
    """sum_b w_b ((D_b - S_b) / sqrt(d_b^2 + s_b^2))^2, overall and per histogram."""
    terms = reference.weights * (reference.values - values) ** 2 / (reference.errors**2 + errors**2)
    per = {path: float(terms[bins].sum()) for path, bins in reference.slices().items()}
    return float(terms.sum()), per


def pulls(reference: HistogramReference, values: np.ndarray, errors: np.ndarray) -> np.ndarray:
    return (values - reference.values) / np.sqrt(reference.errors**2 + errors**2)


@dataclass(frozen=True)
class HistogramTuneResult:
    params: dict[str, float]
    intervals: dict[str, tuple[float, float]]
    status: dict[str, str]
    unconstrained_directions: list
    correlation: list
    model_chi2: float
    ndf: int
    misfit_scale: float
    chi2: float  # at the tuned point, simulated again
    chi2_per_histogram: dict[str, float]
    n_bins_per_histogram: dict[str, int]
    start: dict[str, float]
    start_chi2: float
    start_chi2_per_histogram: dict[str, float]
    max_abs_pull: float
    method: str
    budget: int
    n_events: int
    n_failed: int
    rounds: list = field(default_factory=list)
    wall_seconds: float = 0.0
    reference_files: tuple = ()

    @classmethod
    def build(cls, *, reference, params, intervals, status, unconstrained_directions, covariance_unit, space, model_chi2,
              ndf, misfit_scale, tuned, start, at_start, method, budget, n_events, n_failed, rounds, wall_seconds):
        nan_per = {p: math.nan for p in reference.paths}
        chi2, per = histogram_chi2(reference, tuned.values, tuned.errors) if tuned is not None else (math.nan, nan_per)
        s_chi2, s_per = histogram_chi2(reference, at_start.values, at_start.errors) if at_start is not None else (math.nan, nan_per)
        pull = pulls(reference, tuned.values, tuned.errors)[reference.weights > 0] if tuned is not None else np.array([np.nan])
        sd = np.sqrt(np.abs(np.diag(covariance_unit)))
        with np.errstate(invalid="ignore", divide="ignore"):
            correlation = covariance_unit / np.outer(sd, sd)
        return cls(params=dict(params), intervals={k: tuple(v) for k, v in intervals.items()}, status=dict(status),
                   unconstrained_directions=list(unconstrained_directions), correlation=np.round(correlation, 4).tolist(),
                   model_chi2=float(model_chi2), ndf=int(ndf), misfit_scale=float(misfit_scale), chi2=chi2,
                   chi2_per_histogram=per, n_bins_per_histogram={h.path: int(np.count_nonzero(reference.weights[b]))
                                                                 for h, b in zip(reference.histograms, reference.slices().values())},
                   start=dict(start), start_chi2=s_chi2, start_chi2_per_histogram=s_per,
                   max_abs_pull=float(np.nanmax(np.abs(pull))), method=method, budget=int(budget), n_events=int(n_events),
                   n_failed=int(n_failed), rounds=list(rounds), wall_seconds=float(wall_seconds),
                   reference_files=tuple(reference.files))

    @property
    def p_value(self) -> float:
        """Of the tuned point's chi-square, as if every error were right and the model exact."""
        return float(stats.chi2.sf(self.chi2, self.ndf)) if math.isfinite(self.chi2) else math.nan

    def to_dict(self) -> dict:
        out = asdict(self)
        out["p_value"] = self.p_value
        return json.loads(json.dumps(out, default=float).replace("NaN", "null"))

    def save(self, path: str | Path) -> None:
        write_json_atomic(Path(path), self.to_dict())

    def summary(self) -> str:
        lines = [f"{'parameter':28s} {'value':>10s}  {'68% interval':>23s}  status"]
        for name, value in self.params.items():
            low, high = self.intervals.get(name, (math.nan, math.nan))
            lines.append(f"{name:28s} {value:10.4g}  [{low:10.4g}, {high:10.4g}]  {self.status.get(name, '')}")
        lines.append(f"chi2 at the tuned point: {self.chi2:.1f} / {self.ndf} (chi2/ndf {self.chi2 / self.ndf:.2f}); "
                     f"at the start: {self.start_chi2:.1f}")
        if self.misfit_scale > 1:
            model_p = float(stats.chi2.sf(self.model_chi2, self.ndf))
            verdict = ("the fit does not describe the data within their errors: the simulator cannot, or the fit has "
                       "not found where it does" if model_p < MISFIT_P_VALUE else "the fit's chi2 is within its noise")
            lines.append(f"{verdict} (model chi2/ndf {self.misfit_scale:.2f}, p = {model_p:.2g}): intervals are "
                         "scaled by sqrt of that")
        if self.rounds and not self.rounds[-1].get("model_noise_measured", True):
            lines.append(f"the model's own noise could not be measured ({self.rounds[-1]['model_noise_refits']} "
                         "refits succeeded): the intervals carry the data's errors only")
        worst = sorted(self.chi2_per_histogram.items(), key=lambda kv: -kv[1] if math.isfinite(kv[1]) else 0)[:5]
        lines.append("largest chi2 per histogram: " + ", ".join(f"{p} {c:.1f}/{self.n_bins_per_histogram[p]}" for p, c in worst))
        lines.append(f"{self.n_events} events simulated ({self.n_failed} failed simulations), {self.wall_seconds:.0f} s")
        return "\n".join(lines)


def write_simulated(path: str | Path, reference: HistogramReference, simulated) -> Path:
    """A point's simulated histograms as YODA Histo1D, on the reference's bins: sumw = value x
    width and sumw2 = (error x width)^2, so Rivet's and Professor's tools read back the values."""
    out = {}
    for h, bins in zip(reference.histograms, reference.slices().values()):
        width = h.widths
        out[h.path] = (h.lows, h.highs, simulated.values[bins] * width, (simulated.errors[bins] * width) ** 2,
                     float(np.max(simulated.n_events[bins])))
    return write_histo1d(path, out)
