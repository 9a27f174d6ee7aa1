"""The learnt summary t(x) of the pooled estimator: a torch network on one event, trained on
the events of every simulated point at once (with the point's parameters u, unit cube).

One network per cross-fitting fold is kept for the whole run and warm-started as points
accumulate. Inputs are standardised with the reference's mean and width (fixed for the run,
so warm starts see the same inputs).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from advopt.nn.networks import torch_threads

# Share of a fold's training events held out to stop training (early stopping).
_VALIDATION_SHARE = 0.1
_STEPS_PER_EPOCH = 256


class SummaryNetwork:
    """t(x) in R^dim, learnt from events x with the parameters u of the point they came from.

    ``kind = "score"`` (the default): a parameter-conditioned discriminator between pairs
    (x, u) as simulated and pairs with u shuffled among the events, whose logit is
    ``z(u) . t(x) + a(u) + b(x)`` with z = (u - c) / h, a quadratic a and a free b. For a
    family that is locally exponential, p(x | u) ~ p(x | c) exp(z . s(x) - A(u)), that form
    is exact and t is the score: the statistic that makes a moment fit efficient.
    ``kind = "regression"``: t(x) ~ E[u | x] by weighted least squares, which saturates for
    informative events and so weighs them less than the score does.
    """

    def __init__(self, n_features: int, dim: int, feature_mean: np.ndarray, feature_scale: np.ndarray, *,
                 hidden: tuple[int, ...], learning_rate: float, batch_size: int, device: torch.device,
                 threads: int, seed: int, kind: str = "score"):
        if kind not in ("score", "regression"):
            raise ValueError(f"optimizer.summary: must be 'score' or 'regression', got {kind!r}")
        self.kind, self.dim = kind, dim
        self.device = device
        self.threads = threads
        self.batch_size = batch_size
        self._mean = np.asarray(feature_mean, dtype=np.float32)
        self._scale = np.where(np.asarray(feature_scale) > 0, feature_scale, 1.0).astype(np.float32)
        with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
            torch.manual_seed(seed % 2**63)
            layers: list[nn.Module] = []
            width = n_features
            for size in hidden:
                layers += [nn.Linear(width, size), nn.SiLU()]
                width = size
            layers.append(nn.Linear(width, dim + (1 if kind == "score" else 0)))
            self.model = nn.Sequential(*layers).to(device)
            # a(u) = alpha . z + z' M z, the log-normaliser's local quadratic (score kind only)
            self.alpha = nn.Parameter(torch.zeros(dim, device=device))
            self.quadratic = nn.Parameter(torch.zeros(dim, dim, device=device))
        parameters = list(self.model.parameters()) + ([self.alpha, self.quadratic] if kind == "score" else [])
        self._parameters = parameters
        self._optimiser = torch.optim.Adam(parameters, lr=learning_rate)
        self.target_centre = np.zeros(dim)
        self.target_scale = np.ones(dim)

    def _inputs(self, x: np.ndarray) -> torch.Tensor:
        return torch.as_tensor((np.asarray(x, dtype=np.float32) - self._mean) / self._scale, device=self.device)

    def _batch_loss(self, inputs, z, w, batch, partner) -> torch.Tensor:
        """Mean weighted loss over ``batch``; ``partner`` gives each event the u of another
        event (the shuffled pairs of the score kind)."""
        out = self.model(inputs[batch])
        if self.kind == "regression":
            return (w[batch, None] * (out - z[batch]) ** 2).mean()
        t, b = out[:, :-1], out[:, -1]
        joint, shuffled = z[batch], z[partner]
        logit_joint = (joint * t).sum(-1) + self._log_normaliser(joint) + b
        logit_shuffled = (shuffled * t).sum(-1) + self._log_normaliser(shuffled) + b
        loss = nn.functional.softplus(-logit_joint) + nn.functional.softplus(logit_shuffled)
        return (w[batch] * loss).mean()

    def _log_normaliser(self, z: torch.Tensor) -> torch.Tensor:
        return z @ self.alpha + ((z @ self.quadratic) * z).sum(-1)

    def fit(self, x: np.ndarray, u: np.ndarray, weights: np.ndarray, *, max_epochs: int, patience: int,
            seed: int, epoch_events: int | None = None) -> int:
        """Train (continuing from the current weights) on events x (n, d) from points u
        (n, dim), with per-event weights; stop when the held-out loss stops falling and keep
        the best epoch. With ``epoch_events``, an epoch is that many training events drawn
        afresh from the whole set (a replay sample), so its cost does not grow with the pool.
        Returns the epochs run."""
        rng = np.random.default_rng(seed)
        order = rng.permutation(len(x))
        n_hold = max(2, int(_VALIDATION_SHARE * len(x)))
        hold, train = order[:n_hold], order[n_hold:]
        w_mean = np.average(u, axis=0, weights=weights)
        w_sd = np.sqrt(np.average((u - w_mean) ** 2, axis=0, weights=weights))
        self.target_centre, self.target_scale = w_mean, np.where(w_sd > 0, w_sd, 1.0)
        z = torch.as_tensor((u - self.target_centre) / self.target_scale, dtype=torch.float32, device=self.device)
        w = torch.as_tensor(weights / weights.mean(), dtype=torch.float32, device=self.device)
        inputs = self._inputs(x)
        generator = torch.Generator(device="cpu").manual_seed(seed % 2**63)
        train_index = torch.as_tensor(train, device=self.device)
        hold_index = torch.as_tensor(hold, device=self.device)
        hold_partner = hold_index[torch.randperm(len(hold_index), generator=generator).to(self.device)]
        per_epoch = len(train) if epoch_events is None else min(len(train), int(epoch_events))
        # at most ~256 steps an epoch: large pools train in larger batches, not longer epochs
        batch_size = max(self.batch_size, -(-per_epoch // _STEPS_PER_EPOCH))
        with torch_threads(self.threads):
            best_loss = self._held_out_loss(inputs, z, w, hold_index, hold_partner)
            best_state, best_epoch, epoch = self._state(), 0, 0
            for epoch in range(1, max_epochs + 1):
                self.model.train()
                permuted = train_index[torch.randperm(len(train_index), generator=generator).to(self.device)][:per_epoch]
                partners = train_index[torch.randperm(len(train_index), generator=generator).to(self.device)][:per_epoch]
                for batch, partner in zip(permuted.split(batch_size), partners.split(batch_size)):
                    loss = self._batch_loss(inputs, z, w, batch, partner)
                    self._optimiser.zero_grad(set_to_none=True)
                    loss.backward()
                    self._optimiser.step()
                hold_loss = self._held_out_loss(inputs, z, w, hold_index, hold_partner)
                if not np.isfinite(hold_loss):
                    self._load(best_state)  # a later fit starts again from finite weights
                    raise FloatingPointError("summary network: the loss is not finite")
                if hold_loss < best_loss - 1e-5 * abs(best_loss):
                    best_loss, best_state, best_epoch = hold_loss, self._state(), epoch
                elif epoch - best_epoch >= patience:
                    break
        self._load(best_state)
        return epoch

    def _state(self) -> list[torch.Tensor]:
        return [p.detach().clone() for p in self._parameters]

    @torch.no_grad()
    def _load(self, state: list[torch.Tensor]) -> None:
        for p, saved in zip(self._parameters, state):
            p.copy_(saved)

    @torch.no_grad()
    def _held_out_loss(self, inputs, z, w, index, partner) -> float:
        self.model.eval()
        return float(self._batch_loss(inputs, z, w, index, partner))

    @torch.no_grad()
    def transform(self, x: np.ndarray, batch: int = 65_536) -> np.ndarray:
        """The summaries of events x, float64 (n, dim)."""
        self.model.eval()
        with torch_threads(self.threads):
            parts = [self.model(self._inputs(x[i:i + batch]))[:, :self.dim].double().cpu().numpy()
                     for i in range(0, len(x), batch)]
        return np.concatenate(parts) if parts else np.zeros((0, self.dim))
