"""The events behind the observable plots: simulated once at the start and tuned points (fixed
seeds), saved with their points and seeds in ``RUN_DIR/report_samples.npz`` and reused."""

from __future__ import annotations

import hashlib
import json
import logging
import math
from pathlib import Path

from advopt import seeds
from advopt.records.files import replaced_atomically
from advopt.report.common import DEFAULT_EVENTS, SAMPLES_FILE, Report, ReportSamples, numpy_module
from advopt.records.progress import RunFiles

logger = logging.getLogger(__name__)

def report_samples(run: RunFiles, report: Report, simulate_events, simulator, reference) -> ReportSamples | None:
    """Load ``report_samples.npz`` when it holds this run's start and tuned points (and the
    asked number of events), else simulate them and save it."""
    np = numpy_module()
    start = {**run.fixed, **run.start_params()}
    tuned_point = run.tuned_params()
    if tuned_point is None:
        report.notes.append("Observable plots skipped: no successful evaluation yet.")
        return None
    tuned = {**run.fixed, **tuned_point}
    path = run.path / SAMPLES_FILE
    stored = _load_samples(path, start, tuned, simulate_events)
    if stored is not None:
        report.notes.append(f"Observable and ROC plots reuse {stored.events:,} events per point from {path} "
                            "(simulated for an earlier report).")
        return stored
    if simulator is None:
        if not run.config:
            report.notes.append(
                "Observable and ROC plots skipped: this run was started from a script, so config.json holds no "
                "config to rebuild the simulator and reference from. Run from a config (advopt tune CONFIG.toml), "
                "or call advopt.report.make_report(run_dir, simulator=..., reference=...).")
            return None
        from advopt.config import tune_arguments

        arguments = tune_arguments(run.config, {"run_dir": None})
        simulator, reference = arguments["simulator"], arguments["reference"]
    elif reference is None:
        raise ValueError("reference: make_report(simulator=...) needs the run's reference too")
    sim, ref = _resolve(simulator, reference, run)
    expected = run.resolved.get("reference_sha256")
    if expected and hashlib.sha256(np.ascontiguousarray(ref.events)).hexdigest() != expected:
        report.notes.append("Warning: the reference rebuilt for this report differs from the one the run used "
                            "(its checksum does not match config.json): has the reference file changed?")
    n = simulate_events or DEFAULT_EVENTS
    def seed(purpose):
        return run_seed(run, purpose)
    try:
        start_events = np.asarray(sim.simulate(dict(start), n, seed(seeds.REPORT_START)), dtype=float)
        tuned_events = np.asarray(sim.simulate(dict(tuned), n, seed(seeds.REPORT_TUNED)), dtype=float)
    except Exception as err:  # a simulator failure must not lose the rest of the report
        report.notes.append(f"Observable plots skipped: the simulator failed: {type(err).__name__}: {err}")
        return None
    for label, events in (("start", start_events), ("tuned", tuned_events)):
        if events.ndim != 2 or events.shape[1] != ref.events.shape[1] or not np.isfinite(events).all():
            report.notes.append(f"Observable plots skipped: the simulator returned bad events at the {label} point "
                                f"(shape {events.shape}, or NaN/inf).")
            return None
    rng = np.random.default_rng(seed(seeds.REPORT_REFERENCE))
    keep = np.sort(rng.choice(len(ref.events), min(len(ref.events), n), replace=False))
    reference_events = ref.events[keep]
    names = tuple(ref.feature_names or run.resolved.get("feature_names") or getattr(sim, "feature_names", None)
                  or [f"x{i}" for i in range(ref.events.shape[1])])
    samples = ReportSamples(tuple(names), reference_events, start_events, tuned_events, start, tuned, n,
                            len(ref.events), path, reused=False)
    _save_samples(samples, {"start": seed(seeds.REPORT_START), "tuned": seed(seeds.REPORT_TUNED),
                            "reference_subsample": seed(seeds.REPORT_REFERENCE)})
    report.notes.append(f"Simulated {n:,} events at each of the start and tuned points for the observable and ROC "
                        f"plots ({2 * n:,} in all, not counted in the tuning budget); saved in {path}.")
    return samples


def _resolve(simulator, reference, run: RunFiles):
    from advopt.data import Sample, check_sample, load_sample
    from advopt.simulator import as_simulator

    sim = as_simulator(simulator)
    if isinstance(reference, (str, Path)):
        ref = load_sample(reference)
    elif isinstance(reference, Sample):
        ref = reference
    else:
        ref = check_sample(reference, what="reference")
    names = run.resolved.get("feature_names")
    if names and ref.feature_names and tuple(ref.feature_names) != tuple(names):
        ref = ref.select(names)
    return sim, ref


def _save_samples(samples: ReportSamples, seeds: dict) -> None:
    from advopt.data import save_sample

    np = numpy_module()
    counts = [len(samples.reference), len(samples.start), len(samples.tuned)]
    with replaced_atomically(samples.path, suffix=".npz") as temporary:
        save_sample(temporary, np.vstack([samples.reference, samples.start, samples.tuned]), samples.feature_names,
                    purpose="advopt report samples: reference subsample, start point, tuned point (rows in that order)",
                    counts=counts, start=samples.start_params, tuned=samples.tuned_params,
                    events_per_point=samples.events, reference_total=samples.reference_total, seeds=seeds)


def _load_samples(path: Path, start: dict, tuned: dict, events: int | None) -> ReportSamples | None:
    if not path.is_file():
        return None
    np = numpy_module()
    from advopt.data import load_sample

    try:
        with np.load(path, allow_pickle=False) as archive:
            meta = json.loads(str(archive["metadata"]))
        sample = load_sample(path)
    except (OSError, KeyError, ValueError) as err:
        logger.warning("ignoring unreadable %s: %s", path, err)
        return None
    if (not _same_point(meta.get("start", {}), start) or not _same_point(meta.get("tuned", {}), tuned)
            or (events is not None and meta.get("events_per_point") != events)):
        return None
    n_ref, n_start, n_tuned = meta["counts"]
    rows = sample.events
    names = sample.feature_names or tuple(f"x{i}" for i in range(rows.shape[1]))
    return ReportSamples(tuple(names), rows[:n_ref], rows[n_ref:n_ref + n_start], rows[n_ref + n_start:],
                         meta["start"], meta["tuned"], int(meta["events_per_point"]), int(meta.get("reference_total", n_ref)),
                         path, reused=True)


def _same_point(a: dict, b: dict) -> bool:
    return set(a) == set(b) and all(math.isclose(float(a[k]), float(b[k]), rel_tol=1e-12, abs_tol=1e-15) for k in a)


def run_seed(run: RunFiles, purpose: int) -> int:
    """The report's seed for a purpose (advopt/seeds.py), from the run's seed."""
    return seeds.task_seed(int(run.resolved.get("seed", 0) or 0), 0, 0, purpose)


