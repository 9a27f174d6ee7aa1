"""Frozen records of a run: one Evaluation per simulated parameter point, and the TuneResult.

Both round-trip through plain JSON (``to_dict``/``from_dict``) so that the run directory can
be read by people, by ``advopt report`` and by a resumed run.
"""

from __future__ import annotations

import enum
import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

from advopt.records.files import json_float, write_json_atomic

# A goodness-of-fit p-value below this says the simulator does not describe the reference.
MISFIT_P_VALUE = 0.01


class Status(str, enum.Enum):
    """How an evaluation ended: ``ok``; ``failed`` (the simulator raised, returned NaN or the
    wrong shape; ``reason`` says which); ``invalid`` (the divergence could not be estimated)."""

    OK = "ok"
    FAILED = "failed"
    INVALID = "invalid"


@dataclass(frozen=True)
class Evaluation:
    """One parameter point: what was simulated, what it cost, and the divergence found.

    ``value`` and ``stderr`` are the divergence estimate (nats for the JSD) and its standard
    error; both are NaN unless ``status`` is ok. ``n_events`` counts every simulated event
    this evaluation spent (training, validation and any refits).
    """

    index: int
    iteration: int
    params: dict[str, float]
    value: float
    stderr: float
    n_events: int
    seed: int
    status: Status
    reason: str = ""
    sim_seconds: float = 0.0
    train_seconds: float = 0.0
    details: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status is Status.OK

    def outcome(self) -> dict:
        """Everything but the timings: what must be identical between two runs with one seed."""
        out = self.to_dict()
        del out["sim_seconds"], out["train_seconds"]
        return out

    def to_dict(self) -> dict:
        out = asdict(self)
        out["status"] = self.status.value
        out["value"] = json_float(self.value)
        out["stderr"] = json_float(self.stderr)
        return out

    @classmethod
    def from_dict(cls, data: dict) -> "Evaluation":
        data = dict(data)
        data["status"] = Status(data["status"])
        data["value"] = _float_or_nan(data["value"])
        data["stderr"] = _float_or_nan(data["stderr"])
        return cls(**data)


@dataclass(frozen=True)
class TuneResult:
    """The outcome of a tune.

    ``best_params`` is the optimiser's recommendation (for Bayesian optimisation: the
    surrogate's posterior minimum among evaluated points); ``interval68`` a central 68% interval
    per parameter in its own units and ``uncertainty`` half its width (the sd for a
    Gaussian; pulls divide by it);
    ``events_used`` every simulated event spent, ``budget`` the limit; ``truth`` is set when
    the run knew it (closure tests). For Bayesian optimisation the uncertainty combines where
    the surrogate's minimum lies with the scatter the finite reference sample causes
    (:mod:`advopt.intervals`); ``optimizer_uncertainty`` is the half-width of the first
    part alone.

    What the data do not decide: ``parameter_status`` says per parameter "constrained", "not
    constrained" (its interval is then the whole range) or "at lower/upper bound" (a
    one-sided interval); ``unconstrained_directions`` lists the combinations of parameters
    (unit-cube directions, {name: component}) the data do not constrain, ridges included;
    ``goodness_of_fit`` ({chi2, dof, p_value, summaries}, where the route tests it) whether the
    simulator can describe the reference at all; ``fallbacks`` every step that could not be
    done as designed ("code: why"). :meth:`ok` is False when any fallback was taken.
    """

    best_params: dict[str, float]
    best_value: float
    uncertainty: dict[str, float]
    interval68: dict[str, tuple[float, float]]
    history: tuple[Evaluation, ...]
    events_used: int
    budget: int
    reference_size: int
    optimizer: str
    divergence: str
    seed: int
    truth: dict[str, float] | None = None
    wall_seconds: float = 0.0
    optimizer_uncertainty: dict[str, float] | None = None
    parameter_status: dict[str, str] | None = None
    unconstrained_directions: tuple[dict[str, float], ...] = ()
    goodness_of_fit: dict | None = None
    fallbacks: tuple[str, ...] = ()

    @property
    def n_failed(self) -> int:
        return sum(not e.ok for e in self.history)

    @property
    def ok(self) -> bool:
        """True when every step of the fit was done as designed (no fallback)."""
        return not self.fallbacks

    @property
    def misfit(self) -> bool:
        """True when the goodness of fit rejects the simulator at p < 0.01."""
        p_value = (self.goodness_of_fit or {}).get("p_value")
        return p_value is not None and math.isfinite(p_value) and p_value < MISFIT_P_VALUE

    def constrained(self, name: str) -> bool:
        """Whether the data constrain parameter ``name`` (unknown status: assumed so)."""
        return (self.parameter_status or {}).get(name) != "not constrained"

    def to_dict(self) -> dict:
        out = asdict(self)
        out["history"] = [e.to_dict() for e in self.history]
        out["best_value"] = json_float(self.best_value)
        out["interval68"] = {k: list(v) for k, v in self.interval68.items()}
        out["unconstrained_directions"] = list(self.unconstrained_directions)
        out["fallbacks"] = list(self.fallbacks)
        if self.goodness_of_fit is not None:
            out["goodness_of_fit"] = {k: json_float(v) if isinstance(v, float) else v for k, v in self.goodness_of_fit.items()}
        return out

    @classmethod
    def from_dict(cls, data: dict) -> "TuneResult":
        data = dict(data)
        data["history"] = tuple(Evaluation.from_dict(e) for e in data["history"])
        data["best_value"] = _float_or_nan(data["best_value"])
        data["interval68"] = {k: tuple(_float_or_nan(x) for x in v) for k, v in data["interval68"].items()}
        data["uncertainty"] = _nan_for_none(data["uncertainty"])
        data["optimizer_uncertainty"] = _nan_for_none(data.get("optimizer_uncertainty"))
        data["unconstrained_directions"] = tuple(data.get("unconstrained_directions", ()))
        data["fallbacks"] = tuple(data.get("fallbacks", ()))
        if data.get("goodness_of_fit") is not None:
            data["goodness_of_fit"] = {k: _float_or_nan(v) if k in ("chi2", "p_value", "agreement_chi2", "agreement_p_value") else v
                                       for k, v in data["goodness_of_fit"].items()}
        return cls(**data)

    def save(self, path: str | Path) -> None:
        write_json_atomic(Path(path), self.to_dict())

    @classmethod
    def load(cls, path: str | Path) -> "TuneResult":
        return cls.from_dict(json.loads(Path(path).read_text()))

    def pulls(self) -> dict[str, float]:
        """(tuned - truth) / uncertainty per parameter with a known truth; empty otherwise."""
        if not self.truth:
            return {}
        return {
            name: (self.best_params[name] - value) / self.uncertainty[name] if self.uncertainty[name] > 0 else math.inf
            for name, value in self.truth.items()
            if name in self.best_params
        }

    def closure_verdict(self, max_pull: float = 2.0) -> str:
        """One line saying whether the truth was recovered within ``max_pull`` uncertainties;
        a parameter the data do not constrain is never called recovered."""
        pulls = self.pulls()
        if not pulls:
            return "no truth known: not a closure test"
        free = [name for name in pulls if not self.constrained(name)]
        unconstrained = f"; not constrained by the data, so not tested: {', '.join(free)}" if free else ""
        off = {name: pull for name, pull in pulls.items() if not abs(pull) <= max_pull and name not in free}
        if off:
            listed = ", ".join(f"{name} off by {pull:+.1f} sd" for name, pull in off.items())
            return f"closure: truth NOT recovered: {listed}{unconstrained}"
        if len(free) == len(pulls):
            return f"closure: nothing to test{unconstrained}"
        scope = "every parameter" if not free else "every constrained parameter"
        return f"closure: truth recovered, {scope} within {max_pull:g} standard deviations{unconstrained}"

    def assessment_lines(self) -> list[str]:
        """What the fit could not decide, in words: misfit, unconstrained combinations, fallbacks."""
        lines = []
        fit = self.goodness_of_fit
        if fit is not None and fit.get("dof", 0) > 0:
            verdict = ("the simulator does NOT describe the reference at any point near the estimate (p < 0.01): the "
                       "intervals are statistical only, for the parameters of a model that misfits" if self.misfit
                       else "consistent with the reference")
            lines.append(f"goodness of fit: chi2 {fit['chi2']:.4g} for {fit['dof']} degrees of freedom, "
                         f"p = {fit['p_value']:.3g} ({fit['summaries']}): {verdict}")
        if fit is not None and fit.get("agreement_dof", 0) > 0:
            verdict = ("the observables point elsewhere than the estimate, beyond both intervals (p < 0.01): the "
                       "intervals may be too narrow" if fit["agreement_p_value"] < MISFIT_P_VALUE else "they agree")
            lines.append(f"the estimate against the observables' own fit: chi2 {fit['agreement_chi2']:.4g} for "
                         f"{fit['agreement_dof']} constrained directions, p = {fit['agreement_p_value']:.3g}: {verdict}")
        for direction in self.unconstrained_directions:
            big = {name: c for name, c in direction.items() if abs(c) >= 0.1}
            if len(big) > 1:
                terms = " ".join(f"{c:+.2f} {name}" for name, c in sorted(big.items(), key=lambda item: -abs(item[1])))
                lines.append(f"not constrained by the data: the combination {terms} (unit-range coordinates)")
        lines += [f"fallback: {text}" for text in self.fallbacks]
        return lines

    def summary(self) -> str:
        """A small table: parameter, tuned value +- uncertainty, and the truth where known."""
        rows = [f"{'parameter':<28} {'tuned':>12} {'+-':>10} {'68% interval':>22} {'truth':>10}  status"]
        for name, value in self.best_params.items():
            known = f"{self.truth[name]:10.4g}" if self.truth and name in self.truth else f"{'-':>10}"
            low, high = self.interval68.get(name, (math.nan, math.nan))
            interval = f"[{low:.5g}, {high:.5g}]"
            status = (self.parameter_status or {}).get(name, "")
            rows.append(f"{name:<28} {value:12.5g} {self.uncertainty.get(name, math.nan):10.3g} {interval:>22} {known}"
                        f"  {status}".rstrip())
        rows += self.assessment_lines()
        rows.append(
            f"divergence {self.best_value:.4g} ({self.divergence}), {len(self.history)} evaluations "
            f"({self.n_failed} failed), {self.events_used:,} of {self.budget:,} simulated events, "
            f"{self.wall_seconds:.0f} s"
        )
        return "\n".join(rows)


def _nan_for_none(numbers: dict | None) -> dict | None:
    return None if numbers is None else {key: _float_or_nan(value) for key, value in numbers.items()}


def _float_or_nan(x) -> float:
    return math.nan if x is None else float(x)
