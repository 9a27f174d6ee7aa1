"""Training throughput of the MLP discriminator on CUDA vs the CPU, same model and data.

    python -m experiments.bench_discriminator_device [--epochs 20] [--repeats 3]
        [--sizes 2000 20000 200000] [--batch-sizes 256 4096] [--max-events-epochs 2000000] [--quick]

For two data sets as a tuner would see them (2 features: an XOR-like four-blob sample
against the same rotated by 0.3 rad; 30 features: correlated Gaussians, like a set of
Pythia observables, against the same with a few means shifted and widths scaled), at each
size (events per class) and batch size, ``MLPDivergence(max_epochs=E, patience=E)`` is
timed on

* the CPU with ``threads=1`` (what the tuner uses beside busy simulation workers),
* the CPU with ``threads=os.cpu_count()``,
* CUDA, when ``torch.cuda.is_available()``.

``patience=E`` turns early stopping off, so every run trains exactly E epochs and all
devices do the same work. E is ``--epochs`` (20), lowered for the largest sizes so that
events*epochs stays under ``--max-events-epochs`` (2M: 5 epochs at 200k per class), which
keeps the run inside a short device lease; the per-epoch work, and so the throughput, is
the same. Each configuration gets a warm-up estimate first (CUDA context,
cuBLAS handles, allocator, thread pool), then ``--repeats`` timed estimates; the median
wall time of ``estimate()`` (split, standardisation, transfer, training, held-out
evaluation) is reported. The throughput is ``events * epochs / second`` where ``events``
counts both samples (simulated + reference, 2 x size); two thirds of them are trained on,
the rest held out and evaluated once per epoch.

The estimates of the devices (same seed, same data) are compared: float rounding differs
between devices and thread counts, so the training trajectories differ slightly; the
values should agree within a few standard errors. Prints a table and writes
results/discriminator_device.json (rewritten after each size, so a run cut short keeps
what it finished).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import numpy as np
import torch

from advopt.divergence.mlp import MLPDivergence
from experiments._common import git_commit, write_result

RESULT_NAME = "discriminator_device"


# -- data ------------------------------------------------------------------------------------
def xor_blobs(n: int, angle: float, rng: np.random.Generator) -> np.ndarray:
    """Four Gaussian blobs at (+-1, +-1), width 0.5, rotated by ``angle``."""
    centres = np.array([[1, 1], [-1, -1], [1, -1], [-1, 1]], dtype=float)
    x = centres[rng.integers(0, 4, n)] + 0.5 * rng.standard_normal((n, 2))
    c, s = np.cos(angle), np.sin(angle)
    return x @ np.array([[c, -s], [s, c]]).T


def wide_gaussians(n: int, shifted: bool, rng: np.random.Generator, d: int = 30) -> np.ndarray:
    """Correlated Gaussians in d features (a fixed random mixing matrix); the 'simulated'
    sample has 5 means shifted by 0.1 and 5 widths scaled by 1.1."""
    mixing = np.random.default_rng(12345).standard_normal((d, d)) / np.sqrt(d) + np.eye(d)
    z = rng.standard_normal((n, d))
    if shifted:
        z[:, :5] += 0.1
        z[:, 5:10] *= 1.1
    return z @ mixing.T


def make_data(kind: str, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    if kind == "xor2d":
        return xor_blobs(n, 0.3, rng), xor_blobs(n, 0.0, rng)
    if kind == "gauss30d":
        return wide_gaussians(n, True, rng), wide_gaussians(n, False, rng)
    raise ValueError(kind)


# -- timing ----------------------------------------------------------------------------------
def time_config(device: str, threads: int, batch_size: int, epochs: int, simulated, reference,
                warmup_data, repeats: int, seed: int) -> dict:
    div = MLPDivergence(device=device, threads=threads, batch_size=batch_size, max_epochs=epochs, patience=epochs)
    # warm-up on a small sample of the same width: context, handles, allocator, thread pool
    div.estimate(*warmup_data, seed=seed)
    walls, trains, estimates = [], [], []
    for _ in range(repeats):
        if device == "cuda":
            torch.cuda.synchronize()
        started = time.perf_counter()
        est = div.estimate(simulated, reference, seed=seed)  # returns numpy: synchronised
        walls.append(time.perf_counter() - started)
        trains.append(est.details.get("train_seconds"))  # absent in some versions of mlp.py
        estimates.append((est.value, est.stderr))
        if est.details["epochs"] != epochs:
            raise RuntimeError(f"expected {epochs} epochs, trained {est.details['epochs']}")
    wall = statistics.median(walls)
    events = len(simulated) + len(reference)
    return {
        "device": device,
        "threads": threads,
        "batch_size": batch_size,
        "epochs": epochs,
        "events": events,
        "wall_seconds": walls,
        "train_seconds": trains,
        "median_wall_seconds": wall,
        "events_epochs_per_second": events * epochs / wall,
        "value": estimates[0][0],
        "stderr": estimates[0][1],
        "values_all_repeats": [v for v, _ in estimates],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--max-events-epochs", type=int, default=2_000_000,
                        help="cap on events*epochs per estimate: the largest sizes train fewer epochs (at least 2) so "
                             "the run fits a short device lease; throughput per epoch is unchanged")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sizes", type=int, nargs="+", default=[2_000, 20_000, 200_000], help="events per class")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[256, 4096])
    parser.add_argument("--datasets", nargs="+", default=["xor2d", "gauss30d"], choices=["xor2d", "gauss30d"])
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="'all' CPU threads (default: os.cpu_count())")
    parser.add_argument("--no-cuda", action="store_true", help="time the CPU only")
    parser.add_argument("--commit", default=None, help="commit to record where git is unavailable (e.g. a copy of the tree)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="a small smoke run: 2k and 5k events, 3 epochs, 1 repeat")
    args = parser.parse_args()
    if args.quick:
        args.epochs, args.repeats, args.sizes, args.max_events_epochs = 3, 1, [2_000, 5_000], 20_000

    cuda = torch.cuda.is_available() and not args.no_cuda
    cpu_all = max(1, args.threads)
    devices = [("cpu", 1)] + ([("cpu", cpu_all)] if cpu_all > 1 else []) + ([("cuda", 1)] if cuda else [])
    commit = git_commit()
    if commit == "unknown" and args.commit:
        commit = args.commit + " (given on the command line; git unavailable where it ran)"
    meta = {
        "commit": commit,
        "torch_version": torch.__version__,
        "cuda_device": torch.cuda.get_device_name() if cuda else None,
        "cuda_version": torch.version.cuda,
        "cpu_count": os.cpu_count(),
        "cpu_affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "cpu_model": _cpu_model(),
        "python": platform.python_version(),
        "model": {"hidden": [64, 64], "learning_rate": 3e-3, "holdout_fraction": 1 / 3},
        "epochs": args.epochs,
        "max_events_epochs": args.max_events_epochs,
        "repeats": args.repeats,
        "throughput_definition": "events * epochs / median wall seconds of estimate(); events = simulated + reference "
                                 "(2 x size per class); 2/3 trained on, 1/3 held out and evaluated every epoch",
    }
    print(f"torch {torch.__version__}, CUDA device: {meta['cuda_device']}, cpu_count {os.cpu_count()}, "
          f"epochs {args.epochs}, repeats {args.repeats}", flush=True)

    rows: list[dict] = []
    t0 = time.perf_counter()
    for size in args.sizes:  # smallest first: a run cut short keeps the small sizes complete
        epochs = max(2, min(args.epochs, args.max_events_epochs // (2 * size)))
        for dataset in args.datasets:
            warmup = make_data(dataset, 1_000, args.seed + 999)
            simulated, reference = make_data(dataset, size, args.seed)
            for batch_size in args.batch_sizes:
                group = {}
                for device, threads in devices:
                    res = time_config(device, threads, batch_size, epochs, simulated, reference, warmup,
                                      args.repeats, args.seed)
                    res.update(dataset=dataset, features=simulated.shape[1], size_per_class=size)
                    label = f"{device}-{threads}" if device == "cpu" else "cuda"
                    group[label] = res
                    print(f"  {dataset:9s} n={size:>7d} bs={batch_size:>5d} {label:7s} "
                          f"{res['median_wall_seconds']:8.3f} s  {res['events_epochs_per_second']:12.4g} ev*ep/s  "
                          f"JSD {res['value']:.5f} +- {res['stderr']:.5f}   [{time.perf_counter() - t0:.0f} s]", flush=True)
                rows.append(_summarise(dataset, simulated.shape[1], size, batch_size, group, cpu_all))
                rows[-1]["epochs"] = epochs
                write_result(RESULT_NAME, {**meta, "complete": False, "rows": rows})

    _print_table(rows, cpu_all)
    agree = all(r["estimates_agree"] for r in rows)
    path = write_result(RESULT_NAME, {**meta, "complete": True, "all_estimates_agree": agree,
                                      "total_seconds": time.perf_counter() - t0, "rows": rows})
    print(f"estimates agree between devices in all rows: {agree}")
    print(f"wrote {path}")


def _summarise(dataset, features, size, batch_size, group, cpu_all) -> dict:
    rate = {k: v["events_epochs_per_second"] for k, v in group.items()}
    row = {"dataset": dataset, "features": features, "size_per_class": size, "batch_size": batch_size,
           "rate_cpu_1": rate.get("cpu-1"), "rate_cpu_all": rate.get(f"cpu-{cpu_all}"), "rate_cuda": rate.get("cuda"),
           "cpu_all_threads": cpu_all, "runs": group}
    row["ratio_cuda_over_cpu_1"] = row["rate_cuda"] / row["rate_cpu_1"] if row["rate_cuda"] else None
    row["ratio_cuda_over_cpu_all"] = (row["rate_cuda"] / row["rate_cpu_all"]
                                      if row["rate_cuda"] and row["rate_cpu_all"] else None)
    # agreement: each device's value against the 1-thread CPU value, in standard errors
    base = group["cpu-1"]
    z = {}
    for label, res in group.items():
        if label != "cpu-1":
            z[label] = abs(res["value"] - base["value"]) / max(np.hypot(res["stderr"], base["stderr"]), 1e-12)
    row["z_vs_cpu_1"] = z
    row["estimates_agree"] = all(v < 3 for v in z.values())
    return row


def _print_table(rows, cpu_all) -> None:
    print()
    print("events*epochs per second (median of repeats); ratio = CUDA / CPU")
    head = (f"{'data':9s} {'n/class':>8s} {'ep':>3s} {'batch':>6s} {'CPU 1 thr':>11s} {'CPU ' + str(cpu_all) + ' thr':>11s} "
            f"{'CUDA':>11s} {'CUDA/1thr':>9s} {'CUDA/all':>9s}  JSD cpu-1 / cpu-all / cuda (+- se)  max z")
    print(head)
    print("-" * len(head))
    def fmt(v):
        return f"{v:11.4g}" if v else f"{'-':>11s}"
    def ratio(v):
        return f"{v:9.2f}" if v else f"{'-':>9s}"
    for r in rows:
        vals = " / ".join(f"{res['value']:.4f}" for res in r["runs"].values())
        se = r["runs"]["cpu-1"]["stderr"]
        zmax = max(r["z_vs_cpu_1"].values(), default=0.0)
        print(f"{r['dataset']:9s} {r['size_per_class']:>8d} {r['epochs']:>3d} {r['batch_size']:>6d} {fmt(r['rate_cpu_1'])} "
              f"{fmt(r['rate_cpu_all'])} {fmt(r['rate_cuda'])} {ratio(r['ratio_cuda_over_cpu_1'])} "
              f"{ratio(r['ratio_cuda_over_cpu_all'])}  {vals} (+- {se:.4f})  {zmax:.2f}")


def _cpu_model() -> str | None:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


if __name__ == "__main__":
    main()
