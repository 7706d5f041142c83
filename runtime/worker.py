"""The stateful worker: a service's pure core driven by Kafka, at least once (I/O: aiokafka).

    input topics (one consumer group, co-partitioned by key)
      -> plan(batch): decode, handle by the store of each partition (runtime/batch.py, pure)
      -> 1. domain events, await their acknowledgements (acks=all, idempotent producer)
      -> 2. changelog partition p, await their acknowledgements
      -> 3. replies to gateway k's inbox -> offsets committed every COMMIT_INTERVAL_S

Batches are pipelined: while batch n waits for the broker, batch n+1 is handled. Batch n+1's
changelog writes go after batch n's events are acknowledged and its changelog writes are sent;
offsets are committed in batch order. Replies of batch n+1 may go out before those of batch n
(each station's CALLs are one at a time, OCPP-J §4.1.1).
On assignment, a partition's store is restored from partition p of the changelog before its
first record is handled (why not faust tables: docs/decisions.md). Followers (a token store,
say) are started with the worker and must be read before it is ready. With span export on
(runtime/tracing.py), each sampled record handled is a span from its batch's start until the
batch's replies are sent (docs/tracing.md).
"""

import asyncio
import collections
import contextlib
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener
from aiokafka.structs import ConsumerRecord, OffsetAndMetadata, TopicPartition
from prometheus_client import Counter, Histogram

from runtime import eventloop
from runtime.batch import Effects, Span, Store, Write, plan
from runtime.failpoints import failpoint
from runtime.follower import Follower
from runtime.kafka import (
    FIRST_BYTE_MAX_WAIT_MS,
    consumer,
    pace_fetches,
    reliable_producer,
    start_bounded,
)
from runtime.pacing import Pacing
from runtime.restore import restore
from runtime.sending import BatchSender
from runtime.tracing import Kind, Spans

COMMIT_INTERVAL_S = 0.5  # input offsets are committed at most this often
MAX_IN_FLIGHT = 4  # batches handled whose writes are not all acknowledged yet
# A fetch is answered once 32 KiB are there or after 5 ms: under load, fewer and larger
# batches (measured at 2,000 msg/s: 9 % less worker CPU, p50 24 instead of 26 ms); when idle,
# at most 5 ms more per message.
FETCH_MIN_BYTES = 32 * 1024
FETCH_MAX_WAIT_MS = 5
# Those fetches made an idle worker ask the broker 200 times a second: 11 % of a core and 9 %
# of the broker's for nothing (measured). After a read that found nothing, and while records
# come slower than batching pays for (runtime/pacing.py), the fetches ask for the first byte (up
# to FIRST_BYTE_MAX_WAIT_MS); otherwise they batch.
EVENTS, CHANGELOG, REPLIES = PHASES = ("events", "changelog", "replies")


@dataclass(frozen=True, slots=True, kw_only=True)
class Service:
    """What a stateful service gives the worker: its name, inputs, changelog and core."""

    name: str  # "sessions": the consumer's client id, metric names, log and failpoint names
    sources: Sequence[str]  # input topics, co-partitioned: partition p of each goes together
    # Compacted; partition p holds the state of input partition p. None: a stateless service
    # (a router that re-keys records), whose stores never report changes.
    changelog: str | None
    new_store: Callable[[int], Store]  # partition -> an empty store of the service's core
    followers: Sequence[Follower] = ()  # read before the worker is ready


@dataclass(frozen=True, slots=True)
class Metrics:
    records: Counter
    batch_seconds: Histogram


@cache
def metrics(name: str) -> Metrics:
    """The worker's metrics for service ``name``, registered once per process."""
    return Metrics(
        Counter(
            f"chargebus_{name}_records_total", "Records by event type and fate", ["kind", "fate"]
        ),
        Histogram(
            f"chargebus_{name}_batch_seconds", "From handling a batch until its replies are sent"
        ),
    )


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
    """One worker of a service; several share the partitions through the consumer group."""

    def __init__(
        self,
        bootstrap_servers: str,
        service: Service,
        *,
        group_id: str,
        offset_reset: str = "latest",
        max_in_flight: int = MAX_IN_FLIGHT,
        fetch_min_bytes: int = FETCH_MIN_BYTES,
        fetch_max_wait_ms: int = FETCH_MAX_WAIT_MS,
        spans: Spans | None = None,
    ) -> None:
        self.bootstrap_servers = bootstrap_servers
        self.service = service
        self.spans = spans  # None: no span export (runtime/tracing.py)
        self.stores: dict[int, Store] = {}
        self.restoring = 0
        self.log = logging.getLogger(service.name)
        self.metrics = metrics(service.name)
        # One producer per phase: aiokafka has one request in flight per broker connection, so
        # a shared producer would queue the replies of one batch behind the changelog writes of
        # the next. Each keeps its own records in order.
        self.producers = {
            phase: reliable_producer(
                bootstrap_servers, linger_ms=0, client_id=f"{service.name}-{phase}"
            )
            for phase in PHASES
        }
        self.senders = {phase: BatchSender(producer) for phase, producer in self.producers.items()}
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
        self._fetch = fetch_min_bytes, fetch_max_wait_ms
        self._pacing = Pacing()
        self._first_byte = False  # what the fetches ask now: the first byte, or a batch
        self._lock = asyncio.Lock()  # handling a batch and a rebalance never interleave
        self._in_flight: collections.deque[Flight] = collections.deque()
        self._handled: dict[TopicPartition, OffsetAndMetadata] = {}  # outputs acknowledged
        self._committed_at = 0.0
        self._unresolved: set[TopicPartition] = set()  # assigned, start offset not known yet

    # -- lifecycle ------------------------------------------------------------------------------

    async def start(self, connect_timeout_s: float) -> None:
        """Raises: KafkaUnavailable, TopicMissing: the broker or a topic is not there."""
        for producer in self.producers.values():
            await start_bounded(producer, self.bootstrap_servers, connect_timeout_s)
        for follower in self.service.followers:
            await follower.start()
        await start_bounded(self.consumer, self.bootstrap_servers, connect_timeout_s)
        self.consumer.subscribe(list(self.service.sources), listener=self)

    async def stop(self) -> None:
        async with self._lock:
            with contextlib.suppress(Exception):  # what is not committed replays: at-least-once
                await self._drain()
                for producer in self.producers.values():
                    await producer.flush()
                await self._commit()
        await self.consumer.stop()
        for follower in self.service.followers:
            await follower.stop()
        for producer in self.producers.values():
            await producer.stop()

    def readiness(self) -> tuple[bool, str]:
        for follower in self.service.followers:
            if not follower.ready.is_set():
                return False, f"reading {', '.join(follower.topics)}"
        if self.restoring:
            return False, f"restoring {self.restoring} partitions"
        if self._unresolved:
            return False, "resolving start offsets"
        if not self.consumer.assignment():
            return False, "no partitions assigned yet"
        return True, f"{len(self.stores)} partitions"

    # -- rebalancing: restore on assignment ----------------------------------------------------

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        self._pace(first_byte=False)  # the new assignment's first fetches are not parked
        async with self._lock:  # the batches in flight finish and commit first
            await self._drain()
            await self._commit()
            for partition in {tp.partition for tp in revoked}:
                self.stores.pop(partition, None)

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        # Their start offsets are resolved by run(), not here: position() needs the group
        # coordinator, which is busy with this very rebalance (measured: rejoin loops).
        self._unresolved.update(assigned)
        new = sorted({tp.partition for tp in assigned} - set(self.stores))
        if new:
            self.restoring = len(new)
            started = time.monotonic()
            try:
                restored, read = await self._restore(new)
            finally:
                self.restoring = 0
            self.stores.update(restored)
            eventloop.settle_heap()  # the restored states stay: keep full collections off them
            elapsed = time.monotonic() - started
            self.log.info("restored partitions %s: %d records in %.2f s", new, read, elapsed)

    async def _restore(self, partitions: list[int]) -> tuple[dict[int, Store], int]:
        """The stores of ``partitions`` read back from the changelog, and how many records
        were read."""
        restored = {p: self.service.new_store(p) for p in partitions}
        if self.service.changelog is None:
            return restored, 0
        read = await restore(
            self.bootstrap_servers, self.service.changelog, restored, self._unreadable
        )
        return restored, read

    def _unreadable(self, record: ConsumerRecord[Any, Any], key: str, exc: Exception) -> None:
        self.metrics.records.labels("changelog", "unreadable").inc()
        self.log.error(
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
            found = sum(map(len, batches.values()))
            self._pace(first_byte=self._pacing.first_byte(found, time.monotonic()))
            if batches:
                async with self._lock:
                    await self._batch(batches)
            if self._handled and time.monotonic() - self._committed_at >= COMMIT_INTERVAL_S:
                await self._commit()

    def _pace(self, *, first_byte: bool) -> None:
        """Fetch for the first byte (idle, or records come slowly), or in batches (load)."""
        if first_byte == self._first_byte:
            return
        self._first_byte = first_byte
        min_bytes, max_wait_ms = (1, FIRST_BYTE_MAX_WAIT_MS) if first_byte else self._fetch
        pace_fetches(self.consumer, min_bytes=min_bytes, max_wait_ms=max_wait_ms)

    async def _batch(
        self, batches: Mapping[TopicPartition, list[ConsumerRecord[Any, Any]]]
    ) -> None:
        started = time.perf_counter()
        started_ns = time.time_ns() if self.spans is not None else 0
        records: list[ConsumerRecord[Any, Any]] = []
        offsets: dict[TopicPartition, OffsetAndMetadata] = {}
        for tp, fetched in batches.items():
            if tp.partition not in self.stores:
                # Fetched before its state was restored (or after a revoke): read it again
                # later, never skip it (the position already moved past these records).
                if tp in self.consumer.assignment():
                    self.consumer.seek(tp, fetched[0].offset)
                continue
            records.extend(fetched)
            offsets[tp] = OffsetAndMetadata(fetched[-1].offset + 1, "")
        if not records:
            return
        effects = plan(
            records,
            self.stores,
            changelog=self.service.changelog,
            service=self.service.name,
            spans=self.spans is not None,
        )
        for (kind, fate), count in effects.counts.items():
            self.metrics.records.labels(kind, fate).inc(count)
        for where in effects.undecodable:
            self.log.error("undecodable record %s (dead-lettered)", where)
        # Sent here, in batch order, so each key's events keep their order across batches.
        event_acks = await self._send(EVENTS, effects.events)
        while len(self._in_flight) >= self.max_in_flight:
            await self._in_flight[0].task  # raises if it failed
            self._prune()
        previous = self._in_flight[-1] if self._in_flight else None
        flight = Flight()
        flight.task = asyncio.create_task(
            self._finish(previous, flight, event_acks, effects, offsets, started, started_ns)
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
        started_ns: int,
    ) -> None:
        """Phases 1 to 3 of one batch (module docstring), in step with the batch before it."""
        await asyncio.gather(*event_acks)
        flight.events_acknowledged.set()
        failpoint(f"{self.service.name}.events-acknowledged", effects.events)
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
        if self.spans is not None and effects.spans:
            self._export(self.spans, effects.spans, started_ns)
        if previous is not None:
            await previous.task  # offsets are committed in order; raises if it failed
        self._handled.update(offsets)
        self.metrics.batch_seconds.observe(time.perf_counter() - started)

    def _export(self, spans: Spans, handled: list[Span], started_ns: int) -> None:
        """Each sampled record of a batch as a span, from the batch's start until now."""
        ended_ns = time.time_ns()
        for span in handled:
            spans.record(
                f"{self.service.name} {span.name}",
                trace_id=span.parent.trace_id,
                span_id=span.span_id,
                parent_id=span.parent.parent_id,
                kind=Kind.CONSUMER,
                start_ns=started_ns,
                end_ns=ended_ns,
                attributes={
                    "messaging.system": "kafka",
                    "messaging.operation.type": "process",
                    "messaging.destination.name": span.topic,
                    "messaging.destination.partition.id": str(span.partition),
                    "messaging.kafka.offset": span.offset,
                    "messaging.kafka.message.key": span.key,
                },
            )

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
        return await self.senders[phase].send(writes)

    async def _commit(self) -> None:
        """Commit what was handled, outputs acknowledged (at-least-once); off the reply path."""
        if self._handled:
            handled, self._handled = self._handled, {}
            await self.consumer.commit(handled)
        self._committed_at = time.monotonic()
