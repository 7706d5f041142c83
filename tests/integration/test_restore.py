"""runtime.restore against the real broker: each store reads its changelog partition to the end,
and an unreadable record is reported and skipped, not fatal."""

from collections.abc import Sequence
from typing import Any

from aiokafka.structs import ConsumerRecord

from contracts.envelope import Envelope
from runtime.batch import Handled
from runtime.kafka import reliable_producer
from runtime.restore import restore
from tests.conftest import NewTopicFactory


class Numbers:
    """A store of integers by key; a value that is not one is unreadable."""

    def __init__(self) -> None:
        self.values: dict[str, int] = {}

    def restore(self, key: str, value: bytes | None) -> None:
        if value is None:
            self.values.pop(key, None)
        else:
            self.values[key] = int(value)  # ValueError: unreadable

    def handle(self, envelope: Envelope) -> Handled | None:
        return None

    def changes(self) -> Sequence[tuple[str, bytes | None]]:
        return []


async def test_each_store_reads_its_partition_to_the_end_and_skips_what_it_cannot_read(
    kafka_bootstrap: str, new_topic: NewTopicFactory
) -> None:
    changelog = await new_topic(partitions=3, **{"cleanup.policy": "compact"})
    producer = reliable_producer(kafka_bootstrap, linger_ms=0)
    writes: list[tuple[int, bytes, bytes | None]] = [
        (0, b"a", b"1"),
        (0, b"b", b"not a number"),
        (0, b"c", b"3"),
        (0, b"a", None),  # a tombstone: a is gone
        (1, b"d", b"4"),
        (0, b"c", b"5"),  # the newest value wins
    ]
    await producer.start()
    try:
        for partition, key, value in writes:
            await producer.send_and_wait(changelog, value, key=key, partition=partition)
    finally:
        await producer.stop()
    skipped: list[tuple[int, int, str, str]] = []

    def unreadable(record: ConsumerRecord[Any, Any], key: str, exc: Exception) -> None:
        skipped.append((record.partition, record.offset, key, type(exc).__name__))

    stores = {0: Numbers(), 1: Numbers(), 2: Numbers()}  # partition 2 is empty
    read = await restore(kafka_bootstrap, changelog, stores, unreadable)

    assert read == len(writes)
    assert stores[0].values == {"c": 5}
    assert stores[1].values == {"d": 4}
    assert stores[2].values == {}
    assert skipped == [(0, 1, "b", "ValueError")]
