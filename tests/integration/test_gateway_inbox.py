"""The gateway's inbox partition read through KafkaBus against the real broker."""

import asyncio
import uuid

import pytest
from aiokafka.structs import TopicPartition

from contracts.codec import encode
from contracts.envelope import Envelope
from contracts.headers import Header
from contracts.topics import Topic
from gateway.bus import InboxRecord
from gateway.kafka import KafkaBus
from runtime.kafka import PublishFailed, consumer, reliable_producer
from runtime.reading import end_offsets, read, reader
from tests.support.gateway import new_instance

UNDECODABLE = b"\xc1 never msgpack " + uuid.uuid4().hex.encode()  # 0xc1: unused in msgpack


async def _dead_letters_from(bootstrap: str, start: dict[TopicPartition, int]) -> list[bytes]:
    """The values written to deadletter.v1 after ``start``."""
    async with reader(bootstrap) as kafka:
        ends = await kafka.end_offsets(list(start))
        return [
            r.value
            async for _, records in read(kafka, start, ends)
            for r in records
            if r.value is not None
        ]


def _bus(bootstrap: str, instance: int) -> KafkaBus:
    return KafkaBus(
        bootstrap, instance=instance, linger_ms=0, fetch_max_wait_ms=100, connect_timeout_s=15
    )


async def test_the_inbox_yields_its_records_in_order_dead_letters_bad_bytes_and_ends_on_stop(
    kafka_bootstrap: str,
) -> None:
    instance = new_instance()
    bus = _bus(kafka_bootstrap, instance)
    dead_start = await end_offsets(kafka_bootstrap, [Topic.DEAD_LETTERS], 15)
    producer = reliable_producer(kafka_bootstrap, linger_ms=0)
    keys = [f"CS-{uuid.uuid4().hex[:8]}-{i}" for i in range(5)]
    received: list[InboxRecord] = []  # the records with these keys, as read
    three = asyncio.Event()
    reading: asyncio.Task[None] | None = None
    try:
        await bus.start()
        await producer.start()

        async def read() -> None:
            async for record in bus.inbox():
                # the partition may hold what another test's gateway left after its commit
                if record.envelope.key in keys:
                    received.append(record)
                if len(received) == 3:
                    three.set()

        reading = asyncio.create_task(read())
        writes: list[tuple[str, bytes | None]] = [
            (
                keys[0],
                encode(
                    Envelope(
                        event_type="OcppReply", schema_version=1, key=keys[0], payload={"n": 0}
                    )
                ),
            ),
            (keys[1], UNDECODABLE),
            (keys[2], None),  # a tombstone: nothing to act on
            *(
                (
                    k,
                    encode(
                        Envelope(event_type="OcppReply", schema_version=1, key=k, payload={"n": i})
                    ),
                )
                for i, k in enumerate(keys[3:], start=3)
            ),
        ]
        offsets = []
        for key, value in writes:
            metadata = await producer.send_and_wait(
                Topic.GATEWAY_INBOX,
                value,
                key=key.encode(),
                partition=instance,
                headers=[(Header.CORRELATION_ID.value, key.encode())],
            )
            offsets.append(metadata.offset)
        async with asyncio.timeout(15):
            await three.wait()

        assert [r.envelope.key for r in received] == [keys[0], keys[3], keys[4]]
        assert [r.offset for r in received] == [offsets[0], offsets[3], offsets[4]]
        assert received[1].headers[Header.CORRELATION_ID] == keys[3]
        assert UNDECODABLE in await _dead_letters_from(kafka_bootstrap, dead_start)

        await bus.commit()
        assert await _committed(kafka_bootstrap, instance) == offsets[-1] + 1
    finally:
        await producer.stop()
        await bus.stop()
        if reading is not None:
            # the consumer stopped: the inbox ends instead of waiting for records forever
            async with asyncio.timeout(5):
                await reading


async def _commit_inbox(bootstrap: str, instance: int, offset: int) -> None:
    """Commit ``offset`` as gateway ``instance``'s inbox position."""
    inbox = TopicPartition(Topic.GATEWAY_INBOX, instance)
    group = consumer(bootstrap, group_id=f"chargebus-gateway-{instance}")
    await group.start()
    try:
        group.assign([inbox])
        await group.commit({inbox: offset})
    finally:
        await group.stop()


async def _committed(bootstrap: str, instance: int) -> int | None:
    """Gateway ``instance``'s committed inbox position."""
    group = consumer(bootstrap, group_id=f"chargebus-gateway-{instance}")
    await group.start()
    try:
        offset: int | None = await group.committed(TopicPartition(Topic.GATEWAY_INBOX, instance))
        return offset
    finally:
        await group.stop()


async def test_a_dead_letter_that_fails_leaves_the_position_on_the_bad_record(
    kafka_bootstrap: str,
) -> None:
    instance = new_instance()
    inbox = TopicPartition(Topic.GATEWAY_INBOX, instance)
    # start past whatever earlier tests left in the partition
    await _commit_inbox(
        kafka_bootstrap,
        instance,
        (await end_offsets(kafka_bootstrap, [Topic.GATEWAY_INBOX], 15))[inbox],
    )
    bus = _bus(kafka_bootstrap, instance)
    # the bus's producer, too small for the dead letter: its send fails at once
    await bus.producer.stop()  # never started: closed, not leaked
    bus.producer = reliable_producer(kafka_bootstrap, linger_ms=0, max_request_size=1024)
    producer = reliable_producer(kafka_bootstrap, linger_ms=0)
    key = f"CS-{uuid.uuid4().hex[:8]}"
    received: list[InboxRecord] = []
    try:
        await bus.start()
        await producer.start()
        good = encode(Envelope(event_type="OcppReply", schema_version=1, key=key, payload={}))
        offsets = []
        for value in (good, UNDECODABLE + bytes(2048), good):
            metadata = await producer.send_and_wait(
                Topic.GATEWAY_INBOX, value, key=key.encode(), partition=instance
            )
            offsets.append(metadata.offset)

        async def read() -> None:
            async for record in bus.inbox():
                received.append(record)

        with pytest.raises(PublishFailed):
            async with asyncio.timeout(15):
                await read()
        assert [r.offset for r in received] == [offsets[0]]
    finally:
        await producer.stop()
        await bus.stop()  # commits what was read
    # the next gateway on this partition reads the bad record again
    assert await _committed(kafka_bootstrap, instance) == offsets[1]
    await _commit_inbox(kafka_bootstrap, instance, offsets[-1] + 1)  # leave no bad record behind
