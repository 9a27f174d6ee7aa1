"""The batch simulator (advopt/simulation_batches.py) and the per-point method that reads its
batches (advopt/methods/per_point.py): chunks and seeds, failures, the reference each point
gets, sample growth, re-used and replayed records. Serial executor, real toy events."""

from __future__ import annotations

import numpy as np

from advopt import seeds
from advopt.divergence import make_divergence
from advopt.divergence.base import DivergenceBase, DivergenceEstimate
from advopt.execution import SerialExecutor
from advopt.methods.per_point import PerPoint, SampleGrowth
from advopt.optimizers import RandomSearch
from advopt.records.result import Status
from advopt.simulation_batches import BatchSimulator


class Counting:
    """A 1-d Gaussian simulator that records every call; fails above ``fail_above``; returns
    two features above ``wide_above``."""

    def __init__(self, fail_above=np.inf, wide_above=np.inf):
        self.calls = []
        self.fail_above, self.wide_above = fail_above, wide_above

    def simulate(self, params, n, seed):
        self.calls.append((dict(params), n, seed))
        if params["mean"] > self.fail_above:
            raise RuntimeError("too far out")
        events = np.random.default_rng(seed).normal(params["mean"], 1.0, (n, 1))
        return np.hstack([events, events]) if params["mean"] > self.wide_above else events


class MeanShift(DivergenceBase):
    """|mean difference| with its standard error, and the sizes it was given."""

    name, upper_bound = "mean-shift", 10.0

    def __init__(self):
        self.seen = []

    def estimate(self, simulated, reference, seed):
        self.seen.append((len(simulated), len(reference), seed))
        diff = abs(simulated.mean() - reference.mean())
        return DivergenceEstimate(diff, np.hypot(simulated.std() / len(simulated) ** 0.5,
                                                 reference.std() / len(reference) ** 0.5), len(simulated))


REFERENCE = np.random.default_rng(1).normal(0.0, 1.0, (5_000, 1))


class Batches:
    """A batch simulator and a method told its batches, as the loop drives them."""

    def __init__(self, simulator, method, fixed=None):
        self.simulations = BatchSimulator(simulator, SerialExecutor(), seed=7, events_per_point=1_000, chunk_size=400,
                                          n_features=1, fixed=fixed)
        self.method = method
        method.prepare(REFERENCE, None)

    def evaluate(self, iteration, first_index, params, recorded, spare_events=0):
        pending = self.simulations.begin(iteration, first_index, np.zeros((len(params), 1)), params, recorded,
                                         simulate_recorded=self.method.simulate_recorded)
        return self.method.tell(self.simulations.finish(pending, spare_events))


def _per_point(simulator, divergence, fixed=None, **method_settings):
    settings = dict(seed=7, batch_size=2, events_per_point=1_000)
    settings.update(method_settings)
    return Batches(simulator, PerPoint(RandomSearch(1, 0), divergence, **settings), fixed)


def test_points_are_simulated_in_seeded_chunks_with_fixed_parameters():
    simulator = Counting()
    batches = _per_point(simulator, MeanShift(), fixed={"width": 1.0})
    params = [{"mean": 0.0}, {"mean": 0.5}]
    evaluations = batches.evaluate(3, 10, params, {})
    assert [call[1] for call in simulator.calls] == [400, 400, 200] * 2
    expected_seeds = [seeds.task_seed(7, 3, index, seeds.SIMULATION, chunk) for index in (0, 1) for chunk in range(3)]
    assert [call[2] for call in simulator.calls] == expected_seeds
    assert all(call[0]["width"] == 1.0 for call in simulator.calls)
    assert [e.index for e in evaluations] == [10, 11] and {e.iteration for e in evaluations} == {3}
    assert [e.seed for e in evaluations] == [expected_seeds[0], expected_seeds[3]]
    assert evaluations[0].value < evaluations[1].value and all(e.n_events == 1_000 for e in evaluations)


def test_failures_are_evaluations_with_their_reason():
    batches = _per_point(Counting(fail_above=1.0, wide_above=0.5), MeanShift())
    params = [{"mean": 0.0}, {"mean": 0.7}, {"mean": 1.5}]
    ok, wide, raised = batches.evaluate(0, 0, params, {})
    assert ok.ok
    assert wide.status is Status.FAILED and "2 features, the reference has 1" in wide.reason
    assert raised.status is Status.FAILED and "RuntimeError: too far out" in raised.reason
    assert raised.n_events == 1_000  # a failed point's events count too


def test_each_point_gets_its_share_of_the_reference_or_all_of_it():
    divergence = MeanShift()
    _per_point(Counting(), divergence, reference_per_point=2.0).evaluate(0, 0, [{"mean": 0.0}], {})
    assert divergence.seen[-1][:2] == (1_000, 2_000)
    divergence.uses_full_reference = True
    _per_point(Counting(), divergence, reference_per_point=2.0).evaluate(0, 0, [{"mean": 0.0}], {})
    assert divergence.seen[-1][:2] == (1_000, 5_000)


def test_growth_doubles_near_points_while_the_budget_allows():
    divergence = MeanShift()
    batches = _per_point(Counting(), divergence, growth=SampleGrowth(max_events=4_000, tolerance=0.05))
    near, far = batches.evaluate(0, 0, [{"mean": 0.0}, {"mean": 2.0}], {}, spare_events=2_500)
    assert far.n_events == 1_000  # told apart at once
    assert near.n_events == 2_000  # doubled once; a second doubling (2,000 more) would pass the spare 1,500
    assert sorted(size for size, _, _ in divergence.seen) == [1_000, 1_000, 2_000]


def test_recorded_points_are_reused_not_simulated_again():
    simulator = Counting()
    batches = _per_point(simulator, make_divergence("chi2"))
    params = [{"mean": 0.0}, {"mean": 0.3}]
    first = batches.evaluate(0, 0, params, {})
    simulator.calls.clear()
    again = batches.evaluate(0, 0, params, {1: first[1]})
    assert {call[0]["mean"] for call in simulator.calls} == {0.0}
    assert again[1] is first[1] and again[0].outcome() == first[0].outcome()


class Remembering:
    """A method that learns from every point's events: each point's value is the number of
    events it was told so far."""

    simulate_recorded = True

    def __init__(self):
        self.events_seen = 0

    def prepare(self, reference, feature_names):
        pass

    def tell(self, batch):
        evaluations = []
        for index in range(batch.n_points):
            failure = batch.failure(index)
            if failure is None:
                self.events_seen += len(batch.samples[index].events)
            evaluations.append(batch.recorded.get(index) or failure
                               or batch.evaluation(index, float(self.events_seen), 1.0))
        return evaluations


def test_a_method_that_learns_from_every_point_sees_recorded_points_again_but_keeps_their_records():
    simulator = Counting(fail_above=1.0)
    batches = Batches(simulator, Remembering())
    params = [{"mean": 0.0}, {"mean": 2.0}, {"mean": 0.5}]
    first = batches.evaluate(0, 0, params, {})
    assert [e.ok for e in first] == [True, False, True] and [first[0].value, first[2].value] == [1_000, 2_000]
    replayed = batches.evaluate(0, 0, params, {0: first[0]})
    assert len(simulator.calls) == 2 * 3 * 3  # every point simulated again: the state needs its events
    assert replayed[0] is first[0] and replayed[2].value == 4_000
