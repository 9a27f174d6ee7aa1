"""The ``advopt`` command line: tune, simulate, list and check simulators.

Bad input (a config, a name, a file) ends with one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import datetime
import logging
import os
import sys
import uuid
from pathlib import Path

EXIT_BAD_INPUT = 2


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO, format="%(message)s", stream=sys.stderr)
    logging.getLogger("advopt").setLevel(logging.WARNING if args.quiet else logging.INFO)
    try:
        return args.handler(args)
    except (ValueError, OSError) as err:  # bad input: one line, no traceback (a bug keeps its traceback)
        print(f"advopt: error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT


def build_parser() -> argparse.ArgumentParser:
    """The command line, declared once: it parses, and docs/REFERENCE.md's table is rendered from it."""
    parser = argparse.ArgumentParser(prog="advopt", description="Tune simulators to reference data with adversarial divergences.")
    parser.add_argument("-q", "--quiet", action="store_true", help="only warnings and the result")
    commands = parser.add_subparsers(dest="command", required=True)

    tune = commands.add_parser("tune", help="tune parameters (no CONFIG: the built-in default closure task)")
    tune.add_argument("config", nargs="?", help="TOML run configuration")
    tune.add_argument("--run-dir", help="where the run is recorded (default: advopt-runs/NAME-TIME)")
    tune.add_argument("--workers", type=int, help="simulation worker processes")
    tune.add_argument("--backend", choices=["serial", "local", "dask"], help="where simulations run (default: config, else local)")
    tune.add_argument("--seed", type=int, help="run seed (same seed, same history)")
    tune.add_argument("--budget", type=int, help="total simulated events")
    tune.set_defaults(handler=_tune)

    simulate = commands.add_parser("simulate", help="write a sample of a simulator to an .npz file")
    simulate.add_argument("name", help="registered name or package.module:attr")
    simulate.add_argument("--param", action="append", default=[], metavar="K=V", help="a parameter value (repeat)")
    simulate.add_argument("--option", action="append", default=[], metavar="K=V", help="a simulator option (repeat)")
    simulate.add_argument("-n", "--events", type=int, required=True, help="number of events")
    simulate.add_argument("-o", "--output", required=True, help="output .npz file")
    simulate.add_argument("--seed", type=int, default=0, help="seed of the sample (same seed, same events)")
    simulate.set_defaults(handler=_simulate)

    resume = commands.add_parser("resume", help="continue a run that was stopped, from its run directory")
    resume.add_argument("run_dir", help="the run directory of the stopped run")
    resume.add_argument("--workers", type=int, help="simulation worker processes")
    resume.add_argument("--backend", choices=["serial", "local", "dask"], help="where simulations run")
    resume.set_defaults(handler=_resume)

    listing = commands.add_parser("simulators", help="list registered simulators with their parameters")
    listing.set_defaults(handler=_simulators)

    analyses = commands.add_parser("analyses", help="list registered analyses (for histogram references), checked")
    analyses.set_defaults(handler=_analyses)

    check = commands.add_parser("check", help="check that a simulator keeps the plug-in contract")
    check.add_argument("name", help="registered name or package.module:attr")
    check.add_argument("--param", action="append", default=[], metavar="K=V", help="a parameter value (repeat)")
    check.add_argument("--option", action="append", default=[], metavar="K=V", help="a simulator option (repeat)")
    check.set_defaults(handler=_check)

    report = commands.add_parser("report", help="plots and an HTML page from a run directory (finished or running)")
    report.add_argument("run_dir", help="the run directory")
    report.add_argument("-o", "--output", help="output directory (default: RUN_DIR/report)")
    report.add_argument("--events", type=int, help="events simulated at the start and tuned points for the observable "
                                                   "plots (default: reuse RUN_DIR/report_samples.npz, else 20000)")
    report.set_defaults(handler=_report)

    status = commands.add_parser("status", help="events spent, evaluations and the best point of a run so far")
    status.add_argument("run_dir", help="the run directory")
    status.set_defaults(handler=_status)
    return parser


def _report(args) -> int:
    from advopt.report import make_report  # plotting is imported only when a report is made
    from advopt.report.histograms import is_histogram_run, make_histogram_report

    if is_histogram_run(args.run_dir):
        print(f"report: {make_histogram_report(args.run_dir, args.output)}")
        return 0
    print(f"report: {make_report(args.run_dir, args.output, args.events)}")
    return 0


def _status(args) -> int:
    from advopt.records.progress import run_status

    print(run_status(args.run_dir))
    return 0


def _tune(args) -> int:
    from advopt.config import load_config, tune_arguments
    from advopt.tuner import tune

    config = load_config(args.config)
    # Flags that change the result are written into the config, so that a resume sees them.
    if args.seed is not None:
        config["seed"] = args.seed
    if args.budget is not None:
        config.setdefault("budget", {})["events"] = args.budget
    run_dir = args.run_dir or _default_run_dir(config)
    overrides = {"workers": args.workers, "backend": args.backend, "run_dir": run_dir}
    from advopt.histograms.config import histogram_tune_arguments, is_histogram_config

    if is_histogram_config(config):
        from advopt.histograms.tune import tune_histograms

        base = Path(args.config).resolve().parent if args.config else None
        result = tune_histograms(**histogram_tune_arguments(config, overrides, base), config=config,
                                 config_dir=str(base) if base else None, progress=not args.quiet)
        print(result.summary())
        print(f"run directory: {run_dir}")
        return 0
    if args.config:
        _paths_relative_to(config, Path(args.config).resolve().parent)
    result = tune(**tune_arguments(config, overrides))
    _print_result(result, run_dir)
    return 0


def _paths_relative_to(config: dict, base: Path) -> None:
    """A config's file names are read relative to the config file (as the histogram route's
    are), so that an example runs from any directory; the config (and so the run record)
    holds them relative to the directory advopt runs in."""
    for section, field in (("reference", "path"), ("divergence", "weights")):
        table = config.get(section)
        if isinstance(table, dict) and isinstance(table.get(field), str) and not Path(table[field]).is_absolute():
            table[field] = os.path.relpath(base / table[field])


def _resume(args) -> int:
    from advopt.histograms.result import HistogramTuneResult
    from advopt.resuming import resume

    result = resume(args.run_dir, workers=args.workers, backend=args.backend, progress=False if args.quiet else None)
    if isinstance(result, HistogramTuneResult):
        print(result.summary())
        print(f"run directory: {args.run_dir}")
    else:
        _print_result(result, args.run_dir)
    return 0


def _print_result(result, run_dir) -> None:
    print(result.summary())
    if hasattr(result, "closure_verdict"):  # a fit to histograms (optimizer "moments") has no closure verdict
        print(result.closure_verdict())
    print(f"run directory: {run_dir}")


def _simulate(args) -> int:
    from advopt.data import save_sample
    from advopt.simulator import feature_names, get_simulator

    if args.events < 1:
        raise ValueError(f"--events: must be positive, got {args.events}")
    simulator = get_simulator(args.name, **_key_values(args.option, "--option", numbers=False))
    params = _key_values(args.param, "--param")
    space = getattr(simulator, "default_space", None)
    known = getattr(simulator, "truth", None) or {}
    full = {**known, **params} if space is not None else params
    events = simulator.simulate(full, args.events, args.seed)
    path = save_sample(args.output, events, feature_names(simulator), simulator=args.name, params=full, seed=args.seed)
    print(f"wrote {len(events)} events x {events.shape[1]} features to {path}")
    return 0


def _simulators(args) -> int:
    from advopt.simulator import default_space, get_simulator, registered_simulators

    for name, target in sorted(registered_simulators().items()):
        try:
            space = default_space(get_simulator(name))
        except ValueError as err:  # e.g. an optional extra is missing
            print(f"{name:<12} {target}  (unavailable: {err})")
            continue
        params = ", ".join(f"{p.name} [{p.low:g}, {p.high:g}]" for p in space) if space else "no default space"
        print(f"{name:<12} {target}\n{'':<12} {params}")
    return 0


def _analyses(args) -> int:
    from advopt.histograms.analysis import get_analysis, registered_analyses

    for name, target in sorted(registered_analyses().items()):
        try:
            analysis = get_analysis(name)  # loads it and runs the conformance check
        except ValueError as err:
            print(f"{name:<28} {target}  (unavailable: {err})")
            continue
        print(f"{name:<28} {target}  {len(analysis.histograms)} histograms")
    return 0


def _check(args) -> int:
    from advopt.simulator import check_simulator, get_simulator

    simulator = get_simulator(args.name, **_key_values(args.option, "--option", numbers=False))
    params = _key_values(args.param, "--param") or None
    report = check_simulator(simulator, params)
    print(report)
    return 0 if report.ok else 1


def _key_values(items: list[str], flag: str, numbers: bool = True) -> dict:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"{flag}: expected KEY=VALUE, got {item!r}")
        out[key.strip()] = _number(value.strip(), flag, key) if numbers else _literal(value.strip())
    return out


def _number(text: str, flag: str, key: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{flag} {key}: {text!r} is not a number") from None


def _literal(text: str):
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return {"true": True, "false": False}.get(text.lower(), text)


def _default_run_dir(config: dict) -> str:
    name = str(config["simulator"]["name"]).replace(":", "_").replace("/", "_")
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    # a random tail: runs started in the same second (or on two nodes) get directories of their own
    while True:
        path = Path("advopt-runs") / f"{name}-{stamp}-{uuid.uuid4().hex[:6]}"
        if not path.exists():
            return str(path)


if __name__ == "__main__":
    sys.exit(main())
