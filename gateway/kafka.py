"""The gateway's Kafka side: an idempotent producer and the inbox partition it owns (I/O).

KafkaBus is the production Publisher (gateway/bus.py) and the source of InboxRecords.
"""

import asyncio
import logging
import time
from collections.abc import AsyncIterator

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord
from aiokafka.errors import ConsumerStoppedError, KafkaError, RecordTooLargeError
from aiokafka.structs import OffsetAndMetadata, TopicPartition

from contracts.codec import decode, encode
from contracts.envelope import Envelope
from contracts.errors import DecodeError
from contracts.headers import Headers
from contracts.topics import Topic
from gateway.bus import InboxRecord
from gateway.metrics import kafka_produce
from runtime.batch import dead_letter
from runtime.kafka import consumer, reliable_producer, send_acknowledged, start_bounded

log = logging.getLogger(__name__)

INBOX_WAIT_MS = 1000  # how long one read of the inbox waits for records before it asks again


class InboxMissing(Exception):
    """The inbox topic lacks this gateway's partition (not provisioned, or --instance too high)."""


class KafkaBus:
    """Publishes envelopes and reads partition `instance` of ocpp.gateway-inbox.v1."""

    def __init__(
        self,
        bootstrap_servers: str,
        *,
        instance: int,
        linger_ms: int,
        fetch_max_wait_ms: int,
        connect_timeout_s: float,
    ) -> None:
        self.bootstrap_servers = bootstrap_servers
        self.instance = instance
        self._connect_timeout_s = connect_timeout_s
        self.producer: AIOKafkaProducer = reliable_producer(
            bootstrap_servers, linger_ms=linger_ms, client_id=f"gateway-{instance}"
        )
        # Manual assignment of one partition: no consumer-group rebalances (design, routing).
        # The group id only stores the committed offset of that partition.
        self._consumer: AIOKafkaConsumer = consumer(
            bootstrap_servers,
            group_id=f"chargebus-gateway-{instance}",
            client_id=f"gateway-{instance}",
            fetch_max_wait_ms=fetch_max_wait_ms,
            auto_offset_reset="latest",  # a new gateway has no backlog to replay
        )
        self._inbox = TopicPartition(Topic.GATEWAY_INBOX, instance)
        self._position = -1
        self._committed = -1
        self.assigned = False

    async def start(self) -> None:
        """Start both clients and assign the inbox partition.

        Raises:
            KafkaUnavailable: if the broker does not answer within the connect timeout.
            InboxMissing: if the inbox topic has no partition for this instance.
        """
        await start_bounded(self.producer, self.bootstrap_servers, self._connect_timeout_s)
        await start_bounded(self._consumer, self.bootstrap_servers, self._connect_timeout_s)
        try:
            partitions = await self.producer.partitions_for(Topic.GATEWAY_INBOX)
        except KafkaError as exc:
            raise InboxMissing(
                f"{Topic.GATEWAY_INBOX} is not there ({exc!r}); provision it"
            ) from exc
        if self.instance not in partitions:
            raise InboxMissing(
                f"{Topic.GATEWAY_INBOX} has no partition {self.instance} "
                f"({len(partitions)} partitions): provision more or lower --instance"
            )
        self._consumer.assign([self._inbox])
        # Resolve the starting offset now, so that nothing sent after readiness is skipped.
        self._position = self._committed = await self._consumer.position(self._inbox)
        self.assigned = True

    async def stop(self) -> None:
        await self.commit()
        await self._consumer.stop()
        await self.producer.flush()
        await self.producer.stop()

    async def publish(
        self,
        topic: str,
        envelope: Envelope,
        *,
        headers: Headers = (),
        partition: int | None = None,
    ) -> None:
        """Produce and wait for the acknowledgement (acks=all).

        Raises:
            PublishFailed: if the record was not acknowledged.
        """
        started = time.perf_counter()
        key, value = envelope.key.encode(), encode(envelope)
        await send_acknowledged(
            self.producer, topic, key, value, partition=partition, headers=headers
        )
        kafka_produce(topic).observe(time.perf_counter() - started)

    async def inbox(self) -> AsyncIterator[InboxRecord]:
        """Records of the inbox partition; undecodable ones are logged and dead-lettered.

        Read in batches: the consumer's own iterator (getone) cost about 4 µs more a record
        (docs/benchmarks.md, issue 14). Ends when the consumer is stopped.

        Raises:
            PublishFailed: a dead letter was not acknowledged; the position stays on its record.
        """
        while True:
            try:
                fetched = await self._consumer.getmany(self._inbox, timeout_ms=INBOX_WAIT_MS)
            except ConsumerStoppedError:
                return
            except RecordTooLargeError:  # as the consumer's own iterator did: logged, read on
                log.exception("inbox record larger than the fetch size")
                continue
            for record in fetched.get(self._inbox, ()):
                envelope = None  # a tombstone: nothing to act on
                if record.value is not None:
                    try:
                        envelope = decode(record.value)
                    except DecodeError as exc:
                        await self._dead_letter(record, exc)
                # Past the record only now: if its dead letter failed, the loop has ended and
                # the stop commits the bad record's own offset.
                self._position = record.offset + 1
                if envelope is not None:
                    headers = {k: v.decode("utf-8", "replace") for k, v in record.headers}
                    yield InboxRecord(envelope, headers, record.offset)

    async def commit(self) -> None:
        """Commit what was read so far (called periodically and on stop)."""
        if self._position > self._committed and self.assigned:
            await self._consumer.commit({self._inbox: OffsetAndMetadata(self._position, "")})
            self._committed = self._position

    async def commit_periodically(self, interval_s: float = 1.0) -> None:
        while True:
            await asyncio.sleep(interval_s)
            try:
                await self.commit()
            except Exception:  # the next round retries; never end the loop
                log.exception("inbox offset commit failed")

    async def _dead_letter(self, record: ConsumerRecord[bytes, bytes], exc: DecodeError) -> None:
        log.error(
            "undecodable inbox record at %s/%d/%d: %s",
            record.topic,
            record.partition,
            record.offset,
            exc,
            extra={"topic": record.topic},
        )
        letter = dead_letter(record, exc)
        await send_acknowledged(
            self.producer, letter.topic, letter.key, letter.value, headers=letter.headers
        )
