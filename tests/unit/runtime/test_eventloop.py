"""The event loop's collector: tuned thresholds, and every collection timed by generation."""

import gc
import sys
from collections.abc import Iterator

import pytest
from prometheus_client import REGISTRY

from runtime import eventloop


def _count(generation: int) -> float:
    value = REGISTRY.get_sample_value(
        "chargebus_gc_pause_seconds_count", {"generation": str(generation)}
    )
    return value or 0.0


@pytest.fixture
def timed() -> Iterator[None]:
    """Collections timed during the test only: the callback runs in every later collection."""
    eventloop.time_collections()
    yield
    gc.callbacks.remove(eventloop._TIMER)
    REGISTRY.unregister(eventloop._TIMER)


@pytest.mark.usefixtures("timed")
def test_collections_are_timed_by_generation_and_the_timer_is_added_once() -> None:
    eventloop.time_collections()
    assert gc.callbacks.count(eventloop._TIMER) == 1
    before = [_count(g) for g in range(3)]
    gc.collect(0)
    gc.collect(2)
    assert _count(0) == before[0] + 1
    assert _count(1) == before[1]
    assert _count(2) == before[2] + 1
    paused = REGISTRY.get_sample_value("chargebus_gc_pause_seconds_sum", {"generation": "2"})
    assert paused is not None
    assert paused > 0
    inf = REGISTRY.get_sample_value(
        "chargebus_gc_pause_seconds_bucket", {"generation": "2", "le": "+Inf"}
    )
    assert inf == _count(2)


def _deepest() -> int:
    """How deep ``_down`` can recurse from here before RecursionError."""
    low, high = 0, sys.getrecursionlimit()
    while low < high:
        middle = (low + high + 1) // 2
        try:
            _down(middle, collect=False)
        except RecursionError:
            high = middle - 1
        else:
            low = middle
    return low


def _down(n: int, *, collect: bool) -> int:
    if n == 0:
        if collect:
            gc.collect(0)
        return 0
    return _down(n - 1, collect=collect) + 1


@pytest.mark.usefixtures("timed")
def test_a_collection_near_the_recursion_limit_raises_nothing() -> None:
    """A collection may start at any depth; the timing callback must not fail there (its
    exception would be unraisable: printed, or a failed test under pytest)."""
    unraisable: list[object] = []
    hook, sys.unraisablehook = sys.unraisablehook, unraisable.append
    try:
        depth = _deepest() - 5  # the collection's callback runs a few frames below the limit
        assert _down(depth, collect=True) == depth
    finally:
        sys.unraisablehook = hook
    assert unraisable == []


def test_run_tunes_the_collector() -> None:
    async def main() -> tuple[int, int, int]:
        return gc.get_threshold()

    previous = gc.get_threshold()
    try:
        assert eventloop.run(main()) == eventloop.GC_THRESHOLDS
    finally:
        gc.set_threshold(*previous)
        gc.unfreeze()
        if eventloop._TIMER in gc.callbacks:  # run() times collections: not the other tests'
            gc.callbacks.remove(eventloop._TIMER)
            REGISTRY.unregister(eventloop._TIMER)
