"""Divergences that do not saturate like the JSD: a Wasserstein-1 critic, and total variation.

The JSD read off a classifier stops at ln 2 once the samples are disjoint, so far from the
optimum every point looks equally bad and the optimiser's surrogate is flat. The
Wasserstein-1 distance keeps growing with the distance between the samples; the total
variation saturates too (at 1) but is a plain probability, easy to read and with a binomial
error.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from advopt.divergence.base import DivergenceBase, DivergenceEstimate, check_holdout_fraction, make_labelled_split
from advopt.divergence.mlp import MLPDivergence, check_positive
from advopt.nn.networks import resolve_device, standardiser, torch_threads
from advopt.nn.training import keep_best, seeded_mlp


# -- pure maths -----------------------------------------------------------------------------------
def w1_from_critic(critic_simulated: np.ndarray, critic_reference: np.ndarray) -> tuple[float, float]:
    """Kantorovich-Rubinstein estimate ``mean f(sim) - mean f(ref)`` and its standard error
    from per-event values of a (near) 1-Lipschitz critic ``f``."""
    fs = np.asarray(critic_simulated, dtype=np.float64)
    fr = np.asarray(critic_reference, dtype=np.float64)
    value = float(fs.mean() - fr.mean())
    return value, float(math.sqrt(fs.var(ddof=1) / fs.size + fr.var(ddof=1) / fr.size))


def tv_from_decisions(above_simulated: np.ndarray, above_reference: np.ndarray) -> tuple[float, float]:
    """Total-variation lower bound ``P_sim(A) - P_ref(A)`` for the region ``A = {D > 1/2}`` and its
    binomial standard error, from 0/1 decisions on held-out simulated and reference events."""
    a = float(np.mean(above_simulated))
    b = float(np.mean(above_reference))
    variance = a * (1 - a) / np.size(above_simulated) + b * (1 - b) / np.size(above_reference)
    return a - b, float(math.sqrt(variance))


# -- Wasserstein critic ---------------------------------------------------------------------------
class WassersteinDivergence(DivergenceBase):
    """Wasserstein-1 distance from a WGAN-GP critic (Gulrajani et al. 2017), in units of the
    reference's standard deviation per feature.

    Inputs are standardised with the mean and width of the reference's training split only
    (not the pooled sample): the reference is the same at every evaluation of a tuning run,
    so the units do not move with the parameters. (Pooled standardisation would divide by a
    width that grows with the separation, and W1 would saturate: two unit Gaussians a distance
    s apart would measure s / sqrt(1 + s^2 / 4) < 2.)

    A critic MLP ``f`` (``hidden``, LeakyReLU) is trained on the training split to maximise
    ``mean f(sim) - mean f(ref) - gp_weight * mean((|grad f(x_hat)| - 1)^2)`` with ``x_hat`` on
    random segments between simulated and reference events (Adam, betas (0.5, 0.9) as in the
    WGAN-GP paper). The epoch with the best training objective (moving on by at least ``tol``;
    ``patience`` epochs without one stop training) is kept; ``mean f(sim) - mean f(ref)`` is
    read on the held-out split, so it is not tuned on its own data.

    Slope correction: the penalty is soft, so the critic's slope is not 1. For samples a
    distance ``s`` apart the objective ``g s - lambda (g - 1)^2`` is maximal at slope
    ``g = 1 + s / (2 lambda)``: the raw difference overstates W1 by that factor (measured: unit
    Gaussians 12 apart gave 19.9 raw). The estimate is therefore divided by the critic's mean
    gradient norm on held-out interpolates (``details["slope"]``), i.e. read off ``f / g``,
    which has unit mean slope where the penalty looks: 1.01, 2.99, 6.08, 12.09 for shifts
    1, 3, 6, 12 (2-d, 2k events each). Standard error from the per-event critic values,
    divided by the same slope. The Lipschitz bound is only enforced on average, so the value
    is an estimate, not a bound; identical samples give 0 within the error.

    ``upper_bound``: W1 has no fixed maximum (samples can be arbitrarily far apart). The value
    is only told to the optimiser in place of a failed evaluation when nothing has succeeded
    yet (``penalty_for_failures``); the default 10 means "ten reference standard deviations
    away", farther than any sample worth tuning around, and it can be set with the option
    ``upper_bound``. ``details``: ``epochs``, ``slope``, ``raw`` (the uncorrected difference),
    ``train_value`` (the corrected estimate on the training split). Deterministic for a seed
    on a given device.
    """

    name = "wasserstein"

    def __init__(
        self,
        hidden: tuple[int, ...] | list[int] = (64, 64),
        gp_weight: float = 10.0,
        max_epochs: int = 100,
        batch_size: int = 256,
        learning_rate: float = 1e-3,
        patience: int = 8,
        tol: float = 1e-3,
        holdout_fraction: float = 1 / 3,
        upper_bound: float = 10.0,
        device: str = "auto",
        threads: int = 1,
    ):
        self.hidden = tuple(int(h) for h in hidden)
        if not self.hidden or min(self.hidden) < 1:
            raise ValueError(f"divergence.hidden: layer sizes must be positive integers, got {list(hidden)}")
        for field, value in (("gp_weight", gp_weight), ("max_epochs", max_epochs), ("batch_size", batch_size),
                             ("learning_rate", learning_rate), ("patience", patience), ("tol", tol),
                             ("upper_bound", upper_bound), ("threads", threads)):
            check_positive(field, value)
        check_holdout_fraction(holdout_fraction)
        self.gp_weight = float(gp_weight)
        self.max_epochs = int(max_epochs)
        self.batch_size = int(batch_size)
        self.learning_rate = float(learning_rate)
        self.patience = int(patience)
        self.tol = float(tol)
        self.holdout_fraction = float(holdout_fraction)
        self.upper_bound = float(upper_bound)
        self.device = resolve_device(device)
        self.threads = int(threads)

    def estimate(self, simulated: np.ndarray, reference: np.ndarray, seed: int) -> DivergenceEstimate:
        rng = np.random.default_rng(seed)
        x_train, y_train, x_hold, y_hold = make_labelled_split(simulated, reference, self.holdout_fraction, rng)
        ref_train = x_train[y_train == 0]
        to_tensor = standardiser(ref_train, self.device)
        with torch_threads(self.threads):
            critic, epochs = self._train(to_tensor(x_train[y_train == 1]), to_tensor(ref_train), seed)
            critic.eval()
            with torch.no_grad():
                values = critic(to_tensor(x_hold)).squeeze(-1).double().cpu().numpy()
                train_values = critic(to_tensor(x_train)).squeeze(-1).double().cpu().numpy()
            slope = self._mean_slope(critic, to_tensor(x_hold[y_hold == 1]), to_tensor(x_hold[y_hold == 0]), seed)
        raw, raw_stderr = w1_from_critic(values[y_hold == 1], values[y_hold == 0])
        train_raw, _ = w1_from_critic(train_values[y_train == 1], train_values[y_train == 0])
        value, stderr = raw / slope, raw_stderr / slope
        details = {"epochs": epochs, "slope": slope, "raw": raw, "train_value": train_raw / slope}
        return DivergenceEstimate(value, stderr, len(simulated), details)

    def _mean_slope(self, critic: nn.Module, sim: torch.Tensor, ref: torch.Tensor, seed: int) -> float:
        """Mean gradient norm of the critic on random points between held-out simulated and
        reference events (the interpolates of the penalty)."""
        generator = torch.Generator(device="cpu").manual_seed((seed + 1) % 2**63)
        n = max(len(sim), len(ref))
        xs = sim[_cycled_permutation(len(sim), n, generator).to(sim.device)]
        xr = ref[_cycled_permutation(len(ref), n, generator).to(ref.device)]
        epsilon = torch.rand(n, 1, generator=generator).to(sim.device)
        x_hat = (epsilon * xs + (1 - epsilon) * xr).requires_grad_(True)
        (gradient,) = torch.autograd.grad(critic(x_hat).sum(), x_hat)
        return max(float(gradient.norm(dim=1).mean()), 1e-6)

    def _train(self, sim: torch.Tensor, ref: torch.Tensor, seed: int):
        critic, generator = seeded_mlp(sim.shape[1], self.hidden, 0.0, seed, self.device)
        optimiser = torch.optim.Adam(critic.parameters(), lr=self.learning_rate, betas=(0.5, 0.9))
        n_pairs = max(len(sim), len(ref))

        def epoch() -> float:
            # each class is drawn without replacement, the smaller one cycled, so every step
            # sees a balanced batch of simulated and reference events
            sim_order = _cycled_permutation(len(sim), n_pairs, generator).to(self.device)
            ref_order = _cycled_permutation(len(ref), n_pairs, generator).to(self.device)
            epsilon = torch.rand(n_pairs, 1, generator=generator).to(self.device)
            total, steps = 0.0, 0
            for batch in torch.arange(n_pairs).split(self.batch_size):
                xs, xr = sim[sim_order[batch]], ref[ref_order[batch]]
                x_hat = (epsilon[batch] * xs + (1 - epsilon[batch]) * xr).requires_grad_(True)
                critic_hat = critic(x_hat)
                (gradient,) = torch.autograd.grad(critic_hat.sum(), x_hat, create_graph=True)
                penalty = ((gradient.norm(dim=1) - 1) ** 2).mean()
                objective = critic(xs).mean() - critic(xr).mean() - self.gp_weight * penalty
                optimiser.zero_grad(set_to_none=True)
                (-objective).backward()
                optimiser.step()
                total += float(objective.detach())
                steps += 1
            return total / steps

        epochs, _ = keep_best(critic, epoch, max_epochs=self.max_epochs, patience=self.patience, tol=self.tol,
                              maximise=True, what="the critic's objective")
        return critic, epochs

    def __repr__(self) -> str:
        return f"WassersteinDivergence(hidden={self.hidden}, gp_weight={self.gp_weight}, device={self.device.type})"


def _cycled_permutation(n: int, length: int, generator: torch.Generator) -> torch.Tensor:
    """``length`` indices into 0..n-1: random permutations of all n, concatenated and cut."""
    repeats = -(-length // n)
    return torch.cat([torch.randperm(n, generator=generator) for _ in range(repeats)])[:length]


# -- total variation ------------------------------------------------------------------------------
class TotalVariationDivergence(MLPDivergence):
    """Total-variation distance (a lower bound) from the classifier of :class:`MLPDivergence`.

    The MLP is trained exactly as for the JSD (class-balanced, so its output ``D`` estimates
    ``p_sim / (p_sim + p_ref)``). On the held-out split the region ``A = {D > 1/2}`` gives
    ``TV >= P_sim(A) - P_ref(A)``, with equality for the optimal classifier. Value in [-1, 1]
    (0 for identical samples up to noise, 1 for disjoint ones), binomial standard error.
    ``upper_bound`` 1. ``details``: ``epochs``, ``train_value`` (the same bound on the training
    split). Deterministic for a seed on a given device.
    """

    name = "tv"
    upper_bound = 1.0
    # TV grows linearly, not quadratically, away from its minimum: no Fisher information from
    # its curvature, so its interval is the optimiser's alone.
    fisher_information = None

    def estimate(self, simulated: np.ndarray, reference: np.ndarray, seed: int) -> DivergenceEstimate:
        rng = np.random.default_rng(seed)
        x_train, y_train, x_hold, y_hold = make_labelled_split(simulated, reference, self.holdout_fraction, rng)
        to_tensor = standardiser(x_train, self.device)
        with torch_threads(self.threads):
            model, epochs = self._train(to_tensor(x_train), y_train, to_tensor(x_hold), y_hold, seed)
            with torch.no_grad():
                model.eval()
                above = (model(to_tensor(x_hold)).squeeze(-1) > 0).cpu().numpy()
                above_train = (model(to_tensor(x_train)).squeeze(-1) > 0).cpu().numpy()
        value, stderr = tv_from_decisions(above[y_hold == 1], above[y_hold == 0])
        train_value, _ = tv_from_decisions(above_train[y_train == 1], above_train[y_train == 0])
        return DivergenceEstimate(value, stderr, len(simulated), {"epochs": epochs, "train_value": train_value})

    def __repr__(self) -> str:
        return f"TotalVariationDivergence(hidden={self.hidden}, device={self.device.type})"
