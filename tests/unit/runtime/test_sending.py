"""BatchSender's own decisions, without a broker: a stalled partition is waited for, not
failed; a record too large for a request is refused before it is queued (the batches' landing
is tested against the real broker in tests/integration/test_sending.py)."""

import asyncio
from typing import Any

import pytest
from aiokafka.errors import KafkaTimeoutError, MessageSizeTooLargeError
from aiokafka.producer.message_accumulator import BatchBuilder

from runtime.batch import Write
from runtime.sending import BatchSender


class StalledProducer:
    """A producer whose queue for a partition stays full for ``stalls`` request timeouts (the
    broker away): ``send_batch`` raises KafkaTimeoutError as aiokafka's ``add_batch`` does."""

    def __init__(self, stalls: int) -> None:
        self.stalls = stalls
        self.queued: list[tuple[str, int, int]] = []  # (topic, partition, records)

    def create_batch(self) -> BatchBuilder:
        return BatchBuilder(16 * 1024, 0)  # no compression

    async def send_batch(self, batch: BatchBuilder, topic: str, *, partition: int) -> Any:
        if self.stalls:
            self.stalls -= 1
            raise KafkaTimeoutError()
        self.queued.append((topic, partition, batch.record_count()))
        done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done


async def test_a_partition_that_stays_full_past_the_request_timeout_is_waited_for() -> None:
    producer = StalledProducer(stalls=3)
    sender = BatchSender(producer)  # type: ignore[arg-type]
    acks = await sender.send([Write("t", b"k", b"%d" % n, 2) for n in range(5)])
    await asyncio.gather(*acks)
    assert producer.queued == [("t", 2, 5)]
    assert producer.stalls == 0


async def test_a_record_larger_than_a_request_is_refused_before_it_is_queued() -> None:
    producer = StalledProducer(stalls=0)
    sender = BatchSender(producer, max_request_size=1000)  # type: ignore[arg-type]
    with pytest.raises(MessageSizeTooLargeError):
        await sender.send([Write("t", b"k", b"x" * 100, 0), Write("t", b"k", b"x" * 1000, 0)])
    assert producer.queued == []  # the batch of the call was never handed over
    acks = await sender.send([Write("t", b"k", b"x" * 900, 0)])
    assert len(acks) == 1
    assert producer.queued == [("t", 0, 1)]
