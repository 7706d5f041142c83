"""The API's Kafka clients: topic followers without a group, and the commands.v1 consumer (I/O).

A ``Follower`` assigns every partition of its topics by hand (no consumer group, no commits):
each API instance holds every station, session and token, and sees every command outcome. From
the beginning (the read models: ``ready`` once each partition was read to the end offset it had
at start) or from the end (command-results.v1: ``ready`` once the positions are fixed, so that
nothing written after that is missed).
"""

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.errors import KafkaError
from aiokafka.structs import RecordMetadata

from contracts import codec
from contracts.envelope import Envelope
from contracts.errors import DecodeError
from contracts.headers import Header
from contracts.kafka import KafkaUnavailable, admin_client, consumer, start_bounded
from contracts.topics import Topic

log = logging.getLogger(__name__)

# (topic, key, envelope or None for a tombstone) -> applied?
RecordHandler = Callable[[str, str, Envelope | None], bool]


class Sender(Protocol):
    """Writes one record and returns once the broker acknowledged it (acks=all)."""

    def __call__(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        *,
        partition: int | None = None,
        headers: Sequence[tuple[str, bytes]] | None = None,
    ) -> Awaitable[RecordMetadata]: ...


class TopicsMissing(Exception):
    """A topic the API reads does not exist on the broker (not provisioned)."""


async def partitions_of(
    bootstrap: str, topics: Sequence[str], timeout_s: float
) -> list[TopicPartition]:
    """Every partition of ``topics``, once each has a leader.

    Raises:
        KafkaUnavailable: if the broker does not answer within ``timeout_s``.
        TopicsMissing: if a topic does not exist.
    """
    admin = admin_client(bootstrap)
    await start_bounded(admin, bootstrap, timeout_s)
    try:
        async with asyncio.timeout(timeout_s):
            while True:
                described = await admin.describe_topics(list(topics))
                missing = [t["topic"] for t in described if t["error_code"] == 3]
                if missing:
                    raise TopicsMissing(
                        f"topic {', '.join(missing)} does not exist; "
                        "run `python -m contracts provision`"
                    )
                if all(
                    t["error_code"] == 0 and all(p["leader"] >= 0 for p in t["partitions"])
                    for t in described
                ):
                    return [
                        TopicPartition(t["topic"], p["partition"])
                        for t in described
                        for p in sorted(t["partitions"], key=lambda p: p["partition"])
                    ]
                await asyncio.sleep(0.1)  # a topic just created may have no leader yet
    except TimeoutError as exc:
        raise KafkaUnavailable(
            f"Kafka at {bootstrap} did not describe {', '.join(topics)} within {timeout_s:g}s"
        ) from exc
    finally:
        await admin.close()


class Follower:
    """Reads every partition of ``topics`` into ``handle``, from the beginning or the end."""

    def __init__(
        self,
        bootstrap: str,
        topics: Sequence[str],
        handle: RecordHandler,
        *,
        from_beginning: bool,
        connect_timeout_s: float,
        poll_timeout_ms: int = 200,
        on_undecodable: Callable[[str], None] | None = None,
    ) -> None:
        self.ready = asyncio.Event()
        self.topics = tuple(topics)
        self._bootstrap = bootstrap
        self._handle = handle
        self._from_beginning = from_beginning
        self._connect_timeout_s = connect_timeout_s
        self._poll_timeout_ms = poll_timeout_ms
        self._on_undecodable = on_undecodable
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None
        self._catching_up: dict[TopicPartition, int] = {}
        self._applied: dict[TopicPartition, int] = {}  # next offset to apply, per partition
        self._waiters: list[tuple[TopicPartition, int, asyncio.Future[None]]] = []

    async def start(self) -> None:
        """Assign and position every partition, then follow in a task.

        Raises:
            KafkaUnavailable: if the broker cannot be reached within the connect timeout.
            TopicsMissing: if a topic does not exist.
        """
        assigned = await partitions_of(self._bootstrap, self.topics, self._connect_timeout_s)
        kafka = consumer(self._bootstrap, group_id=None)
        await start_bounded(kafka, self._bootstrap, self._connect_timeout_s)
        try:
            async with asyncio.timeout(self._connect_timeout_s):
                kafka.assign(assigned)
                if self._from_beginning:
                    await kafka.seek_to_beginning(*assigned)
                    ends: dict[TopicPartition, int] = await kafka.end_offsets(assigned)
                    self._catching_up = {tp: end for tp, end in ends.items() if end > 0}
                else:
                    await kafka.seek_to_end(*assigned)
                for tp in assigned:  # fix the positions now: nothing later is missed
                    self._applied[tp] = await kafka.position(tp)
        except TimeoutError as exc:
            await kafka.stop()
            raise KafkaUnavailable(
                f"Kafka at {self._bootstrap} did not give the offsets of "
                f"{', '.join(self.topics)} within {self._connect_timeout_s:g}s"
            ) from exc
        except BaseException:
            await kafka.stop()
            raise
        self._consumer = kafka
        if not self._catching_up:
            self._set_ready()
        self._task = asyncio.create_task(self._follow(kafka), name=f"follow {self.topics}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if self._consumer is not None:
            await self._consumer.stop()
            self._consumer = None
        for _, _, waiter in self._waiters:
            waiter.cancel()

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
                        # The position moves past batches that compaction emptied.
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
            log.info("read %s", ", ".join(self.topics))

    def _record(self, record: ConsumerRecord[Any, Any]) -> None:
        where = f"{record.topic}[{record.partition}]@{record.offset}"
        raw_key: bytes | None = record.key
        try:
            key = raw_key.decode("utf-8") if raw_key is not None else None
        except UnicodeDecodeError:
            key = None
        value: bytes | None = record.value
        try:
            envelope = None if value is None else codec.decode(value)
        except DecodeError:
            envelope, key = None, None
        if key is None or (envelope is not None and envelope.key != key):
            # Every instance reads every record: only the commands consumer dead-letters.
            log.warning("skipping %s: not an envelope with its record key", where)
            if self._on_undecodable is not None:
                self._on_undecodable(record.topic)
            return
        self._handle(record.topic, key, envelope)


class _Assigned(ConsumerRebalanceListener):
    def __init__(self, event: asyncio.Event) -> None:
        self._event = event

    async def on_partitions_revoked(self, revoked: Any) -> None:
        self._event.clear()

    async def on_partitions_assigned(self, assigned: Any) -> None:
        self._event.set()


class GroupConsumer:
    """Reads a topic in a consumer group and commits after ``handle`` returned (at-least-once).

    ``handle`` gets each envelope; an exception from it is logged and the record is read again
    after a second (the offset is not committed), so a broker hiccup does not lose a command.
    A record that is not an envelope goes to deadletter.v1 with its source in the headers.
    """

    def __init__(
        self,
        bootstrap: str,
        topic: str,
        group_id: str,
        handle: Callable[[Envelope], Awaitable[None]],
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
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Raises: KafkaUnavailable, TopicsMissing: as ``partitions_of``."""
        await partitions_of(self._bootstrap, [self.topic], self._connect_timeout_s)
        kafka = consumer(
            self._bootstrap,
            group_id=self._group_id,
            auto_offset_reset=self._offset_reset,
            session_timeout_ms=10000,
            heartbeat_interval_ms=1000,
        )
        await start_bounded(kafka, self._bootstrap, self._connect_timeout_s)
        kafka.subscribe([self.topic], listener=_Assigned(self._assigned))
        self._consumer = kafka
        self._task = asyncio.create_task(self._consume(kafka), name=f"consume {self.topic}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if self._consumer is not None:
            await self._consumer.stop()
            self._consumer = None

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
                    for record in records:
                        await self._record(record)
                    await kafka.commit({tp: records[-1].offset + 1})  # after the outputs
            except Exception:  # the loop's one broad except: log, back off, read again
                log.exception("consuming %s failed; retrying in 1 s", self.topic)
                await asyncio.sleep(1)
                await self._rewind(kafka)

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
            await self._sender(
                Topic.DEAD_LETTERS,
                record.key,
                value,
                headers=[
                    (Header.SOURCE_TOPIC.value, record.topic.encode()),
                    (Header.SOURCE_PARTITION.value, str(record.partition).encode()),
                    (Header.SOURCE_OFFSET.value, str(record.offset).encode()),
                    (Header.ERROR.value, str(exc)[:200].encode()),
                ],
            )
            return
        await self._handle(envelope)

    async def _rewind(self, kafka: AIOKafkaConsumer) -> None:
        """Go back to the committed offsets: uncommitted records are handled again."""
        with contextlib.suppress(KafkaError, OSError, TimeoutError):
            for tp in kafka.assignment():
                committed = await kafka.committed(tp)
                if committed is not None:
                    kafka.seek(tp, committed)
