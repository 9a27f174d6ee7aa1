"""Training time of the pooled estimator's summary network: one epoch on N events, CPU and CUDA.

    python -m experiments.bench_pooled_training [--events 1000000] [--features 45] [--params 4]
        [--threads 1,2] [--repeats 3]

Events are Gaussian features whose means move with the parameters (the network's work does
not depend on what the events are). One epoch is ~256 optimiser steps (the network trains in
larger batches when the pool is large); the figure is the median seconds per epoch over
--repeats, for the CPU with each thread count and for CUDA when a GPU is visible, and the
ratio CPU (first thread count) / CUDA measured in the same run. Writes
results/pooled_training.json.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from advopt.pooled.summary import SummaryNetwork
from experiments._common import write_result


def epoch_seconds(device: str, threads: int, x: np.ndarray, u: np.ndarray, repeats: int) -> float:
    net = SummaryNetwork(x.shape[1], u.shape[1], x.mean(axis=0), x.std(axis=0), hidden=(64, 64), learning_rate=1e-3,
                         batch_size=512, device=torch.device(device), threads=threads, seed=1)
    weights = np.ones(len(x))
    times = []
    for repeat in range(repeats):
        if device == "cuda":
            torch.cuda.synchronize()
        started = time.perf_counter()
        net.fit(x, u, weights, max_epochs=1, patience=1, seed=repeat)
        if device == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - started)
    return float(np.median(times))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--features", type=int, default=45)
    parser.add_argument("--params", type=int, default=4)
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    u = rng.random((args.events, args.params))
    x = (rng.standard_normal((args.events, args.features))
         + u @ rng.standard_normal((args.params, args.features))).astype(np.float32)
    figures = {"events": args.events, "features": args.features, "params": args.params, "cpu_seconds_per_epoch": {}}
    for threads in (int(t) for t in args.threads.split(",")):
        figures["cpu_seconds_per_epoch"][threads] = epoch_seconds("cpu", threads, x, u, args.repeats)
        print(f"CPU, {threads} thread(s): {figures['cpu_seconds_per_epoch'][threads]:.2f} s per epoch", flush=True)
    if torch.cuda.is_available():
        figures["cuda_device"] = torch.cuda.get_device_name(0)
        figures["cuda_seconds_per_epoch"] = epoch_seconds("cuda", 1, x, u, args.repeats)
        first = next(iter(figures["cpu_seconds_per_epoch"].values()))
        figures["cpu_over_cuda"] = first / figures["cuda_seconds_per_epoch"]
        print(f"CUDA ({figures['cuda_device']}): {figures['cuda_seconds_per_epoch']:.2f} s per epoch; "
              f"CPU / CUDA = {figures['cpu_over_cuda']:.1f}")
    else:
        print("no CUDA GPU visible: CPU only")
    write_result("pooled_training", figures)


if __name__ == "__main__":
    main()
