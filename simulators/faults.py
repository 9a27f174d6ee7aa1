"""Simulators that misbehave on purpose, importable by worker processes."""

import os
import signal
import time
from pathlib import Path

import numpy as np


class SlowGaussian:
    """The Gaussian toy, taking ``delay`` seconds per call (so a worker can be killed mid-task)."""

    feature_names = ("x",)
    default_space = {"mean": (-2.0, 2.0)}

    def __init__(self, delay=0.2):
        self.delay = delay

    def simulate(self, params, n, seed):
        time.sleep(self.delay)
        return np.random.default_rng(seed).normal(params["mean"], 1.0, (n, 1))


class CrashOnce(SlowGaussian):
    """Kills its own process the first time it runs (a marker file remembers), then works."""

    def __init__(self, marker, delay=0.0):
        super().__init__(delay)
        self.marker = str(marker)

    def simulate(self, params, n, seed):
        if not Path(self.marker).exists():
            Path(self.marker).write_text("crashed")
            os._exit(13)
        return super().simulate(params, n, seed)


class PidReportingGaussian(SlowGaussian):
    """Notes its process in ``directory`` (one file per call) before it sleeps and simulates,
    so that a test can kill the process of a task that is running."""

    def __init__(self, directory, delay=0.3):
        super().__init__(delay)
        self.directory = str(directory)

    def simulate(self, params, n, seed):
        name = f"{seed}-{time.monotonic_ns()}"
        written = Path(self.directory, name + ".tmp")
        written.write_text(str(os.getpid()))
        written.replace(Path(self.directory, name + ".pid"))  # atomic: a reader never sees an empty note
        return super().simulate(params, n, seed)


def worker_pid(simulator, task):
    """An executor task that reports which process ran it (after 0.2 s, so every worker gets some)."""
    time.sleep(0.2)
    return os.getpid()


class CrashAlways(SlowGaussian):
    """Notes each attempt in a file, then kills its process: counts how often a task is retried."""

    def __init__(self, attempts):
        super().__init__(0.0)
        self.attempts = str(attempts)

    def simulate(self, params, n, seed):
        with open(self.attempts, "a") as file:
            file.write("attempt\n")
        os._exit(15)


class CrashAbove(SlowGaussian):
    """Kills its process for every point with mean > threshold: never recovers there."""

    def __init__(self, threshold=1.0):
        super().__init__(0.0)
        self.threshold = threshold

    def simulate(self, params, n, seed):
        if params["mean"] > self.threshold:
            os._exit(14)
        return super().simulate(params, n, seed)


class FaultByRegion(SlowGaussian):
    """A different fault in each region of ``mean``: raises, NaN, wrong shape, hangs, segfaults,
    exhausts memory; the Gaussian toy elsewhere. Every fault must be recorded with its reason."""

    REGIONS = [(-2.0, -1.6, "raise"), (-1.6, -1.2, "nan"), (-1.2, -0.8, "shape"), (-0.8, -0.4, "hang"),
               (1.2, 1.6, "segfault"), (1.6, 2.0, "memory")]
    REASONS = {"raise": "simulator raised RuntimeError", "nan": "NaN/inf", "shape": "shape", "hang": "hung",
               "segfault": "died", "memory": "MemoryError"}

    def __init__(self):
        super().__init__(0.0)

    @classmethod
    def fault_at(cls, mean):
        return next((kind for low, high, kind in cls.REGIONS if low <= mean < high), None)

    def simulate(self, params, n, seed):
        kind = self.fault_at(params["mean"])
        if kind == "raise":
            raise RuntimeError("generator crashed")
        if kind == "nan":
            return np.full((n, 1), np.nan)
        if kind == "shape":
            return np.zeros((n // 2, 1))  # fewer events than asked for
        if kind == "hang":
            time.sleep(3600)
        if kind == "segfault":
            os.kill(os.getpid(), signal.SIGSEGV)
        if kind == "memory":
            np.ones(2**62, dtype=np.uint8)
        return super().simulate(params, n, seed)
