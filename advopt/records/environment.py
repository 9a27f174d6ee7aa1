"""What a result depends on besides its configuration: the machine and the library versions.

A run directory keeps this record (``environment.json``); ``resume`` on a machine whose
record differs warns which entries differ, since floating-point results (BLAS kernels, the
instruction set, torch's algorithms) may then differ in the last bits and the history with
them. Every evaluation runs with BLAS and OpenMP pools capped (threadpoolctl) and torch's
deterministic algorithms on (:func:`reproducible`), so that the same machine and seed give a
bit-identical history.
"""

from __future__ import annotations

import contextlib
import platform
import sys
from importlib import metadata

# The libraries whose numerics reach a result.
_LIBRARIES = ("numpy", "scipy", "scikit-learn", "scikit-optimize", "torch", "pythia8mc", "threadpoolctl")
# Instruction-set extensions that change which BLAS kernels run.
_CPU_FLAGS = ("avx", "avx2", "avx512f", "fma", "neon", "sse4_2")


def machine_record(threads: int = 1) -> dict:
    """The machine, its CPU (model and the flags that choose BLAS kernels), the thread caps
    and the library versions; the torch device when CUDA is present."""
    cpu_info = _cpu_info_lines()
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu_model": _cpu_model(cpu_info),
        "cpu_flags": [flag for flag in _CPU_FLAGS if flag in _cpu_flags(cpu_info)],
        "blas_threads": threads,
        "torch_threads": threads,
        "versions": {name: _version(name) for name in _LIBRARIES},
        "cuda_device": _cuda_device(),
    }


@contextlib.contextmanager
def reproducible(threads: int = 1):
    """BLAS/OpenMP pools capped at ``threads`` and torch's deterministic algorithms, for the
    duration; the previous settings come back afterwards."""
    from threadpoolctl import threadpool_limits

    torch = sys.modules.get("torch")
    previous = torch.are_deterministic_algorithms_enabled() if torch is not None else None
    with threadpool_limits(limits=threads):
        if torch is not None:
            torch.use_deterministic_algorithms(True, warn_only=True)
        try:
            yield
        finally:
            if torch is not None:
                torch.use_deterministic_algorithms(previous)


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _cpu_info_lines() -> list[str]:
    try:
        with open("/proc/cpuinfo") as file:
            return file.read().splitlines()
    except OSError:  # not Linux
        return []


def _cpu_model(cpu_info: list[str]) -> str:
    for line in cpu_info:
        if line.lower().startswith(("model name", "hardware")):
            return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def _cpu_flags(cpu_info: list[str]) -> set[str]:
    for line in cpu_info:
        if line.lower().startswith(("flags", "features")):
            return set(line.split(":", 1)[1].split())
    return set()


def _cuda_device() -> str | None:
    torch = sys.modules.get("torch")
    if torch is None or not torch.cuda.is_available():
        return None
    return torch.cuda.get_device_name(0)
