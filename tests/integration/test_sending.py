"""runtime.sending against the real broker: batches built by hand land as one send() a record
would (the same partitions, the same order, keys, values and headers), also when they fill."""

import asyncio

from aiokafka.structs import TopicPartition

from runtime.batch import Write
from runtime.kafka import reliable_producer
from runtime.reading import everything, read, reader
from runtime.sending import BatchSender
from tests.conftest import NewTopicFactory

Landed = tuple[bytes | None, bytes | None, tuple[tuple[str, bytes], ...]]


async def _landed(bootstrap: str, topic: str, partitions: int) -> dict[int, list[Landed]]:
    """Each partition's records, in offset order."""
    out: dict[int, list[Landed]] = {p: [] for p in range(partitions)}
    async with reader(bootstrap) as kafka:
        starts, ends = await everything(
            kafka, [TopicPartition(topic, p) for p in range(partitions)]
        )
        async for tp, records in read(kafka, starts, ends):
            out[tp.partition] += [(r.key, r.value, tuple(r.headers)) for r in records]
    return out


def _writes(topic: str) -> list[Write]:
    """Keyed records without a partition (keys repeat, as station ids do), records for a named
    partition, a tombstone, and records without a key."""
    writes = []
    for n in range(240):
        headers = (("traceparent", b"00-%032x-%016x-01" % (n, n)),)
        if n % 40 == 7:
            writes.append(Write(topic, None, b"unkeyed-%d" % n, None, headers))
        elif n % 5 == 0:
            writes.append(Write(topic, b"cmd-%d" % n, b"named-%d" % n, n % 3, headers))
        elif n == 99:
            writes.append(Write(topic, b"station-9", None, None, headers))
        else:
            writes.append(Write(topic, b"station-%d" % (n % 23), b"v-%d" % n, None, headers))
    return writes


async def test_records_land_where_and_in_the_order_one_send_a_record_puts_them(
    kafka_bootstrap: str, new_topic: NewTopicFactory
) -> None:
    built, one_by_one = await new_topic(partitions=8), await new_topic(partitions=8)
    producer = reliable_producer(kafka_bootstrap, linger_ms=0)
    await producer.start()
    try:
        sender = BatchSender(producer)
        # Two calls, the second before the first is acknowledged (the worker's pipelining).
        writes = _writes(built)
        first = await sender.send(writes[:100])
        second = await sender.send(writes[100:])
        await asyncio.gather(*first, *second)
        acks = [
            await producer.send(
                one_by_one, w.value, key=w.key, partition=w.partition, headers=list(w.headers)
            )
            for w in _writes(one_by_one)
        ]
        await asyncio.gather(*acks)
    finally:
        await producer.stop()
    got = await _landed(kafka_bootstrap, built, 8)
    want = await _landed(kafka_bootstrap, one_by_one, 8)
    assert sum(map(len, got.values())) == 240
    assert len({r for rows in got.values() for r in rows}) == 240
    for partition in range(8):  # the unkeyed records go to a partition at random, by both ways
        assert [r for r in got[partition] if r[0] is not None] == [
            r for r in want[partition] if r[0] is not None
        ]
    unkeyed = [r[1] for rows in got.values() for r in rows if r[0] is None]
    assert len(unkeyed) == 6
    assert set(unkeyed) == {w.value for w in writes if w.key is None}


async def test_a_partition_whose_records_fill_a_batch_goes_on_in_the_next(
    kafka_bootstrap: str, new_topic: NewTopicFactory
) -> None:
    topic = await new_topic(partitions=2)
    producer = reliable_producer(kafka_bootstrap, linger_ms=0, max_batch_size=1024)
    await producer.start()
    try:
        writes = [Write(topic, b"k", b"%04d" % n + b"x" * 200, n % 2) for n in range(60)]
        acks = await BatchSender(producer).send(writes)
        assert len(acks) > 2  # more than one batch a partition
        await asyncio.gather(*acks)
    finally:
        await producer.stop()
    got = await _landed(kafka_bootstrap, topic, 2)
    for partition in range(2):
        assert [r[1] for r in got[partition]] == [w.value for w in writes[partition::2]]
