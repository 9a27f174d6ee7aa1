"""Jensen-Shannon divergence from a small torch MLP classifier (CPU or CUDA)."""

from __future__ import annotations

import contextlib
import copy
import numpy as np
import torch
from torch import nn

from advopt.divergence.base import (
    DivergenceBase,
    check_holdout_fraction,
    LN2,
    DivergenceEstimate,
    balanced_weights,
    jsd_fisher_information,
    jsd_from_losses,
    make_labelled_split,
)


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


class MLPDivergence(DivergenceBase):
    """JSD estimate ``ln 2 - held-out cross-entropy`` of an MLP trained to tell simulated
    from reference events.

    Inputs are standardised with the training split's mean and width. Training uses Adam
    on class-balanced minibatches and stops when the held-out loss has not improved for
    ``patience`` epochs; the best epoch's weights give the estimate. A third of each sample
    (``holdout_fraction``) is held out. Choosing the best epoch on the held-out loss makes
    the estimate very slightly optimistic; with few epochs to choose among this is far
    below the standard error. Deterministic for a seed on a given device.
    """

    name = "jsd-mlp"
    upper_bound = LN2
    # the curvature of a JSD surface gives the Fisher information (advopt/intervals.py)
    fisher_information = staticmethod(jsd_fisher_information)

    def __init__(
        self,
        hidden: tuple[int, ...] | list[int] = (64, 64),
        max_epochs: int = 200,
        batch_size: int = 256,
        learning_rate: float = 3e-3,
        weight_decay: float = 0.0,
        dropout: float = 0.0,
        patience: int = 8,
        holdout_fraction: float = 1 / 3,
        device: str = "auto",
        threads: int = 1,
    ):
        self.hidden = tuple(int(h) for h in hidden)
        if not self.hidden or min(self.hidden) < 1:
            raise ValueError(f"divergence.hidden: layer sizes must be positive integers, got {list(hidden)}")
        _check_positive("max_epochs", max_epochs)
        _check_positive("batch_size", batch_size)
        _check_positive("learning_rate", learning_rate)
        _check_positive("patience", patience)
        if not 0 <= dropout < 1:
            raise ValueError(f"divergence.dropout: must be in [0, 1), got {dropout}")
        if weight_decay < 0:
            raise ValueError(f"divergence.weight_decay: must be >= 0, got {weight_decay}")
        check_holdout_fraction(holdout_fraction)
        self.max_epochs = int(max_epochs)
        self.batch_size = int(batch_size)
        self.learning_rate = float(learning_rate)
        self.weight_decay = float(weight_decay)
        self.dropout = float(dropout)
        self.patience = int(patience)
        self.holdout_fraction = float(holdout_fraction)
        self.device = resolve_device(device)
        _check_positive("threads", threads)
        self.threads = int(threads)

    def estimate(self, simulated: np.ndarray, reference: np.ndarray, seed: int) -> DivergenceEstimate:
        rng = np.random.default_rng(seed)
        x_train, y_train, x_hold, y_hold = make_labelled_split(simulated, reference, self.holdout_fraction, rng)
        to_tensor = standardiser(x_train, self.device)
        with torch_threads(self.threads):
            model, epochs = self._train(to_tensor(x_train), y_train, to_tensor(x_hold), y_hold, seed)
            loss_hold = self._losses(model, to_tensor(x_hold), y_hold)
            loss_train = self._losses(model, to_tensor(x_train), y_train)
        value, stderr = jsd_from_losses(loss_hold[y_hold == 1], loss_hold[y_hold == 0])
        train_value, _ = jsd_from_losses(loss_train[y_train == 1], loss_train[y_train == 0])
        # Kept as a diagnostic: a training value far above the held-out one means overfitting.
        details = {"epochs": epochs, "train_value": train_value}
        return DivergenceEstimate(value, stderr, len(simulated), details)

    # -- training ------------------------------------------------------------------------------
    def _train(self, x_train, y_train, x_hold, y_hold, seed: int):
        device = self.device
        with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
            torch.manual_seed(seed % 2**63)
            model = build_mlp(x_train.shape[1], self.hidden, self.dropout).to(device)
        generator = torch.Generator(device="cpu").manual_seed(seed % 2**63)
        weights = torch.as_tensor(balanced_weights(y_train), dtype=torch.float32, device=device)
        targets = torch.as_tensor(y_train, dtype=torch.float32, device=device)
        optimiser = torch.optim.Adam(model.parameters(), lr=self.learning_rate, weight_decay=self.weight_decay)
        best_loss, best_state, best_epoch, epoch = np.inf, None, 0, 0
        for epoch in range(1, self.max_epochs + 1):
            model.train()
            order = torch.randperm(len(targets), generator=generator).to(device)
            for batch in order.split(self.batch_size):
                logits = model(x_train[batch]).squeeze(-1)
                loss = nn.functional.binary_cross_entropy_with_logits(logits, targets[batch], weight=weights[batch])
                optimiser.zero_grad(set_to_none=True)
                loss.backward()
                optimiser.step()
            hold_loss = self._balanced_loss(model, x_hold, y_hold)
            if hold_loss < best_loss - 1e-4:  # gains below 1e-4 nats are far inside the noise
                best_loss, best_state, best_epoch = hold_loss, copy.deepcopy(model.state_dict()), epoch
            elif epoch - best_epoch >= self.patience:
                break
        if best_state is None:  # no finite held-out loss in any epoch
            raise FloatingPointError("the discriminator's held-out loss was never finite")
        model.load_state_dict(best_state)
        return model, epoch

    @torch.no_grad()
    def _losses(self, model: nn.Module, x: torch.Tensor, labels: np.ndarray) -> np.ndarray:
        model.eval()
        logits = model(x).squeeze(-1)
        targets = torch.as_tensor(labels, dtype=torch.float32, device=x.device)
        return nn.functional.binary_cross_entropy_with_logits(logits, targets, reduction="none").double().cpu().numpy()

    def _balanced_loss(self, model: nn.Module, x: torch.Tensor, labels: np.ndarray) -> float:
        losses = self._losses(model, x, labels)
        return 0.5 * losses[labels == 1].mean() + 0.5 * losses[labels == 0].mean()

    def __repr__(self) -> str:
        return f"MLPDivergence(hidden={self.hidden}, device={self.device.type})"


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


def _check_positive(field: str, value) -> None:
    if not isinstance(value, (int, float)) or value <= 0:
        raise ValueError(f"divergence.{field}: must be a positive number, got {value!r}")
