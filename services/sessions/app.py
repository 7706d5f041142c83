"""The sessions worker shell: plain aiokafka around the pure handlers (I/O).

    ocpp.inbound.v1 + ocpp.presence.v1 (one consumer group, co-partitioned by station_id)
      -> decode -> parse -> handle(state, message, context)             (pure, handlers.py)
      -> sessions.state.v1 partition p (the changelog) + stations.v1 / sessions.v1
      -> await their acknowledgements (acks=all) -> replies to gateway k's inbox -> commit

On assignment, a partition's states are restored from partition p of sessions.state.v1 before
its first record is handled (docs/sessions.md, "Why not faust tables").
"""

import asyncio
import contextlib
import hashlib
import logging
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import msgpack
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener
from aiokafka.structs import ConsumerRecord, OffsetAndMetadata, TopicPartition
from prometheus_client import Counter, Histogram

from contracts.codec import decode, encode
from contracts.envelope import Envelope
from contracts.errors import DecodeError
from contracts.events import EventType
from contracts.follower import RecordRejected, TopicFollower
from contracts.headers import Header
from contracts.kafka import consumer, reliable_producer, start_bounded
from contracts.topics import STATION_PARTITIONS, Topic
from services.sessions.handlers import handle
from services.sessions.messages import parse
from services.sessions.policy import Policy
from services.sessions.state import StationState
from services.sessions.step import Context, Reply, ReplyError
from services.sessions.tokens import TokenInfo

log = logging.getLogger("sessions")

INT32_MAX = 2**31 - 1
SEQ_KEY = "__transaction_seq"  # per changelog partition: 1.6 transaction ids handed out
COMMIT_INTERVAL_S = 0.5  # input offsets are committed at most this often
SOURCES = (Topic.OCPP_INBOUND, Topic.PRESENCE)
RECORDS = Counter(
    "chargebus_sessions_records_total", "Records by event type and fate", ["kind", "fate"]
)
BATCH_SECONDS = Histogram(
    "chargebus_sessions_batch_seconds", "Handle a batch until its outputs are acknowledged"
)


class TokenView(TopicFollower):
    """The token store: sessions.tokens.v1 followed into memory, read by every partition."""

    def __init__(self, bootstrap_servers: str) -> None:
        super().__init__(bootstrap_servers, Topic.TOKENS)
        self.tokens: dict[str, TokenInfo] = {}

    def apply(self, key: str, envelope: Envelope) -> None:
        if envelope.event_type != EventType.TOKEN_DEFINED:
            raise RecordRejected(f"not a {EventType.TOKEN_DEFINED}: {envelope.event_type}")
        try:
            self.tokens[key] = TokenInfo.from_dict(dict(envelope.payload))
        except (KeyError, TypeError, ValueError) as exc:
            raise RecordRejected(f"invalid token record: {exc}") from exc

    def remove(self, key: str) -> None:
        self.tokens.pop(key, None)

    def reject(self, key: str) -> None:
        self.tokens.pop(key, None)  # an unreadable token is unknown, hence Invalid

    def describe(self) -> str:
        return f"{self.topic}: {len(self.tokens)} tokens"


def event_id(topic: str, partition: int, offset: int, index: int) -> str:
    """Deterministic: a record handled again yields the same ids, so consumers dedupe."""
    digest = hashlib.blake2b(f"{topic}/{partition}/{offset}/{index}".encode(), digest_size=16)
    return uuid.UUID(bytes=digest.digest()).hex


def transaction_id(seq: int, partition: int) -> int:
    """The seq-th 1.6 transaction id of a partition: unique across partitions and workers.

    Raises:
        OverflowError: the partition used up its int32 ids (268 million with 8 partitions).
    """
    value = seq * STATION_PARTITIONS + partition + 1
    if value > INT32_MAX:
        raise OverflowError(f"partition {partition} ran out of 1.6 transaction ids")
    return value


@dataclass
class Partition:
    """The states of one assigned partition, as restored and kept up to date."""

    states: dict[str, StationState] = field(default_factory=dict)
    seq: int = 0


class Worker(ConsumerRebalanceListener):
    """One sessions worker; several share the partitions through the consumer group."""

    def __init__(
        self,
        bootstrap_servers: str,
        *,
        group_id: str,
        policy: Policy,
        offset_reset: str = "latest",
    ) -> None:
        self.bootstrap_servers = bootstrap_servers
        self.policy = policy
        self.tokens = TokenView(bootstrap_servers)
        self.partitions: dict[int, Partition] = {}
        self.restoring = 0
        self.producer: AIOKafkaProducer = reliable_producer(bootstrap_servers, linger_ms=0)
        self.consumer: AIOKafkaConsumer = consumer(
            bootstrap_servers,
            group_id=group_id,
            client_id=group_id,
            max_poll_records=500,
            # Only for a group without committed offsets: a new deployment starts at the end
            # (its state comes from the changelog); "earliest" replays the retained history.
            auto_offset_reset=offset_reset,
            session_timeout_ms=10000,
            heartbeat_interval_ms=1000,
        )
        self._lock = asyncio.Lock()  # a batch and a rebalance never interleave
        self._handled: dict[TopicPartition, OffsetAndMetadata] = {}  # outputs acknowledged
        self._committed_at = 0.0
        self._unresolved: set[TopicPartition] = set()  # assigned, start offset not known yet

    # -- lifecycle ------------------------------------------------------------------------------

    async def start(self, connect_timeout_s: float) -> None:
        await start_bounded(self.producer, self.bootstrap_servers, connect_timeout_s)
        await self.tokens.start()
        await start_bounded(self.consumer, self.bootstrap_servers, connect_timeout_s)
        self.consumer.subscribe(list(SOURCES), listener=self)

    async def stop(self) -> None:
        async with self._lock:
            await self.producer.flush()
            with contextlib.suppress(Exception):  # a failed commit replays: at-least-once
                await self._commit()
        await self.consumer.stop()
        await self.tokens.stop()
        await self.producer.stop()

    def readiness(self) -> tuple[bool, str]:
        if not self.tokens.ready.is_set():
            return False, "reading tokens"
        if self.restoring:
            return False, f"restoring {self.restoring} partitions"
        if self._unresolved:
            return False, "resolving start offsets"
        if not self.consumer.assignment():
            return False, "no partitions assigned yet"
        return True, f"{len(self.partitions)} partitions"

    # -- rebalancing: restore on assignment ----------------------------------------------------

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        async with self._lock:  # the batch in hand finishes and commits first
            await self._commit()
            for partition in {tp.partition for tp in revoked}:
                self.partitions.pop(partition, None)

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        # Their start offsets are resolved by run(), not here: position() needs the group
        # coordinator, which is busy with this very rebalance (measured: rejoin loops).
        self._unresolved.update(assigned)
        new = sorted({tp.partition for tp in assigned} - set(self.partitions))
        if new:
            self.restoring = len(new)
            started = time.monotonic()
            try:
                restored = await self._restore(new)
            finally:
                self.restoring = 0
            self.partitions.update(restored)
            stations = sum(len(p.states) for p in restored.values())
            log.info(
                "restored partitions %s: %d stations in %.2f s",
                new,
                stations,
                time.monotonic() - started,
            )

    async def _restore(self, partitions: list[int]) -> dict[int, Partition]:
        """Read partitions of the changelog from the beginning to their current end."""
        restored = {p: Partition() for p in partitions}
        reader = consumer(self.bootstrap_servers, group_id=None)
        await reader.start()
        try:
            tps = [TopicPartition(Topic.SESSIONS_STATE, p) for p in partitions]
            reader.assign(tps)
            await reader.seek_to_beginning(*tps)
            ends: dict[TopicPartition, int] = await reader.end_offsets(tps)
            pending = {tp for tp in tps if ends[tp] > 0}
            while pending:
                batches = await reader.getmany(*pending, timeout_ms=500)
                for tp, records in batches.items():
                    for record in records:
                        self._apply_changelog(restored[tp.partition], record)
                for tp in list(pending):
                    if await reader.position(tp) >= ends[tp]:
                        pending.discard(tp)
        finally:
            await reader.stop()
        return restored

    @staticmethod
    def _apply_changelog(partition: Partition, record: ConsumerRecord[Any, Any]) -> None:
        key = record.key.decode() if record.key else ""
        if record.value is None:
            partition.states.pop(key, None)
        elif key == SEQ_KEY:
            partition.seq = int(msgpack.unpackb(record.value))
        else:
            data = msgpack.unpackb(record.value, timestamp=3)
            partition.states[key] = StationState.from_dict(data)

    # -- the loop --------------------------------------------------------------------------------

    async def run(self) -> None:
        while True:
            for tp in list(self._unresolved):  # nothing sent after readiness is skipped
                if tp in self.consumer.assignment():
                    await self.consumer.position(tp)
                self._unresolved.discard(tp)
            batches = await self.consumer.getmany(timeout_ms=200, max_records=500)
            if not batches:
                continue
            async with self._lock:
                try:
                    await self._batch(batches)
                except Exception:  # no exception leaves the loop (design rule 3)
                    log.exception("a batch failed; its records are read again after restart")
                    raise

    async def _batch(
        self, batches: Mapping[TopicPartition, list[ConsumerRecord[Any, Any]]]
    ) -> None:
        started = time.perf_counter()
        acks: list[asyncio.Future[Any]] = []
        replies: list[tuple[int, bytes, bytes, list[tuple[str, bytes]]]] = []
        offsets: dict[TopicPartition, OffsetAndMetadata] = {}
        for tp, records in batches.items():
            partition = self.partitions.get(tp.partition)
            if partition is None:
                # Fetched before its state was restored (or after a revoke): read it again
                # later, never skip it (the position already moved past these records).
                if tp in self.consumer.assignment():
                    self.consumer.seek(tp, records[0].offset)
                continue
            for record in records:
                await self._record(record, partition, acks, replies)
            offsets[tp] = OffsetAndMetadata(records[-1].offset + 1, "")
        # Design rule 1: the station hears the answer only once the state change and the
        # domain events are on the broker (acks=all).
        await asyncio.gather(*acks)
        for reply_partition, key, value, headers in replies:
            await self.producer.send(
                Topic.GATEWAY_INBOX, value, key=key, partition=reply_partition, headers=headers
            )
        self._handled.update(offsets)
        if time.monotonic() - self._committed_at >= COMMIT_INTERVAL_S:
            await self._commit()
        BATCH_SECONDS.observe(time.perf_counter() - started)

    async def _commit(self) -> None:
        """Commit what was handled, outputs acknowledged (at-least-once); off the reply path."""
        if self._handled:
            handled, self._handled = self._handled, {}
            await self.consumer.commit(handled)
        self._committed_at = time.monotonic()

    async def _record(
        self,
        record: ConsumerRecord[Any, Any],
        partition: Partition,
        acks: list[asyncio.Future[Any]],
        replies: list[tuple[int, bytes, bytes, list[tuple[str, bytes]]]],
    ) -> None:
        if record.value is None:
            return  # a tombstone on the compacted presence topic
        try:
            envelope = decode(record.value)
        except DecodeError as exc:
            RECORDS.labels("undecodable", "dead-lettered").inc()
            log.error(
                "undecodable record %s/%d/%d: %s",
                record.topic,
                record.partition,
                record.offset,
                exc,
            )
            acks.append(
                await self.producer.send(
                    Topic.DEAD_LETTERS,
                    record.value,
                    key=record.key,
                    headers=[
                        (Header.SOURCE_TOPIC.value, record.topic.encode()),
                        (Header.SOURCE_PARTITION.value, str(record.partition).encode()),
                        (Header.SOURCE_OFFSET.value, str(record.offset).encode()),
                        (Header.ERROR.value, str(exc)[:500].encode()),
                    ],
                )
            )
            return
        message = parse(envelope)
        if message is None:
            RECORDS.labels(envelope.event_type, "ignored").inc()
            return
        station_id = envelope.key
        context = Context(
            policy=self.policy,
            tokens=self.tokens.tokens,
            now=envelope.occurred_at,
            new_transaction_id=transaction_id(partition.seq, record.partition),
        )
        step = handle(partition.states.get(station_id), message, context)
        changelog = Topic.SESSIONS_STATE
        if step.used_transaction_id:
            # The sequence goes first: in changelog partition p, a persisted state never comes
            # with a lost sequence, so no transaction id is handed out twice.
            partition.seq += 1
            acks.append(
                await self.producer.send(
                    changelog,
                    msgpack.packb(partition.seq),
                    key=SEQ_KEY.encode(),
                    partition=record.partition,
                )
            )
        partition.states[station_id] = step.state
        acks.append(
            await self.producer.send(
                changelog,
                msgpack.packb(step.state.to_dict(), datetime=True),
                key=station_id.encode(),
                partition=record.partition,
            )
        )
        for index, output in enumerate(step.events):
            out = Envelope(
                event_type=output.event_type,
                schema_version=1,
                key=output.key,
                payload=output.payload,
                occurred_at=envelope.occurred_at,
                event_id=event_id(record.topic, record.partition, record.offset, index),
                causation_id=envelope.event_id,
            )
            acks.append(
                await self.producer.send(output.topic, encode(out), key=output.key.encode())
            )
        RECORDS.labels(envelope.event_type, "handled").inc()
        if step.reply is not None:
            reply = _reply(envelope, record.headers, step.reply)
            if reply is None:
                RECORDS.labels("reply", "no-route").inc()
            else:
                replies.append(reply)


def _reply(
    call: Envelope, raw_headers: Any, reply: Reply | ReplyError
) -> tuple[int, bytes, bytes, list[tuple[str, bytes]]] | None:
    headers = {str(k): v.decode() for k, v in raw_headers or ()}
    partition, correlation = headers.get(Header.REPLY_PARTITION), headers.get(Header.CORRELATION_ID)
    if partition is None or correlation is None:
        return None
    action = call.payload.get("action")
    if isinstance(reply, Reply):
        body: dict[str, Any] = {"action": action, "payload": reply.payload}
        event_type = EventType.OCPP_REPLY
    else:
        body = {"action": action, "code": reply.code, "description": reply.description}
        event_type = EventType.OCPP_REPLY_ERROR
    value = encode(call.caused(event_type, body))
    return (
        int(partition),
        call.key.encode(),
        value,
        [(Header.CORRELATION_ID.value, correlation.encode())],
    )
