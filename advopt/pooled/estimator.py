"""The pooled estimator (``optimizer = "pooled"``): every simulated event of every point and
the whole reference feed one fit.

A method of the tuning loop (advopt/methods/base.py) told each point's events (docs/METHODS.md
has the whole method): a space-filling start (scrambled Sobol); summary networks per cross-fitting fold
(:mod:`advopt.pooled.summary`), trained in a driver thread while the next half-round
simulates (:mod:`advopt.pooled.schedule`); a moment fit of the points' summary means against
the reference's (:mod:`advopt.pooled.moments`, Lepski's rule in :mod:`advopt.pooled.candidates`);
the next round around the estimate (:mod:`advopt.pooled.design`). The covariance adds the
reference's share to the simulation's, measured by refitting on halves of the points
(:mod:`advopt.pooled.resampling`); statuses and intervals come from :mod:`advopt.assessment`,
the goodness of fit from :mod:`advopt.pooled.goodness`, and every step that cannot be done as
designed is named in the recommendation's ``fallbacks``.
Deterministic for a seed on a given device:
the design is keyed by (seed, round), the networks' training by (seed, round, fold).
"""

from __future__ import annotations

import logging
import math
import time

import numpy as np
from threadpoolctl import threadpool_limits

from advopt import seeds
from advopt.methods.base import Asked
from advopt.nn.networks import resolve_device
from advopt.optimizers.base import Recommendation
from advopt.pooled.candidates import candidate_solutions, widest_consistent
from advopt.pooled.design import (Segment, candidate_widths, design_sds, kernel_weights, local_design,
                                  round_sizes, sobol_points, training_set)
from advopt.pooled.distance import ReferenceDistance
from advopt.pooled.goodness import goodness_of_fit
from advopt.pooled.moments import closest_point
from advopt.pooled.options import check_pooled_options
from advopt.pooled.resampling import resampled_simulation_share
from advopt.pooled.schedule import BackgroundJob, HalfRounds
from advopt.pooled.summary import SummaryNetwork
from advopt.pooled.summary_moments import SummaryMoments
from advopt.records.result import Evaluation
from advopt.records.run_record import plain_settings
from advopt.simulation_batches import SimulatedBatch

logger = logging.getLogger(__name__)

_FIRST_SPREAD = 0.25  # the largest design spread (sd, unit cube) of a local round
_MIN_REFERENCE = 100  # events; fewer leave the covariance of the reference's summary mean a guess


class PooledOptimizer:
    """Ask for points; tell it their events (``tell``, a simulated batch of the loop, or
    ``tell_events``); ``recommend`` the fit. Each point's recorded value is its distance to
    the reference in the current summaries (chi-square per summary, about 1 when they
    agree). ``space``, when given, puts the asked details and the progress in physical units."""

    name = "pooled"
    divergence_name = "summary-chi2"
    simulate_recorded = True  # it learns from every point's events: a resumed run simulates them again

    def __init__(self, dim: int, seed: int, upper_bound: float | None = None, *, total_points: int,
                 initial_fraction: float = 0.25, rounds: int = 8, hidden=(64, 64), learning_rate: float = 1e-3,
                 batch_size: int = 512, max_epochs: int = 60, warm_epochs: int = 20, warm_epoch_events: int = 65_536,
                 patience: int = 4, max_train_events: int = 400_000, max_pool_events: int = 2_000_000, min_spread: float = 0.002,
                 folds: int = 2, device: str = "auto", threads: int = 1, summary: str = "score",
                 resamplings: int = 20, start=None, space=None):
        check_pooled_options({name: value for name, value in locals().items() if name not in ("self", "dim", "seed", "start", "space")})
        self.resamplings, self.folds = int(resamplings), int(folds)
        self.hidden = tuple(int(h) for h in hidden)
        self.dim, self.seed = int(dim), int(seed)
        try:
            self.device = resolve_device(device)
        except ValueError as err:
            raise ValueError(str(err).replace("divergence.device", "optimizer.device")) from None
        self.threads = int(threads)
        self.learning_rate, self.batch_size = float(learning_rate), int(batch_size)
        self.max_epochs, self.warm_epochs, self.patience = int(max_epochs), int(warm_epochs), int(patience)
        self.max_train_events, self.max_pool_events = int(max_train_events), int(max_pool_events)
        self.min_spread, self.warm_epoch_events = float(min_spread), int(warm_epoch_events)
        self.summary = summary
        self.space = space
        self._start = None if start is None else np.clip(np.asarray(start, dtype=float).reshape(dim), 0.0, 1.0)
        self._plan = round_sizes(int(total_points), self.dim, float(initial_fraction), int(rounds))
        self._half_rounds = HalfRounds(self._plan)
        self._round = 0  # the round being told (its training and fit)
        self._points: list[np.ndarray] = []
        self._events: list[np.ndarray | None] = []
        self._reference: np.ndarray | None = None
        self._nets: list[SummaryNetwork] = []
        self._moments: SummaryMoments | None = None  # the summaries' moments, per training (built in prepare)
        self._centre: np.ndarray | None = None
        self._cov: np.ndarray | None = None
        self._reference_cov: np.ndarray | None = None  # the reference's share of _cov
        self._unbounded: np.ndarray | None = None  # the estimate before the cube's bounds (advopt.assessment)
        self._information: np.ndarray | None = None  # what the data say of the parameters (MomentFit.information)
        self._fit_width: np.ndarray | None = None  # the kept fit's kernel width
        self._goodness: tuple[int, dict] | None = None  # (fitted points, goodness of fit) of the last fit
        self._fallbacks: dict[str, str] = {}  # code -> why, for the steps of the last fit that could not be done
        self._chi2 = math.nan
        self._spread = np.full(self.dim, _FIRST_SPREAD)
        self._fitted_points = 0
        self._trained_round = -1  # the last round whose summaries trained
        self._training = BackgroundJob()  # its inputs and seeds are fixed when it starts: no timing in the results
        self._reference_distance: ReferenceDistance | None = None  # what each point records (set in prepare)
        self._fit_inputs = None  # (points, moments, starting centre, kernel widths) of the last fit
        self._resampled = -1  # the fitted-point count whose fit was resampled

    # -- set-up ----------------------------------------------------------------------------------
    def prepare(self, reference: np.ndarray, feature_names=None) -> None:
        """Keep the reference (float32) and build the summary networks for its features."""
        needed = max(_MIN_REFERENCE, 20 * self.dim)
        if len(reference) < needed:
            raise ValueError(f"reference: {len(reference)} events are too few for the pooled estimator, which needs at "
                             f"least {needed} (20 per parameter): the fit's noise is estimated from the reference")
        self._reference = np.asarray(reference, dtype=np.float32)
        mean, scale = self._reference.mean(axis=0), self._reference.std(axis=0)
        self._nets = [
            SummaryNetwork(self._reference.shape[1], self.dim, mean, scale, hidden=self.hidden,
                           learning_rate=self.learning_rate, batch_size=self.batch_size, device=self.device,
                           threads=self.threads, seed=seeds.pooled_seed(self.seed, 0, fold, seeds.POOLED_NETWORK_INIT), kind=self.summary)
            for fold in range(self.folds)
        ]
        self._moments = SummaryMoments(self._nets, self._reference)
        self._reference_distance = ReferenceDistance(self._reference)

    # -- ask / tell ------------------------------------------------------------------------------
    def next_size(self, remaining_points: int) -> int:
        """Points the loop should ask for next, as far as the budget goes: the rest of the
        half-round being asked (the summaries learn from a round's first half while its
        second simulates)."""
        return min(self._half_rounds.next_size(), remaining_points)

    def asks_ahead(self) -> bool:
        """See :meth:`HalfRounds.asks_ahead`: a round's second half, and from round 2 on the
        next round's first half while this round's second half simulates."""
        return self._half_rounds.asks_ahead()

    def ask(self, n: int) -> Asked:
        """``n`` points of the design; beside each point of a local round the estimate its
        design is centred on, as [value, 68% low, 68% high] per parameter (the fit's stated
        sd, physical units), for the report."""
        pieces = [self._design(round_index, first, count) for round_index, first, count in self._half_rounds.ask(n)]
        points = np.concatenate(pieces).reshape(n, self.dim) if pieces else np.empty((0, self.dim))
        if self._centre is None or self._cov is None or self.space is None:
            return Asked(points)
        sd = np.sqrt(np.clip(np.diag(self._cov), 0.0, None))
        bands = [self.space.from_unit(np.clip(self._centre + k * sd, 0.0, 1.0)) for k in (0, -1, 1)]
        return Asked(points, {"estimate": {name: [float(band[name]) for band in bands] for name in self.space.names}})

    def progress_text(self) -> str:
        """The current estimate (not a point's own value, which the fit does not use)."""
        if self._centre is None:
            return f"round {self._round}: space-filling start"
        values = self.space.from_unit(self._centre) if self.space is not None else dict(enumerate(self._centre))
        return f"round {self._round} estimate " + ", ".join(f"{name}={values[name]:.4g}" for name in values)

    def settings(self) -> dict:
        return {"optimizer": plain_settings(self), "divergence": {"type": self.divergence_name}}

    def tell(self, batch: SimulatedBatch) -> list[Evaluation]:
        """Every point's events (a recorded point's again, for the pool), its evaluation the
        distance to the reference; a recorded point keeps its record."""
        started = time.perf_counter()
        told = self.tell_events(batch.points, batch.events())
        train_seconds = (time.perf_counter() - started) / batch.n_points
        return batch.evaluations([None if t is None else (*t, {}) for t in told], train_seconds)

    def tell_events(self, points: np.ndarray, events: list[np.ndarray | None]) -> list[tuple[float, float] | None]:
        """Take each point's events (None for a failed simulation). Returns, per point, its
        distance to the reference in the current summaries (chi-square per summary, about 1
        when they agree) and that distance's standard error; None for failures. When the
        round is complete the networks and the fit are updated."""
        if self._reference is None:
            raise RuntimeError("the pooled optimizer needs prepare(reference) before tell_events")
        self._training.wait()
        points = np.atleast_2d(np.asarray(points, dtype=float))
        samples = [None if sample is None else np.asarray(sample, dtype=np.float32) for sample in events]
        self._points += list(points)
        self._events += samples
        values = [None if sample is None else self._distance(sample) for sample in samples]
        with self._blas_threads():
            for segment in self._half_rounds.tell(len(points)):
                self._end_of_segment(segment)
        return values

    def _blas_threads(self):
        """The fit's numpy and scipy calls on ``threads`` BLAS threads: with the simulation
        workers busy on the other cores, OpenBLAS's second thread spins against them (six
        Pythia parameters: a final moment fit took 15.6 s with two threads, 3.9 s with one)."""
        return threadpool_limits(self.threads, user_api="blas")

    def _end_of_segment(self, segment: "Segment") -> None:
        """A round's end: the fit with every point (after training, if its first half did
        not). A first half's end: the summaries train on the pool (while the second half
        simulates); in local rounds the fit is also solved then, so that the next round's
        first half can be asked from it while this round's second half simulates."""
        self._training.wait()  # a tell that completes two half-rounds: the first one's training ends first
        self._round = segment.round
        if segment.ends_round:
            self._refit()
        elif segment.round == 0 or self._centre is None:
            self._train()
        elif not self._in_last_round():  # nothing is asked after the last round: its end fits in these summaries
            self._fit_told_points()  # with the summaries as they are: the next round's first half is asked from it
            self._training.start(self._train)  # in a driver thread; every use of the networks waits for it

    def recommend(self, with_uncertainty: bool = True) -> Recommendation:
        self._training.wait()
        if not any(e is not None for e in self._events):
            raise RuntimeError("no successful evaluation yet")
        finished = self._half_rounds.asked == self._half_rounds.told
        final = with_uncertainty  # only the run's end asks for it (advopt.intervals.make_result): no point is to come
        with self._blas_threads():
            if self._fitted_points < len(self._points) and (finished or final):
                self._refit()  # a round cut short; never with points still to come
            if final:
                self._resample_simulation_share()
        if final and not finished:
            self._fallbacks["stopped-early"] = (f"the run stopped with {self._half_rounds.asked - self._half_rounds.told} "
                                                f"asked points not simulated: the fit holds the {len(self._points)} told")
        if self._centre is None:  # too few points for any fit: the closest point, as it is, and nothing known
            distances = [self._distance(e)[0] if e is not None else np.inf for e in self._events]
            point = self._points[int(np.argmin(distances))]
            return Recommendation(point, min(distances), point[None], covariance=np.full((self.dim, self.dim), np.nan),
                                  unbounded=point.copy(), fallbacks=("no-moment-fit: too few points for any moment fit; the "
                                                                     "closest point to the reference is reported",))
        return Recommendation(self._centre.copy(), self._chi2 / self.dim, self._centre[None], covariance=self._cov.copy(),
                              information=self._information.copy(), unbounded=self._unbounded.copy(),
                              goodness_of_fit=self._goodness_of_fit() if final else None,
                              fallbacks=tuple(f"{code}: {why}" for code, why in self._fallbacks.items()))

    def _resample_simulation_share(self) -> None:
        """Replace the last fit's stated simulation share by the spread of the fit repeated on
        random halves of its points (:mod:`advopt.pooled.resampling`), once per fit; where it
        cannot, the stated share stays and the fallbacks say so."""
        if self._fit_inputs is None or self._resampled == self._fitted_points:
            return
        self._resampled = self._fitted_points
        rng = np.random.default_rng([self.seed, len(self._points), seeds.POOLED_RESAMPLING])
        simulation_cov, why = resampled_simulation_share(self._fit_inputs, self._centre, rng, self.resamplings)
        if simulation_cov is None:
            self._fallbacks["simulation-share-stated"] = why
        else:
            self._cov = self._reference_cov + simulation_cov
            logger.info("pooled fit: half-sampled simulation sd %s", np.round(np.sqrt(np.diag(simulation_cov)), 4))

    def _goodness_of_fit(self) -> dict:
        """Hansen's J over the observables' summaries around the last fit (:mod:`advopt.pooled.goodness`),
        once per fit; a fallback named when it cannot test."""
        if self._goodness is None or self._goodness[0] != self._fitted_points:
            alive = self._alive()
            found = goodness_of_fit(np.array([self._points[j] for j in alive]), [self._events[j] for j in alive],
                                    self._reference, self._centre, self._fit_width, self._cov, self._information)
            self._goodness = (self._fitted_points, found.to_dict())
            if not found.tested:
                self._fallbacks["no-goodness-of-fit"] = (f"{found.summaries}: not more independent summaries than "
                                                         "parameters near the estimate, so no test of the fit")
        return self._goodness[1]

    @property
    def covariance(self) -> np.ndarray | None:
        """The fit's covariance in the unit cube (reference and simulation shares), or None before a fit."""
        return None if self._cov is None else self._cov.copy()

    # -- design ----------------------------------------------------------------------------------
    def _design(self, round_index: int, first: int, n: int) -> np.ndarray:
        """Points ``first .. first+n`` of a round's design: Sobol over the cube for round 0
        (the ``start`` point first, if given); later, a Sobol box around the estimate."""
        cube = sobol_points(self.dim, np.random.default_rng([self.seed, round_index, seeds.POOLED_DESIGN]), first, n)
        if round_index == 0 or self._centre is None:
            if self._start is not None and first == 0 and n > 0:
                cube[0] = self._start
            return cube
        return local_design(cube, self._centre, self._spread)

    # -- the fit ---------------------------------------------------------------------------------
    def _refit(self) -> None:
        """Retrain the summaries on the pool (warm start) unless they learnt this round, or
        this is the last (training then only idles the workers); then solve the moment fit."""
        trained = self._trained_round == self._round or (self._in_last_round() and self._trained_round >= 0)
        if not trained:
            trained = self._train()
        self._fitted_points = len(self._points)
        if trained:
            self._fit_told_points()
            self._drop_far_events(self._alive())

    def _in_last_round(self) -> bool:
        return self._round >= len(self._plan) - 1

    def _fit_told_points(self) -> None:
        """Solve the moment fit with every point told so far."""
        alive = self._alive()
        if len(alive) < 2:
            return
        points = np.array([self._points[j] for j in alive])
        moments = [self._fold_moments(alive, fold) for fold in range(self.folds)]
        self._solve(points, moments)

    def _train(self) -> bool:
        """The summary networks learn from the events told so far, weighted towards the
        current estimate (warm start after the first round); False if they could not."""
        alive = self._alive()
        if len(alive) < 2:
            return False
        points = np.array([self._points[j] for j in alive])
        weights = np.ones(len(alive)) if self._centre is None else kernel_weights(points, self._centre, self._training_width())
        first = self._round == 0 or self._centre is None
        self._moments.forget()
        for fold, net in enumerate(self._nets):
            rng = np.random.default_rng([self.seed, self._round, fold, seeds.POOLED_SUBSAMPLE])
            x, u, w = training_set([self._events[j] for j in alive], points, weights, fold, self.folds,
                                   self.max_train_events, rng)
            try:  # warm starts gain in their first epochs (4-parameter Pythia): half the patience, bounded epochs
                net.fit(x, u, w, max_epochs=self.max_epochs if first else self.warm_epochs,
                        patience=self.patience if first else max(1, self.patience // 2),
                        seed=seeds.pooled_seed(self.seed, self._round, fold, seeds.POOLED_NETWORK_TRAINING),
                        epoch_events=None if first else self.warm_epoch_events)
            except FloatingPointError as err:  # keep the last fit; the next round tries again
                logger.warning("pooled fit, round %d: %s; the previous fit stands", self._round, err)
                return False
        self._trained_round = self._round
        self._moments.prepare({j: self._events[j] for j in alive})  # while the round's rest simulates
        return True

    def _alive(self) -> list[int]:
        """The points whose events are kept, enough of them for every fold."""
        return [j for j, e in enumerate(self._events) if e is not None and len(e) >= 2 * self.folds]

    def _training_width(self) -> np.ndarray:
        """The kernel width (unit cube) of the points the summaries learn from: where one
        event's log-likelihood changes by about 1, sd x sqrt(N_ref) (the per-event Fisher
        information's scale), so that the local exponential family holds and the events
        still carry signal; at least 3 design spreads, at most half the cube."""
        per_event = np.sqrt(np.diag(self._reference_cov)) * math.sqrt(len(self._reference))
        return np.clip(per_event, 3 * self._spread, 0.5)

    def _fold_moments(self, alive: list[int], fold: int) -> dict:
        """Network ``fold``'s summary moments over the reference and the alive points' held-out events."""
        return self._moments.fold_moments(fold, {j: self._events[j] for j in alive})

    def _solve(self, points: np.ndarray, moments: list[dict]) -> None:
        """Fit and solve the moment model per fold around the current centre; re-centre and
        repeat (no retraining) until the solution settles; then the combined covariance."""
        centre = self._centre if self._centre is not None else points[closest_point(points, moments)]
        widths = candidate_widths(self.dim, None if self._centre is None else self._spread, self.min_spread)
        best = widest_consistent(candidate_solutions(points, moments, centre, widths))
        if best is None:
            return
        self._fit_inputs = (points, moments, centre, widths)  # what a resampling of this fit repeats
        _, centre, fits, reference_cov, simulation_cov = best
        covariance = reference_cov + simulation_cov
        # The first fit's polynomial spans the cube and its sds are not trusted (six Pythia
        # parameters: aExtraDiquark at 0.0 +- 0.05 against a truth at 0.585): its round keeps _FIRST_SPREAD.
        if self._centre is not None:
            self._spread = np.minimum(self._spread, np.maximum.reduce([design_sds(self.dim) * np.sqrt(np.diag(covariance)),
                                                                       2 * np.abs(centre - self._centre),
                                                                       np.full(self.dim, self.min_spread)]))
        self._centre, self._cov, self._reference_cov = centre, covariance, reference_cov
        self._unbounded = np.mean([fit.unbounded for fit, _ in fits], axis=0)
        self._information = np.mean([fit.information for fit, _ in fits], axis=0)
        self._fit_width = fits[0][1].scale
        self._fallbacks.pop("simulation-share-stated", None)  # a new fit: its share is yet to be resampled
        self._chi2 = float(np.mean([fit.chi2 for fit, _ in fits]))
        logger.info("pooled fit, round %d: centre %s, sd %s", self._round, np.round(centre, 4),
                    np.round(np.sqrt(np.diag(covariance)), 4))

    def _distance(self, sample: np.ndarray) -> tuple[float, float]:
        """A point's chi-square per summary against the reference (:mod:`advopt.pooled.distance`)."""
        return self._reference_distance(sample, self._moments if self._centre is not None else None)

    def _drop_far_events(self, alive: list[int]) -> None:
        """Bound memory: past ``max_pool_events``, forget the events of the points farthest
        from the estimate (their records stay in the history)."""
        if self._centre is None:
            return
        total = sum(len(self._events[j]) for j in alive)
        weights = kernel_weights(np.array([self._points[j] for j in alive]), self._centre, self._training_width())
        for position in np.argsort(weights):
            if total <= self.max_pool_events:
                break
            j = alive[position]
            total -= len(self._events[j])
            self._events[j] = None
