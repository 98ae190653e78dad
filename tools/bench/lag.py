"""Projection lag in milliseconds, sampled while the lifecycles run.

A thread polls the log's head and the slowest view's position every few milliseconds. Each new head is
timed from the sample that first saw it stored until the sample that first sees every view past it,
so a figure is exact to about one sampling interval (reported with it).
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from dataclasses import dataclass

from clusterlabel.projections.runner import ViewRunner

SAMPLE_SECONDS = 0.01


class LagSampler:
    def __init__(self, runner: ViewRunner, interval: float = SAMPLE_SECONDS) -> None:
        self.runner = runner
        self.interval = interval
        self.lags_ms: list[float] = []
        self.samples = 0
        self._laggard = ""  # the view found behind last
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="bench-lag", daemon=True)

    def start(self) -> LagSampler:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)

    def figures(self) -> Lag:
        return Lag(self.lags_ms, self.interval * 1000)

    def _loop(self) -> None:
        pending: deque[tuple[int, float]] = deque()  # (head seen, when first seen), oldest first
        seen = self.runner.head()
        while not self._stop.is_set():
            now = time.perf_counter()
            head = self.runner.head()
            if head > seen:
                pending.append((head, now))
                seen = head
            if pending:
                done = self._slowest(past=pending[0][0])
                while pending and pending[0][0] <= done:
                    self.lags_ms.append((time.perf_counter() - pending.popleft()[1]) * 1000)
            self.samples += 1
            self._stop.wait(self.interval)

    def _slowest(self, past: int) -> int:
        """The slowest view's position once every view is `past` or beyond; until then the position of
        one that is not. Why: the sampler shares the machine (in the lifecycle part, the process) with
        what it measures, and asking every view's store every 10 ms cost 1,500 queries a second; now a
        sample while the views are behind asks one store, the view that lagged last, which usually still does."""
        positions = []
        for view in sorted(self.runner.views, key=lambda view: view.name != self._laggard):
            position = view.position(self.runner.application_name)
            if position < past:
                self._laggard = view.name
                return position
            positions.append(position)
        return min(positions, default=past)


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile; 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = min(len(ordered), max(1, math.ceil(fraction * len(ordered))))
    return ordered[rank - 1]


class AgainstBaseline:
    """Figures of work measured against a bare baseline doing the same: `done` units in `seconds`."""

    seconds: float
    baseline_seconds: float

    @property
    def done(self) -> float:
        raise NotImplementedError

    def per_second_in(self, seconds: float) -> float:
        """The rate of the same work done in `seconds` (ours, the baseline's, or another reference's)."""
        return self.done / seconds

    def ratio_to(self, seconds: float) -> float:
        """Our rate against that of a reference that did the same work in `seconds`."""
        return self.per_second / self.per_second_in(seconds)

    @property
    def per_second(self) -> float:
        return self.per_second_in(self.seconds)

    @property
    def baseline_per_second(self) -> float:
        return self.per_second_in(self.baseline_seconds)

    @property
    def ratio(self) -> float:
        return self.ratio_to(self.baseline_seconds)


class Latencies:
    """The percentiles of measured times in milliseconds (`latencies_ms`)."""

    latencies_ms: list[float]

    @property
    def p50_ms(self) -> float:
        return percentile(self.latencies_ms, 0.50)

    @property
    def p99_ms(self) -> float:
        return percentile(self.latencies_ms, 0.99)


@dataclass
class Lag(Latencies):
    """The projection lags a sampler measured, and how often it looked: a lag is exact to about that."""

    latencies_ms: list[float]
    interval_ms: float
