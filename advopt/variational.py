"""Adversarial variational optimisation (AVO): ``optimizer="variational"``.

After G. Louppe, J. Hermans, K. Cranmer, "Adversarial Variational Optimization of
Non-Differentiable Simulators", AISTATS 2019, arXiv:1707.07113.

Instead of one point at a time, AVO moves a *proposal* q(theta | psi) over the parameters
so that events simulated at draws from it cannot be told from the reference by a critic
(a discriminator) that is trained alongside. The simulator is never differentiated: the
gradient with respect to psi is the score-function (REINFORCE) estimate.

Choices made here (each a place where the paper leaves room):

- **Proposal.** An independent Gaussian per parameter in the *unit cube* (``Space.to_unit``),
  psi = (mean, log sd). Start: the space's centre, or the optimiser option ``start``
  (physical units); sd ``width`` (default 0.25 of the range). The sd never goes below
  ``min_width`` (default 0.005) nor above 1; the mean stays in [0, 1].
- **Bounds: reflection.** A draw z = mean + sd * eps is folded back into [0, 1] (mirror at
  each bound) before the simulator sees it. The fold is a fixed map applied after the
  draw, so the score-function gradient taken with the *unfolded* z is unbiased for the
  folded simulator; unlike clipping, reflection puts no probability mass exactly on a
  bound.
- **Critic.** One torch MLP kept for the whole run (architecture, learning rate, minibatch
  size, device and threads from the ``mlp`` divergence's options), inputs standardised
  with the reference's mean and sd. Its logit l(x) is large for reference-like events.
  Each iteration it trains ``critic_epochs`` epochs on this iteration's simulated events
  against an equal-size subsample of the reference's training part, with binary
  cross-entropy plus the R1 penalty ``r1_gamma / 2 * E_ref |grad_x l(x)|^2`` (Mescheder et
  al. 2018) on reference events, as in the paper.
- **Order (critic one step behind).** An iteration's events are first scored by the critic
  as it was *before* it saw them, then the critic trains on them. So the generator loss and
  the recorded value are held-out estimates, and no simulated event is spent only on the
  critic. The first iteration, with an untrained critic, trains it first (warm-up), so its
  scores are in-sample.
- **Generator loss** (non-saturating, the paper's U_g): per draw theta_i,
  L_i = mean over its events of -log sigmoid(l(x)) = softplus(-l(x)).
- **Gradient.** g = mean_i (L_i - b_i) grad_psi log q(theta_i | psi) - entropy * grad_psi H(q),
  with the baseline b_i = the mean loss of the *other* draws of the same iteration
  (``baseline="batch"``, leave-one-out: unbiased, and it follows the critic, which moves
  every iteration) or an exponential running mean of past losses (``baseline="running"``).
  ``entropy`` > 0 is a bonus that resists collapse, < 0 a penalty that drives the proposal
  towards a point (the paper's lambda). Default -0.02, a small penalty, because without
  it the game settles at a *wide* proposal whose mean is biased where the simulator is
  nonlinear (measured: Weinberg toy, sqrt_s only, 300k events, seeds 1-3: entropy 0 left
  sd ~3 GeV and means 81.3-83.2 GeV for a truth of 84; -0.02 reached the floor and means
  83.65-84.03). The proposal's final width is therefore not a statistical uncertainty:
  with the penalty it ends near ``min_width``. Failed simulations are left out of the
  gradient.
- **Step.** Adam on psi with ``learning_rate``; the mean's step is scaled by sd / initial sd,
  so the mean settles as the proposal narrows (an Adam analogue of the natural gradient,
  whose mean step is proportional to sd^2).
- **Recorded value** of each draw: ln 2 - (1/2)(CE_sim + CE_ref), the JSD estimate of the
  (one-step-behind) critic between that draw's events and a held-out quarter of the
  reference that the critic never trains on; its stderr as for the ``mlp`` divergence.
  It is a lower bound of the JSD, noisier than a dedicated fit, and is what the report's
  history plot shows. ``details`` holds the proposal the draw came from
  (``proposal_mean``, ``proposal_sd``: physical units), and its ``generator_loss``.
- **Draws** come in antithetic pairs (eps, -eps) by default (``antithetic``): for a smooth
  loss the pair cancels the even part of the mean's gradient and the odd part of the
  width's, which steadied the mean markedly on the Gaussian toy (measured).
- **Result.** best_params = the final proposal mean; interval68 the 15.9/84.1 percentiles
  of fixed normal quantiles pushed through the proposal and the unit->physical map (so
  log-scale parameters get their asymmetric interval); uncertainty its half-width.
- **Budget.** Every simulated event counts (failed draws too); the loop stops when the next
  iteration (``points_per_iteration * events_per_point`` events) would not fit.
- **Resume** is not supported yet: a run directory with recorded evaluations is refused
  (``ValueError``). The loop is deterministic, so a replay (re-using recorded events) is
  possible but needs the events themselves, which the history does not store.

Seeds: simulations use the tuner's scheme, ``task_seed(run seed, iteration, index,
SEED_SIMULATION, chunk)``; the draws, the reference subsamples and the critic have their own
streams, keyed by (run seed, iteration). Deterministic for a seed on a given device.
"""

from __future__ import annotations

import dataclasses

import logging
import math
import time
from collections.abc import Callable, Sequence

import numpy as np

from advopt.divergence.base import LN2, jsd_from_losses
from advopt.execution import SEED_DISCRIMINATOR, SEED_REFERENCE, task_seed
from advopt.result import Evaluation, Status

logger = logging.getLogger(__name__)

# Seed purposes of this module (advopt.execution uses 0..2 for simulation, reference, discriminator).
SEED_PROPOSAL = 20
SEED_REFERENCE_SPLIT = 21
REFERENCE_HOLDOUT_FRACTION = 0.25
_ADAM_BETAS = (0.5, 0.999)  # little momentum: the critic lags one step, and momentum on top made the mean oscillate (measured)
_N_RESULT_QUANTILES = 1_000


def reflect_into_unit(z: np.ndarray) -> np.ndarray:
    """Fold real numbers into [0, 1] by mirroring at 0 and 1 (period 2)."""
    folded = np.mod(np.asarray(z, dtype=float), 2.0)
    return np.where(folded > 1.0, 2.0 - folded, folded)


def score_gradients(eps: np.ndarray, losses: np.ndarray, baselines: np.ndarray, sd: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """REINFORCE gradients of E[L] with respect to (mean, log sd) of a diagonal Gaussian.

    ``eps`` (n, d) are the standard-normal draws (z = mean + sd * eps), ``losses`` and
    ``baselines`` (n,). grad_mean log q = eps / sd, grad_logsd log q = eps^2 - 1.
    """
    weights = (np.asarray(losses, dtype=float) - np.asarray(baselines, dtype=float))[:, None]
    grad_mean = (weights * eps / sd).mean(axis=0)
    grad_logsd = (weights * (eps**2 - 1.0)).mean(axis=0)
    return grad_mean, grad_logsd


def leave_one_out_baselines(losses: np.ndarray) -> np.ndarray:
    """For each loss, the mean of the others (needs at least two)."""
    losses = np.asarray(losses, dtype=float)
    return (losses.sum() - losses) / (losses.size - 1)


class VariationalOptimizer:
    """The AVO proposal: a diagonal Gaussian over the unit cube, moved by Adam on
    score-function gradients. Options (``[optimizer]`` in a config) are described in the
    module docstring; ``start`` arrives here already in unit-cube coordinates.

    ``ask``/``tell`` work with any per-point loss (``tell``'s ``values``), so the proposal
    can also be driven by the ordinary loop; the adversarial loop is :func:`run_variational`.
    """

    name = "variational"

    def __init__(self, dim: int, seed: int, upper_bound: float = LN2, *, start=None, width: float = 0.25,
                 min_width: float = 0.005, points_per_iteration: int = 8, learning_rate: float = 0.05,
                 r1_gamma: float = 1.0, entropy: float = -0.02, critic_epochs: int = 3, baseline: str = "batch",
                 antithetic: bool = True):
        _check_number("width", width, low=0.0, high=1.0)
        _check_number("min_width", min_width, low=0.0, high=1.0)
        if min_width > width:
            raise ValueError(f"optimizer.min_width: {min_width} is larger than the initial width {width}")
        _check_int("points_per_iteration", points_per_iteration, minimum=2)
        _check_number("learning_rate", learning_rate, low=0.0)
        _check_number("r1_gamma", r1_gamma, low=0.0, allow_low=True)
        _check_number("entropy", entropy)
        _check_int("critic_epochs", critic_epochs, minimum=1)
        if baseline not in ("batch", "running"):
            raise ValueError(f"optimizer.baseline: unknown {baseline!r}; use 'batch' or 'running'")
        self.dim = int(dim)
        self.seed = int(seed)
        self.upper_bound = upper_bound
        self.initial_width = float(width)
        self.min_width = float(min_width)
        self.points_per_iteration = int(points_per_iteration)
        self.learning_rate = float(learning_rate)
        self.r1_gamma = float(r1_gamma)
        self.entropy = float(entropy)
        self.critic_epochs = int(critic_epochs)
        self.baseline = baseline
        self.antithetic = bool(antithetic)
        mean = np.full(self.dim, 0.5) if start is None else np.asarray(start, dtype=float).reshape(self.dim)
        self.mean = np.clip(mean, 0.0, 1.0)
        self.log_sd = np.full(self.dim, math.log(self.initial_width))
        self._adam_m = np.zeros(2 * self.dim)
        self._adam_v = np.zeros(2 * self.dim)
        self._steps = 0
        self._running_loss: float | None = None
        self._pending: list[tuple[np.ndarray, np.ndarray]] = []
        self._asked = 0
        self.last_value = math.nan

    def check_run(self, divergence, budget: int, events_per_point: int, resuming: bool) -> None:
        """Refuse a run AVO cannot do, before the tuner writes a run directory or starts workers."""
        from advopt.divergence.mlp import MLPDivergence

        if resuming:
            raise ValueError("run_dir: resume is not supported for variational runs yet")
        per_iteration = self.points_per_iteration * events_per_point
        if per_iteration > budget:
            raise ValueError(f"budget: {budget} events cannot pay for one variational iteration "
                             f"(points_per_iteration={self.points_per_iteration} x events_per_point={events_per_point})")
        if type(divergence) is not MLPDivergence:  # subclasses (tv, adaptive-*) estimate something else
            raise ValueError("divergence: the variational optimizer trains its own MLP critic; "
                             f"use divergence kind 'mlp' (got {getattr(divergence, 'name', type(divergence).__name__)})")

    @property
    def sd(self) -> np.ndarray:
        return np.exp(self.log_sd)

    # -- drawing --------------------------------------------------------------------------
    def draw(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """``n`` draws: (points folded into the unit cube (n, d), standard-normal eps (n, d))."""
        if self.antithetic:
            half = rng.standard_normal(((n + 1) // 2, self.dim))
            eps = np.concatenate([half, -half])[:n]
        else:
            eps = rng.standard_normal((n, self.dim))
        return reflect_into_unit(self.mean + self.sd * eps), eps

    def ask(self, n: int) -> np.ndarray:
        rng = np.random.default_rng(task_seed(self.seed, self._asked, 0, SEED_PROPOSAL))
        self._asked += 1
        points, eps = self.draw(n, rng)
        self._pending = [(p, e) for p, e in zip(points, eps)]
        return points

    def tell(self, points, values, stderrs, ok) -> None:
        """Treat ``values`` as losses of the last asked points (same order)."""
        eps = np.array([e for _, e in self._pending[: len(np.atleast_2d(points))]])
        self._pending = []
        ok = np.asarray(ok, dtype=bool).ravel()
        self.update(eps[ok], np.asarray(values, dtype=float).ravel()[ok])

    # -- the step ---------------------------------------------------------------------------
    def update(self, eps: np.ndarray, losses: np.ndarray) -> bool:
        """One Adam step on (mean, log sd) from draws ``eps`` and their losses; False (no
        step) with fewer than two finite losses."""
        finite = np.isfinite(losses)
        eps, losses = np.asarray(eps, dtype=float)[finite], np.asarray(losses, dtype=float)[finite]
        if losses.size < 2:
            return False
        if self.baseline == "batch":
            baselines = leave_one_out_baselines(losses)
        else:
            previous = losses.mean() if self._running_loss is None else self._running_loss
            baselines = np.full(losses.size, previous)
            self._running_loss = 0.9 * previous + 0.1 * float(losses.mean())
        sd = self.sd
        grad_mean, grad_logsd = score_gradients(eps, losses, baselines, sd)
        grad_logsd = grad_logsd - self.entropy  # d(-entropy * H)/d log sd, H = sum log sd + const
        grad = np.concatenate([grad_mean, grad_logsd])
        beta1, beta2 = _ADAM_BETAS
        self._steps += 1
        self._adam_m = beta1 * self._adam_m + (1 - beta1) * grad
        self._adam_v = beta2 * self._adam_v + (1 - beta2) * grad**2
        m_hat = self._adam_m / (1 - beta1**self._steps)
        v_hat = self._adam_v / (1 - beta2**self._steps)
        direction = m_hat / (np.sqrt(v_hat) + 1e-12)
        self.mean = np.clip(self.mean - self.learning_rate * (sd / self.initial_width) * direction[: self.dim], 0.0, 1.0)
        self.log_sd = np.clip(self.log_sd - self.learning_rate * direction[self.dim :], math.log(self.min_width), 0.0)
        return True

    def recommend(self, with_uncertainty: bool = True):
        """The proposal mean; ``samples``: fixed normal quantiles through the proposal (each
        column a permutation, so rows are not all at one quantile)."""
        # imported here: advopt.optimizers registers this class, so a top-level import is circular
        from advopt.optimizers.base import Recommendation

        if not with_uncertainty:
            return Recommendation(self.mean.copy(), self.last_value, self.mean[None].copy())
        quantiles = _normal_quantiles(_N_RESULT_QUANTILES)
        rng = np.random.default_rng(task_seed(self.seed, 0, 0, SEED_PROPOSAL, 1))
        eps = np.stack([rng.permutation(quantiles) for _ in range(self.dim)], axis=1)
        return Recommendation(self.mean.copy(), self.last_value, reflect_into_unit(self.mean + self.sd * eps))

    def state(self) -> dict:
        return {"mean": self.mean.tolist(), "sd": self.sd.tolist(), "steps": self._steps}


# -- the adversarial loop --------------------------------------------------------------------------
def run_variational(state, budget: int, progress: bool, callback: Callable | None = None,
                    recorded: Sequence[Evaluation] | None = None) -> None:
    """Spend ``budget`` simulated events on AVO, filling ``state`` (a
    :class:`advopt.tuner.TuneState` whose optimiser is a :class:`VariationalOptimizer`):
    its history, events used, iteration count and run directory, as the ordinary loop does.
    """
    opt: VariationalOptimizer = state.optimizer
    opt.check_run(state.divergence, budget, state.events_per_point, bool(recorded))
    per_iteration = opt.points_per_iteration * state.events_per_point
    state.budget = budget
    critic = _Critic(state.divergence, state.reference, opt, state.seed)
    from advopt.tuner import _progress_bar  # lazy: advopt.tuner imports this module's registry

    bar = _progress_bar(budget) if progress else None
    try:
        while state.events_used + per_iteration <= budget:
            evaluations = _iteration(state, opt, critic)
            if bar is not None:
                bar.update(per_iteration)
                bar.set_postfix_str(_describe_proposal(state.space, opt))
            else:
                good = [e.value for e in evaluations if e.ok]
                logger.info("iteration %d  proposal %s  mean D=%s  events %d/%d", state.iteration - 1,
                            _describe_proposal(state.space, opt), f"{np.mean(good):.4f}" if good else "-",
                            state.events_used, budget)
            if callback is not None:
                callback(state)
    finally:
        if bar is not None:
            bar.close()


def _iteration(state, opt: VariationalOptimizer, critic: "_Critic") -> list[Evaluation]:
    space = state.space
    n = opt.points_per_iteration
    rng = np.random.default_rng(task_seed(state.seed, state.iteration, 0, SEED_PROPOSAL))
    units, eps = opt.draw(n, rng)
    proposal = {"proposal_mean": _physical_mean(space, opt.mean), "proposal_sd": _physical_sd(space, opt.mean, opt.sd)}
    samples = _simulate(state, [space.from_unit(u) for u in units])
    events = [sample.events for sample in samples]
    reasons = [sample.error for sample in samples]
    good = [e for e in events if e is not None]
    started = time.perf_counter()
    warm_up = not critic.trained and bool(good)
    if warm_up:  # an untrained critic scores noise: train it on this iteration's events first
        critic.train(good, state.iteration)
    reference_losses = critic.reference_losses()
    scores = [critic.simulated_scores(e) if e is not None else None for e in events]
    losses = np.array([np.nan if s is None else float(s["generator"].mean()) for s in scores])
    ok = np.isfinite(losses)
    opt.update(eps[ok], losses[ok])
    if good and not warm_up:
        critic.train(good, state.iteration)
    train_seconds = (time.perf_counter() - started) / max(len(good), 1)

    evaluations = []
    first = len(state.history)
    for index, (sample, score, reason) in enumerate(zip(samples, scores, reasons)):
        common = dict(index=first + index, iteration=state.iteration, params=sample.params, n_events=sample.n_events,
                      seed=sample.seed, sim_seconds=sample.sim_seconds)
        if score is None:
            evaluations.append(Evaluation(value=math.nan, stderr=math.nan, status=Status.FAILED, reason=reason,
                                          details=dict(proposal), **common))
            continue
        value, stderr = jsd_from_losses(score["as_simulated"], reference_losses)
        details = {**proposal, "generator_loss": float(score["generator"].mean()), "critic_warm_up": warm_up}
        evaluations.append(Evaluation(value=value, stderr=stderr, status=Status.OK, train_seconds=train_seconds,
                                      details=details, **common))
    values = [e.value for e in evaluations if e.ok]
    opt.last_value = float(np.mean(values)) if values else math.nan
    for evaluation in evaluations:
        state.history.append(evaluation)
        state.events_used += evaluation.n_events
        if state.run_dir is not None:
            state.run_dir.append(evaluation)
    state.iteration += 1
    return evaluations


def _simulate(state, points: list[dict[str, float]]):
    """Simulate each draw's ``events_per_point`` events through the tuner's own batch
    simulation (same chunks and seeds as its points); a draw whose feature count differs
    from the reference's comes back without events, with the reason."""
    samples = state._simulate([(index, p, state.events_per_point, 0) for index, p in enumerate(points)])
    return [_checked_width(sample, state.reference.shape[1]) for sample in samples]


def _checked_width(sample, n_features: int):
    if sample.events is None:
        return sample
    if sample.events.shape[1] != n_features:
        reason = f"simulator returned {sample.events.shape[1]} features, the reference has {n_features}"
        return dataclasses.replace(sample, events=None, error=reason)
    return dataclasses.replace(sample, events=sample.events.astype(np.float64))


class _Critic:
    """The persistent discriminator: logit > 0 means 'looks like the reference'."""

    def __init__(self, divergence, reference: np.ndarray, opt: VariationalOptimizer, seed: int):
        import torch

        from advopt.divergence.mlp import build_mlp

        self.torch = torch
        self.settings = divergence
        self.device = divergence.device
        self.r1_gamma = opt.r1_gamma
        self.epochs = opt.critic_epochs
        self.seed = seed
        self.trained = False
        reference = np.asarray(reference, dtype=np.float64)
        if len(reference) < 8:
            raise ValueError(f"reference: only {len(reference)} events; need at least 8")
        order = np.random.default_rng(task_seed(seed, 0, 0, SEED_REFERENCE_SPLIT)).permutation(len(reference))
        n_hold = max(int(round(len(reference) * REFERENCE_HOLDOUT_FRACTION)), 4)
        self.reference_train = reference[order[n_hold:]]
        self.reference_hold = reference[order[:n_hold]]
        self.offset = self.reference_train.mean(axis=0)
        self.scale = self.reference_train.std(axis=0)
        self.scale[self.scale == 0] = 1.0
        with self._threads(), torch.random.fork_rng(devices=[self.device] if self.device.type == "cuda" else []):
            torch.manual_seed(task_seed(seed, 0, 0, SEED_DISCRIMINATOR))
            self.model = build_mlp(reference.shape[1], divergence.hidden, divergence.dropout).to(self.device)
        self.optimiser = torch.optim.Adam(self.model.parameters(), lr=divergence.learning_rate,
                                          weight_decay=divergence.weight_decay)
        self._hold_tensor = self._tensor(self.reference_hold)

    def _tensor(self, x: np.ndarray):
        return self.torch.as_tensor((x - self.offset) / self.scale, dtype=self.torch.float32, device=self.device)

    def _threads(self):
        from advopt.divergence.mlp import _torch_threads

        return _torch_threads(self.settings.threads)

    def train(self, simulated: list[np.ndarray], iteration: int) -> None:
        """``epochs`` passes over these simulated events and as many reference events."""
        torch = self.torch
        nn = torch.nn.functional
        sim = np.concatenate(simulated)
        rng = np.random.default_rng(task_seed(self.seed, iteration, 0, SEED_REFERENCE))
        n_ref = min(len(sim), len(self.reference_train))
        ref = self.reference_train[rng.choice(len(self.reference_train), n_ref, replace=False)]
        x = self._tensor(np.concatenate([sim, ref]))
        y = torch.cat([torch.zeros(len(sim)), torch.ones(n_ref)]).to(self.device)
        # class-balanced weights (the two parts can differ in size when the reference is small)
        w = torch.cat([torch.full((len(sim),), len(x) / (2.0 * len(sim))), torch.full((n_ref,), len(x) / (2.0 * n_ref))]).to(self.device)
        generator = torch.Generator(device="cpu").manual_seed(task_seed(self.seed, iteration, 0, SEED_DISCRIMINATOR))
        batch_size = self.settings.batch_size
        with self._threads():
            self.model.train()
            for _ in range(self.epochs):
                for batch in torch.randperm(len(x), generator=generator).to(self.device).split(batch_size):
                    xb = x[batch].clone().requires_grad_(self.r1_gamma > 0)
                    logits = self.model(xb).squeeze(-1)
                    loss = nn.binary_cross_entropy_with_logits(logits, y[batch], weight=w[batch])
                    if self.r1_gamma > 0:
                        real = y[batch] > 0.5
                        if real.any():
                            (grad,) = torch.autograd.grad(logits[real].sum(), xb, create_graph=True)
                            loss = loss + 0.5 * self.r1_gamma * grad[real].pow(2).sum(dim=1).mean()
                    self.optimiser.zero_grad(set_to_none=True)
                    loss.backward()
                    self.optimiser.step()
        self.trained = True

    def _logits(self, x) -> np.ndarray:
        with self._threads(), self.torch.no_grad():
            self.model.eval()
            return self.model(x).squeeze(-1).double().cpu().numpy()

    def reference_losses(self) -> np.ndarray:
        """Held-out reference events' cross-entropy as 'reference': softplus(-l)."""
        return np.logaddexp(0.0, -self._logits(self._hold_tensor))

    def simulated_scores(self, events: np.ndarray) -> dict[str, np.ndarray]:
        """Per event: the generator loss -log sigmoid(l) = softplus(-l), and the
        cross-entropy as 'simulated' softplus(l) (for the JSD estimate)."""
        logits = self._logits(self._tensor(events))
        return {"generator": np.logaddexp(0.0, -logits), "as_simulated": np.logaddexp(0.0, logits)}


# -- units -------------------------------------------------------------------------------------
def _unclipped_from_unit(parameter, u: float) -> float:
    if parameter.log:
        return math.exp(math.log(parameter.low) + u * (math.log(parameter.high) - math.log(parameter.low)))
    return parameter.low + u * parameter.width


def _physical_mean(space, mean: np.ndarray) -> dict[str, float]:
    return space.from_unit(mean)


def _physical_sd(space, mean: np.ndarray, sd: np.ndarray) -> dict[str, float]:
    """The proposal sd in physical units: sd * range for linear parameters; half the
    distance between the images of mean -+ sd for log-scale ones."""
    return {p.name: (_unclipped_from_unit(p, m + s) - _unclipped_from_unit(p, m - s)) / 2.0
            for p, m, s in zip(space.parameters, mean, sd)}


def _describe_proposal(space, opt: VariationalOptimizer) -> str:
    mean, sd = _physical_mean(space, opt.mean), _physical_sd(space, opt.mean, opt.sd)
    return ", ".join(f"{name}={mean[name]:.4g}+-{sd[name]:.2g}" for name in space.names)


def _normal_quantiles(n: int) -> np.ndarray:
    from statistics import NormalDist

    unit = NormalDist()
    return np.array([unit.inv_cdf((k + 0.5) / n) for k in range(n)])


# -- option checks ------------------------------------------------------------------------------
def _check_number(field: str, value, low: float | None = None, high: float | None = None, allow_low: bool = False) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"optimizer.{field}: must be a finite number, got {value!r}")
    if low is not None and (value < low or (value == low and not allow_low)):
        raise ValueError(f"optimizer.{field}: must be {'>=' if allow_low else '>'} {low:g}, got {value!r}")
    if high is not None and value > high:
        raise ValueError(f"optimizer.{field}: must be <= {high:g}, got {value!r}")


def _check_int(field: str, value, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"optimizer.{field}: must be an integer >= {minimum}, got {value!r}")


__all__ = ["VariationalOptimizer", "run_variational", "reflect_into_unit", "score_gradients", "leave_one_out_baselines"]
