"""The moment fit to histograms, round by round (advopt/histograms/tune.py runs it).

Each round spreads points over a box around the last estimate, models every bin's mean by a
quadratic over the box's points (advopt/histograms/surrogate.py), and minimises the data's
chi-square against it; the last round's minimum is the estimate. Functions of the tune's
run (``run``: its simulations, points, data and weights).
"""

from __future__ import annotations

import numpy as np
from scipy.stats import qmc

from advopt import seeds
from advopt.assessment import MOSTLY
from advopt.histograms.surrogate import AnchoredModel, fit_bins, information, minimise_chi2, n_terms
from advopt.pooled.moments import BOX_INFORMATION, information_inverse

DEGREE = 2
POINTS_PER_TERM = 2  # points per polynomial coefficient in every round
_SIGMAS = 3.0  # a round's box: this many sd of the last estimate either side
_SHRINK_AT_MOST = 4.0
_MIN_HALF_WIDTH = 0.01
EDGE = 1e-6
RESAMPLES = 20  # wild-bootstrap refits of the estimate's box, for the model's own noise


def moment_rounds(run, budget: int, rounds: int, spare: int = 0) -> dict:
    """The estimate from ``budget`` events of rounds, and at most ``spare`` more at the
    estimate where the model needs them (:func:`_refit_at_estimate`)."""
    dim = run.space.dim
    per_round = POINTS_PER_TERM * n_terms(dim, DEGREE)
    # Each round gets twice the events of the one before: the last round's model makes
    # the estimate, the earlier ones only find its box.
    shares = 2.0 ** np.arange(rounds) / (2.0**rounds - 1)
    centre, half = np.full(dim, 0.5), np.full(dim, 0.5)
    fit = None
    boxes = []
    for r in range(rounds):
        events = max(int(budget * shares[r]) // per_round, 100)
        low, high = np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)
        boxes.append((low, high))
        design = qmc.LatinHypercube(dim, seed=np.random.default_rng([run.seed, r, seeds.POOLED_DESIGN]))
        run.add(low + design.random(per_round) * (high - low), events, r)
        fit = _fit_in(run, low, high, fit["point"] if fit else centre)
        sd = fit["sd"]
        on_edge = ((np.abs(fit["point"] - low) < EDGE) & (low > EDGE)) | ((np.abs(fit["point"] - high) < EDGE) & (high < 1 - EDGE))
        wanted = np.where(np.isfinite(sd), _SIGMAS * sd, half)
        new_half = np.clip(wanted, np.maximum(half / _SHRINK_AT_MOST, _MIN_HALF_WIDTH), half)
        new_half[on_edge] = half[on_edge]
        run.rounds.append({"round": r, "low": low.tolist(), "high": high.tolist(), "points_in_box": fit["n_points"],
                            "events_per_point": events, "estimate": run.space.from_unit(fit["point"]),
                            "model_chi2": fit["chi2"], "worst_bin_misfit": float(np.max(fit["model"].misfit)),
                            "held": fit["held"]})
        if run.progress:
            print(f"round {r}: {fit['n_points']} points, model chi2 {fit['chi2']:.1f} at {run.space.from_unit(fit['point'])}", flush=True)
        centre, half = fit["point"], new_half
    fit = _refit_at_estimate(run, low, high, fit, spare, events, rounds)
    if len(boxes) > 1:
        fit, box = _final_fit(run, boxes[-2], boxes[-1], fit)
        low, high = box
        run.rounds[-1]["estimate_box"] = "the round before's" if box is boxes[-2] else "the last"
    noise, refits = _model_noise(run, low, high, fit)
    fit["covariance"] = fit["covariance"] + noise
    run.rounds[-1]["model_noise_refits"] = refits
    run.rounds[-1]["model_noise_measured"] = refits >= RESAMPLES // 2
    return fit


def _refit_at_estimate(run, low, high, fit, spare: int, per_point: int, iteration: int) -> dict:
    """Where the model's own variance at the estimate exceeds the data's (the median bin), the
    estimate is simulated with as many events as the data hold (each bin's per-event
    variance over its data variance, the median bin; at most ``spare``), as points of the
    last round's size so that the workers share them. Every later fit is anchored there
    (:class:`advopt.histograms.surrogate.AnchoredModel`: the polynomial's slopes and
    curvature, the measured level) and the chi-square minimised again. A quadratic over a box
    of many parameters predicts its centre with the noise of its many terms (measured at
    twenty Pythia parameters: 5.7 times the data's variance at the estimate, which left the
    tuned point's summaries at chi-square 606 for 141 where the model said 125)."""
    used = (run.weights > 0) & (run.data_variance > 0)
    active = np.array([name not in fit["held"] for name in run.space.names])
    model_variance = fit["model"].variance(fit["point"][active])
    if not used.any() or np.median(model_variance[used] / run.data_variance[used]) <= 1.0:
        return fit
    per_event = np.median(np.array([s.per_event_variance for s in run.samples]), axis=0)
    events = int(min(np.median(per_event[used] / run.data_variance[used]), spare))
    copies = max(1, -(-events // max(per_point, 1)))
    if events // copies < 100:
        return fit
    # simulated as the rounds' points are (same seeds and records), but kept apart from them:
    # the anchor's events give the level, not another point of the polynomial
    params = [run.space.from_unit(fit["point"])] * copies
    measured = [m for m in run.simulate(params, events // copies, seeds.SIMULATION, iteration) if m is not None]
    if not measured:  # every simulation there failed (history.jsonl says why): the events are spent, the fit stands
        run.rounds.append({"round": iteration, "at_estimate": copies * (events // copies), "anchored": False})
        return fit
    n = np.sum([m.n_events for m in measured], axis=0)
    values = np.sum([m.values * m.n_events for m in measured], axis=0) / n
    per_event_variance = np.sum([m.per_event_variance * m.n_events for m in measured], axis=0) / n
    run.anchor = (fit["point"].copy(), values, per_event_variance / n)
    refit = _fit_in(run, low, high, fit["point"])
    run.rounds.append({"round": iteration, "at_estimate": copies * (events // copies), "anchored": True,
                       "estimate": run.space.from_unit(refit["point"]), "model_chi2": refit["chi2"],
                       "held": refit["held"]})
    return refit


def _final_fit(run, wider, last, fit) -> tuple[dict, tuple]:
    """The estimate and the box whose points make it. The last box's, unless it holds a
    parameter (its data there are below the slopes' noise) that the round before's wider
    box constrains: holding it would keep the round before's value of it, measured on that
    round's points only, with no share of the model's noise, and move the parameters
    correlated with it to make up (measured on ALEPH: pTmin held in the last round by two
    seeds of three, which then disagreed in pTmin and bLund by 2-2.5 sd). The wider box's
    fit, over all the points in it (the last round's included), then makes the estimate.
    Otherwise the last box's fit stands, with the wider box's information where that
    measures more directions (:func:`_measure_information`)."""
    full = _fit_subspace(run, *wider, fit["point"], np.ones(run.space.dim, dtype=bool))
    wide = _fit_in(run, *wider, fit["point"], full)
    if set(fit["held"]) - set(wide["held"]):
        return wide, wider
    _measure_information(run, full["model"], fit)
    return fit, last


def _measure_information(run, wide_model, fit) -> None:
    """The information at the estimate is the last box's, unless the slopes' noise there
    hides a direction that the round before's wider box measures (the last box is three sd
    wide, so its slopes carry the simulation's noise over a short lever arm; measured on
    ALEPH: alphaS, whose information is 1e5 over the wider box, fell below the noise test in
    the last). The wider box is not used otherwise: over it the quadratic describes the bins
    less well. ``wide_model``: the model over the wider box in every parameter."""
    information = _information_at(wide_model, fit["point"], run)
    if _rank(information) > _rank(fit["information"]):
        fit["information"] = information
        fit["covariance"] = information_inverse(information, BOX_INFORMATION) * fit["scale"]


def _rank(information: np.ndarray) -> int:
    return int(np.sum(np.linalg.eigvalsh(0.5 * (information + information.T)) > 0))


def _model_noise(run, low, high, fit) -> tuple[np.ndarray, int]:
    """The estimate's covariance from the model's own noise, by a wild bootstrap: each
    point of the estimate's box keeps its place and gets the model's value there plus its
    own residual (all bins together, so the correlations between bins that the same events
    fill stay), scaled up for its leverage and multiplied by a random sign; the model is
    refitted and the chi-square minimised again, and the estimates' covariance taken over
    the refits. The residuals carry the simulation's noise and what the quadratic misses in
    the box. Returns the covariance and how many refits succeeded. A pairs bootstrap (points drawn again) leaves about 0.63 of them distinct,
    too few for a quadratic at two points per coefficient: its refits went astray (measured
    on ALEPH: intervals of probQQtoQ ten times another seed's)."""
    inside = _in_box(run, low, high)
    active = np.array([name not in fit["held"] for name in run.space.names])
    at = np.array(run.points)[inside][:, active]
    model = fit["model"]
    predicted = model.predict(at) - getattr(model, "shift", 0.0)  # the polynomial's own fit, not the anchor's level
    values = np.array([run.samples[i].values for i in inside])
    weight = np.array([np.mean(run.samples[i].n_events) for i in inside])
    x = model.features(at) * np.sqrt(weight)[:, None]
    leverage = np.clip(np.einsum("ij,ij->i", x @ np.linalg.pinv(x.T @ x), x), 0.0, 0.99)
    residuals = (values - predicted) / np.sqrt(1.0 - leverage)[:, None]
    rng = np.random.default_rng([run.seed, seeds.POOLED_RESAMPLING])
    estimates = []
    anchor = run.anchor
    for _ in range(RESAMPLES):
        signs = rng.choice([-1.0, 1.0], len(inside))
        noise = None if anchor is None else rng.standard_normal(len(anchor[2])) * np.sqrt(anchor[2])
        try:
            estimates.append(_fit_subspace(run, low, high, fit["point"], active, inside,
                                           predicted + signs[:, None] * residuals, noise)["point"])
        except (ValueError, RuntimeError, np.linalg.LinAlgError):
            continue
    if len(estimates) < RESAMPLES // 2:
        # too few refits to measure the model's noise: the interval is the data's alone (result.json says so)
        return np.zeros((run.space.dim,) * 2), len(estimates)
    return np.atleast_2d(np.cov(np.array(estimates), rowvar=False)), len(estimates)


def _fit_in(run, low: np.ndarray, high: np.ndarray, previous: np.ndarray, full: dict | None = None) -> dict:
    """The model over the points in the box and the chi-square's minimum in it. A
    parameter the data do not constrain (its axis lies in the directions of information
    below the box's) is then left out of the model and held where it was: a polynomial in
    it fits noise, and the minimiser would trade that noise against the real parameters.
    ``full``: the fit in every parameter, where the caller has it already."""
    fit = full if full is not None else _fit_subspace(run, low, high, previous, np.ones(run.space.dim, dtype=bool))
    inert = _not_constrained(fit["information"])
    if inert.any() and not inert.all():
        fit = _fit_subspace(run, low, high, previous, ~inert)
    return fit


def _fit_subspace(run, low, high, previous, active, pick=None, values=None, anchor_noise=None) -> dict:
    """The fit over the points ``pick`` (default: those in the box), with their simulated
    values or, for a bootstrap, ``values`` (one row per picked point) and a draw of the
    anchor's noise (``anchor_noise``, where the fit is anchored)."""
    points = np.array(run.points)
    if pick is None:
        pick = _in_box(run, low, high)
    k = int(active.sum())
    if len(np.unique(pick)) <= n_terms(k, DEGREE):
        raise RuntimeError(f"too few successful simulations in the fit's box ({len(np.unique(pick))}); see history.jsonl")
    samples = [run.samples[i] for i in pick]
    at = points[pick][:, active]
    lo, hi = low[active], high[active]
    centre, half = 0.5 * (lo + hi), np.maximum(0.5 * (hi - lo), 1e-9)
    if values is None:
        values = np.array([s.values for s in samples])
    events = np.array([s.n_events for s in samples])
    model = fit_bins(at, values, np.array([s.per_event_variance for s in samples]), events, centre, half, DEGREE)
    anchor = run.anchor
    if anchor is not None and np.all((anchor[0] >= low - 1e-12) & (anchor[0] <= high + 1e-12)):
        level = anchor[1] if anchor_noise is None else anchor[1] + anchor_noise
        model = AnchoredModel.at(model, anchor[0][active], level, anchor[2])
    scores = np.sum(run.weights * (run.data - model.predict(at)) ** 2 / run.data_variance, axis=1)
    held = np.clip(previous, low, high)
    starts = np.vstack([held[active], centre, at[np.argsort(scores)[:4]]])
    fit = minimise_chi2(model, run.data, run.data_variance, run.weights, lo, hi, starts)
    ndf = max(int(np.count_nonzero(run.weights)) - k, 1)
    scale = max(1.0, fit.chi2 / ndf)
    point, gradient = held.copy(), np.zeros(run.space.dim)
    point[active], gradient[active] = fit.point, fit.gradient
    information = np.zeros((run.space.dim,) * 2)
    information[np.ix_(active, active)] = fit.information
    # The information is the slopes' noise-corrected J'WJ, not the model's Hessian: a
    # quadratic fitted to noise curves along a parameter without effect, and a box shrunk
    # on that curvature would make the noise larger still. Directions below the box's
    # own information (12) keep the box's variance.
    covariance = information_inverse(information, BOX_INFORMATION) * scale
    sd = np.sqrt(np.diag(covariance))
    return {"point": point, "chi2": fit.chi2, "ndf": ndf, "scale": scale, "information": information,
            "covariance": covariance, "sd": sd, "gradient": gradient, "model": model, "n_points": len(pick),
            "held": [name for name, a in zip(run.space.names, active) if not a]}


def _in_box(run, low, high) -> np.ndarray:
    """Indices of the simulated points inside the box [low, high]."""
    points = np.array(run.points)
    return np.flatnonzero(np.all((points >= low - 1e-12) & (points <= high + 1e-12), axis=1))


def _information_at(model, point: np.ndarray, run) -> np.ndarray:
    """The noise-tested information (advopt/histograms/surrogate.py) of ``model`` at ``point``."""
    variance = run.data_variance + model.variance(point)
    return information(model, point, run.weights / variance)


def _not_constrained(information: np.ndarray) -> np.ndarray:
    """Parameters whose axis lies mostly (as advopt/assessment.py decides) in directions of
    information below the box's."""
    values, vectors = np.linalg.eigh(0.5 * (information + information.T))
    share = np.sum(vectors[:, values < BOX_INFORMATION] ** 2, axis=1)
    return share >= MOSTLY
