"""The tuning loop: ask -> simulate -> tell -> record, until the budget is spent.

One loop for every method (advopt/methods/base.py: per-point optimisers, AVO, the pooled
estimator): the method asks for points in the unit cube, the batch simulator
(advopt/simulation_batches.py) simulates them, the method is told the events and returns each
point's evaluation, and the evaluations are recorded (history, events spent, the run
directory). The budget counts every simulated event. The batch sizes do not depend on the
worker count, so the history is the same with 1 or 16 workers.

A resumed run's recorded evaluations are handed back batch by batch, so that they are
re-used (or, for a method that learns from every point's events, replayed) instead of
counted again.
"""

from __future__ import annotations

import collections
import dataclasses
import logging
import math
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from advopt.records.result import Evaluation
from advopt.simulation_batches import PendingBatch

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Snapshot:
    """What a callback sees after each batch (read-only): the history so far, the events
    spent of the budget, the batches done, and :meth:`recommend`. A callback stops the run
    by returning True."""

    history: tuple[Evaluation, ...]
    events_used: int
    budget: int
    iteration: int
    _recommend: Callable[[], dict[str, float] | None] = dataclasses.field(repr=False, compare=False)

    def recommend(self) -> dict[str, float] | None:
        """The optimiser's current best parameters (None before any successful evaluation)."""
        return self._recommend()


class TuneLoop:
    """A running tune: the method, the batch simulator, and the progress so far (history,
    events used, iteration)."""

    def __init__(self, method, simulator, space, *, budget: int, events_per_point: int, run_dir=None):
        self.method = method
        self.simulator = simulator
        self.space = space
        self.budget = budget
        self.events_per_point = events_per_point
        self.run_dir = run_dir
        self.history: list[Evaluation] = []
        self.events_used = 0
        self.iteration = 0

    def run(self, progress: bool = False, callback: Callable[[Snapshot], bool | None] | None = None,
            recorded: list[Evaluation] | None = None) -> None:
        """Spend the budget. ``recorded`` evaluations (from a resumed run directory) are
        re-used instead of simulated and counted again.

        When the method's next points do not depend on the batch in hand (``asks_ahead``),
        the next batch is asked and simulated while the driver tells the method this one; the
        order of asks and tells is the same on every run, so the history does not depend on
        timing."""
        by_iteration = _by_iteration(recorded or [])
        bar = _progress_bar(self.budget) if progress else None
        in_flight: collections.deque[_Begun] = collections.deque()
        stopped = False
        try:
            while not stopped:
                if not in_flight and not self._begin_next(in_flight, by_iteration):
                    break
                if self.method.asks_ahead():
                    self._begin_next(in_flight, by_iteration)
                evaluations = self._complete(in_flight.popleft())
                self._report(evaluations, bar)
                stopped = callback is not None and callback(self.snapshot()) is True
        finally:
            for begun in in_flight:  # asked ahead, not needed: let its simulations end before the executor does
                begun.pending.samples.exception()
            if bar is not None:
                bar.close()
        if stopped:
            logger.info("stopped by the callback after %d evaluations", len(self.history))
        elif by_iteration:
            raise ValueError(f"run_dir: the history has evaluations beyond this run's budget (iterations {sorted(by_iteration)})")

    def snapshot(self) -> Snapshot:
        return Snapshot(tuple(self.history), self.events_used, self.budget, self.iteration, self.recommend)

    def recommend(self) -> dict[str, float] | None:
        """The method's current best parameters (None before any successful evaluation)."""
        if not any(e.ok for e in self.history):
            return None
        return self.space.from_unit(self.method.recommend(with_uncertainty=False).point)

    def _begin_next(self, in_flight: "collections.deque[_Begun]", by_iteration: dict) -> bool:
        """Ask for the next batch and start simulating it; False when the budget is spent."""
        n_points = self._next_batch_size(in_flight)
        if n_points <= 0:
            return False
        iteration = self.iteration + len(in_flight)
        in_flight.append(self._begin(n_points, by_iteration.pop(iteration, {}), in_flight))
        return True

    def _begin(self, n_points: int, recorded: dict[int, Evaluation], in_flight) -> "_Begun":
        asked = self.method.ask(n_points)
        params = [self.space.from_unit(u) for u in asked.points]
        for index, evaluation in recorded.items():
            if index >= n_points or not _same_point(evaluation.params, params[index]):
                raise ValueError(
                    f"run_dir: recorded evaluation {evaluation.index} ({evaluation.params}) is not the point this "
                    "configuration asks for: the run directory belongs to a different config"
                )
        first_index = len(self.history) + sum(begun.pending.n_points for begun in in_flight)
        pending = self.simulator.begin(self.iteration + len(in_flight), first_index, asked.points, params, recorded,
                                       simulate_recorded=self.method.simulate_recorded)
        return _Begun(asked.details, pending)

    def _complete(self, begun: "_Begun") -> list[Evaluation]:
        """Tell the method a begun batch's events, record its evaluations."""
        recorded = begun.pending.batch.recorded
        spare = self.budget - self.events_used - begun.pending.n_points * self.events_per_point
        evaluations = self.method.tell(self.simulator.finish(begun.pending, spare))
        evaluations = self._with_asked_details(evaluations, recorded, begun.details)
        return self._record(evaluations, recorded)

    def _next_batch_size(self, in_flight=()) -> int:
        """Points per step, as the method plans them (a batch, a pooled half-round, an AVO
        iteration), as far as the budget goes once the batches in flight are paid for."""
        planned = sum(begun.pending.n_points for begun in in_flight) * self.events_per_point
        remaining = (self.budget - self.events_used - planned) // self.events_per_point
        return self.method.next_size(remaining) if remaining > 0 else 0

    def _with_asked_details(self, evaluations: list[Evaluation], recorded: Mapping[int, Evaluation],
                            asked: dict) -> list[Evaluation]:
        """What the method recorded beside each point it asked (AVO's proposal), first in details."""
        if not asked:
            return evaluations
        return [e if index in recorded else dataclasses.replace(e, details={**asked, **e.details})
                for index, e in enumerate(evaluations)]

    def _record(self, evaluations: list[Evaluation], recorded: Mapping[int, Evaluation]) -> list[Evaluation]:
        """Add a batch to the history and the events spent; append the new ones (not those
        re-used from ``recorded``) to the run directory; move to the next iteration."""
        for index, evaluation in enumerate(evaluations):
            self.history.append(evaluation)
            self.events_used += evaluation.n_events
            if self.run_dir is not None and index not in recorded:
                self.run_dir.append(evaluation)
        self.iteration += 1
        return evaluations

    def _report(self, evaluations: list[Evaluation], bar) -> None:
        """Progress: a bar on a terminal, else one log line per evaluation."""
        status = self.method.progress_text()  # a method that fits shows its estimate, a per-point one its best point
        if bar is not None:
            bar.update(sum(e.n_events for e in evaluations))
            bar.set_postfix_str(status)
            return
        for evaluation in evaluations:
            outcome = (f"{evaluation.status.value}: {evaluation.reason}" if not evaluation.ok
                       else f"{self.method.divergence_name} {evaluation.value:.4g}+-{evaluation.stderr:.2g}")
            logger.info("eval %d  %s  %s  events %d/%d  %s", evaluation.index, format_params(evaluation.params), outcome,
                        self.events_used, self.budget, status)


@dataclass(frozen=True)
class _Begun:
    """A batch asked and being simulated: what the method recorded beside its points when
    asked, and the simulator's pending batch."""

    details: dict
    pending: PendingBatch


def format_params(params: Mapping[str, float]) -> str:
    return ", ".join(f"{k}={v:.4g}" for k, v in params.items())


def _by_iteration(recorded: list[Evaluation]) -> dict[int, dict[int, Evaluation]]:
    """Recorded evaluations as {iteration: {index in its batch: evaluation}}."""
    batches: dict[int, list[Evaluation]] = {}
    for evaluation in recorded:
        batches.setdefault(evaluation.iteration, []).append(evaluation)
    return {
        iteration: {e.index - min(x.index for x in batch): e for e in batch}
        for iteration, batch in batches.items()
    }


def _same_point(recorded: Mapping[str, float], asked: Mapping[str, float]) -> bool:
    return recorded.keys() == asked.keys() and all(math.isclose(recorded[k], asked[k], rel_tol=1e-9, abs_tol=1e-12) for k in asked)


def _progress_bar(budget: int):
    from tqdm.auto import tqdm

    return tqdm(total=budget, unit="ev", unit_scale=True, desc="tuning", file=sys.stderr)
