"""How our long-running processes run their event loop: uvloop, and a garbage collector tuned
for large, long-lived, acyclic state (I/O)."""

import gc
from collections.abc import Coroutine
from typing import Any, TypeVar

import uvloop

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


def run(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(main)`` on uvloop, with the collector tuned as above."""
    gc.set_threshold(*GC_THRESHOLDS)
    settle_heap()
    return uvloop.run(main)
