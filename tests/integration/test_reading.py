"""runtime.reading against the real broker: what lies between two offsets of each partition, no
more, and a read that ends although the topic goes on growing."""

from aiokafka.structs import TopicPartition

from runtime.kafka import reliable_producer
from runtime.reading import everything, read, reader
from tests.conftest import NewTopicFactory


async def _write(bootstrap: str, topic: str, writes: list[tuple[int, bytes]]) -> None:
    producer = reliable_producer(bootstrap, linger_ms=0)
    await producer.start()
    try:
        for partition, value in writes:
            await producer.send_and_wait(topic, value, key=value, partition=partition)
    finally:
        await producer.stop()


async def test_reads_each_partition_from_its_start_up_to_its_end(
    kafka_bootstrap: str, new_topic: NewTopicFactory
) -> None:
    topic = await new_topic(partitions=3)
    p0, p1, p2 = (TopicPartition(topic, p) for p in range(3))
    await _write(kafka_bootstrap, topic, [(0, b"a0"), (0, b"a1"), (0, b"a2"), (1, b"b0")])
    async with reader(kafka_bootstrap) as kafka:
        starts, ends = await everything(kafka, [p0, p1, p2])
        assert (starts, ends) == ({p0: 0, p1: 0, p2: 0}, {p0: 3, p1: 1, p2: 0})
        # From offset 1 of partition 0 up to, not including, 2; all of 1; nothing of 2 (empty).
        got = [
            (tp.partition, r.offset, r.value)
            async for tp, records in read(kafka, {p0: 1, p1: 0, p2: 0}, {p0: 2, p1: 1, p2: 0})
            for r in records
        ]
    assert sorted(got) == [(0, 1, b"a1"), (1, 0, b"b0")]


async def test_a_read_ends_at_the_ends_it_was_given_while_the_topic_grows(
    kafka_bootstrap: str, new_topic: NewTopicFactory
) -> None:
    topic = await new_topic(partitions=1)
    tp = TopicPartition(topic, 0)
    await _write(kafka_bootstrap, topic, [(0, b"%d" % n) for n in range(5)])
    got: list[bytes | None] = []
    async with reader(kafka_bootstrap, max_poll_records=2) as kafka:
        starts, ends = await everything(kafka, [tp])
        async for _, records in read(kafka, starts, ends):
            got += [r.value for r in records]
            if len(got) == 2:  # written after the ends were taken: not read
                await _write(kafka_bootstrap, topic, [(0, b"later")])
    assert got == [b"0", b"1", b"2", b"3", b"4"]
