"""The pooled estimator's schedule: which half-round each asked and told point belongs to,
when the next half-round may be asked before the one in flight is told, and the driver
thread the summaries train in meanwhile.

A round is asked in two halves, and the workers are kept fed across rounds. When a local
round's first half is told, the moment fit is solved with every point told so far (in the
summaries as they are) and the summaries start to learn from the pool in a driver thread;
meanwhile the loop asks the next round's first half from that fit (:meth:`asks_ahead`) and
the workers simulate it beside this round's second half. When the second half is told, the
fit takes every point in the new summaries, and the next round's second half is asked from
it. (The space-filling start trains in the foreground, round 1 waits for its fit; the last
round trains nothing, as a training then would only idle the workers: its fit takes the
round before's summaries. Warm starts stop after half the patience, and each of their
epochs replays ``warm_epoch_events`` events drawn afresh.)
"""

from __future__ import annotations

import concurrent.futures

from advopt.pooled.design import Segment, round_segments


class HalfRounds:
    """Counts asked and told points against the plan's half-rounds (the plan's last round
    repeats past its end)."""

    def __init__(self, plan: list[int]):
        self._plan = list(plan)
        self._segments: list[Segment] = []
        self.asked = 0
        self.told = 0

    def segment_at(self, point: int) -> Segment:
        """The half-round holding the ``point``-th asked point."""
        while not self._segments or point >= self._end(self._segments[-1]):
            last = self._segments[-1] if self._segments else None
            round_index = last.round + 1 if last else 0
            self._segments += round_segments(round_index, self._plan[min(round_index, len(self._plan) - 1)],
                                             self._end(last) if last else 0)
        return next(seg for seg in self._segments if seg.start <= point < self._end(seg))

    def next_size(self) -> int:
        """Points left in the half-round being asked."""
        return self._end(self.segment_at(self.asked)) - self.asked

    def asks_ahead(self) -> bool:
        """Whether the next half-round may be asked before the one in flight is told: a
        round's second half (its design is fixed by the first's); and, from the third round
        on, a round's first half once the previous round's first half has been told (its
        design takes the fit solved then; the fit of the whole round comes only later).
        Round 1 waits for the whole space-filling start."""
        if self.asked == self.told:
            return False
        outstanding, following = self.segment_at(self.told), self.segment_at(self.asked)
        if following.round == outstanding.round:
            return True
        return following.round >= 2 and outstanding.offset > 0

    def ask(self, n: int) -> list[tuple[int, int, int]]:
        """Take ``n`` points: (round, position in its design, count) per half-round they span."""
        pieces = []
        while n > 0:
            segment = self.segment_at(self.asked)
            take = min(n, self._end(segment) - self.asked)
            pieces.append((segment.round, segment.offset + self.asked - segment.start, take))
            self.asked += take
            n -= take
        return pieces

    def tell(self, n: int) -> list[Segment]:
        """Count ``n`` told points; the half-rounds they complete, in order."""
        completed = []
        for _ in range(n):
            self.told += 1
            segment = self.segment_at(self.told - 1)
            if self.told == self._end(segment):
                completed.append(segment)
        return completed

    @staticmethod
    def _end(segment: Segment) -> int:
        return segment.start + segment.size


class BackgroundJob:
    """At most one function running in a driver thread (the summaries' training, while the
    workers simulate); ``wait`` joins it and re-raises its error."""

    def __init__(self):
        self._running = None

    def start(self, function) -> None:
        self.wait()
        pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="advopt-pooled-training")
        self._running = (pool, pool.submit(function))

    def wait(self) -> None:
        if self._running is not None:
            (pool, future), self._running = self._running, None
            try:
                future.result()
            finally:
                pool.shutdown()
