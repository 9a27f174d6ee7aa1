"""Throughput of the Pythia e+e- simulator: raw next() vs the full pipeline, and 2 workers vs 1.

Measures, in one run:

1. the raw ``pythia.next()`` rate (a plain loop, no feature computation) with exactly the
   settings ``PythiaEE`` uses (same cached object, Monash point);
2. the full pipeline rate, ``PythiaEE.simulate`` (nextBatch + compiled feature kernels),
   events with features per second per core;
3. their ratio (target >= 0.85);
4. the speed-up of 2 worker processes (joblib ``Parallel(n_jobs=2, backend="loky")``)
   over 1 on the same list of tasks, each task a chunk of many events, with the workers
   warmed up first (Pythia object built, kernels loaded), and the parallel efficiency
   (speed-up / 2, target >= 0.95). Because the wall-clock speed-up on a shared 2-core
   machine mostly measures the other jobs, the CPU seconds the tasks use in the workers
   vs in-process are recorded too ("cpu_efficiency": 1.0 = no per-task overhead in the
   workers).

Raw and pipeline runs are interleaved and repeated; medians are reported (the ratio both
as ratio of medians and as median of the per-repeat ratios, which follows slow changes of
the machine's load better), both for wall clock and for process CPU time (the CPU-time rate is the fair per-core figure when other
jobs share the machine). The machine's load average is recorded before and after.

Usage::

    python -m experiments.bench_pythia_throughput [--events 4000] [--repeats 5]
        [--tasks 8] [--task-events 2000] [--out experiments/results/pythia_throughput.json]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import time

from experiments._common import command_line, git_commit

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

def _task(n: int, seed: int) -> tuple[float, float]:
    """One parallel task: simulate n events at the Monash point; returns (checksum, CPU seconds)."""
    from simulators.pythia import PythiaEE

    c0 = time.process_time()
    checksum = float(PythiaEE().simulate({}, n, seed)[:, 0].sum())
    return checksum, time.process_time() - c0


def _pid_task(n: int, seed: int) -> int:
    _task(n, seed)
    return os.getpid()


def _profile(gen, n: int, seed: int, chunk: int) -> dict:
    """Where the pipeline's time goes (CPU us/event): nextBatch, awkward -> numpy, kernel.

    Re-traces ``_Generator.generate`` step by step with timers around each part.
    """
    import numpy as np

    from simulators.observables import N_FEATURES, event_features
    from simulators.pythia import seed_to_pythia

    gen.pythia.rndm.init(seed_to_pythia(seed))
    out = np.empty((n, N_FEATURES))
    t_batch = t_conv = t_kernel = 0.0
    done = 0
    while done < n:
        c0 = time.process_time()
        batch = gen.pythia.nextBatch(min(chunk, n - done), "skip")
        c1 = time.process_time()
        prt = batch.layout.content("prt")
        rec = prt.content
        mom = rec.content("p")
        arrays = (np.asarray(prt.offsets.data, dtype=np.int64), rec.content("id").data, rec.content("status").data,
                  rec.content("mother1").data, mom.content("px").data, mom.content("py").data,
                  mom.content("pz").data, mom.content("e").data)
        c2 = time.process_time()
        event_features(*arrays, gen.sqrt_s, out, done)
        c3 = time.process_time()
        done += len(prt)
        t_batch += c1 - c0
        t_conv += c2 - c1
        t_kernel += c3 - c2
    return {"nextBatch_us_per_event": 1e6 * t_batch / n, "conversion_us_per_event": 1e6 * t_conv / n,
            "kernel_us_per_event": 1e6 * t_kernel / n}


def _timed(fn):
    w0, c0 = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - w0, time.process_time() - c0


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=4000, help="events per repeat for the single-core rates")
    parser.add_argument("--repeats", type=int, default=5, help="repeats (medians are reported); at least 3")
    parser.add_argument("--tasks", type=int, default=8, help="tasks in the 1-vs-2-worker comparison")
    parser.add_argument("--task-events", type=int, default=2000, help="events per task")
    parser.add_argument("--out", default=os.path.join(HERE, "results", "pythia_throughput.json"))
    args = parser.parse_args(argv)
    repeats = max(3, args.repeats)

    from joblib import Parallel, delayed

    import simulators.pythia as sp

    sim = sp.PythiaEE()
    load_before = os.getloadavg()
    sim.simulate({}, 200, 1)  # build the object, init(), load the compiled kernels
    gen = sp._generator(sim.sqrt_s, sim.settings)
    pythia = gen.pythia
    n = args.events

    def raw():
        pythia.rndm.init(sp.seed_to_pythia(12345))
        for _ in range(n):
            pythia.next()

    def pipeline():
        sim.simulate({}, n, 12345)

    med = statistics.median

    raw_wall, raw_cpu, pipe_wall, pipe_cpu = [], [], [], []
    for _ in range(repeats):  # interleaved, so slow phases of a shared machine hit both
        w, c = _timed(raw)
        raw_wall.append(n / w)
        raw_cpu.append(n / c)
        w, c = _timed(pipeline)
        pipe_wall.append(n / w)
        pipe_cpu.append(n / c)

    profiles = [_profile(gen, n, 12345, sp._CHUNK) for _ in range(repeats)]
    profile = {key: med([p[key] for p in profiles]) for key in profiles[0]}
    profile["raw_next_us_per_event"] = 1e6 / med(raw_cpu)

    # -- 1 vs 2 workers --------------------------------------------------------------------
    tasks = [(args.task_events, 1000 + i) for i in range(args.tasks)]
    with Parallel(n_jobs=2, backend="loky") as parallel:
        pids = set()
        for _ in range(5):  # warm both workers: each builds its Pythia object and loads kernels
            pids |= set(parallel(delayed(_pid_task)(300, 7 + i) for i in range(4)))
            if len(pids) >= 2:
                break
        serial_wall, par_wall, serial_cpu, par_cpu = [], [], [], []
        checks = True
        for _ in range(repeats):
            t0 = time.perf_counter()
            serial = [_task(*t) for t in tasks]
            serial_wall.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            par = parallel(delayed(_task)(*t) for t in tasks)
            par_wall.append(time.perf_counter() - t0)
            serial_cpu.append(sum(c for _, c in serial))
            par_cpu.append(sum(c for _, c in par))
            checks = checks and [s for s, _ in serial] == [s for s, _ in par]
    load_after = os.getloadavg()

    speedup = med(serial_wall) / med(par_wall)
    # CPU seconds the tasks used in the workers vs in-process: ~1 when the workers redo no
    # set-up work per task (cached Pythia object, loaded kernels). Unaffected by other jobs
    # competing for the cores, unlike the wall-clock speed-up.
    cpu_efficiency = med(serial_cpu) / med(par_cpu)
    result = {
        "command": command_line() if argv is None else " ".join(["python -m experiments.bench_pythia_throughput", *argv]),
        "git_commit": git_commit(),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": {
            "cpu_count": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in load_after],
            "note": "shared 2-core machine, other jobs running: figures are medians over repeats",
        },
        "settings": {"process": "e+e- -> gamma*/Z -> q qbar (udscb)", "sqrt_s": sim.sqrt_s, "tune": "Monash (Tune:ee = 7)",
                     "chunk_events": sp._CHUNK, "features": len(sim.feature_names)},
        "events_per_repeat": n,
        "repeats": repeats,
        "raw_next": {
            "rate_wall_median": med(raw_wall), "rate_cpu_median": med(raw_cpu),
            "rate_wall": raw_wall, "rate_cpu": raw_cpu,
        },
        "pipeline": {
            "rate_wall_median": med(pipe_wall), "rate_cpu_median": med(pipe_cpu),
            "rate_wall": pipe_wall, "rate_cpu": pipe_cpu,
        },
        "ratio_cpu": med(pipe_cpu) / med(raw_cpu),
        "ratio_wall": med(pipe_wall) / med(raw_wall),
        "ratio_cpu_paired_median": med([p / r for p, r in zip(pipe_cpu, raw_cpu)]),
        "ratio_wall_paired_median": med([p / r for p, r in zip(pipe_wall, raw_wall)]),
        "ratio_target": 0.85,
        "profile_cpu_median": profile,
        "parallel": {
            "backend": "loky",
            "tasks": args.tasks,
            "events_per_task": args.task_events,
            "workers_warmed": len(pids),
            "serial_wall_s": serial_wall,
            "two_workers_wall_s": par_wall,
            "serial_wall_median_s": med(serial_wall),
            "two_workers_wall_median_s": med(par_wall),
            "speedup": speedup,
            "efficiency": speedup / 2.0,
            "efficiency_target": 0.95,
            "task_cpu_serial_s": serial_cpu,
            "task_cpu_two_workers_s": par_cpu,
            "cpu_efficiency": cpu_efficiency,
            "same_results": bool(checks),
        },
    }
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as fh:
        json.dump(result, fh, indent=2)
        fh.write("\n")

    rows = [
        ("raw next() [ev/s]", med(raw_wall), med(raw_cpu)),
        ("pipeline simulate() [ev/s]", med(pipe_wall), med(pipe_cpu)),
        ("ratio pipeline/raw", result["ratio_wall"], result["ratio_cpu"]),
    ]
    print(f"Pythia e+e- throughput ({repeats} repeats x {n} events, medians; load avg {load_before[0]:.1f} -> {load_after[0]:.1f})")
    print(f"{'':30s} {'wall':>10s} {'cpu':>10s}")
    rows.append(("ratio, median of paired repeats", result["ratio_wall_paired_median"], result["ratio_cpu_paired_median"]))
    for label, wall, cpu in rows:
        print(f"{label:30s} {wall:10.3f} {cpu:10.3f}" if wall < 10 else f"{label:30s} {wall:10.0f} {cpu:10.0f}")
    print("where the time goes (CPU us/event, medians): raw next() {raw_next_us_per_event:.1f} | "
          "nextBatch {nextBatch_us_per_event:.1f}, awkward->numpy {conversion_us_per_event:.2f}, "
          "kernels {kernel_us_per_event:.1f}".format(**profile))
    print(f"1 worker  {args.tasks} x {args.task_events} events: {med(serial_wall):.2f} s")
    print(f"2 workers {args.tasks} x {args.task_events} events: {med(par_wall):.2f} s  "
          f"speed-up {speedup:.2f}, efficiency {speedup / 2:.2f}  (same results: {bool(checks)})")
    print(f"task CPU time in workers vs in-process: efficiency {cpu_efficiency:.3f} (insensitive to other jobs)")
    print(f"wrote {os.path.relpath(args.out, ROOT)}")
    return result


if __name__ == "__main__":
    main()
