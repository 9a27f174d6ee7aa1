"""The proposal of adversarial variational optimisation (AVO): ``optimizer="variational"``.

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
- **Critic.** One torch MLP kept for the whole run
  (:class:`advopt.avo.critic.AdversarialCritic`, made by :func:`advopt.avo.method.make_variational`
  from the ``mlp`` divergence's options, with ``r1_gamma`` and ``critic_epochs``). It is one step behind: each iteration's draws are
  scored before it trains on them, so the losses are held-out estimates.
- **Generator loss** (non-saturating, the paper's U_g): per draw theta_i,
  L_i = mean over its events of -log sigmoid(l(x)) = softplus(-l(x)); the critic tells it
  to this optimiser through the ordinary ``tell``.
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
- **Recorded value** of each draw: the critic's JSD estimate against a held-out quarter of
  the reference (what the report's history plot shows). ``details`` holds the proposal the
  draw came from (``proposal_mean``, ``proposal_sd``: physical units, from
  :meth:`advopt.avo.method.Variational.ask`), and its ``generator_loss``.
- **Draws** come in antithetic pairs (eps, -eps) by default (``antithetic``): for a smooth
  loss the pair cancels the even part of the mean's gradient and the odd part of the
  width's, which steadied the mean markedly on the Gaussian toy (measured).
- **Result.** best_params = the final proposal mean; interval68 the 15.9/84.1 percentiles
  of fixed normal quantiles pushed through the proposal and the unit->physical map (so
  log-scale parameters get their asymmetric interval); uncertainty its half-width.
- **Budget.** Every simulated event counts (failed draws too); the loop stops when the next
  iteration (``points_per_iteration * events_per_point`` events) would not fit.
- **The loop** is the one every method runs through (advopt/loop.py): the AVO method
  (advopt/avo/method.py) asks a whole iteration, the critic scores the simulated draws, and
  the proposal's ``tell`` takes the generator losses. ``batch_size``, sample growth and
  ``reference.per_point`` do not apply and are refused when set.
- **Resume** replays the recorded draws (simulated again with their seeds) through the
  critic and the proposal, so a resumed run ends where an uninterrupted one would.

Seeds: simulations use the loop's scheme (advopt/seeds.py); the draws, the reference
subsamples and the critic have their own streams, keyed by (run seed, iteration).
Deterministic for a seed on a given device.
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np

from advopt import seeds
from advopt.divergence.base import LN2
from advopt.fields import check_int_option
from advopt.optimizers.base import OptimizerBase, Recommendation

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


class VariationalOptimizer(OptimizerBase):
    """The AVO proposal: a diagonal Gaussian over the unit cube, moved by Adam on
    score-function gradients. Options (``[optimizer]`` in a config) are described in the
    module docstring; ``start`` arrives here already in unit-cube coordinates.

    ``ask``/``tell`` work with any per-point loss (``tell``'s ``values``); in the AVO
    method (advopt/avo/method.py) the loss is the critic's generator loss.
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
        check_int_option("points_per_iteration", points_per_iteration, minimum=2)
        _check_number("learning_rate", learning_rate, low=0.0)
        _check_number("r1_gamma", r1_gamma, low=0.0, allow_low=True)
        _check_number("entropy", entropy)
        check_int_option("critic_epochs", critic_epochs, minimum=1)
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
        self.asked_proposal: tuple[np.ndarray, np.ndarray] | None = None

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
        rng = np.random.default_rng(seeds.task_seed(self.seed, self._asked, 0, seeds.PROPOSAL))
        self._asked += 1
        self.asked_proposal = (self.mean.copy(), self.sd.copy())
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
        if not with_uncertainty:
            return Recommendation(self.mean.copy(), None, self.mean[None].copy())
        quantiles = _normal_quantiles(_N_RESULT_QUANTILES)
        rng = np.random.default_rng(seeds.task_seed(self.seed, 0, 0, seeds.PROPOSAL, 1))
        eps = np.stack([rng.permutation(quantiles) for _ in range(self.dim)], axis=1)
        # value None: a proposal has no model of the divergence at its mean; the result reads
        # the last iteration's recorded values (advopt/intervals.py)
        return Recommendation(self.mean.copy(), None, reflect_into_unit(self.mean + self.sd * eps))

    def state(self) -> dict:
        return {"mean": self.mean.tolist(), "sd": self.sd.tolist(), "steps": self._steps}


# -- units -------------------------------------------------------------------------------------
def _unclipped_from_unit(parameter, u: float) -> float:
    if parameter.log:
        return math.exp(math.log(parameter.low) + u * (math.log(parameter.high) - math.log(parameter.low)))
    return parameter.low + u * parameter.width


def physical_mean(space, mean: np.ndarray) -> dict[str, float]:
    return space.from_unit(mean)


def physical_sd(space, mean: np.ndarray, sd: np.ndarray) -> dict[str, float]:
    """The proposal sd in physical units: sd * range for linear parameters; half the
    distance between the images of mean -+ sd for log-scale ones."""
    return {p.name: (_unclipped_from_unit(p, m + s) - _unclipped_from_unit(p, m - s)) / 2.0
            for p, m, s in zip(space.parameters, mean, sd)}


def describe_proposal(space, opt: VariationalOptimizer) -> str:
    mean, sd = physical_mean(space, opt.mean), physical_sd(space, opt.mean, opt.sd)
    return ", ".join(f"{name}={mean[name]:.4g}+-{sd[name]:.2g}" for name in space.names)


def _normal_quantiles(n: int) -> np.ndarray:
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


__all__ = ["VariationalOptimizer", "reflect_into_unit", "score_gradients", "leave_one_out_baselines", "describe_proposal",
           "physical_mean", "physical_sd"]
