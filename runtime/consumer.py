"""Consume a topic in a consumer group, committing after each record is handled (I/O).

For inputs that one instance of a service must handle and the others must not (commands.v1 in
the sessions API): at-least-once, undecodable records dead-lettered.
"""

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.errors import KafkaError

from contracts import codec
from contracts.envelope import Envelope
from contracts.errors import DecodeError
from contracts.headers import Headers
from runtime.batch import dead_letter
from runtime.kafka import (
    FIRST_BYTE_MAX_WAIT_MS,
    ConsumerTask,
    Sender,
    consumer,
    partitions_of,
    start_bounded,
)

log = logging.getLogger(__name__)


class _Assigned(ConsumerRebalanceListener):
    def __init__(self, event: asyncio.Event) -> None:
        self._event = event

    async def on_partitions_revoked(self, revoked: Any) -> None:
        self._event.clear()

    async def on_partitions_assigned(self, assigned: Any) -> None:
        self._event.set()


class GroupConsumer(ConsumerTask):
    """Reads a topic in a consumer group and commits after ``handle`` returned (at-least-once).

    ``handle`` gets each envelope with its record's headers, the records of one key in order,
    those of different keys concurrently; an exception from it is logged and the records are
    read again after a second (the offset is not committed), so a broker hiccup does not lose a
    command.
    A record that is not an envelope goes to deadletter.v1 with its source in the headers.
    """

    def __init__(
        self,
        bootstrap: str,
        topic: str,
        group_id: str,
        handle: Callable[[Envelope, Headers], Awaitable[None]],
        sender: Sender,
        *,
        offset_reset: str,
        connect_timeout_s: float,
        on_undecodable: Callable[[str], None] | None = None,
    ) -> None:
        self.ready = asyncio.Event()
        self.topic = topic
        self._on_undecodable = on_undecodable
        self._bootstrap = bootstrap
        self._group_id = group_id
        self._handle = handle
        self._sender = sender
        self._offset_reset = offset_reset
        self._connect_timeout_s = connect_timeout_s
        self._assigned = asyncio.Event()
        super().__init__()

    async def start(self) -> None:
        """Raises: KafkaUnavailable, TopicMissing: as ``partitions_of``."""
        await partitions_of(self._bootstrap, [self.topic], self._connect_timeout_s)
        kafka = consumer(
            self._bootstrap,
            group_id=self._group_id,
            auto_offset_reset=self._offset_reset,
            fetch_max_wait_ms=FIRST_BYTE_MAX_WAIT_MS,  # idle: 10 fetches a second, not 20
            session_timeout_ms=10000,
            heartbeat_interval_ms=1000,
        )
        await start_bounded(kafka, self._bootstrap, self._connect_timeout_s)
        kafka.subscribe([self.topic], listener=_Assigned(self._assigned))
        self.run(kafka, self._consume(kafka), name=f"consume {self.topic}")

    async def _consume(self, kafka: AIOKafkaConsumer) -> None:
        while True:
            try:
                batches: dict[TopicPartition, list[ConsumerRecord[Any, Any]]] = await kafka.getmany(
                    timeout_ms=200, max_records=100
                )
                if not self.ready.is_set() and self._assigned.is_set():
                    for tp in kafka.assignment():  # fix the positions: ready means "reading"
                        await kafka.position(tp)
                    self.ready.set()
                    log.info("consuming %s as %s", self.topic, self._group_id)
                for tp, records in batches.items():
                    await self._records(records)
                    await kafka.commit({tp: records[-1].offset + 1})  # after the outputs
            except Exception:  # the loop's one broad except: log, back off, read again
                log.exception("consuming %s failed; retrying in 1 s", self.topic)
                await asyncio.sleep(1)
                await self._rewind(kafka)

    async def _records(self, records: list[ConsumerRecord[Any, Any]]) -> None:
        """Handle a partition's records: each key's in order, different keys at once (a fan-out
        of commands to many stations waits for the broker once, not once per station)."""
        by_key: dict[bytes | None, list[ConsumerRecord[Any, Any]]] = {}
        for record in records:
            by_key.setdefault(record.key, []).append(record)

        async def in_order(mine: list[ConsumerRecord[Any, Any]]) -> None:
            for record in mine:
                await self._record(record)

        await asyncio.gather(*(in_order(mine) for mine in by_key.values()))

    async def _record(self, record: ConsumerRecord[Any, Any]) -> None:
        value: bytes | None = record.value
        if value is None:
            return
        try:
            envelope = codec.decode(value)
        except DecodeError as exc:
            log.warning(
                "dead-lettering %s[%d]@%d: not an envelope",
                record.topic,
                record.partition,
                record.offset,
            )
            if self._on_undecodable is not None:
                self._on_undecodable(record.topic)
            letter = dead_letter(record, exc)
            await self._sender(letter.topic, letter.key, letter.value, headers=letter.headers)
            return
        await self._handle(envelope, record.headers)

    async def _rewind(self, kafka: AIOKafkaConsumer) -> None:
        """Go back to the committed offsets: uncommitted records are handled again."""
        with contextlib.suppress(KafkaError, OSError, TimeoutError):
            for tp in kafka.assignment():
                committed = await kafka.committed(tp)
                if committed is not None:
                    kafka.seek(tp, committed)
