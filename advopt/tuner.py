"""The tuning loop: ask -> simulate -> estimate the divergence -> tell, until the budget is spent.

The budget counts every simulated event. Simulations of a batch run through the executor
(worker processes); the discriminators are trained here in the driver, on its GPU when it
has one. Seeds are keyed by (iteration, index in batch), and the batch size does not
depend on the worker count, so the history is the same with 1 or 16 workers.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import logging
import math
import sys
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from advopt.data import Sample, check_sample, load_sample
from advopt.divergence import Divergence, make_divergence
from advopt.environment import machine_record, reproducible
from advopt.execution import (
    SEED_DISCRIMINATOR,
    SEED_REFERENCE,
    SEED_SIMULATION,
    Executor,
    SimulationTask,
    as_executor,
    make_executor,
    run_simulation,
    task_seed,
)
from advopt.optimizers import Optimizer, make_optimizer
from advopt.result import Evaluation, Status, TuneResult
from advopt.rundir import RESULT_FILE, RunDirectory
from advopt.simulator import Simulator, as_simulator, default_space, feature_names
from advopt.simulator import truth as simulator_truth
from advopt.space import Space
from advopt.uncertainty import add_reference_scatter, quadratic_hessian, reference_covariance

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class _PointSample:
    """A batch member's simulated events (or why they are missing) and what they cost."""

    params: dict[str, float]
    events: np.ndarray | None
    error: str
    n_events: int
    seed: int
    sim_seconds: float
    n_chunks: int


@dataclass(frozen=True)
class _SampleGrowth:
    """The adaptive sample-size rule: grow while the estimate is compatible (within two
    standard errors) with a divergence below ``agreement + tolerance``, ``agreement`` being
    the divergence's value when the samples agree (0 nats for a JSD, 1 for chi2 per bin).

    A rule on the train/held-out gap was tried first: with early stopping the gap at a few
    hundred events is dominated by noise (measured on the Gaussian toy: gaps of -0.05 to
    +0.005 nats at far and near points alike), so it did not tell far from near points.
    """

    max_events: int
    tolerance: float
    agreement: float = 0.0

    @classmethod
    def checked(cls, max_events, tolerance, events_per_point, agreement=0.0) -> "_SampleGrowth | None":
        if max_events is None:
            return None
        _check_positive_int("max_events_per_point", max_events)
        if max_events < events_per_point:
            raise ValueError(f"max_events_per_point: {max_events} is below events_per_point={events_per_point}")
        if not (isinstance(tolerance, (int, float)) and tolerance > 0):
            raise ValueError(f"growth_threshold: must be a positive number (the divergence's units), got {tolerance!r}")
        return cls(int(max_events), float(tolerance), float(agreement))

    def wants_more(self, evaluation: Evaluation, n_events: int) -> bool:
        compatible_with_optimum = evaluation.value - 2 * evaluation.stderr < self.agreement + self.tolerance
        return evaluation.ok and "growth_error" not in evaluation.details and n_events < self.max_events and compatible_with_optimum


def _with_extra_events(evaluation: Evaluation, extra: int, error: str) -> Evaluation:
    """The estimate stands; the failed growth's events are counted and its error noted."""
    details = {**evaluation.details, "growth_error": error}
    return dataclasses.replace(evaluation, n_events=evaluation.n_events + extra, details=details)


def tune(
    simulator,
    reference,
    space: Space | Mapping | None = None,
    *,
    optimizer: str | Optimizer | None = None,
    divergence: str | Divergence | None = None,
    budget: int = 200_000,
    events_per_point: int = 2_000,
    batch_size: int = 2,
    n_workers: int = 1,
    executor: Executor | str | None = None,
    execution_options: Mapping | None = None,
    run_dir: str | Path | None = None,
    seed: int = 0,
    truth: Mapping[str, float] | None = None,
    fixed: Mapping[str, float] | None = None,
    optimizer_options: Mapping | None = None,
    divergence_options: Mapping | None = None,
    simulator_options: Mapping | None = None,
    reference_features: list[str] | None = None,
    chunk_size: int | None = None,
    max_events_per_point: int | None = None,
    growth_threshold: float = 0.01,
    reference_per_point: float = 1.0,
    progress: bool | None = None,
    config: Mapping | None = None,
    callback: Callable[["TuneState"], None] | None = None,
    resume: bool = False,
) -> TuneResult:
    """Tune ``simulator``'s parameters in ``space`` until its events match ``reference``.

    simulator: an object with ``simulate(params, n, seed)``, a plain function of that
        signature, a class, or a registered name / ``module:attr`` string.
    reference: an (n, d) array, a :class:`~advopt.data.Sample`, or a file path
        (npz/npy/csv/parquet/root); ``reference_features`` selects columns by name.
    space: a Space or ``{name: (low, high)}``; default: the simulator's ``default_space``.
    optimizer / divergence: a name (``pooled``/``bayes``/``random``/``variational``;
        ``mlp``/``boosting``/``chi2``/...) with ``*_options``, or a ready object. Naming
        neither gives the pooled estimator (the most efficient measured, README); naming only
        a divergence gives Bayesian optimisation over it; naming only an optimiser other than
        ``pooled`` gives it the ``mlp`` divergence. The pooled estimator uses no divergence.
    budget: total simulated events, every one counted; each evaluation simulates
        ``events_per_point`` events, in tasks of ``chunk_size`` events.
    max_events_per_point: adaptive sample size: while a point's estimate cannot rule out a
        divergence below ``growth_threshold`` above its value at agreement (0 nats for a
        JSD, 1 for chi-square per bin: value - 2 standard errors is below it),
        its simulated sample is doubled, up to this many events. Far-away points, told
        apart at once, stay at ``events_per_point``; points near the optimum grow, and
        their estimates get sharper where it matters. Every event counts.
    reference_per_point: reference events drawn for each simulated event of a point
        (classifier divergences; default 1, balanced samples). Reference data is not
        counted in the budget, and a larger share lowers the estimate's noise: 4 measured
        1.7x the signal-to-noise of 1 on Pythia (README). Classes stay weighted 1/2 each.
    batch_size: points asked at once and simulated in parallel (fixed, so that the
        history does not depend on ``n_workers``).
    executor: where simulations run: None (serial for one worker, local processes for
        more), a backend name (``serial``, ``local``, ``dask``) with ``execution_options``
        (dask: address, cluster, retries), one of ours, or any ``concurrent.futures``-style
        executor (left open for the caller).
    run_dir: where the config, the history (one JSON line per evaluation) and the result
        go; nothing is written when None.
    truth: known parameter values (closure tests), shown beside the result.
    fixed: values of simulator parameters that are not tuned. Parameters of the
        simulator's default space that are neither tuned nor fixed take the simulator's
        ``truth`` (its nominal values), when it has one.
    callback: called with the :class:`TuneState` after every batch (e.g. to record the
        recommendation as the budget is spent).
    resume: continue the run recorded in ``run_dir``: every recorded evaluation is
        re-used (replayed through the optimiser, not simulated again), the budget is the
        run's total, and the result is the one an uninterrupted run would have given. A
        run directory written by a different configuration is refused.

    Returns a TuneResult. Raises ValueError (one line, naming the field) for bad input; a
    simulator that raises or returns bad events gives failed evaluations, not an exception.
    """
    sim = as_simulator(simulator, **dict(simulator_options or {}))
    space = _resolve_space(space, sim)
    fixed = _resolve_fixed(fixed, space, sim)
    if hasattr(sim, "check_space"):
        sim.check_space(space)
    ref = _resolve_reference(reference, sim, reference_features)
    _check_positive_int("budget", budget)
    _check_positive_int("events_per_point", events_per_point)
    _check_positive_int("batch_size", batch_size)
    _check_positive_int("seed", seed, allow_zero=True)
    if not (isinstance(reference_per_point, (int, float)) and reference_per_point > 0):
        raise ValueError(f"reference.per_point: must be a number > 0, got {reference_per_point!r}")
    if events_per_point > budget:
        raise ValueError(f"budget: {budget} events cannot pay for one evaluation of events_per_point={events_per_point}")
    chunk_size = chunk_size or events_per_point
    _check_positive_int("chunk_size", chunk_size)
    if truth is not None:
        truth = {name: float(truth[name]) for name in space.names if name in truth}

    if divergence is None and divergence_options:  # options for a divergence name one: the default "mlp"
        divergence = "mlp"
    optimizer, divergence = default_route(optimizer, divergence)
    div = make_divergence(divergence, **dict(divergence_options or {})) if isinstance(divergence, str) else divergence
    growth = _SampleGrowth.checked(max_events_per_point, growth_threshold, events_per_point,
                                   getattr(div, "agreement_value", 0.0))
    if hasattr(div, "prepare"):  # binned objectives fix their bins and weights on the reference once
        div.prepare(ref.events, ref.feature_names or feature_names(sim))
    options = _optimizer_options(optimizer_options, space)
    if optimizer == "pooled":  # it plans its rounds over the whole budget
        options.setdefault("total_points", budget // events_per_point)
    if optimizer == "bayes":
        options["n_initial_points"] = _initial_design(options.get("n_initial_points"), budget // events_per_point)
    opt = (
        make_optimizer(optimizer, space.dim, seed, float(_modelled(div, div.upper_bound)), **options)
        if isinstance(optimizer, str)
        else optimizer
    )
    if hasattr(opt, "prepare"):  # an optimiser that learns from events keeps the reference
        opt.prepare(ref.events, ref.feature_names or feature_names(sim))
    if hasattr(opt, "check_run"):  # an optimiser's own refusals come before any side effect
        opt.check_run(div, budget, events_per_point, bool(resume))
    run = RunDirectory(run_dir) if run_dir is not None else None
    recorded: list[Evaluation] = []
    if run is not None:
        record = _run_config(config, sim, space, fixed, opt, div, ref, budget, events_per_point, batch_size, seed, truth,
                             reference_per_point)
        record["resolved"]["arguments"] = _arguments(sim, opt, options, div, chunk_size, growth)
        recorded = run.resume(record) if resume else run.start(record)
        differing = run.record_environment(machine_record())
        if differing:
            warnings.warn(f"run_dir: resumed on a machine that differs from the run's start in {differing}; "
                          "its history may differ in the last bits from there on", stacklevel=2)
    elif resume:
        raise ValueError("run_dir: resume=True needs the run directory to resume")

    own_executor = executor is None or isinstance(executor, str)
    executor = (make_executor(n_workers, executor, **dict(execution_options or {})) if own_executor
                else as_executor(executor))
    loop = TuneState(sim, ref.events, space, opt, div, executor, run, seed, events_per_point, chunk_size, batch_size,
                     fixed, growth, reference_per_point)
    started = time.perf_counter()
    try:
        with reproducible():  # BLAS pools capped, torch deterministic: same machine, same seed, same bits
            if opt.name == "variational":  # AVO runs its own loop on the same state (advopt/variational.py)
                from advopt.variational import run_variational
                run_variational(loop, budget, _show_progress(progress), callback, recorded)
            else:
                loop.run(budget, _show_progress(progress), callback, recorded)
    finally:
        if own_executor:
            executor.close()
    result = _make_result(loop, space, opt, div, budget, len(ref.events), seed, truth, time.perf_counter() - started)
    if run is not None:
        result.save(run.path / RESULT_FILE)
    return result


def default_route(optimizer, divergence) -> tuple:
    """(optimizer, divergence) with the defaults filled in: the pooled estimator when neither
    is named, Bayesian optimisation when only a divergence is, the ``mlp`` divergence for an
    optimiser that reads one. The pooled estimator learns from the events themselves, so a
    divergence named beside it would be silently unused: refused."""
    if optimizer is None:
        optimizer = "pooled" if divergence is None else "bayes"
    if optimizer == "pooled" and divergence is not None:
        raise ValueError("divergence: the pooled optimizer uses no divergence; drop it, or choose optimizer 'bayes'")
    return optimizer, "mlp" if divergence is None else divergence


class TuneState:
    """A running tune: the history so far, the events spent, and the optimiser's current
    recommendation (:meth:`recommend`)."""

    def __init__(self, simulator, reference, space, optimizer, divergence, executor, run, seed,
                 events_per_point, chunk_size, batch_size, fixed=None, growth=None, reference_per_point=1.0):
        self.simulator = simulator
        self.fixed = dict(fixed or {})
        self.growth = growth
        self.reference_per_point = float(reference_per_point)
        self.reference = reference
        self.space = space
        self.optimizer = optimizer
        self.divergence = divergence
        self.executor = executor
        self.run_dir = run
        self.seed = seed
        self.events_per_point = events_per_point
        self.chunk_size = chunk_size
        self.batch_size = batch_size
        self.history: list[Evaluation] = []
        self.events_used = 0
        self.iteration = 0

    def run(self, budget: int, progress: bool, callback=None, recorded: list[Evaluation] | None = None) -> None:
        """Spend the budget. ``recorded`` evaluations (from a resumed run directory) are
        replayed through the optimiser instead of simulated again."""
        self.budget = budget
        by_iteration = _by_iteration(recorded or [])
        bar = _progress_bar(budget) if progress else None
        try:
            while (n_points := min(self._batch_size(), (budget - self.events_used) // self.events_per_point)) > 0:
                evaluations = self.step(n_points, by_iteration.pop(self.iteration, {}))
                for evaluation in evaluations:
                    self._report(evaluation, bar)
                if callback is not None:
                    callback(self)
        finally:
            if bar is not None:
                bar.close()
        if by_iteration:
            raise ValueError(f"run_dir: the history has evaluations beyond this run's budget (iterations {sorted(by_iteration)})")

    def _batch_size(self) -> int:
        """Points per step: the config's batch size, or the rest of the round of an optimiser
        that plans rounds (the pooled estimator), so that the history never depends on workers."""
        planned = getattr(self.optimizer, "next_batch_size", None)
        return planned() if planned is not None else self.batch_size

    def recommend(self) -> dict[str, float] | None:
        """The optimiser's current best parameters (None before any successful evaluation)."""
        if not any(e.ok for e in self.history):
            return None
        return self.space.from_unit(self.optimizer.recommend(with_uncertainty=False).point)

    def step(self, n_points: int, recorded: dict[int, Evaluation] | None = None) -> list[Evaluation]:
        """One batch: ask, simulate in parallel, estimate, tell, record. Points already in
        ``recorded`` (by index in the batch) are re-used, not simulated again."""
        recorded = recorded or {}
        units = self.optimizer.ask(n_points)
        params = [self.space.from_unit(u) for u in units]
        for index, evaluation in recorded.items():
            if index >= n_points or not _same_point(evaluation.params, params[index]):
                raise ValueError(
                    f"run_dir: recorded evaluation {evaluation.index} ({evaluation.params}) is not the point this "
                    "configuration asks for: the run directory belongs to a different config"
                )
        if getattr(self.optimizer, "consumes_events", False):
            return self._step_with_events(units, params, recorded)
        missing = [index for index in range(n_points) if index not in recorded]
        samples = dict(zip(missing, self._simulate([(index, params[index], self.events_per_point, 0) for index in missing])))
        fresh = {index: self._estimate(index, sample) for index, sample in samples.items()}
        if self.growth is not None:
            spare = self.budget - self.events_used - sum(e.n_events for e in recorded.values()) - len(missing) * self.events_per_point
            fresh = self._grow(samples, fresh, spare)
        evaluations = [recorded[index] if index in recorded else fresh[index] for index in range(n_points)]
        values, stderrs = _modelled_values(self.divergence, evaluations)
        self.optimizer.tell(units, values, stderrs, np.array([e.ok for e in evaluations]))
        return self._record(evaluations, recorded)

    def _record(self, evaluations: list[Evaluation], recorded: dict[int, Evaluation]) -> list[Evaluation]:
        """Add a batch to the history and the events spent; append the new ones (not those
        replayed from ``recorded``) to the run directory; move to the next iteration."""
        for index, evaluation in enumerate(evaluations):
            self.history.append(evaluation)
            self.events_used += evaluation.n_events
            if self.run_dir is not None and index not in recorded:
                self.run_dir.append(evaluation)
        self.iteration += 1
        return evaluations

    def _step_with_events(self, units: np.ndarray, params: list[dict], recorded: dict[int, Evaluation]) -> list[Evaluation]:
        """The step of an optimiser that learns from the events themselves (the pooled
        estimator): it is told every point's events and gives each point's value. A resumed
        run simulates its recorded points again (same seeds, same events: the optimiser
        needs them), but keeps their records and counts their events once."""
        samples = self._simulate([(index, p, self.events_per_point, 0) for index, p in enumerate(params)])
        failures = [self._failure(index, sample) for index, sample in enumerate(samples)]
        started = time.perf_counter()
        told = self.optimizer.tell_events(units, [None if f is not None else s.events for s, f in zip(samples, failures)])
        train_seconds = (time.perf_counter() - started) / len(samples)
        evaluations = []
        for index, (sample, failure, estimate) in enumerate(zip(samples, failures, told)):
            if index in recorded:
                evaluation = recorded[index]
            elif failure is not None:
                evaluation = failure
            else:
                evaluation = Evaluation(value=estimate[0], stderr=estimate[1], status=Status.OK,
                                        train_seconds=train_seconds, **self._identity(index, sample))
            evaluations.append(evaluation)
        return self._record(evaluations, recorded)

    def _identity(self, index: int, sample: _PointSample) -> dict:
        """The fields of a batch member's evaluation that do not depend on its outcome."""
        return dict(index=len(self.history) + index, iteration=self.iteration, params=sample.params,
                    n_events=sample.n_events, seed=sample.seed, sim_seconds=sample.sim_seconds)

    def _failure(self, index: int, sample: _PointSample) -> Evaluation | None:
        """A failed evaluation for events that are missing or of the wrong width; else None."""
        common = self._identity(index, sample)
        if sample.events is None:
            return Evaluation(value=math.nan, stderr=math.nan, status=Status.FAILED, reason=sample.error, **common)
        if sample.events.shape[1] != self.reference.shape[1]:
            reason = f"simulator returned {sample.events.shape[1]} features, the reference has {self.reference.shape[1]}"
            return Evaluation(value=math.nan, stderr=math.nan, status=Status.FAILED, reason=reason, **common)
        return None

    def _simulate(self, points: list[tuple[int, dict[str, float], int, int]]) -> list[_PointSample]:
        """Simulate (index in batch, params, events, first chunk) points in parallel; each
        chunk of ``chunk_size`` events has its own seed, keyed by its chunk number."""
        plans = [(index, p, _chunk_sizes(n_events, self.chunk_size), first) for index, p, n_events, first in points]
        tasks = [
            SimulationTask({**self.fixed, **p}, n, task_seed(self.seed, self.iteration, index, SEED_SIMULATION, first + chunk))
            for index, p, chunks, first in plans
            for chunk, n in enumerate(chunks)
        ]
        outcomes = self.executor.map(run_simulation, self.simulator, tasks) if tasks else []
        samples, start = [], 0
        for index, p, chunks, first in plans:
            mine, start = outcomes[start : start + len(chunks)], start + len(chunks)
            errors = [o.error for o in mine if o.events is None]
            widths = {o.events.shape[1] for o in mine if o.events is not None}
            if not errors and len(widths) > 1:
                errors = [f"chunks returned different feature counts {sorted(widths)}"]
            events = None if errors else np.concatenate([o.events for o in mine])
            seed = task_seed(self.seed, self.iteration, index, SEED_SIMULATION, first)
            samples.append(_PointSample(p, events, "; ".join(dict.fromkeys(errors)), sum(chunks), seed,
                                        sum(o.seconds for o in mine), first + len(chunks)))
        return samples

    def _grow(self, samples: dict[int, _PointSample], fresh: dict[int, Evaluation], spare: int) -> dict[int, Evaluation]:
        """Adaptive sample size: double the simulated sample of every point whose estimate
        still overfits, while the budget allows; re-estimate on the grown sample."""
        for round_number in itertools.count(1):
            grow = [i for i, e in fresh.items() if self.growth.wants_more(e, samples[i].n_events)]
            plans = []
            for index in grow:
                extra = min(samples[index].n_events, self.growth.max_events - samples[index].n_events)
                if extra <= spare:
                    spare -= extra
                    plans.append((index, samples[index].params, extra, samples[index].n_chunks))
            if not plans:
                return fresh
            for (index, *_), more in zip(plans, self._simulate(plans)):
                before = samples[index]
                if more.events is None:  # keep the estimate we have; record what the growth cost
                    fresh[index] = _with_extra_events(fresh[index], more.n_events, more.error)
                    continue
                samples[index] = _PointSample(before.params, np.concatenate([before.events, more.events]), "",
                                              before.n_events + more.n_events, before.seed,
                                              before.sim_seconds + more.sim_seconds, more.n_chunks)
                fresh[index] = self._estimate(index, samples[index], round_number)
        return fresh

    def _estimate(self, index: int, sample: _PointSample, round_number: int = 0) -> Evaluation:
        failure = self._failure(index, sample)
        if failure is not None:
            return failure
        common = self._identity(index, sample)
        reference = self._reference_subsample(index, len(sample.events), round_number)
        started = time.perf_counter()
        try:
            estimate = self.divergence.estimate(sample.events.astype(np.float64), reference,
                                                task_seed(self.seed, self.iteration, index, SEED_DISCRIMINATOR, round_number))
        except (ValueError, RuntimeError, FloatingPointError) as err:
            reason = f"divergence failed: {type(err).__name__}: {err}"
            return Evaluation(value=math.nan, stderr=math.nan, status=Status.INVALID, reason=reason,
                              train_seconds=time.perf_counter() - started, **common)
        return Evaluation(value=estimate.value, stderr=estimate.stderr, status=Status.OK,
                          train_seconds=time.perf_counter() - started, details=estimate.details, **common)

    def _reference_subsample(self, index: int, n_events: int, round_number: int = 0) -> np.ndarray:
        """``reference_per_point`` reference events per simulated one (all of them if the
        reference is smaller, or if the divergence wants the whole reference, as the
        chi-square does)."""
        wanted = int(round(n_events * self.reference_per_point))
        if len(self.reference) <= wanted or getattr(self.divergence, "uses_full_reference", False):
            return self.reference
        rng = np.random.default_rng(task_seed(self.seed, self.iteration, index, SEED_REFERENCE, round_number))
        return self.reference[rng.choice(len(self.reference), wanted, replace=False)]

    def _report(self, evaluation: Evaluation, bar) -> None:
        """Progress: a bar on a terminal, else one log line per evaluation."""
        best = min((e for e in self.history if e.ok), key=lambda e: e.value, default=None)
        best_text = f"best D={best.value:.4f} at {_format_params(best.params)}" if best else "no successful evaluation yet"
        if bar is not None:
            bar.update(evaluation.n_events)
            bar.set_postfix_str(best_text)
            return
        outcome = f"D={evaluation.value:.4f}+-{evaluation.stderr:.4f}" if evaluation.ok else f"{evaluation.status.value}: {evaluation.reason}"
        logger.info("eval %d  %s  %s  events %d/%d  %s", evaluation.index, _format_params(evaluation.params), outcome,
                    self.events_used, self.budget, best_text)


def _format_params(params: Mapping[str, float]) -> str:
    return ", ".join(f"{k}={v:.4g}" for k, v in params.items())


def _by_iteration(recorded: list[Evaluation]) -> dict[int, dict[int, Evaluation]]:
    """Recorded evaluations as {iteration: {index in its batch: evaluation}}."""
    batches: dict[int, list[Evaluation]] = {}
    for evaluation in recorded:
        batches.setdefault(evaluation.iteration, []).append(evaluation)
    return {
        iteration: {e.index - min(x.index for x in batch): e for e in batch}
        for iteration, batch in batches.items()
    }


def _same_point(recorded: Mapping[str, float], asked: Mapping[str, float]) -> bool:
    return recorded.keys() == asked.keys() and all(math.isclose(recorded[k], asked[k], rel_tol=1e-9, abs_tol=1e-12) for k in asked)


def _make_result(loop: TuneState, space: Space, opt, div, budget, reference_size, seed, truth, wall) -> TuneResult:
    if not any(e.ok for e in loop.history):
        nan = {name: math.nan for name in space.names}
        return TuneResult(nan, math.nan, nan, {n: (math.nan, math.nan) for n in space.names}, tuple(loop.history),
                          loop.events_used, budget, reference_size, opt.name, div.name, seed, truth, wall)
    recommendation = opt.recommend()
    if _models_log(div):  # back from the log the optimiser modelled to the divergence's own units
        surface = recommendation.surface
        recommendation = dataclasses.replace(recommendation, value=math.exp(recommendation.value),
                                             surface=None if surface is None else lambda x: np.exp(surface(x)))
    optimizer_spread = _physical_spread(space, _centred(recommendation.samples, recommendation.point))
    samples = _centred(_with_reference_scatter(loop, recommendation, div, reference_size), recommendation.point)
    uncertainty, interval = _physical_spread(space, samples)
    return TuneResult(space.from_unit(recommendation.point), recommendation.value, uncertainty, interval,
                      tuple(loop.history), loop.events_used, budget, reference_size, opt.name,
                      _divergence_name(opt, div), seed, truth,
                      wall, optimizer_uncertainty=optimizer_spread[0])


def _divergence_name(optimizer, divergence) -> str:
    """What the recorded values are: the divergence's name, or the optimiser's own measure
    when it reads no divergence (the pooled estimator's ``summary-chi2``)."""
    return getattr(optimizer, "divergence_name", divergence.name)


def _models_log(divergence) -> bool:
    """Whether the optimiser models the log of this divergence (``models_log``, the
    chi-square): for objectives that span decades the surrogate's smoothness is then set by
    the region near the optimum, not by the far-away points."""
    return getattr(divergence, "models_log", False)


def _modelled(divergence, values):
    """Divergence values as the optimiser models them (see :func:`_models_log`)."""
    return np.log(np.maximum(values, 1e-12)) if _models_log(divergence) else values


def _modelled_values(divergence, evaluations: list[Evaluation]) -> tuple[np.ndarray, np.ndarray]:
    """Values and standard errors told to the optimiser; a log's error is stderr / value.
    Failed points stay NaN."""
    values = np.array([e.value for e in evaluations], dtype=float)
    stderrs = np.array([e.stderr for e in evaluations], dtype=float)
    if _models_log(divergence):
        stderrs = stderrs / np.maximum(values, 1e-12)
    return _modelled(divergence, values), stderrs


def _with_reference_scatter(loop: TuneState, recommendation, div, reference_size: int) -> np.ndarray:
    """The optimiser's samples of the optimum, widened by the reference sample's own
    statistical scatter when the optimiser has a surface and the divergence a Fisher
    information (advopt/uncertainty.py); else the optimiser's samples as they are."""
    if recommendation.surface is None or getattr(div, "fisher_information", None) is None:
        return recommendation.samples
    n_simulated = int(np.median([e.n_events for e in loop.history if e.ok]))
    hessian = quadratic_hessian(recommendation.surface, recommendation.point, seed=loop.seed)
    information = div.fisher_information(hessian, n_simulated, reference_size)
    covariance = reference_covariance(information, reference_size)
    return add_reference_scatter(recommendation.samples, covariance, seed=loop.seed)


def _centred(unit_samples: np.ndarray, point: np.ndarray) -> np.ndarray:
    """The samples shifted so that their median is the recommended point (unit cube).

    The recommendation is the posterior mean's minimum among evaluated points, the samples
    the minima of posterior draws over more candidates; their medians differ a little, and
    an interval that excludes the value it belongs to would mislead. The shift keeps the
    spread and its asymmetry."""
    shift = np.asarray(point, dtype=float) - np.median(unit_samples, axis=0)
    return np.clip(unit_samples + shift, 0.0, 1.0)


def _physical_spread(space: Space, unit_samples: np.ndarray) -> tuple[dict[str, float], dict[str, tuple[float, float]]]:
    """Per parameter, in physical units: the central 68% interval of the samples and half
    its width as the uncertainty (the sd for a Gaussian; unlike the sd, not blown up by
    the few far draws that posterior minima of a flat surface produce)."""
    draws = np.array([[space.from_unit(s)[n] for n in space.names] for s in unit_samples])
    low, high = np.percentile(draws, [15.865, 84.135], axis=0)
    uncertainty = dict(zip(space.names, (0.5 * (high - low)).tolist()))
    return uncertainty, {name: (float(lo), float(hi)) for name, lo, hi in zip(space.names, low, high)}


# -- input resolution ----------------------------------------------------------------------------
def _resolve_space(space, simulator) -> Space:
    if space is None:
        space = default_space(simulator)
        if space is None:
            raise ValueError("parameters: none given and the simulator has no default_space")
        return space
    return Space.from_dict(space)


def _resolve_fixed(fixed, space: Space, simulator) -> dict[str, float]:
    """Values for the simulator's parameters that are not tuned; refuse unknown names."""
    fixed = {name: float(value) for name, value in (fixed or {}).items()}
    overlap = sorted(set(fixed) & set(space.names))
    if overlap:
        raise ValueError(f"fixed: {overlap} are also tuned parameters; fix or tune each, not both")
    known = default_space(simulator)
    if known is None or hasattr(simulator, "check_space"):  # the simulator checks names itself
        return fixed
    unknown = sorted((set(space.names) | set(fixed)) - set(known.names))
    if unknown:
        raise ValueError(f"parameters: unknown parameter(s) {unknown} for this simulator; it has {list(known.names)}")
    nominal = simulator_truth(simulator) or {}
    for name in known.names:
        if name not in space.names and name not in fixed and name in nominal:
            fixed[name] = nominal[name]
    if fixed:
        logger.info("fixed parameters: %s", ", ".join(f"{k}={v:g}" for k, v in fixed.items()))
    return fixed


def _resolve_reference(reference, simulator: Simulator, features) -> Sample:
    names = feature_names(simulator)
    if isinstance(reference, (str, Path)):
        sample = load_sample(reference, features=None)
        wanted = features if features is not None else (names if names and sample.feature_names else None)
        sample = sample.select(wanted)
    elif isinstance(reference, Sample):
        sample = check_sample(reference.events, reference.feature_names, what="reference").select(features)
    else:
        sample = check_sample(reference, what="reference")
    if names is not None and len(names) != sample.events.shape[1]:
        raise ValueError(f"reference: it has {sample.events.shape[1]} features, the simulator produces {len(names)} ({', '.join(names)})")
    if len(sample.events) < 8:
        raise ValueError(f"reference: only {len(sample.events)} events; need at least 8")
    return sample


def _initial_design(asked: int | None, total_points: int, default: int = 10) -> int:
    """Bayesian optimisation's space-filling start, scaled to the budget: the default 10
    points, but never more than a third of the points the budget pays for (a 16k-event
    budget at 2000 per point never left a 10-point design). A design the user asked for is
    kept, with a warning when it leaves the surrogate nothing to do."""
    if asked is not None:
        if asked >= total_points:
            warnings.warn(f"optimizer.n_initial_points: {asked} initial points use the whole budget "
                          f"({total_points} points); the Gaussian process never chooses a point", stacklevel=3)
        return asked
    if total_points < 6:
        warnings.warn(f"budget: {total_points} points leave Bayesian optimisation little to model "
                      "(raise the budget or lower events_per_point)", stacklevel=3)
    return max(1, min(default, total_points // 3))


def _optimizer_options(options: Mapping | None, space: Space) -> dict:
    """Options for the optimiser; a ``start`` point is given in physical units."""
    options = dict(options or {})
    if "start" in options:
        try:
            options["start"] = space.to_unit(options["start"])
        except (ValueError, TypeError) as err:
            raise ValueError(f"optimizer.start: {err}") from None
    return options


def _check_positive_int(field: str, value, allow_zero: bool = False) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < (0 if allow_zero else 1):
        raise ValueError(f"{field}: must be a {'non-negative' if allow_zero else 'positive'} integer, got {value!r}")


def _chunk_sizes(total: int, chunk_size: int) -> list[int]:
    full, rest = divmod(total, chunk_size)
    return [chunk_size] * full + ([rest] if rest else [])


def _run_config(config, sim, space, fixed, opt, div, ref, budget, events_per_point, batch_size, seed, truth,
                reference_per_point=1.0) -> dict:
    resolved = {
        "simulator": _describe(sim), "space": space.to_dict(), "fixed": fixed, "optimizer": opt.name,
        "divergence": _divergence_name(opt, div),
        "budget": budget, "events_per_point": events_per_point, "batch_size": batch_size, "seed": seed,
        "reference_size": len(ref.events), "reference_sha256": hashlib.sha256(np.ascontiguousarray(ref.events)).hexdigest(),
        "feature_names": list(ref.feature_names or []), "truth": truth,
    }
    if reference_per_point != 1.0:  # recorded only when set, so older run directories still resume
        resolved["reference_per_point"] = reference_per_point
    return {"config": dict(config) if config else None, "resolved": resolved}


def _arguments(sim, opt, optimizer_options: dict, div, chunk_size: int, growth) -> dict:
    """Everything else the history depends on, for ``resume`` to compare: the simulator with
    its options, the optimiser's and the divergence's settings, chunking and growth. The
    device is left out: a run may resume on another machine (the environment record warns)."""
    return {
        "simulator": repr(sim) if " at 0x" not in repr(sim) else _describe(sim),
        "optimizer": {**_settings(opt), "options": _plain(optimizer_options)},
        "divergence": _settings(div) if div is not None else None,
        "chunk_size": chunk_size,
        "growth": None if growth is None else dataclasses.asdict(growth),
    }


def _settings(obj) -> dict:
    """An object's public plain settings (numbers, strings, and lists or dicts of them)."""
    settings = {key: _plain(value) for key, value in sorted(vars(obj).items())
                if not key.startswith("_") and key not in ("device", "threads", "seed", "dim")}  # recorded apart
    return {"type": _describe(obj), **{key: value for key, value in settings.items() if value is not None}}


def _plain(value):
    """``value`` as JSON-able plain data, or None when it is not plain (an array, a model)."""
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)):
        items = [_plain(v) for v in value]
        return items if all(i is not None or v is None for i, v in zip(items, value)) else None
    if isinstance(value, Mapping):
        items = {str(k): _plain(v) for k, v in value.items()}
        return items if all(i is not None or v is None for i, v in zip(items.values(), value.values())) else None
    return None


def _describe(sim) -> str:
    """A stable name for the simulator (no memory addresses), for the run's config."""
    target = getattr(sim, "function", sim)
    kind = target if callable(target) and not hasattr(target, "simulate") else type(target)
    return f"{getattr(kind, '__module__', '?')}.{getattr(kind, '__qualname__', repr(kind))}"


def _show_progress(progress: bool | None) -> bool:
    return sys.stderr.isatty() if progress is None else progress


def _progress_bar(budget: int):
    from tqdm.auto import tqdm

    return tqdm(total=budget, unit="ev", unit_scale=True, desc="tuning", file=sys.stderr)
