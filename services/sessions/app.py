"""The sessions worker shell: plain aiokafka around the batch planner (I/O).

    ocpp.inbound.v1 + ocpp.presence.v1 (one consumer group, co-partitioned by station_id)
      -> plan(batch): decode, parse, handle (sans-I/O, batch.py)
      -> 1. domain events (stations.v1, sessions.v1), await their acknowledgements (acks=all)
      -> 2. changelog sessions.state.v1 partition p, await their acknowledgements
      -> 3. replies to gateway k's inbox -> offsets committed every COMMIT_INTERVAL_S

Batches are pipelined: while batch n waits for the broker, batch n+1 is handled. Batch n+1's
changelog writes go after batch n's events are acknowledged and its changelog writes are sent;
offsets are committed in batch order.
On assignment, a partition's states are restored from partition p of sessions.state.v1 before
its first record is handled (docs/sessions.md, "Why not faust tables").
"""

import asyncio
import collections
import contextlib
import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener
from aiokafka.structs import ConsumerRecord, OffsetAndMetadata, TopicPartition
from prometheus_client import Counter, Histogram

from contracts.envelope import Envelope
from contracts.errors import RecordRejected
from contracts.events import EventType
from contracts.topics import Topic
from runtime import eventloop
from runtime.failpoints import failpoint
from runtime.follower import Follower
from runtime.kafka import consumer, reliable_producer, start_bounded
from services.sessions.batch import UNREADABLE, Effects, Partition, Write, plan
from services.sessions.policy import Policy
from services.sessions.tokens import TokenInfo

log = logging.getLogger("sessions")

COMMIT_INTERVAL_S = 0.5  # input offsets are committed at most this often
MAX_IN_FLIGHT = 4  # batches handled whose writes are not all acknowledged yet
# A fetch is answered once 32 KiB are there or after 5 ms: under load, fewer and larger
# batches (measured at 2,000 msg/s: 9 % less worker CPU, p50 24 instead of 26 ms); when idle,
# at most 5 ms more per message.
FETCH_MIN_BYTES = 32 * 1024
FETCH_MAX_WAIT_MS = 5
SOURCES = (Topic.OCPP_INBOUND, Topic.PRESENCE)
EVENTS, CHANGELOG, REPLIES = PHASES = ("events", "changelog", "replies")
RECORDS = Counter(
    "chargebus_sessions_records_total", "Records by event type and fate", ["kind", "fate"]
)
BATCH_SECONDS = Histogram(
    "chargebus_sessions_batch_seconds", "From handling a batch until its replies are sent"
)


class TokenView(Follower):
    """The token store: sessions.tokens.v1 followed into memory, read by every partition."""

    def __init__(self, bootstrap_servers: str) -> None:
        super().__init__(
            bootstrap_servers,
            [Topic.TOKENS],
            self._apply,
            on_rejected=self._rejected,
            describe=lambda: f"{Topic.TOKENS}: {len(self.tokens)} tokens",
        )
        self.tokens: dict[str, TokenInfo] = {}

    def _apply(self, _: str, key: str, envelope: Envelope | None) -> None:
        if envelope is None:
            self.tokens.pop(key, None)
            return
        if envelope.event_type != EventType.TOKEN_DEFINED:
            raise RecordRejected(f"not a {EventType.TOKEN_DEFINED}: {envelope.event_type}")
        try:
            self.tokens[key] = TokenInfo.from_dict(dict(envelope.payload))
        except (KeyError, TypeError, ValueError) as exc:
            raise RecordRejected(f"invalid token record: {exc}") from exc

    def _rejected(self, _: str, key: str | None) -> None:
        if key is not None:
            self.tokens.pop(key, None)  # an unreadable token is unknown, hence Invalid


@dataclass
class Flight:
    """One batch on its way: how far it is, and the task that finishes it."""

    events_acknowledged: asyncio.Event = field(default_factory=asyncio.Event)
    changelog_sent: asyncio.Event = field(default_factory=asyncio.Event)
    task: "asyncio.Task[None]" = field(init=False)

    @property
    def done(self) -> bool:
        return self.task.done()

    @property
    def failed(self) -> bool:
        return self.task.done() and not self.task.cancelled() and self.task.exception() is not None


class Worker(ConsumerRebalanceListener):
    """One sessions worker; several share the partitions through the consumer group."""

    def __init__(
        self,
        bootstrap_servers: str,
        *,
        group_id: str,
        policy: Policy,
        offset_reset: str = "latest",
        max_in_flight: int = MAX_IN_FLIGHT,
        fetch_min_bytes: int = FETCH_MIN_BYTES,
        fetch_max_wait_ms: int = FETCH_MAX_WAIT_MS,
    ) -> None:
        self.bootstrap_servers = bootstrap_servers
        self.policy = policy
        self.tokens = TokenView(bootstrap_servers)
        self.partitions: dict[int, Partition] = {}
        self.restoring = 0
        # One producer per phase: aiokafka has one request in flight per broker connection, so
        # a shared producer would queue the replies of one batch behind the changelog writes of
        # the next. Each keeps its own records in order.
        self.producers = {
            phase: reliable_producer(bootstrap_servers, linger_ms=0, client_id=f"sessions-{phase}")
            for phase in PHASES
        }
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
            # The broker holds a fetch until this much is there or the wait is over: fewer,
            # larger batches cost less per record (docs/benchmarks.md, sessions).
            fetch_min_bytes=fetch_min_bytes,
            fetch_max_wait_ms=fetch_max_wait_ms,
        )
        self.max_in_flight = max_in_flight
        self._lock = asyncio.Lock()  # handling a batch and a rebalance never interleave
        self._in_flight: collections.deque[Flight] = collections.deque()
        self._handled: dict[TopicPartition, OffsetAndMetadata] = {}  # outputs acknowledged
        self._committed_at = 0.0
        self._unresolved: set[TopicPartition] = set()  # assigned, start offset not known yet

    # -- lifecycle ------------------------------------------------------------------------------

    async def start(self, connect_timeout_s: float) -> None:
        for producer in self.producers.values():
            await start_bounded(producer, self.bootstrap_servers, connect_timeout_s)
        await self.tokens.start()
        await start_bounded(self.consumer, self.bootstrap_servers, connect_timeout_s)
        self.consumer.subscribe(list(SOURCES), listener=self)

    async def stop(self) -> None:
        async with self._lock:
            with contextlib.suppress(Exception):  # what is not committed replays: at-least-once
                await self._drain()
                for producer in self.producers.values():
                    await producer.flush()
                await self._commit()
        await self.consumer.stop()
        await self.tokens.stop()
        for producer in self.producers.values():
            await producer.stop()

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
        async with self._lock:  # the batches in flight finish and commit first
            await self._drain()
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
            eventloop.settle_heap()  # the restored states stay: keep full collections off them
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
                        self._restore_record(restored[tp.partition], record)
                for tp in list(pending):
                    if await reader.position(tp) >= ends[tp]:
                        pending.discard(tp)
        finally:
            await reader.stop()
        return restored

    @staticmethod
    def _restore_record(partition: Partition, record: ConsumerRecord[Any, Any]) -> None:
        key = record.key.decode(errors="replace") if record.key else ""
        try:
            partition.apply_changelog(key, record.value)
        except UNREADABLE as exc:
            # Skipped, not fatal: one unreadable record must not stop every station of the
            # partition. The station's next message starts from what was read before it.
            RECORDS.labels("changelog", "unreadable").inc()
            log.error(
                "unreadable changelog record %s/%d/%d (key %r): %s",
                record.topic,
                record.partition,
                record.offset,
                key,
                exc,
            )

    # -- the loop --------------------------------------------------------------------------------

    async def run(self) -> None:
        """Handle batches until cancelled; raises if writing a batch failed (the process then
        exits and its records are handled again after the restart: design rule 1)."""
        while True:
            for tp in list(self._unresolved):  # nothing sent after readiness is skipped
                if tp in self.consumer.assignment():
                    await self.consumer.position(tp)
                self._unresolved.discard(tp)
            self._raise_failed()
            batches = await self.consumer.getmany(timeout_ms=200, max_records=500)
            if batches:
                async with self._lock:
                    await self._batch(batches)
            if self._handled and time.monotonic() - self._committed_at >= COMMIT_INTERVAL_S:
                await self._commit()

    async def _batch(
        self, batches: Mapping[TopicPartition, list[ConsumerRecord[Any, Any]]]
    ) -> None:
        started = time.perf_counter()
        records: list[ConsumerRecord[Any, Any]] = []
        offsets: dict[TopicPartition, OffsetAndMetadata] = {}
        for tp, fetched in batches.items():
            if tp.partition not in self.partitions:
                # Fetched before its state was restored (or after a revoke): read it again
                # later, never skip it (the position already moved past these records).
                if tp in self.consumer.assignment():
                    self.consumer.seek(tp, fetched[0].offset)
                continue
            records.extend(fetched)
            offsets[tp] = OffsetAndMetadata(fetched[-1].offset + 1, "")
        if not records:
            return
        effects = plan(records, self.partitions, self.policy, self.tokens.tokens)
        for (kind, fate), count in effects.counts.items():
            RECORDS.labels(kind, fate).inc(count)
        for where in effects.undecodable:
            log.error("undecodable record %s (dead-lettered)", where)
        # Sent here, in batch order, so each key's events keep their order across batches.
        event_acks = await self._send(EVENTS, effects.events)
        while len(self._in_flight) >= self.max_in_flight:
            await self._in_flight[0].task  # raises if it failed
            self._prune()
        previous = self._in_flight[-1] if self._in_flight else None
        flight = Flight()
        flight.task = asyncio.create_task(
            self._finish(previous, flight, event_acks, effects, offsets, started)
        )
        self._in_flight.append(flight)

    async def _finish(
        self,
        previous: "Flight | None",
        flight: "Flight",
        event_acks: list["asyncio.Future[Any]"],
        effects: Effects,
        offsets: dict[TopicPartition, OffsetAndMetadata],
        started: float,
    ) -> None:
        """Phases 1 to 3 of one batch (module docstring), in step with the batch before it."""
        await asyncio.gather(*event_acks)
        flight.events_acknowledged.set()
        failpoint("sessions.events-acknowledged", effects.events)
        if previous is not None:
            # No state lands before the events of earlier batches (with several brokers, ours
            # can be acknowledged first); its changelog writes are sent first (the changelog
            # producer keeps the order of sends per partition).
            await previous.events_acknowledged.wait()
            await previous.changelog_sent.wait()
        changelog_acks = await self._send(CHANGELOG, effects.changelog)
        flight.changelog_sent.set()
        await asyncio.gather(*changelog_acks)
        # Not awaited: a reply lost on the way makes the station send its CALL again.
        await self._send(REPLIES, effects.replies)
        if previous is not None:
            await previous.task  # offsets are committed in order; raises if it failed
        self._handled.update(offsets)
        BATCH_SECONDS.observe(time.perf_counter() - started)

    def _prune(self) -> None:
        """Forget the batches that are done, oldest first; a failed one stays for _raise_failed."""
        while self._in_flight and self._in_flight[0].done and not self._in_flight[0].failed:
            self._in_flight.popleft()

    def _raise_failed(self) -> None:
        self._prune()
        for flight in self._in_flight:
            if flight.failed:
                raise RuntimeError("writing a batch failed") from flight.task.exception()

    async def _drain(self) -> None:
        """Wait until every batch handled so far is written and answered; raises if one failed."""
        if self._in_flight:
            await asyncio.gather(*(flight.task for flight in self._in_flight))
        self._prune()

    async def _send(self, phase: str, writes: Iterable[Write]) -> list["asyncio.Future[Any]"]:
        producer = self.producers[phase]
        return [
            await producer.send(
                w.topic, w.value, key=w.key, partition=w.partition, headers=list(w.headers)
            )
            for w in writes
        ]

    async def _commit(self) -> None:
        """Commit what was handled, outputs acknowledged (at-least-once); off the reply path."""
        if self._handled:
            handled, self._handled = self._handled, {}
            await self.consumer.commit(handled)
        self._committed_at = time.monotonic()
