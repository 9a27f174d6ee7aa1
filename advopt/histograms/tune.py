"""Tune a simulator to published histograms: local rounds of a moment fit with known summaries.

A measured histogram is a mean over events of per-event fills, so fitting one is the pooled
route's moment fit with the measurement's own summaries instead of learnt ones:

1. round 0 spreads points (a Latin hypercube) over the whole unit cube; every later round
   spreads as many over a box around the last estimate, of half-width three of its standard
   deviations (at most the last box's, at least a quarter of it: a quadratic is trusted
   where the chi-square rises by about 9, and the box shrinks no faster than the estimate
   settles), held where the estimate sits on the box's edge rather than the cube's;
2. per round, every bin's mean is modelled by a quadratic over the points inside the box
   (advopt/histograms/surrogate.py) and the data's chi-square against it minimised in the box;
3. the last round's minimum is the estimate; the information is J'WJ of the bins' slopes
   there less the share the slopes' own noise adds (advopt/histograms/surrogate.py). Pythia does not
   describe LEP data exactly, so the covariance (2 H^-1) is scaled by chi2/ndf where that
   exceeds 1 (the Particle Data Group's scale factor: the errors are taken as understated
   by the misfit, uniformly); statuses and Feldman-Cousins intervals at bounds come from
   advopt/assessment.py;
4. the estimate and the start (the simulator's defaults, e.g. Monash) are simulated once
   more for the chi-square per histogram, the pulls and the report.

``optimizer="bayes"`` runs the chi-square + Bayesian optimisation route (scikit-optimize's GP)
on the same histograms and budget, for comparison: each point is simulated and scored by the
chi-square with data and simulation errors in quadrature.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from advopt import seeds
from advopt.assessment import assess
from advopt.execution import SimulationOutcome, SimulationTask, make_executor
from advopt.histograms.analysis import Booking, check_analysis, get_analysis
from advopt.histograms.reference import HistogramReference
from advopt.histograms.result import HistogramTuneResult, histogram_chi2, write_simulated
from advopt.histograms.rounds import EDGE, moment_rounds
from advopt.histograms.simulation import HistogramJob, SimulatedHistograms, check_simulator, run_fills
from advopt.settings import check, default, errors_in_argument_terms
from advopt.simulator import get_simulator
from advopt.space import Space

logger = logging.getLogger(__name__)

FINAL_SHARE = 0.1  # of the budget, for the tuned point and the start (report, chi-square per histogram)
FINAL_POINT = 3  # seed purpose of the final simulations (advopt/seeds.py keys)


def book(reference: HistogramReference, analyses: Sequence) -> tuple[Booking, dict[str, str]]:
    """The reference's bins, each histogram filled by the analysis that names it; the kinds."""
    kinds: dict[str, str] = {}
    for analysis in analyses:
        for path, kind in analysis.histograms.items():
            kinds.setdefault(path, kind)
        _check_binning(analysis, reference)
    missing = [p for p in reference.paths if p not in kinds]
    if missing:
        names = [a.name for a in analyses]
        raise ValueError(f"reference: histogram {missing[0]} is filled by no analysis (analyses: {names})")
    return Booking.from_bins(reference.bins()), {p: kinds[p] for p in reference.paths}


def _check_binning(analysis, reference: HistogramReference) -> None:
    """An analysis that states its own bins (optional ``bins``: ``{path: (lows, highs)}``)
    must agree with the reference's."""
    own = getattr(analysis, "bins", None) or {}
    for h in reference.histograms:
        if h.path in own:
            lows, highs = (np.asarray(a, dtype=float) for a in own[h.path])
            if lows.shape != h.lows.shape or not (np.allclose(lows, h.lows) and np.allclose(highs, h.highs)):
                raise ValueError(f"analysis {analysis.name}: binning of {h.path} ({len(lows)} bins) disagrees with the "
                                 f"reference's ({h.n_bins} bins from {h.lows[0]:g} to {h.highs[-1]:g})")


def resolve_analyses(analyses) -> list:
    if analyses is None or isinstance(analyses, str) or not isinstance(analyses, Sequence):
        analyses = [analyses]
    return [get_analysis(a) if isinstance(a, str) else check_analysis(a) for a in analyses]


@errors_in_argument_terms("histograms")
def tune_histograms(simulator, reference: HistogramReference, space: Space, analyses=None, *,
                    budget: int = default("budget.events", "histograms"), rounds: int = default("optimizer.rounds"),
                    optimizer: str = default("optimizer.kind", "histograms"), seed: int = default("seed"),
                    workers: int = default("execution.workers"), backend: str | None = None,
                    execution_options: Mapping | None = None, simulator_options: Mapping | None = None,
                    start: Mapping[str, float] | None = None,
                    fixed: Mapping[str, float] | None = None, run_dir: str | Path | None = None,
                    resume: bool = False, config: Mapping | None = None, config_dir: str | None = None,
                    progress: bool = False) -> HistogramTuneResult:
    """Tune ``space``'s parameters of ``simulator`` to ``reference`` with ``budget`` events.

    With ``run_dir``, every simulated point's fills are kept there as they come
    (``fills/``), with ``history.jsonl``; ``resume=True`` replays a stopped run, taking every
    point already simulated from its file (same seed, same points, same result). ``config``
    (a TOML configuration as a dict) and ``config_dir`` (where its relative paths were read
    from) are recorded for ``advopt resume``. ``simulator`` is an object or, as for ``tune()``,
    a registered name or ``module:attr`` with ``simulator_options``. The keywords are the config's fields, declared
    with their defaults in :mod:`advopt.settings` (``optimizer`` is ``[optimizer] kind``:
    ``moments`` or ``bayes``)."""
    if isinstance(simulator, str):  # a registered name or module:attr, with its options
        simulator = get_simulator(simulator, **dict(simulator_options or {}))
    elif simulator_options:
        raise ValueError("simulator.options: options go with a simulator's name, not a built simulator")
    check_simulator(simulator)
    analyses = resolve_analyses(analyses if analyses is not None else reference.analyses())
    booking, kinds = book(reference, analyses)
    if optimizer not in ("moments", "bayes"):
        raise ValueError(f"optimizer.kind: unknown {optimizer!r}; choose moments or bayes")
    if check("budget.events", budget) < 1000:  # the final simulations and every round need events
        raise ValueError(f"budget.events: must be at least 1000 events, got {budget!r}")
    check("optimizer.rounds", rounds)
    check("seed", seed)
    fixed = dict(fixed or {})
    start = dict(start if start is not None else _defaults(simulator, space))
    job = HistogramJob(simulator, tuple(analyses), booking)
    executor = make_executor(workers, backend, **dict(execution_options or {}))
    settings = {"space": space.to_dict(), "fixed": fixed, "budget": budget, "rounds": rounds, "method": optimizer,
                "seed": seed, "histograms": list(reference.paths), "analyses": [a.name for a in analyses]}
    try:
        run = _Run(job, kinds, reference, space, fixed, executor, seed, run_dir, progress)
        if run_dir is not None:
            run.open(settings, dict(config) if config is not None else None, config_dir, resume)
    except BaseException:
        executor.close()
        raise
    started = time.perf_counter()
    try:
        final = int(budget * FINAL_SHARE)
        if optimizer == "moments":  # the estimate may take up to one final share (advopt/histograms/rounds.py)
            estimate = moment_rounds(run, budget - 2 * final, rounds, spare=final)
            final -= -(-run.rounds[-1].get("at_estimate", 0) // 2)
        else:
            estimate = run.bayes(budget - 2 * final, rounds)
        finals = run.simulate([space.from_unit(estimate["point"]), start], final, FINAL_POINT)
    finally:
        executor.close()
    result = run.result(estimate, finals, start, optimizer, budget, time.perf_counter() - started)
    if run_dir is not None:
        run.save(result, finals)
    return result


def _defaults(simulator, space: Space) -> dict[str, float]:
    """Where a tune starts from, for comparison: the simulator's known values (Pythia's
    Monash), else the box's centre."""
    if callable(getattr(simulator, "start_values", None)):
        return dict(simulator.start_values(space.names))
    truth = getattr(simulator, "truth", None) or {}
    return {p.name: float(truth.get(p.name, p.from_unit(0.5))) for p in space}


class _Run:
    def __init__(self, job, kinds, reference, space, fixed, executor, seed, run_dir, progress):
        self.job, self.kinds, self.reference, self.space, self.fixed = job, kinds, reference, space, fixed
        self.executor, self.seed, self.progress = executor, seed, progress
        self.run_dir = Path(run_dir) if run_dir is not None else None
        self.points: list[np.ndarray] = []
        self.samples: list[SimulatedHistograms] = []
        # the estimate's own simulation (advopt/histograms/rounds.py): (point, values, their variance)
        self.anchor: tuple | None = None
        self.history: list[dict] = []
        self.rounds: list[dict] = []
        self.n_events = 0
        self.data, self.data_variance = reference.values, reference.errors**2
        self.weights = reference.weights

    def open(self, settings: dict, config: dict | None, config_dir: str | None, resume: bool) -> None:
        """Start a run directory, or check that a stopped one is this run and replay it."""
        from advopt.records.environment import machine_record
        from advopt.records.files import json_safe
        from advopt.records.rundir import CONFIG_FILE, HISTORY_FILE, RunDirectory, read_config

        directory = RunDirectory(self.run_dir)
        path = self.run_dir / CONFIG_FILE
        if resume:
            if not path.is_file():
                raise ValueError(f"run_dir: {self.run_dir} holds no advopt run to resume")
            recorded = read_config(self.run_dir)
            if recorded.get("settings") != json_safe(settings):
                differing = sorted(k for k in settings if recorded.get("settings", {}).get(k) != json_safe(settings[k]))
                raise ValueError(f"run_dir: {self.run_dir} was written by a different configuration (differs in {differing})")
        else:  # refuses a directory that already holds a run, as for event runs
            directory.start({"kind": "histograms", "settings": json_safe(settings), "config": config,
                             "config_dir": config_dir})
        changed = directory.record_environment(machine_record())
        if changed:
            logger.warning("resuming on a different machine or library versions: %s", ", ".join(changed))
        (self.run_dir / "fills").mkdir(exist_ok=True)
        (self.run_dir / HISTORY_FILE).write_text("")  # a replay writes the same records again

    # -- simulation ---------------------------------------------------------------------
    def simulate(self, params: list[dict], n: int, purpose: int, iteration: int = 0) -> list[SimulatedHistograms | None]:
        tasks = [SimulationTask({**self.fixed, **p}, n, seeds.task_seed(self.seed, iteration, i, purpose))
                 for i, p in enumerate(params)]
        files = [self.run_dir / "fills" / f"{iteration}-{purpose}-{i}.npz" if self.run_dir is not None else None
                 for i in range(len(tasks))]
        kept = {i: _kept(f, task) for i, (f, task) in enumerate(zip(files, tasks)) if f is not None and f.is_file()}
        kept = {i: row for i, row in kept.items() if row is not None}
        fresh = [i for i in range(len(tasks)) if i not in kept]
        outcomes = dict(zip(fresh, self.executor.map(run_fills, self.job, [tasks[i] for i in fresh]) if fresh else []))
        out: list[SimulatedHistograms | None] = []
        for i, task in enumerate(tasks):
            outcome = outcomes.get(i) or SimulationOutcome(kept[i], "", 0.0)
            file = files[i]
            if file is not None and i in outcomes and outcome.events is not None:
                np.savez(file.with_suffix(".tmp.npz"), rows=outcome.events, n=n, seed=task.seed,
                         params=json.dumps(task.params, sort_keys=True))
                file.with_suffix(".tmp.npz").replace(file)
            record = {"iteration": iteration, "index": i, "purpose": purpose, "params": params[i], "n_events": n,
                      "seed": task.seed, "seconds": round(outcome.seconds, 3), "status": "ok" if outcome.events is not None else "failed",
                      "reason": outcome.error, "kept": i in kept}
            self.n_events += n
            if outcome.events is None:
                out.append(None)
            else:
                out.append(SimulatedHistograms.from_rows(outcome.events, self.job.booking, self.kinds))
            self.history.append(record)
            if self.run_dir is not None:
                with open(self.run_dir / "history.jsonl", "a") as f:
                    f.write(json.dumps(record) + "\n")
        return out

    def add(self, unit_points: np.ndarray, n: int, iteration: int) -> None:
        params = [self.space.from_unit(u) for u in unit_points]
        for u, sample in zip(unit_points, self.simulate(params, n, seeds.SIMULATION, iteration)):
            if sample is not None:
                self.points.append(np.asarray(u))
                self.samples.append(sample)

    # -- the comparison route -----------------------------------------------------------
    def bayes(self, budget: int, rounds: int) -> dict:
        from skopt import Optimizer

        n_points = int(np.clip(budget // 50_000, 10 * self.space.dim, 200))
        events = max(budget // n_points, 100)
        batch = max(1, getattr(self.executor, "n_workers", 1))
        optimizer = Optimizer([(0.0, 1.0)] * self.space.dim, base_estimator="GP", acq_func="EI",
                              n_initial_points=2 * self.space.dim, random_state=self.seed)
        best = (math.inf, None)
        for iteration in range(math.ceil(n_points / batch)):
            asked = np.array(optimizer.ask(n_points=min(batch, n_points - iteration * batch)))
            samples = self.simulate([self.space.from_unit(u) for u in asked], events, seeds.SIMULATION, iteration)
            values = [histogram_chi2(self.reference, s.values, s.errors)[0] if s is not None else 1e12 for s in samples]
            optimizer.tell(asked.tolist(), [float(v) for v in values])
            for u, v in zip(asked, values):
                best = min(best, (v, u), key=lambda t: t[0])
        return {"point": np.asarray(best[1]), "chi2": best[0], "ndf": max(int(np.count_nonzero(self.weights)) - self.space.dim, 1),
                "scale": math.nan, "information": None, "covariance": np.full((self.space.dim,) * 2, np.nan),
                "sd": np.full(self.space.dim, np.nan), "gradient": np.zeros(self.space.dim), "model": None, "n_points": n_points}

    # -- the result ---------------------------------------------------------------------
    def result(self, estimate: dict, finals, start: dict, method: str, budget: int, wall: float) -> HistogramTuneResult:
        point = estimate["point"]
        unbounded = point.copy()
        if estimate["information"] is not None:
            # a coordinate held on the cube's bound: one Newton step of the local chi-square beyond it
            on_bound = (point <= EDGE) | (point >= 1 - EDGE)
            if on_bound.any():
                step = estimate["covariance"] / estimate["scale"] @ (0.5 * estimate["gradient"])
                unbounded[on_bound] = point[on_bound] - step[on_bound]
            assessment = assess(unbounded, estimate["covariance"], estimate["information"] / estimate["scale"])
            intervals = {p.name: (p.from_unit(lo), p.from_unit(hi)) for p, (lo, hi) in zip(self.space, assessment.intervals)}
            status = dict(zip(self.space.names, assessment.status))
            directions = assessment.unconstrained_directions.tolist()
        else:
            intervals, status, directions = {}, {}, []
        tuned, at_start = finals
        return HistogramTuneResult.build(
            reference=self.reference, params=self.space.from_unit(point), intervals=intervals, status=status,
            unconstrained_directions=directions, covariance_unit=estimate["covariance"], space=self.space,
            model_chi2=estimate["chi2"], ndf=estimate["ndf"], misfit_scale=estimate["scale"], tuned=tuned,
            start=start, at_start=at_start, method=method, budget=budget, n_events=self.n_events,
            n_failed=sum(r["status"] != "ok" for r in self.history), rounds=self.rounds, wall_seconds=wall)

    def save(self, result: HistogramTuneResult, finals) -> None:
        result.save(self.run_dir / "result.json")
        for name, sample in zip(("tuned", "start"), finals):
            if sample is not None:
                write_simulated(self.run_dir / f"histograms_{name}.yoda", self.reference, sample)


def _kept(path: Path, task: SimulationTask) -> np.ndarray | None:
    """A point's fills kept by an earlier run, if it was this very task (params, events, seed)."""
    with np.load(path) as kept:
        same = (int(kept["n"]) == task.n and int(kept["seed"]) == task.seed
                and str(kept["params"]) == json.dumps(task.params, sort_keys=True))
        return np.array(kept["rows"]) if same else None
