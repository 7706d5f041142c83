"""The durable command ledger against the real broker: racing writers, one winner each time."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest_asyncio
from aiokafka import AIOKafkaProducer
from aiokafka.structs import RecordMetadata

from contracts.events import Outcome
from contracts.payloads.commands import CommandCompleted
from contracts.payloads.ledger import LedgerRecord, Mark
from runtime.kafka import reliable_producer, send_acknowledged
from runtime.ledger import DurableLedger


@pytest_asyncio.fixture
async def producer(kafka_bootstrap: str) -> AsyncIterator[AIOKafkaProducer]:
    kafka = reliable_producer(kafka_bootstrap)
    await kafka.start()
    try:
        yield kafka
    finally:
        await kafka.stop()


async def _ledger(bootstrap: str, producer: AIOKafkaProducer) -> DurableLedger:
    async def send(topic: str, key: bytes, value: bytes) -> RecordMetadata:
        return await send_acknowledged(producer, topic, key, value)

    ledger = DurableLedger(bootstrap, send, connect_timeout_s=10)
    await ledger.start()
    await asyncio.wait_for(ledger.ready.wait(), 30)
    return ledger


def _mark(command_id: str, mark: Mark, writer: str) -> LedgerRecord:
    outcome = None
    if mark is Mark.FINAL:
        outcome = CommandCompleted(
            command_id=command_id, station_id="CS-L", action="Reset", outcome=Outcome.ANSWERED
        ).envelope(at=datetime.now(UTC))
    return LedgerRecord(
        command_id=command_id,
        station_id="CS-L",
        mark=mark,
        writer=writer,
        at=datetime.now(UTC),
        gateway=1 if writer.startswith("gateway") else None,
        outcome=outcome,
    )


async def test_racing_claims_and_finals_have_one_winner_that_every_reader_agrees_on(
    kafka_bootstrap: str, producer: AIOKafkaProducer
) -> None:
    one = await _ledger(kafka_bootstrap, producer)
    two = await _ledger(kafka_bootstrap, producer)
    try:
        for _ in range(20):
            command_id = f"race-{uuid.uuid4().hex[:10]}"
            sent_one, sent_two = await asyncio.gather(
                one.record(_mark(command_id, Mark.SENT, "gateway/1/a")),
                two.record(_mark(command_id, Mark.SENT, "api/b")),
            )
            assert sent_one.sent is not None
            assert sent_two.sent is not None
            assert sent_one.sent.writer == sent_two.sent.writer  # both read the same winner
            final_one, final_two = await asyncio.gather(
                one.record(_mark(command_id, Mark.FINAL, "gateway/1/a")),
                two.record(_mark(command_id, Mark.FINAL, "api/b")),
            )
            assert final_one.final is not None
            assert final_two.final is not None
            assert final_one.final.outcome is not None
            assert final_two.final.outcome is not None
            assert final_one.final.outcome.event_id == final_two.final.outcome.event_id
        # A process that starts later reads the same decisions from the beginning.
        late = await _ledger(kafka_bootstrap, producer)
        try:
            decided = late.view.get(command_id)
            assert decided is not None
            assert decided == one.view.get(command_id)
        finally:
            await late.stop()
    finally:
        await one.stop()
        await two.stop()
