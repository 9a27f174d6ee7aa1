"""AVO's persistent critic (advopt/avo/proposal.py moves the proposal, advopt/avo/method.py
runs the two; this module tells the proposal's draws from the reference).

One torch MLP kept for the whole run (architecture, learning rate, minibatch size, device and
threads from the ``mlp`` divergence's options), inputs standardised with the reference's mean
and sd. Its logit l(x) is large for reference-like events. A quarter of the reference is held
out and never trained on.

Each batch (an AVO iteration), in this order:
1. On the first batch, with an untrained critic, it trains first (warm-up: those scores are
   in-sample).
2. Every draw's events are scored by the critic as it was *before* it saw them: the recorded
   value is the JSD estimate ln 2 - (CE_sim + CE_ref) / 2 between the draw's events and the
   held-out reference (a lower bound of the JSD, noisier than a dedicated fit), and the loss
   told to the proposal is the generator's, mean softplus(-l(x)) (the paper's U_g,
   non-saturating).
3. The critic trains ``epochs`` epochs on the batch's events against as many events of the
   reference's training part, with binary cross-entropy plus the R1 penalty
   ``r1_gamma / 2 * E_ref |grad_x l(x)|^2`` (Mescheder et al. 2018) on reference events.

So no simulated event is spent on the critic alone, and the values are held-out estimates.
A resumed run replays its recorded batches' events through it (simulated again, same seeds).
"""

from __future__ import annotations

import numpy as np

from advopt import seeds
from advopt.divergence.base import DivergenceEstimate, jsd_from_losses
from advopt.nn.networks import build_mlp, torch_threads

REFERENCE_HOLDOUT_FRACTION = 0.25


class AdversarialCritic:
    """The persistent discriminator of an AVO run: logit > 0 means 'looks like the reference'.

    ``settings``: the ``mlp`` divergence whose architecture and training options it takes;
    ``seed``: the run seed (its streams are keyed by (seed, iteration))."""

    def __init__(self, settings, *, seed: int, r1_gamma: float = 1.0, epochs: int = 3):
        self.name = settings.name
        self.settings = settings
        self.seed = int(seed)
        self.r1_gamma = float(r1_gamma)
        self.epochs = int(epochs)
        self.trained = False
        self.model = None

    def prepare(self, reference: np.ndarray, feature_names=None) -> None:
        """Hold out a quarter of the reference, standardise with the rest, build the network."""
        import torch

        self.torch = torch
        self.device = self.settings.device
        reference = np.asarray(reference, dtype=np.float64)
        order = np.random.default_rng(seeds.task_seed(self.seed, 0, 0, seeds.REFERENCE_SPLIT)).permutation(len(reference))
        n_hold = max(int(round(len(reference) * REFERENCE_HOLDOUT_FRACTION)), 4)
        self.reference_train = reference[order[n_hold:]]
        self.offset = self.reference_train.mean(axis=0)
        self.scale = self.reference_train.std(axis=0)
        self.scale[self.scale == 0] = 1.0
        with self._threads(), torch.random.fork_rng(devices=[self.device] if self.device.type == "cuda" else []):
            torch.manual_seed(seeds.task_seed(self.seed, 0, 0, seeds.DISCRIMINATOR))
            self.model = build_mlp(reference.shape[1], self.settings.hidden, self.settings.dropout).to(self.device)
        self.optimiser = torch.optim.Adam(self.model.parameters(), lr=self.settings.learning_rate,
                                          weight_decay=self.settings.weight_decay)
        self._hold_tensor = self._tensor(reference[order[:n_hold]])

    def score_and_train(self, events: list, iteration: int) -> list[DivergenceEstimate | None]:
        """Score every draw's events (None for a failed draw) with the critic as it was,
        then train it on them."""
        events = [None if e is None else np.asarray(e, dtype=np.float64) for e in events]
        good = [e for e in events if e is not None]
        warm_up = not self.trained and bool(good)
        if warm_up:  # an untrained critic scores noise: train it on this batch's events first
            self._train(good, iteration)
        reference_losses = self._reference_losses()
        estimates = [None if e is None else self._estimate(e, reference_losses, warm_up) for e in events]
        if good and not warm_up:
            self._train(good, iteration)
        return estimates

    def _estimate(self, events: np.ndarray, reference_losses: np.ndarray, warm_up: bool) -> DivergenceEstimate:
        logits = self._logits(self._tensor(events))
        value, stderr = jsd_from_losses(np.logaddexp(0.0, logits), reference_losses)
        details = {"generator_loss": float(np.logaddexp(0.0, -logits).mean()), "critic_warm_up": warm_up}
        return DivergenceEstimate(value, stderr, len(events), details)

    def _tensor(self, x: np.ndarray):
        return self.torch.as_tensor((x - self.offset) / self.scale, dtype=self.torch.float32, device=self.device)

    def _threads(self):
        return torch_threads(self.settings.threads)

    def _train(self, simulated: list[np.ndarray], iteration: int) -> None:
        """``epochs`` passes over these simulated events and as many reference events."""
        torch = self.torch
        sim = np.concatenate(simulated)
        rng = np.random.default_rng(seeds.task_seed(self.seed, iteration, 0, seeds.REFERENCE))
        n_ref = min(len(sim), len(self.reference_train))
        ref = self.reference_train[rng.choice(len(self.reference_train), n_ref, replace=False)]
        x = self._tensor(np.concatenate([sim, ref]))
        y = torch.cat([torch.zeros(len(sim)), torch.ones(n_ref)]).to(self.device)
        # class-balanced weights (the two parts can differ in size when the reference is small)
        w = torch.cat([torch.full((len(sim),), len(x) / (2.0 * len(sim))),
                       torch.full((n_ref,), len(x) / (2.0 * n_ref))]).to(self.device)
        generator = torch.Generator(device="cpu").manual_seed(seeds.task_seed(self.seed, iteration, 0, seeds.DISCRIMINATOR))
        with self._threads():
            self.model.train()
            for _ in range(self.epochs):
                for batch in torch.randperm(len(x), generator=generator).to(self.device).split(self.settings.batch_size):
                    self._step(x[batch], y[batch], w[batch])
        self.trained = True

    def _step(self, x, y, w) -> None:
        """One minibatch: weighted cross-entropy, plus the R1 penalty on its reference events."""
        torch = self.torch
        x = x.clone().requires_grad_(self.r1_gamma > 0)
        logits = self.model(x).squeeze(-1)
        loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, y, weight=w)
        if self.r1_gamma > 0:
            real = y > 0.5
            if real.any():
                (grad,) = torch.autograd.grad(logits[real].sum(), x, create_graph=True)
                loss = loss + 0.5 * self.r1_gamma * grad[real].pow(2).sum(dim=1).mean()
        self.optimiser.zero_grad(set_to_none=True)
        loss.backward()
        self.optimiser.step()

    def _logits(self, x) -> np.ndarray:
        with self._threads(), self.torch.no_grad():
            self.model.eval()
            return self.model(x).squeeze(-1).double().cpu().numpy()

    def _reference_losses(self) -> np.ndarray:
        """Held-out reference events' cross-entropy as 'reference': softplus(-l)."""
        return np.logaddexp(0.0, -self._logits(self._hold_tensor))
