"""sbi's neural ratio estimation as a peer route for bench_efficiency.py (sbi is installed for
the benchmark only: ``pip install -e ".[peers]"``; it is not a dependency of advopt).

The route a user of sbi would take for many i.i.d. reference events: spend the budget on
single-event simulations at parameters drawn from a uniform prior over the space, train sbi's
amortised ratio estimator log r(x, theta) (NRE-C, its default resnet classifier and training
settings; only the batch grows with the budget above 40k pairs), then fit theta by maximising
the summed log ratio over every reference event (the learnt likelihood, up to a constant in
theta), with the 68% interval from that sum's curvature (the Laplace approximation of the
flat-prior posterior).
"""

from __future__ import annotations

import contextlib
import io

import numpy as np
import torch
from sbi.inference import NRE_C  # the peer under test: pip install -e ".[peers]"
from sbi.utils import BoxUniform
from scipy import optimize

from experiments._common import space_bounds

# sbi's default batch up to 40k pairs; above, the batch grows with the budget so that an epoch
# stays 200 steps: at the default batch, 200k pairs would cost ~5x the 40k run's minutes
SBI_DEFAULT_BATCH = 200
STEPS_PER_EPOCH = 200
FIT_STARTS = 16  # best of this many prior draws starts the fit (the summed ratio can be multimodal)


def simulate_pairs(simulator, budget: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``budget`` single-event simulations at parameters drawn uniformly from the space."""
    names, low, high = space_bounds(simulator)
    thetas = np.random.default_rng(seed).uniform(low, high, size=(budget, len(names)))
    events = np.concatenate([simulator.simulate(dict(zip(names, t.tolist())), 1, seed * budget + i)
                             for i, t in enumerate(thetas)])
    return torch.as_tensor(thetas, dtype=torch.float32), torch.as_tensor(events, dtype=torch.float32)


def summed_log_ratio(estimator, theta: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """Sum over reference events of log r(x_i, theta), for one theta."""
    return estimator.unnormalized_log_ratio(theta.expand(len(reference), -1), reference).sum()


def _value_and_gradient(estimator, reference: torch.Tensor, values: np.ndarray) -> tuple[float, np.ndarray]:
    """The summed log ratio at ``values`` and its gradient in theta (torch autograd)."""
    theta = torch.tensor(values, dtype=torch.float32, requires_grad=True)
    summed = summed_log_ratio(estimator, theta, reference)
    summed.backward()
    return float(summed.detach()), theta.grad.double().numpy()


def fit(estimator, reference: torch.Tensor, low: np.ndarray, high: np.ndarray, seed: int) -> np.ndarray:
    """Maximise the summed log ratio inside the box by L-BFGS-B with torch's gradient, from the
    best of FIT_STARTS prior draws."""
    def negative(values: np.ndarray) -> tuple[float, np.ndarray]:
        value, gradient = _value_and_gradient(estimator, reference, values)
        return -value, -gradient

    starts = np.random.default_rng(seed).uniform(low, high, size=(FIT_STARTS, len(low)))
    with torch.no_grad():
        start = max(starts, key=lambda s: float(summed_log_ratio(estimator, torch.tensor(s, dtype=torch.float32),
                                                                  reference)))
    found = optimize.minimize(negative, start, jac=True, method="L-BFGS-B", bounds=list(zip(low, high)))
    return found.x


def laplace_sd(estimator, reference: torch.Tensor, theta: np.ndarray, ranges: np.ndarray) -> np.ndarray:
    """Per parameter, sqrt of the diagonal of the inverse negative Hessian of the summed log ratio
    (NaN where that Hessian is not negative definite). sbi's resnet is piecewise linear (ReLU), so
    its exact Hessian is zero almost everywhere: the Hessian is the central difference of the
    gradient, first over 1% of each range, then over the sd that step gives (the posterior's scale)."""
    steps = 0.01 * ranges
    for _ in range(2):
        columns = [(_value_and_gradient(estimator, reference, theta + step * unit)[1] -
                    _value_and_gradient(estimator, reference, theta - step * unit)[1]) / (2 * step)
                   for step, unit in zip(steps, np.eye(len(theta)))]
        hessian = np.array(columns)
        hessian = 0.5 * (hessian + hessian.T)
        try:
            diagonal = np.diag(np.linalg.inv(-hessian))
        except np.linalg.LinAlgError:
            return np.full(len(theta), np.nan)
        sd = np.sqrt(np.where(diagonal > 0, diagonal, np.nan))
        steps = np.clip(np.nan_to_num(sd, nan=0.01 * ranges), 1e-4 * ranges, 0.1 * ranges)
    return sd


def tune_nre(simulator, reference: np.ndarray, budget: int, seed: int) -> dict:
    """The tuned point, its 68% interval and the events used, in the benchmark's record form."""
    torch.manual_seed(seed)
    names, low, high = space_bounds(simulator)
    thetas, events = simulate_pairs(simulator, budget, seed)
    prior = BoxUniform(torch.as_tensor(low, dtype=torch.float32), torch.as_tensor(high, dtype=torch.float32))
    inference = NRE_C(prior=prior, show_progress_bars=False)
    batch = max(SBI_DEFAULT_BATCH, budget // STEPS_PER_EPOCH)
    with contextlib.redirect_stdout(io.StringIO()):  # sbi prints its convergence line without a newline
        estimator = inference.append_simulations(thetas, events).train(training_batch_size=batch)
    estimator.eval()
    for parameter in estimator.parameters():
        parameter.requires_grad_(False)
    observed = torch.as_tensor(reference, dtype=torch.float32)
    tuned = fit(estimator, observed, low, high, seed)
    sd = laplace_sd(estimator, observed, tuned, high - low)
    interval = {n: [float(max(lo, t - s)), float(min(hi, t + s))] if np.isfinite(s) else [float(lo), float(hi)]
                for n, t, s, lo, hi in zip(names, tuned, sd, low, high)}
    return {"tuned": dict(zip(names, tuned.tolist())), "interval68": interval, "events_used": budget,
            "epochs": int(inference.summary["epochs_trained"][-1])}
