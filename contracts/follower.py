"""Follow a compacted topic from its beginning, then live, into an in-memory view (I/O).

Every process that needs a whole compacted topic (credentials in the gateway, tokens in the
sessions service, presence in the API) uses this: manual assignment of every partition, no
consumer group and no commits. ``ready`` is set once each partition was read up to the end
offset it had at ``start()`` (the owner's /readyz waits for it).
"""

import asyncio
import logging
from abc import ABC, abstractmethod
from types import TracebackType
from typing import Any, Self

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from contracts import codec
from contracts.envelope import Envelope
from contracts.errors import DecodeError
from contracts.kafka import (
    DEFAULT_CONNECT_TIMEOUT_S,
    KafkaUnavailable,
    admin_client,
    consumer,
    start_bounded,
)

log = logging.getLogger(__name__)


class TopicMissing(Exception):
    """The followed topic does not exist on the broker (not provisioned)."""


class RecordRejected(Exception):
    """A view refuses a decoded record; the follower logs it and calls ``reject``."""


class TopicFollower(ABC):
    """Reads a topic into a view: subclasses say what a record and a tombstone do."""

    def __init__(
        self,
        bootstrap_servers: str,
        topic: str,
        *,
        connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S,
        poll_timeout_ms: int = 500,
    ) -> None:
        self.ready = asyncio.Event()
        self.topic = topic
        self._bootstrap_servers = bootstrap_servers
        self._connect_timeout_s = connect_timeout_s
        self._poll_timeout_ms = poll_timeout_ms
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None
        self._catching_up: dict[TopicPartition, int] = {}  # partition -> end offset at start

    @abstractmethod
    def apply(self, key: str, envelope: Envelope) -> None:
        """Apply one record. Raises: RecordRejected: if the view refuses it."""

    @abstractmethod
    def remove(self, key: str) -> None:
        """Apply a tombstone."""

    def reject(self, key: str) -> None:  # noqa: B027 - optional hook
        """A record for ``key`` could not be decoded or was refused (default: nothing)."""

    def describe(self) -> str:
        """What the view holds, for the log line at readiness."""
        return self.topic

    async def start(self) -> None:
        """Assign every partition from the beginning and start following in a task.

        Raises:
            KafkaUnavailable: if the broker cannot be reached within the connect timeout.
            TopicMissing: if the topic does not exist.
        """
        partitions = await self._partitions()
        kafka = consumer(self._bootstrap_servers, group_id=None)
        await start_bounded(kafka, self._bootstrap_servers, self._connect_timeout_s)
        try:
            async with asyncio.timeout(self._connect_timeout_s):
                assigned = [TopicPartition(self.topic, p) for p in partitions]
                kafka.assign(assigned)
                await kafka.seek_to_beginning(*assigned)
                end_offsets: dict[TopicPartition, int] = await kafka.end_offsets(assigned)
        except TimeoutError as exc:
            await kafka.stop()
            raise KafkaUnavailable(
                f"Kafka at {self._bootstrap_servers} did not give the offsets of "
                f"{self.topic} within {self._connect_timeout_s:g}s"
            ) from exc
        except BaseException:
            await kafka.stop()
            raise
        self._consumer = kafka
        self._catching_up = {tp: end for tp, end in end_offsets.items() if end > 0}
        if not self._catching_up:
            self._set_ready()
        self._task = asyncio.create_task(self._follow(kafka), name=f"follow {self.topic}")

    async def _partitions(self) -> list[int]:
        # The admin client, not the consumer's metadata: that misses a topic created a moment ago.
        admin = admin_client(self._bootstrap_servers)
        await start_bounded(admin, self._bootstrap_servers, self._connect_timeout_s)
        try:
            async with asyncio.timeout(self._connect_timeout_s):
                while True:
                    [topic] = await admin.describe_topics([self.topic])
                    if topic["error_code"] == 3:  # UNKNOWN_TOPIC_OR_PARTITION
                        raise TopicMissing(
                            f"topic {self.topic} does not exist; "
                            "run `python -m contracts provision`"
                        )
                    partitions = topic["partitions"]
                    if topic["error_code"] == 0 and all(p["leader"] >= 0 for p in partitions):
                        return sorted(p["partition"] for p in partitions)
                    await asyncio.sleep(0.1)  # a topic just created may have no leader yet
        except TimeoutError as exc:
            raise KafkaUnavailable(
                f"Kafka at {self._bootstrap_servers} did not describe {self.topic} "
                f"within {self._connect_timeout_s:g}s"
            ) from exc
        finally:
            await admin.close()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if self._consumer is not None:
            await self._consumer.stop()
            self._consumer = None

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

    async def _follow(self, kafka: AIOKafkaConsumer) -> None:
        while True:
            try:
                batches: dict[TopicPartition, list[ConsumerRecord[Any, Any]]] = await kafka.getmany(
                    timeout_ms=self._poll_timeout_ms
                )
                for records in batches.values():
                    for record in records:
                        self._record(record)
                if self._catching_up:
                    await self._check_caught_up(kafka)
            except Exception:  # the loop's one broad except: log, back off, keep following
                log.exception("following %s failed; retrying in 1 s", self.topic)
                await asyncio.sleep(1)

    async def _check_caught_up(self, kafka: AIOKafkaConsumer) -> None:
        for tp, end in list(self._catching_up.items()):
            # aiokafka moves the position past batches that compaction emptied, so a partition
            # whose last records were compacted away still reaches its end offset.
            if await kafka.position(tp) >= end:
                del self._catching_up[tp]
        if not self._catching_up:
            self._set_ready()

    def _set_ready(self) -> None:
        self.ready.set()
        log.info("read %s", self.describe())

    def _record(self, record: ConsumerRecord[Any, Any]) -> None:
        where = f"{record.topic}[{record.partition}]@{record.offset}"
        raw_key: bytes | None = record.key
        try:
            key = raw_key.decode("utf-8") if raw_key is not None else None
        except UnicodeDecodeError:
            key = None
        if key is None:
            log.warning("skipping %s: the key is not UTF-8", where)
            return
        value: bytes | None = record.value
        if value is None:  # tombstone
            self.remove(key)
            return
        try:
            envelope = codec.decode(value)
            if envelope.key != key:
                raise RecordRejected(f"envelope key {envelope.key!r} is not the record key")
            self.apply(key, envelope)
        except (DecodeError, RecordRejected) as exc:
            # DecodeError's text may quote the record (a secret, say): only the view's own
            # messages, which never hold one, are logged.
            reason = str(exc) if isinstance(exc, RecordRejected) else "not an envelope"
            log.warning("skipping %s for %s: %s", where, key, reason)
            self.reject(key)
