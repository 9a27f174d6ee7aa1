"""Jensen-Shannon divergence from a small torch MLP classifier (CPU or CUDA)."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from advopt.divergence.base import (LN2, DivergenceBase, DivergenceEstimate, balanced_weights, check_holdout_fraction,
                                    jsd_fisher_information, jsd_from_losses, make_labelled_split)
from advopt.nn.networks import resolve_device, standardiser, torch_threads
from advopt.nn.training import keep_best, seeded_mlp


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
        check_positive("max_epochs", max_epochs)
        check_positive("batch_size", batch_size)
        check_positive("learning_rate", learning_rate)
        check_positive("patience", patience)
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
        check_positive("threads", threads)
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
        model, generator = seeded_mlp(x_train.shape[1], self.hidden, self.dropout, seed, self.device)
        weights = torch.as_tensor(balanced_weights(y_train), dtype=torch.float32, device=self.device)
        targets = torch.as_tensor(y_train, dtype=torch.float32, device=self.device)
        optimiser = torch.optim.Adam(model.parameters(), lr=self.learning_rate, weight_decay=self.weight_decay)

        def epoch() -> float:
            for batch in torch.randperm(len(targets), generator=generator).to(self.device).split(self.batch_size):
                logits = model(x_train[batch]).squeeze(-1)
                loss = nn.functional.binary_cross_entropy_with_logits(logits, targets[batch], weight=weights[batch])
                optimiser.zero_grad(set_to_none=True)
                loss.backward()
                optimiser.step()
            return self._balanced_loss(model, x_hold, y_hold)

        epochs, _ = keep_best(model, epoch, max_epochs=self.max_epochs, patience=self.patience)
        return model, epochs

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


def check_positive(field: str, value) -> None:
    if not isinstance(value, (int, float)) or value <= 0:
        raise ValueError(f"divergence.{field}: must be a positive number, got {value!r}")
