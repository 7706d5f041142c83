"""The event loop's collector: tuned thresholds, and every collection timed by generation."""

import gc

from prometheus_client import REGISTRY

from runtime import eventloop


def _count(generation: int) -> float:
    value = REGISTRY.get_sample_value(
        "chargebus_gc_pause_seconds_count", {"generation": str(generation)}
    )
    return value or 0.0


def test_collections_are_timed_by_generation_and_the_timer_is_added_once() -> None:
    eventloop.time_collections()
    eventloop.time_collections()
    timers = [c for c in gc.callbacks if isinstance(c, eventloop._PauseTimer)]
    assert len(timers) == 1
    before = [_count(g) for g in range(3)]
    gc.collect(0)
    gc.collect(2)
    assert _count(0) == before[0] + 1
    assert _count(1) == before[1]
    assert _count(2) == before[2] + 1
    paused = REGISTRY.get_sample_value("chargebus_gc_pause_seconds_sum", {"generation": "2"})
    assert paused is not None
    assert paused > 0


def test_run_tunes_the_collector() -> None:
    async def main() -> tuple[int, int, int]:
        return gc.get_threshold()

    previous = gc.get_threshold()
    try:
        assert eventloop.run(main()) == eventloop.GC_THRESHOLDS
    finally:
        gc.set_threshold(*previous)
        gc.unfreeze()
