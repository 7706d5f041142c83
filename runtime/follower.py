"""Follow topics into memory: every partition, from the beginning or the end, then live (I/O).

The one follower of the project: credentials in the gateway, tokens in the sessions worker, the
read models and command outcomes in the API. It assigns every partition of its topics by hand
(no consumer group, no commits), so each process holds all of what it follows.

- From the beginning (a compacted topic, a read model): ``ready`` once each partition was read
  up to the end offset it had at ``start()``.
- From the end (live outcomes): ``ready`` once the positions are fixed, so that nothing written
  after that is missed.
- From a time (``start_at``, a recent window of a log): each partition from its first record
  written at or after it, ``ready`` as from the beginning.

``handle(topic, key, envelope)`` gets every record (``None`` for a tombstone). A record whose key
is not UTF-8, that is not an envelope, whose envelope key is not the record key, or that
``handle`` refuses with ``RecordRejected`` is logged (never its value: it may hold a secret) and
reported to ``on_rejected(topic, key)``; following goes on. ``wait_applied`` gives
read-your-writes to a process that wrote a record it also follows.
"""

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any, Self

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from contracts import codec
from contracts.envelope import Envelope
from contracts.errors import DecodeError, RecordRejected
from runtime.kafka import (
    DEFAULT_CONNECT_TIMEOUT_S,
    ConsumerTask,
    KafkaUnavailable,
    consumer,
    pace_fetches,
    partitions_of,
    start_bounded,
)

log = logging.getLogger(__name__)

# Once its positions are fixed a follower's fetches wait up to this long for their first byte
# (50 ms before that, while start() seeks). The broker answers as soon as a record is there, so
# a record does not wait for it, and a follower never seeks later; an idle follower asks twice a
# second instead of 20 times (docs/benchmarks.md, issue 14). What may wait behind a parked fetch
# on its connection: the metadata requests after a leader moved.
FOLLOW_FETCH_MAX_WAIT_MS = 500

# (topic, key, envelope or None for a tombstone); raises RecordRejected to refuse a record.
RecordHandler = Callable[[str, str, Envelope | None], object]
# (topic, key or None when the key is not UTF-8): a record that could not be applied.
RejectHandler = Callable[[str, str | None], None]


class Follower(ConsumerTask):
    """Reads every partition of ``topics`` into ``handle``, from the beginning or the end."""

    def __init__(
        self,
        bootstrap_servers: str,
        topics: Sequence[str],
        handle: RecordHandler,
        *,
        from_beginning: bool = True,
        start_at: Callable[[], datetime] | None = None,
        connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S,
        poll_timeout_ms: int = 200,
        on_rejected: RejectHandler | None = None,
        describe: Callable[[], str] | None = None,
    ) -> None:
        self.ready = asyncio.Event()
        self.topics = tuple(topics)
        self._bootstrap_servers = bootstrap_servers
        self._handle = handle
        self._from_beginning = from_beginning
        self._start_at = start_at
        self._connect_timeout_s = connect_timeout_s
        self._poll_timeout_ms = poll_timeout_ms
        self._on_rejected = on_rejected
        self._describe = describe or (lambda: ", ".join(self.topics))
        super().__init__()
        self._catching_up: dict[TopicPartition, int] = {}  # partition -> end offset at start
        self._applied: dict[TopicPartition, int] = {}  # next offset to apply, per partition
        self._waiters: list[tuple[TopicPartition, int, asyncio.Future[None]]] = []

    async def start(self) -> None:
        """Assign and position every partition, then follow in a task.

        Raises:
            KafkaUnavailable: if the broker cannot be reached within the connect timeout.
            TopicMissing: if a topic does not exist.
        """
        assigned = await partitions_of(
            self._bootstrap_servers, self.topics, self._connect_timeout_s
        )
        kafka = consumer(self._bootstrap_servers, group_id=None)
        await start_bounded(kafka, self._bootstrap_servers, self._connect_timeout_s)
        try:
            async with asyncio.timeout(self._connect_timeout_s):
                kafka.assign(assigned)
                if self._start_at is not None:
                    await self._seek_to_time(kafka, assigned, self._start_at())
                    ends: dict[TopicPartition, int] = await kafka.end_offsets(assigned)
                    self._catching_up = {tp: end for tp, end in ends.items() if end > 0}
                elif self._from_beginning:
                    await kafka.seek_to_beginning(*assigned)
                    ends = await kafka.end_offsets(assigned)
                    self._catching_up = {tp: end for tp, end in ends.items() if end > 0}
                else:
                    await kafka.seek_to_end(*assigned)
                for tp in assigned:  # fix the positions now: nothing later is missed
                    self._applied[tp] = await kafka.position(tp)
            pace_fetches(kafka, min_bytes=1, max_wait_ms=FOLLOW_FETCH_MAX_WAIT_MS)
        except TimeoutError as exc:
            await kafka.stop()
            raise KafkaUnavailable(
                f"Kafka at {self._bootstrap_servers} did not give the offsets of "
                f"{', '.join(self.topics)} within {self._connect_timeout_s:g}s"
            ) from exc
        except BaseException:
            await kafka.stop()
            raise
        if not self._catching_up:
            self._set_ready()
        self.run(kafka, self._follow(kafka), name=f"follow {', '.join(self.topics)}")

    @staticmethod
    async def _seek_to_time(
        kafka: AIOKafkaConsumer, assigned: list[TopicPartition], at: datetime
    ) -> None:
        """Each partition at its first record written at or after ``at`` (else at its end)."""
        found = await kafka.offsets_for_times({tp: int(at.timestamp() * 1000) for tp in assigned})
        late = [tp for tp, offset in found.items() if offset is None]
        if late:
            await kafka.seek_to_end(*late)
        for tp, offset in found.items():
            if offset is not None:
                kafka.seek(tp, offset.offset)

    async def stop(self) -> None:
        await super().stop()
        for _, _, waiter in self._waiters:
            waiter.cancel()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    async def wait_applied(self, topic: str, partition: int, offset: int, timeout_s: float) -> bool:
        """Wait until the record at ``offset`` was applied (read-your-writes); False on timeout."""
        tp = TopicPartition(topic, partition)
        if self._applied.get(tp, 0) > offset:
            return True
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append((tp, offset, waiter))
        try:
            async with asyncio.timeout(timeout_s):
                await waiter
        except TimeoutError:
            return False
        finally:
            self._waiters = [w for w in self._waiters if w[2] is not waiter]
        return True

    async def _follow(self, kafka: AIOKafkaConsumer) -> None:
        while True:
            try:
                batches: dict[TopicPartition, list[ConsumerRecord[Any, Any]]] = await kafka.getmany(
                    timeout_ms=self._poll_timeout_ms
                )
                for tp, records in batches.items():
                    for record in records:
                        self._record(record)
                        self._applied[tp] = record.offset + 1
                if self._catching_up:
                    for tp, end in list(self._catching_up.items()):
                        # aiokafka moves the position past batches that compaction emptied, so
                        # a partition whose last records were compacted away still gets there.
                        if await kafka.position(tp) >= end:
                            del self._catching_up[tp]
                    if not self._catching_up:
                        self._set_ready()
                self._wake_waiters()
            except Exception:  # the loop's one broad except: log, back off, keep following
                log.exception("following %s failed; retrying in 1 s", ", ".join(self.topics))
                await asyncio.sleep(1)

    def _wake_waiters(self) -> None:
        for tp, offset, waiter in self._waiters:
            if self._applied.get(tp, 0) > offset and not waiter.done():
                waiter.set_result(None)

    def _set_ready(self) -> None:
        if not self.ready.is_set():
            self.ready.set()
            log.info("read %s", self._describe())

    def _record(self, record: ConsumerRecord[Any, Any]) -> None:
        where = f"{record.topic}[{record.partition}]@{record.offset}"
        raw_key: bytes | None = record.key
        try:
            key = raw_key.decode("utf-8") if raw_key is not None else None
        except UnicodeDecodeError:
            key = None
        if key is None:
            log.warning("skipping %s: the key is not UTF-8", where)
            self._reject(record.topic, None)
            return
        value: bytes | None = record.value
        try:
            envelope = None if value is None else codec.decode(value)
            if envelope is not None and envelope.key != key:
                raise RecordRejected(f"envelope key {envelope.key!r} is not the record key")
            self._handle(record.topic, key, envelope)
        except (DecodeError, RecordRejected) as exc:
            # DecodeError's text may quote the record (a secret, say): only the view's own
            # messages, which never hold one, are logged.
            reason = str(exc) if isinstance(exc, RecordRejected) else "not an envelope"
            log.warning("skipping %s for %s: %s", where, key, reason)
            self._reject(record.topic, key)

    def _reject(self, topic: str, key: str | None) -> None:
        if self._on_rejected is not None:
            self._on_rejected(topic, key)
