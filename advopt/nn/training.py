"""The one training loop of the torch divergences (mlp, adaptive, Wasserstein, TV): a seeded
network, then epoch after epoch while the score improves, keeping the best epoch's weights.

Early stopping on a held-out score (a loss, or for a critic its objective) with a
``patience`` of epochs without a gain of more than ``tol``; the best epoch's weights are
loaded back at the end. Deterministic for a seed on a given device: the network's
initialisation is drawn from its own stream (the global torch stream is left as it was).
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import numpy as np
import torch

from advopt.nn.networks import build_mlp


def seeded_mlp(n_features: int, hidden: tuple[int, ...], dropout: float, seed: int, device: torch.device):
    """An MLP initialised from ``seed`` (torch's global stream forked, not consumed), and a
    CPU generator from the same seed for the minibatch order."""
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        torch.manual_seed(seed % 2**63)
        model = build_mlp(n_features, hidden, dropout).to(device)
    return model, torch.Generator(device="cpu").manual_seed(seed % 2**63)


def keep_best(model, epoch_score: Callable[[], float], *, max_epochs: int, patience: int, tol: float = 1e-4,
              maximise: bool = False, snapshot: Callable[[], object] = lambda: None,
              what: str = "the discriminator's held-out loss") -> tuple[int, object]:
    """Run ``epoch_score`` (one epoch of training, returning the epoch's score) up to
    ``max_epochs`` times; stop after ``patience`` epochs without a gain above ``tol``; load
    the best epoch's weights. Returns (epochs run, ``snapshot()`` taken at the best epoch).
    FloatingPointError when no epoch had a finite score."""
    best_score, best_state, best_epoch, best_snapshot = (-np.inf if maximise else np.inf), None, 0, None
    epoch = 0
    for epoch in range(1, max_epochs + 1):
        model.train()
        score = epoch_score()
        improved = score > best_score + tol if maximise else score < best_score - tol
        if improved:
            best_score, best_state, best_epoch, best_snapshot = score, copy.deepcopy(model.state_dict()), epoch, snapshot()
        elif epoch - best_epoch >= patience:
            break
    if best_state is None:
        raise FloatingPointError(f"{what} was never finite")
    model.load_state_dict(best_state)
    return epoch, best_snapshot
