"""``tune()``: the short way in. It resolves and checks every input (before any side
effect), builds the method (advopt/methods/registry.py), the batch simulator and the
executor, and runs the one tuning loop (advopt/loop.py) with the run directory
(advopt/records/rundir.py).
"""

from __future__ import annotations

import logging
import sys
import time
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from advopt.data import Sample, check_sample, load_sample
from advopt.divergence import Divergence
from advopt.execution import Executor, as_executor, make_executor
from advopt.intervals import make_result
from advopt.loop import Snapshot, TuneLoop
from advopt.methods.registry import default_events_per_point, default_route, make_method
from advopt.optimizers import Optimizer
from advopt.records.environment import machine_record, reproducible
from advopt.records.result import Evaluation, TuneResult
from advopt.records.run_record import run_record
from advopt.records.rundir import RESULT_FILE, RunDirectory
from advopt.settings import check, default, errors_in_argument_terms
from advopt.simulation_batches import BatchSimulator
from advopt.simulator import Simulator, as_simulator, default_space, feature_names
from advopt.simulator import truth as simulator_truth
from advopt.space import Space

if TYPE_CHECKING:
    from advopt.histograms.result import HistogramTuneResult

logger = logging.getLogger(__name__)


@errors_in_argument_terms("events")
def tune(
    simulator,
    reference,
    space: Space | Mapping | None = None,
    *,
    optimizer: str | Optimizer | None = None,
    divergence: str | Divergence | None = None,
    budget: int = default("budget.events"),
    events_per_point: int | None = None,
    batch_size: int | None = None,
    workers: int = default("execution.workers"),
    backend: Executor | str | None = None,
    execution_options: Mapping | None = None,
    run_dir: str | Path | None = None,
    seed: int = default("seed"),
    truth: Mapping[str, float] | None = None,
    fixed: Mapping[str, float] | None = None,
    optimizer_options: Mapping | None = None,
    divergence_options: Mapping | None = None,
    simulator_options: Mapping | None = None,
    reference_features: list[str] | None = None,
    chunk_size: int | None = None,
    max_events_per_point: int | None = None,
    growth_threshold: float = default("budget.growth_threshold"),
    reference_per_point: float = default("reference.per_point"),
    progress: bool | None = None,
    config: Mapping | None = None,
    callback: Callable[[Snapshot], bool | None] | None = None,
    resume: bool = False,
) -> "TuneResult | HistogramTuneResult":
    """Tune ``simulator``'s parameters in ``space`` until its events match ``reference``.

    The arguments are the TOML config's fields, each declared once with its default in
    :mod:`advopt.settings` (the table in docs/REFERENCE.md names the keyword of each field):
    ``budget`` is ``[budget] events``, ``space`` is ``[parameters]``, ``X_options`` are the
    other fields of table ``[X]``. An error names the argument it is about (a config's, the field).

    simulator: an object with ``simulate(params, n, seed)``, a plain function of that
        signature, a class, or a registered name / ``module:attr`` string.
    reference: an (n, d) array, a :class:`~advopt.data.Sample`, or a file path
        (npz/npy/csv/parquet/root); ``reference_features`` selects columns by name.
    space: a Space or ``{name: (low, high)}``; default: the simulator's ``default_space``.
    optimizer / divergence: a name (``pooled``/``bayes``/``random``/``variational``;
        ``mlp``/``boosting``/``chi2``/...) with ``*_options``, or a ready object. Naming
        neither gives the pooled estimator (the most efficient measured, docs/RESULTS.md); naming only
        a divergence gives Bayesian optimisation over it; naming only an optimiser other than
        ``pooled`` gives it the ``mlp`` divergence. The pooled estimator uses no divergence.
        ``moments`` fits the observables' means and quartile fractions by the fit to
        histograms (advopt/histograms/summaries.py; ``optimizer_options``: ``rounds``) and
        returns a HistogramTuneResult (goodness of fit per summary; ``truth`` is not shown).
    budget: total simulated events, every one counted; each evaluation simulates
        ``events_per_point`` events, in tasks of ``chunk_size`` events. Left out, the
        optimiser chooses: 2,000 for the per-point routes; for the pooled estimator enough
        points for its moment model, max(200, 2 (dim + 1)(dim + 2)), of 100-2,000 events each.
    max_events_per_point: adaptive sample size: while a point's estimate cannot rule out a
        divergence below ``growth_threshold`` above its value at agreement (0 nats for a
        JSD, 1 for chi-square per bin: value - 2 standard errors is below it),
        its simulated sample is doubled, up to this many events. Far-away points, told
        apart at once, stay at ``events_per_point``; points near the optimum grow, and
        their estimates get sharper where it matters. Every event counts.
    reference_per_point: reference events drawn for each simulated event of a point
        (classifier divergences; default 1, balanced samples). Reference data is not
        counted in the budget, and a larger share lowers the estimate's noise: 4 measured
        1.7x the signal-to-noise of 1 on Pythia (docs/RESULTS.md). Classes stay weighted 1/2 each.
    batch_size: points asked at once and simulated in parallel (fixed, so that the
        history does not depend on ``workers``); default 2. The pooled and variational
        optimisers plan their own batches (a round, an iteration) and refuse one.
    workers: simulation worker processes.
    backend: where simulations run: None (serial for one worker, local processes for
        more), a backend name (``serial``, ``local``, ``dask``) with ``execution_options``
        (retries, task_timeout; dask: address, cluster), one of our executors, or any
        ``concurrent.futures``-style executor (left open for the caller).
    run_dir: where the config, the history (one JSON line per evaluation) and the result
        go; nothing is written when None.
    truth: known parameter values (closure tests), shown beside the result.
    fixed: values of simulator parameters that are not tuned. Parameters of the
        simulator's default space that are neither tuned nor fixed take the simulator's
        ``truth`` (its nominal values), when it has one.
    callback: called with a read-only :class:`~advopt.loop.Snapshot` after every batch
        (e.g. to record the recommendation as the budget is spent); returning True stops
        the run there (its result is the one so far).
    resume: continue the run recorded in ``run_dir``: every recorded evaluation is
        re-used (replayed through the optimiser, not simulated again), the budget is the
        run's total, and the result is the one an uninterrupted run would have given. A
        run directory written by a different configuration is refused.

    Returns a TuneResult (``moments``: a HistogramTuneResult). Raises ValueError (one line, naming the field) for bad input; a
    simulator that raises or returns bad events gives failed evaluations, not an exception.
    """
    sim = as_simulator(simulator, **dict(simulator_options or {}))
    space = _resolve_space(space, sim)
    fixed = _resolve_fixed(fixed, space, sim)
    if hasattr(sim, "check_space"):
        sim.check_space(space)
    ref = _resolve_reference(reference, sim, reference_features)
    check("budget.events", budget)
    if optimizer == "moments":
        per_point = {"divergence.kind": divergence, "divergence": divergence_options,
                     "budget.events_per_point": events_per_point, "optimizer.batch_size": batch_size,
                     "budget.chunk_size": chunk_size, "budget.max_events_per_point": max_events_per_point,
                     "callback": callback}
        return _tune_moments(sim, ref, space, fixed, per_point, budget=budget, seed=seed, options=optimizer_options,
                             workers=workers, backend=backend, execution_options=execution_options, run_dir=run_dir,
                             resume=resume, config=config, progress=_show_progress(progress))
    if divergence is None and divergence_options:  # options for a divergence name one: the default "mlp"
        divergence = "mlp"
    optimizer, divergence = default_route(optimizer, divergence)
    if events_per_point is None:
        events_per_point = default_events_per_point(optimizer, budget, space.dim)
    check("budget.events_per_point", events_per_point)
    if batch_size is not None:
        check("optimizer.batch_size", batch_size)
    check("seed", seed)
    check("reference.per_point", reference_per_point)
    if events_per_point > budget:
        raise ValueError(f"budget.events: {budget} events cannot pay for one evaluation of events_per_point={events_per_point}")
    chunk_size = chunk_size or events_per_point
    check("budget.chunk_size", chunk_size)
    if truth is not None:
        truth = {name: float(truth[name]) for name in space.names if name in truth}

    built = make_method(optimizer, divergence, space, seed=seed, budget=budget, events_per_point=events_per_point,
                        batch_size=batch_size, options=_optimizer_options(optimizer_options, space),
                        divergence_options=divergence_options, max_events_per_point=max_events_per_point,
                        growth_threshold=growth_threshold, reference_per_point=reference_per_point)
    method = built.method
    method.prepare(ref.events, ref.feature_names or feature_names(sim))  # bins fixed, a model built, on the reference
    run = RunDirectory(run_dir) if run_dir is not None else None
    recorded: list[Evaluation] = []
    if run is not None:
        record = run_record(config, sim=sim, space=space, fixed=fixed, method=method, ref=ref, budget=budget,
                            events_per_point=events_per_point, batch_size=built.batch_size, seed=seed, truth=truth,
                            reference_per_point=reference_per_point, optimizer_options=built.options,
                            chunk_size=chunk_size, growth=built.growth)
        recorded = run.resume(record) if resume else run.start(record)
        differing = run.record_environment(machine_record())
        if differing:
            warnings.warn(f"run_dir: resumed on a machine that differs from the run's start in {differing}; "
                          "its history may differ in the last bits from there on", stacklevel=3)
    elif resume:
        raise ValueError("run_dir: resume=True needs the run directory to resume")

    own_executor = backend is None or isinstance(backend, str)
    executor = (make_executor(workers, backend, **dict(execution_options or {}))
                if backend is None or isinstance(backend, str) else as_executor(backend))
    simulations = BatchSimulator(sim, executor, seed=seed, events_per_point=events_per_point, chunk_size=chunk_size,
                                 n_features=ref.events.shape[1], fixed=fixed)
    loop = TuneLoop(method, simulations, space, budget=budget, events_per_point=events_per_point, run_dir=run)
    started = time.perf_counter()
    try:
        with reproducible():  # BLAS pools capped, torch deterministic: same machine, same seed, same bits
            loop.run(_show_progress(progress), callback, recorded)
    finally:
        if own_executor:
            executor.close()
    result = make_result(loop, len(ref.events), seed, truth, time.perf_counter() - started)
    if run is not None:
        result.save(run.path / RESULT_FILE)
    return result


def _tune_moments(sim, ref: Sample, space: Space, fixed: dict, per_point: dict, *, backend, **arguments):
    """The fit to histograms on the reference's observables (advopt/histograms/summaries.py).
    It plans its own points and uses no divergence: ``per_point``'s fields, given, are refused."""
    from advopt.histograms.summaries import tune_to_events

    for field, value in per_point.items():
        if value:
            raise ValueError(f"{field}: the moments fit plans its own points and uses no divergence; drop it")
    if backend is not None and not isinstance(backend, str):
        raise ValueError("execution.backend: the moments fit takes a backend name (serial, local, dask)")
    return tune_to_events(sim, ref.events, space, fixed=fixed, backend=backend, **arguments)


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


def _optimizer_options(options: Mapping | None, space: Space) -> dict:
    """Options for the optimiser; a ``start`` point is given in physical units."""
    options = dict(options or {})
    if "start" in options:
        try:
            options["start"] = space.to_unit(options["start"])
        except (ValueError, TypeError) as err:
            raise ValueError(f"optimizer.start: {err}") from None
    return options


def _show_progress(progress: bool | None) -> bool:
    return sys.stderr.isatty() if progress is None else progress
