"""Adaptive divergences: classifiers whose capacity follows how easily the samples are told apart.

Borisyak, Gaintseva and Ustyuzhanin, "Adaptive divergence for rapid adversarial optimization",
PeerJ Comput. Sci. 6:e274 (2020), research code HSE-LAMBDA/rapid-ao. Far from the optimum the
samples are easy to separate and a weak classifier already gives a large divergence; near it a
full-capacity classifier is needed to see the remaining difference. An *adaptive* divergence
ties the classifier's capacity to its own current discrimination, so that it is cheap and
smooth far away and as sensitive as the fixed JSD near the optimum. It keeps the two properties
an optimiser needs: it is 0 for identical samples and grows with the difference (the paper's
pseudo-divergence conditions).

Two families, as in the paper:

- :class:`AdaptiveMLPDivergence` (paper: "pJSD-reg"): the MLP of :mod:`advopt.divergence.mlp`
  trained with an L2 penalty whose strength is a decreasing function of the running training
  cross-entropy ``L``: strong while ``L`` is far below ln 2 (easily separable), zero as ``L``
  nears ln 2. Schedules: :func:`linear_schedule`, :func:`log_schedule`.
- :class:`AdaptiveBoostingDivergence` (paper: "pJSD-GBDT"): gradient-boosted trees whose number
  of stages is cut where the staged training JSD first exceeds a decreasing threshold
  (:func:`linear_thresholds`, :func:`log_thresholds`).

Both report ``ln 2 - held-out cross-entropy`` (nats) of the capacity-limited classifier: a
lower bound of the JSD, equal to the fixed JSD estimate near the optimum.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from sklearn.ensemble import HistGradientBoostingClassifier
from threadpoolctl import threadpool_limits
from torch import nn

from advopt.divergence.base import (LN2, DivergenceBase, DivergenceEstimate, balanced_weights, binary_cross_entropy,
                                    check_holdout_fraction, jsd_fisher_information, jsd_from_losses,
                                    make_labelled_split)
from advopt.divergence.mlp import MLPDivergence, check_positive
from advopt.nn.networks import standardiser, torch_threads
from advopt.nn.training import keep_best, seeded_mlp

SCHEDULES = ("linear", "log")


# -- schedules (pure functions) -------------------------------------------------------------------
def linear_schedule(loss: float, strength: float = 1.0) -> float:
    """Regularisation coefficient ``strength * clip(1 - loss / ln 2, 0, 1)``.

    ``loss`` is the running training cross-entropy in nats (ln 2: chance; 0: perfect
    separation). The coefficient is ``strength`` for perfectly separated samples and falls
    linearly to 0 (full capacity) as the loss reaches ln 2. From rapid-ao
    ``advopt/classifier/nn/utils.py`` (``lincapacity``: ``clamp(c - c * t, 0, 1)`` with
    ``t = L / ln 2``); here the clip is applied before the scale, so ``strength > 1`` is allowed.
    """
    t = float(loss) / LN2
    return float(strength) * min(max(1.0 - t, 0.0), 1.0)


def log_schedule(loss: float, strength: float = 1.0, floor: float = 0.01) -> float:
    """Regularisation coefficient ``-strength * ln(clip(loss / ln 2, floor, 1))``.

    0 at ``loss = ln 2`` (and above), growing like ``-ln t`` as the normalised loss
    ``t = loss / ln 2`` falls, capped at ``strength * ln(1 / floor)`` (4.6 * strength for the
    default floor) for perfectly separated samples. Compared with the linear schedule it
    regularises less when the samples are nearly indistinguishable (``-ln t ~ 1 - t`` near
    t = 1) and much more when they are far apart. From rapid-ao ``advopt/classifier/nn/utils.py``
    (``logcapacity``: ``-c * log(clamp_min(t, 1e-2))``); the upper clip at 1 is ours, so that a
    training loss above ln 2 (possible early on) never gives a negative penalty.
    """
    if not 0 < floor < 1:
        raise ValueError(f"divergence.floor: must be in (0, 1), got {floor!r}")
    t = min(max(float(loss) / LN2, floor), 1.0)
    return float(strength) * math.log(1.0 / t)


def linear_thresholds(n_stages: int, start: float = LN2) -> np.ndarray:
    """Training-JSD thresholds for stages 1..n, falling linearly from ``start`` to 0.

    rapid-ao ``advopt/classifier/gb/utils.py`` (``linspace``): ``tau_i = start * (1 - i / (n - 1))``
    for i = 0..n-1.
    """
    return np.linspace(start, 0.0, num=int(n_stages))


def log_thresholds(n_stages: int, start: float = LN2) -> np.ndarray:
    """Training-JSD thresholds for stages 1..n: ``tau_i = start * ln(i / n) / ln(1 / n)``, i = 1..n.

    ``start`` for the first stage, 0 for the last; they fall slowly at first and steeply at
    the end, so far-apart samples stop after few stages and near ones are given nearly all.
    rapid-ao ``advopt/classifier/gb/utils.py`` (``logspace``).
    """
    n = int(n_stages)
    if n == 1:
        return np.array([start])
    a = np.arange(1, n + 1) / n
    return start * np.log(a) / np.log(a[0])


def stages_for_thresholds(train_jsd: np.ndarray, thresholds: np.ndarray) -> int:
    """Number of stages to keep: the first k (1-based) whose training JSD exceeds threshold k,
    or all of them when none does (rapid-ao ``AdaptiveBoosting.fit``)."""
    above = np.flatnonzero(np.asarray(train_jsd) > np.asarray(thresholds)[: len(train_jsd)])
    return int(above[0]) + 1 if above.size else len(train_jsd)


_SCHEDULE_FUNCTIONS = {"linear": linear_schedule, "log": log_schedule}


def _check_schedule(schedule: str) -> str:
    if schedule not in SCHEDULES:
        raise ValueError(f"divergence.schedule: must be one of {list(SCHEDULES)}, got {schedule!r}")
    return schedule


# -- adaptive MLP ---------------------------------------------------------------------------------
class AdaptiveMLPDivergence(MLPDivergence):
    """Adaptive JSD ("pJSD") from the MLP of :class:`MLPDivergence` whose L2 penalty follows
    its own running training loss.

    Each minibatch step minimises ``CE + c(L) * penalty * sum(W**2)`` over the weight matrices
    (not the biases), where ``L`` is an exponential moving average (factor ``smoothing`` per
    step, starting at ln 2) of the minibatch training cross-entropy and ``c`` the schedule
    (:func:`linear_schedule` or :func:`log_schedule`, scaled by ``strength``). Training starts
    at full capacity; as the classifier separates the samples ``L`` drops and the penalty rises
    until the two balance. Easily separated samples therefore end with a strongly regularised
    (low-capacity) network, nearly identical ones with an unregularised one, as in the paper.

    Why L2 and not dropout: the penalty can change at every step without changing the
    forward pass, so the held-out evaluation is the plain deterministic network, the running
    loss is measured on the network that is evaluated, and there is no dropout rescaling
    between training and evaluation. (The paper offers both, and a gradient penalty; its
    toy-task results use the L2 and gradient variants.) ``penalty`` multiplies the sum of
    squared weights. rapid-ao's ``nn_models`` uses 1e-3; with our shorter training (early
    stopping after a few tens of epochs) that barely changes anything (XOR, 2k events each,
    rotation 1 rad: 0.685 against 0.691 nats for the fixed JSD), so the default is 1e-2: the
    far-apart values come down (0.65 at 1 rad, 0.59 at 0.5 rad against 0.67 for the fixed JSD)
    while near the optimum the estimate is the fixed one (0.030 against 0.031 at 0.05 rad).

    Everything else (standardised inputs, class-balanced Adam minibatches, early stopping on
    the held-out loss, the estimate ``ln 2 - held-out cross-entropy``) is that of
    :class:`MLPDivergence`. ``details``: ``regularisation`` (the coefficient ``c(L)`` at the
    kept epoch), ``train_loss`` (``L`` there), ``epochs``, ``train_value`` (the same estimate
    on the training split, as :class:`MLPDivergence` reports it).
    """

    upper_bound = LN2

    def __init__(
        self,
        schedule: str = "linear",
        strength: float = 1.0,
        penalty: float = 1e-2,
        smoothing: float = 0.95,
        floor: float = 0.01,
        hidden: tuple[int, ...] | list[int] = (64, 64),
        max_epochs: int = 200,
        batch_size: int = 256,
        learning_rate: float = 3e-3,
        patience: int = 8,
        holdout_fraction: float = 1 / 3,
        device: str = "auto",
        threads: int = 1,
    ):
        super().__init__(hidden=hidden, max_epochs=max_epochs, batch_size=batch_size, learning_rate=learning_rate,
                         patience=patience, holdout_fraction=holdout_fraction, device=device, threads=threads)
        self.schedule = _check_schedule(schedule)
        if not isinstance(strength, (int, float)) or strength < 0:
            raise ValueError(f"divergence.strength: must be a number >= 0, got {strength!r}")
        if not isinstance(penalty, (int, float)) or penalty < 0:
            raise ValueError(f"divergence.penalty: must be a number >= 0, got {penalty!r}")
        if not isinstance(smoothing, (int, float)) or not 0 <= smoothing < 1:
            raise ValueError(f"divergence.smoothing: must be in [0, 1), got {smoothing!r}")
        log_schedule(LN2, 1.0, floor)  # validates floor
        self.strength = float(strength)
        self.penalty = float(penalty)
        self.smoothing = float(smoothing)
        self.floor = float(floor)
        self.name = f"jsd-adaptive-{schedule}"

    def coefficient(self, loss: float) -> float:
        """The schedule's regularisation coefficient for a running training loss (nats)."""
        if self.schedule == "linear":
            return linear_schedule(loss, self.strength)
        return log_schedule(loss, self.strength, self.floor)

    def estimate(self, simulated: np.ndarray, reference: np.ndarray, seed: int) -> DivergenceEstimate:
        rng = np.random.default_rng(seed)
        x_train, y_train, x_hold, y_hold = make_labelled_split(simulated, reference, self.holdout_fraction, rng)
        to_tensor = standardiser(x_train, self.device)
        with torch_threads(self.threads):
            model, epochs, coefficient, train_loss = self._train_adaptive(
                to_tensor(x_train), y_train, to_tensor(x_hold), y_hold, seed)
            loss_hold = self._losses(model, to_tensor(x_hold), y_hold)
            loss_train = self._losses(model, to_tensor(x_train), y_train)
        value, stderr = jsd_from_losses(loss_hold[y_hold == 1], loss_hold[y_hold == 0])
        train_value, _ = jsd_from_losses(loss_train[y_train == 1], loss_train[y_train == 0])
        details = {"epochs": epochs, "regularisation": coefficient, "train_loss": train_loss, "schedule": self.schedule,
                   "train_value": train_value}
        return DivergenceEstimate(value, stderr, len(simulated), details)

    def _train_adaptive(self, x_train, y_train, x_hold, y_hold, seed: int):
        model, generator = seeded_mlp(x_train.shape[1], self.hidden, 0.0, seed, self.device)
        weights = torch.as_tensor(balanced_weights(y_train), dtype=torch.float32, device=self.device)
        targets = torch.as_tensor(y_train, dtype=torch.float32, device=self.device)
        matrices = [p for p in model.parameters() if p.ndim >= 2]
        optimiser = torch.optim.Adam(model.parameters(), lr=self.learning_rate)
        running = LN2  # the smoothed training cross-entropy, which sets the regularisation

        def epoch() -> float:
            nonlocal running
            for batch in torch.randperm(len(targets), generator=generator).to(self.device).split(self.batch_size):
                coefficient = self.coefficient(running)
                logits = model(x_train[batch]).squeeze(-1)
                cross_entropy = nn.functional.binary_cross_entropy_with_logits(
                    logits, targets[batch], weight=weights[batch])
                loss = cross_entropy
                if coefficient > 0 and self.penalty > 0:
                    loss = loss + (coefficient * self.penalty) * sum((w * w).sum() for w in matrices)
                optimiser.zero_grad(set_to_none=True)
                loss.backward()
                optimiser.step()
                running = self.smoothing * running + (1 - self.smoothing) * float(cross_entropy.detach())
            return self._balanced_loss(model, x_hold, y_hold)

        epochs, best = keep_best(model, epoch, max_epochs=self.max_epochs, patience=self.patience,
                                 snapshot=lambda: (self.coefficient(running), running))
        return model, epochs, float(best[0]), float(best[1])

    def __repr__(self) -> str:
        return (f"AdaptiveMLPDivergence(schedule={self.schedule!r}, strength={self.strength}, "
                f"penalty={self.penalty}, hidden={self.hidden}, device={self.device.type})")


# -- adaptive boosting ----------------------------------------------------------------------------
class AdaptiveBoostingDivergence(DivergenceBase):
    """Adaptive JSD from gradient-boosted trees with a capacity (number of stages) cut by
    decreasing thresholds on the staged training JSD.

    ``n_stages`` trees are grown (``HistGradientBoostingClassifier``, no early stopping) on the
    training split. After stage k the class-balanced training JSD ``J_k = ln 2 - CE_train(k)`` is
    compared with the threshold ``tau_k`` (:func:`linear_thresholds` or :func:`log_thresholds`,
    falling from ``start`` = ln 2 at stage 1 to 0 at stage n); the model is cut at the first k
    with ``J_k > tau_k`` (all n stages when there is none). Easily separated samples cross a high
    threshold after a few stages (a weak model); indistinguishable ones never rise above the
    falling thresholds until the last stages (full capacity). The estimate is
    ``ln 2 - held-out cross-entropy`` of the cut model. As in rapid-ao
    ``advopt/classifier/gb/boosting.py`` (``AdaptiveBoosting``). Deterministic for a seed.
    ``details``: ``stages`` (kept), ``train_value`` (the training JSD at that stage).

    ``threads`` caps scikit-learn's OpenMP threads (default 1): with simulation workers busy on
    the other cores, uncapped OpenMP threads made one ordering test take 26 s here, 0.5 s capped.
    """

    upper_bound = LN2
    # the curvature of a JSD surface gives the Fisher information (advopt/intervals.py)
    fisher_information = staticmethod(jsd_fisher_information)

    def __init__(self, schedule: str = "linear", n_stages: int = 100, learning_rate: float = 0.1,
                 max_depth: int | None = 3, max_leaf_nodes: int = 8, start: float = LN2,
                 holdout_fraction: float = 1 / 3, threads: int = 1):
        self.schedule = _check_schedule(schedule)
        check_positive("threads", threads)
        self.threads = int(threads)
        if isinstance(n_stages, bool) or not isinstance(n_stages, int) or n_stages < 2:
            raise ValueError(f"divergence.n_stages: must be an integer >= 2, got {n_stages!r}")
        if not isinstance(learning_rate, (int, float)) or not 0 < learning_rate <= 1:
            raise ValueError(f"divergence.learning_rate: must be in (0, 1], got {learning_rate!r}")
        if max_depth is not None and (not isinstance(max_depth, int) or max_depth < 1):
            raise ValueError(f"divergence.max_depth: must be a positive integer or None, got {max_depth!r}")
        if not isinstance(max_leaf_nodes, int) or max_leaf_nodes < 2:
            raise ValueError(f"divergence.max_leaf_nodes: must be an integer >= 2, got {max_leaf_nodes!r}")
        if not isinstance(start, (int, float)) or not 0 < start <= LN2:
            raise ValueError(f"divergence.start: must be in (0, ln 2], got {start!r}")
        check_holdout_fraction(holdout_fraction)
        self.n_stages = n_stages
        self.learning_rate = float(learning_rate)
        self.max_depth = max_depth
        self.max_leaf_nodes = max_leaf_nodes
        self.start = float(start)
        self.holdout_fraction = float(holdout_fraction)
        self.name = "jsd-adaptive-boosting"

    def thresholds(self) -> np.ndarray:
        make = linear_thresholds if self.schedule == "linear" else log_thresholds
        return make(self.n_stages, self.start)

    def estimate(self, simulated: np.ndarray, reference: np.ndarray, seed: int) -> DivergenceEstimate:
        rng = np.random.default_rng(seed)
        x_train, y_train, x_hold, y_hold = make_labelled_split(simulated, reference, self.holdout_fraction, rng)
        model = HistGradientBoostingClassifier(
            max_iter=self.n_stages, learning_rate=self.learning_rate, max_depth=self.max_depth,
            max_leaf_nodes=self.max_leaf_nodes, early_stopping=False, random_state=int(rng.integers(2**31 - 1)),
        )
        weights = balanced_weights(y_train)
        with threadpool_limits(self.threads, user_api="openmp"):
            model.fit(x_train, y_train, sample_weight=weights)
            train_jsd = np.array([
                LN2 - float(np.average(binary_cross_entropy(p[:, 1], y_train), weights=weights))
                for p in model.staged_predict_proba(x_train)
            ])
            stages = stages_for_thresholds(train_jsd, self.thresholds())
            for k, proba in enumerate(model.staged_predict_proba(x_hold), start=1):
                if k == stages:
                    break
        losses = binary_cross_entropy(proba[:, 1], y_hold)
        value, stderr = jsd_from_losses(losses[y_hold == 1], losses[y_hold == 0])
        details = {"stages": stages, "train_value": float(train_jsd[stages - 1]), "schedule": self.schedule}
        return DivergenceEstimate(value, stderr, len(simulated), details)

    def __repr__(self) -> str:
        return f"AdaptiveBoostingDivergence(schedule={self.schedule!r}, n_stages={self.n_stages})"


def adaptive_linear(**options) -> AdaptiveMLPDivergence:
    """``AdaptiveMLPDivergence(schedule="linear", ...)`` (registered as ``adaptive-linear``)."""
    return AdaptiveMLPDivergence(schedule="linear", **options)


def adaptive_log(**options) -> AdaptiveMLPDivergence:
    """``AdaptiveMLPDivergence(schedule="log", ...)`` (registered as ``adaptive-log``)."""
    return AdaptiveMLPDivergence(schedule="log", **options)
