"""How our long-running processes run their event loop: uvloop, and a garbage collector tuned
for large, long-lived, acyclic state (I/O)."""

import gc
import time
from collections.abc import Coroutine
from typing import Any, TypeVar

import uvloop
from prometheus_client import Histogram

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


GC_PAUSES = Histogram(
    "chargebus_gc_pause_seconds",
    "Garbage collections by generation: how long each held the process (and every reply)",
    ["generation"],
    buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1),
)


class _PauseTimer:
    """A gc callback that times every collection into GC_PAUSES."""

    def __init__(self) -> None:
        self.started = 0.0
        self.generations = [GC_PAUSES.labels(str(generation)) for generation in range(3)]

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self.started = time.perf_counter()
        else:
            self.generations[info["generation"]].observe(time.perf_counter() - self.started)


def time_collections() -> None:
    """Time every collection of this process into ``chargebus_gc_pause_seconds`` (once)."""
    if not any(isinstance(callback, _PauseTimer) for callback in gc.callbacks):
        gc.callbacks.append(_PauseTimer())


def run(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(main)`` on uvloop, with the collector tuned as above and timed."""
    gc.set_threshold(*GC_THRESHOLDS)
    time_collections()
    settle_heap()
    return uvloop.run(main)
