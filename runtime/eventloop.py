"""How our long-running processes run their event loop: uvloop, and a garbage collector tuned
for large, long-lived, acyclic state (I/O)."""

import bisect
import gc
import itertools
import time
from collections.abc import Coroutine, Iterator
from typing import Any, TypeVar

import uvloop
from prometheus_client import REGISTRY
from prometheus_client.core import HistogramMetricFamily
from prometheus_client.registry import Collector

T = TypeVar("T")

# CPython collects generation 0 after 700 new container objects. A service that builds a few
# thousand short-lived dicts per second then runs a collection every few milliseconds, and each
# one walks whatever survived; its full collections walk every state it holds (measured: 74 ms
# for 12,000 station states, docs/benchmarks.md). Our objects are freed by reference counting;
# the collector only has to find the rare cycle, so it may run far less often.
GC_THRESHOLDS = (50_000, 20, 100)


def settle_heap() -> None:
    """Move every object alive now out of the collector's sight (``gc.freeze``): call it after
    start-up and after loading large state, so full collections no longer walk them."""
    gc.collect()
    gc.freeze()


PAUSE_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0)


class _PauseTimer(Collector):
    """A gc callback that times every collection, and the collector that exports the times as
    the histogram ``chargebus_gc_pause_seconds{generation}``.

    The callback runs inside the collection, at whatever stack depth allocated last: it only
    does arithmetic and C calls in its one frame (a prometheus_client observe() took several
    more and raised RecursionError in a deep recursion, as an unraisable exception)."""

    def __init__(self) -> None:
        self.started = 0.0
        self.counts = [[0] * (len(PAUSE_BUCKETS) + 1) for _ in range(3)]  # last: above 1 s
        self.sums = [0.0, 0.0, 0.0]

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self.started = time.perf_counter()
            return
        paused, generation = time.perf_counter() - self.started, info["generation"]
        self.counts[generation][bisect.bisect_left(PAUSE_BUCKETS, paused)] += 1
        self.sums[generation] += paused

    def collect(self) -> Iterator[HistogramMetricFamily]:
        family = HistogramMetricFamily(
            "chargebus_gc_pause_seconds",
            "Garbage collections by generation: how long each held the process (and every reply)",
            labels=["generation"],
        )
        for generation, counts in enumerate(self.counts):
            cumulative = list(itertools.accumulate(counts))
            buckets = [(str(b), float(c)) for b, c in zip(PAUSE_BUCKETS, cumulative, strict=False)]
            buckets.append(("+Inf", float(cumulative[-1])))
            family.add_metric([str(generation)], buckets, self.sums[generation])
        yield family


_TIMER = _PauseTimer()


def time_collections() -> None:
    """Time every collection of this process into ``chargebus_gc_pause_seconds`` (once)."""
    if _TIMER not in gc.callbacks:
        gc.callbacks.append(_TIMER)
        REGISTRY.register(_TIMER)


def run(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(main)`` on uvloop, with the collector tuned as above and timed."""
    gc.set_threshold(*GC_THRESHOLDS)
    time_collections()
    settle_heap()
    return uvloop.run(main)
