"""The torch pieces every torch divergence shares: the device, the standardised inputs, the
MLP, and the thread count a small network trains with."""

from __future__ import annotations

import contextlib

import numpy as np
import torch
from torch import nn


def resolve_device(device: str = "auto") -> torch.device:
    """``"auto"`` picks CUDA when a GPU is visible, else the CPU."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError):
        resolved = None
    if resolved is None or resolved.type not in ("cpu", "cuda", "mps"):
        raise ValueError(f"divergence.device: must be 'auto', 'cpu', 'cuda' (or 'cuda:N') or 'mps', got {device!r}")
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("divergence.device: 'cuda' asked for, but no CUDA GPU is visible")
    return resolved


def standardiser(x: np.ndarray, device: torch.device):
    """A function mapping arrays to float32 tensors standardised with ``x``'s per-feature
    mean and width (a constant feature keeps width 1)."""
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    return lambda a: torch.as_tensor((a - mean) / scale, dtype=torch.float32, device=device)


def build_mlp(n_features: int, hidden: tuple[int, ...], dropout: float) -> nn.Sequential:
    layers: list[nn.Module] = []
    width = n_features
    for size in hidden:
        layers += [nn.Linear(width, size), nn.LeakyReLU(0.1)]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        width = size
    layers.append(nn.Linear(width, 1))
    return nn.Sequential(*layers)


@contextlib.contextmanager
def torch_threads(threads: int):
    """Small MLPs gain nothing from intra-op threads on the CPU, and with simulation
    workers busy on the other cores extra threads spin and slow training ~40x (measured)."""
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
