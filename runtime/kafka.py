"""Kafka clients with chargebus defaults and a bounded start (I/O shell shared by every process)."""

import asyncio
import os
from collections.abc import Awaitable, Coroutine, Sequence
from functools import cache
from typing import Any, Protocol

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from aiokafka.helpers import create_ssl_context
from aiokafka.partitioner import DefaultPartitioner, murmur2
from aiokafka.structs import RecordMetadata

from runtime.settings import KafkaSecurity, kafka_security

# A client that cannot reach the broker fails after this long instead of hanging.
DEFAULT_CONNECT_TIMEOUT_S = 15.0
# The largest produce request (and so record) a producer sends: aiokafka's and Java's default.
MAX_REQUEST_SIZE = 1024 * 1024


class KafkaUnavailable(Exception):
    """The broker could not be reached within the connect timeout."""


class TopicMissing(Exception):
    """A topic the process reads does not exist on the broker (not provisioned)."""


class PublishFailed(Exception):
    """A record could not be written (the broker is down or did not acknowledge in time)."""


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


def security_options(security: KafkaSecurity) -> dict[str, Any]:
    """The aiokafka options for ``security`` (none for PLAINTEXT); reads the password file."""
    if security.protocol == "PLAINTEXT":
        return {}
    options: dict[str, Any] = {"security_protocol": security.protocol}
    if security.uses_tls:
        options["ssl_context"] = create_ssl_context(cafile=security.ca_file)
    if security.uses_sasl:
        password = security.password
        if security.password_file is not None:
            with open(security.password_file, encoding="utf-8") as file:
                password = file.read().strip()
        options["sasl_mechanism"] = security.sasl_mechanism
        options["sasl_plain_username"] = security.username
        options["sasl_plain_password"] = password
    return options


@cache
def _process_security() -> dict[str, Any]:
    """This process's Kafka security options, from its environment (read once)."""
    return security_options(kafka_security(os.environ))


async def start_bounded(client: Any, bootstrap_servers: str, timeout_s: float) -> None:
    """Start an aiokafka client, or stop it and raise within ``timeout_s``.

    Raises:
        KafkaUnavailable: if the broker did not answer in time.
    """
    try:
        async with asyncio.timeout(timeout_s):
            await client.start()
    except (TimeoutError, KafkaError, OSError) as exc:
        closer = client.close() if isinstance(client, AIOKafkaAdminClient) else client.stop()
        try:
            async with asyncio.timeout(5):
                await closer
        except (TimeoutError, KafkaError, OSError):
            pass
        reason = "no answer" if isinstance(exc, TimeoutError) else str(exc) or type(exc).__name__
        raise KafkaUnavailable(
            f"Kafka at {bootstrap_servers} is unreachable after {timeout_s:g}s ({reason}); "
            f"is the broker running? (deploy/local/kafka.sh start)"
        ) from exc


class KeyPartitioner:
    """aiokafka's DefaultPartitioner (Java's murmur2 of the key, so Java clients agree), each
    key's hash remembered: aiokafka's murmur2 is pure Python, 8 µs a record (docs/benchmarks.md,
    issue 14), and our keys (station ids) repeat with every message."""

    def __init__(self, max_keys: int = 100_000) -> None:
        self._hashes: dict[bytes, int] = {}
        self._max_keys = max_keys  # then the memory is dropped and filled again

    def __call__(self, key: bytes | None, all_partitions: list[int], available: list[int]) -> int:
        if key is None:
            partition: int = DefaultPartitioner()(key, all_partitions, available)  # random
            return partition
        hashed = self._hashes.get(key)
        if hashed is None:
            if len(self._hashes) >= self._max_keys:
                self._hashes.clear()
            hashed = self._hashes[key] = murmur2(key) & 0x7FFFFFFF
        return all_partitions[hashed % len(all_partitions)]


def reliable_producer(bootstrap_servers: str, **overrides: Any) -> AIOKafkaProducer:
    """An idempotent producer with acks=all (aiokafka's default is acks=1 without idempotence)."""
    options: dict[str, Any] = {
        "bootstrap_servers": bootstrap_servers,
        "enable_idempotence": True,
        "acks": "all",
        "linger_ms": 2,
        "request_timeout_ms": 15000,
        "compression_type": None,
        # aiokafka's default of 16 KiB per partition fills in a burst (a reconnect storm's
        # presence and boots, a worker catching up), and every send() then waits for a drain:
        # 30 % of the gateway's CPU in a 10,000-station storm went to those waits
        # (docs/benchmarks.md, issue 14). Half the broker's default max.message.bytes.
        "max_batch_size": 512 * 1024,
        "max_request_size": MAX_REQUEST_SIZE,
        "partitioner": KeyPartitioner(),
        **_process_security(),
    }
    options.update(overrides)
    return AIOKafkaProducer(**options)


async def send_acknowledged(
    producer: AIOKafkaProducer,
    topic: str,
    key: bytes | None,
    value: bytes | None,
    *,
    partition: int | None = None,
    headers: Sequence[tuple[str, bytes]] | None = None,
    timeout_s: float | None = None,
) -> RecordMetadata:
    """Write one record (``value`` None: a tombstone) and return once the broker acknowledged
    it (acks=all); ``timeout_s`` bounds the wait beyond the producer's own request timeout.

    Raises:
        PublishFailed: if the record was not acknowledged (in time).
    """
    sending = producer.send_and_wait(
        topic,
        value,
        key=key,
        partition=partition,
        headers=[(str(k), v) for k, v in headers or ()],  # the C encoder wants exact str
    )
    try:
        if timeout_s is None:  # the hot path (every station CALL): no timer to arm
            metadata: RecordMetadata = await sending
        else:
            async with asyncio.timeout(timeout_s):
                metadata = await sending
    except (KafkaError, TimeoutError) as exc:
        reason = str(exc) or type(exc).__name__
        raise PublishFailed(f"{topic}: {reason}") from exc
    return metadata


async def publish_once(
    bootstrap_servers: str, topic: str, key: str, value: bytes | None, timeout_s: float
) -> RecordMetadata:
    """One acknowledged record from a short-lived producer (the command-line tools).

    Raises:
        KafkaUnavailable: if the broker cannot be reached within ``timeout_s``.
        PublishFailed: if the broker did not acknowledge the record in time.
    """
    producer = reliable_producer(bootstrap_servers)
    await start_bounded(producer, bootstrap_servers, timeout_s)
    try:
        return await send_acknowledged(producer, topic, key.encode(), value, timeout_s=timeout_s)
    finally:
        await producer.stop()


def consumer(bootstrap_servers: str, *topics: str, **overrides: Any) -> AIOKafkaConsumer:
    """A consumer that commits manually, after its outputs (at-least-once)."""
    options: dict[str, Any] = {
        "bootstrap_servers": bootstrap_servers,
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest",
        "fetch_max_wait_ms": 50,
        "request_timeout_ms": 15000,
        **_process_security(),
    }
    options.update(overrides)
    return AIOKafkaConsumer(*topics, **options)


# How long a consumer with nothing to read lets the broker hold a fetch for the first byte:
# the broker answers as soon as a record is there, so a record does not wait for it. Not
# longer: a request behind a parked fetch on its connection (a new assignment's first fetch and
# offsets, a partition left out of the parked fetch while its records were being read) waits for
# it (docs/benchmarks.md, issue 14).
FIRST_BYTE_MAX_WAIT_MS = 100


def pace_fetches(started: AIOKafkaConsumer, *, min_bytes: int, max_wait_ms: int) -> None:
    """What the next fetch requests of a started consumer ask of the broker: answer once
    ``min_bytes`` are there or after ``max_wait_ms``. aiokafka's fetcher reads both for every
    request it builds and has no setter for them; a test fails if it stops reading them."""
    fetcher = started._fetcher
    if fetcher is None:
        raise RuntimeError("pace_fetches needs a started consumer")
    fetcher._fetch_min_bytes = min_bytes
    fetcher._fetch_max_wait_ms = max_wait_ms


def admin_client(bootstrap_servers: str) -> AIOKafkaAdminClient:
    """An admin client with a request timeout shorter than our connect bound."""
    return AIOKafkaAdminClient(
        bootstrap_servers=bootstrap_servers, request_timeout_ms=10000, **_process_security()
    )


async def partitions_of(
    bootstrap_servers: str, topics: Sequence[str], timeout_s: float
) -> list[TopicPartition]:
    """Every partition of ``topics``, once each has a leader. The admin client, not a consumer's
    metadata: that misses a topic created a moment ago.

    Raises:
        KafkaUnavailable: if the broker does not answer within ``timeout_s``.
        TopicMissing: if a topic does not exist.
    """
    admin = admin_client(bootstrap_servers)
    await start_bounded(admin, bootstrap_servers, timeout_s)
    try:
        async with asyncio.timeout(timeout_s):
            while True:
                described = await admin.describe_topics(list(topics))
                missing = [t["topic"] for t in described if t["error_code"] == 3]
                if missing:
                    raise TopicMissing(
                        f"topic {', '.join(missing)} does not exist; "
                        "run `python -m runtime provision`"
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
            f"Kafka at {bootstrap_servers} did not describe {', '.join(topics)} "
            f"within {timeout_s:g}s"
        ) from exc
    finally:
        await admin.close()


class ConsumerTask:
    """A consumer read by a task of its own: ``run`` hands both over, ``stop`` ends both."""

    def __init__(self) -> None:
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None

    def run(self, kafka: AIOKafkaConsumer, loop: Coroutine[Any, Any, None], *, name: str) -> None:
        """Keep ``kafka`` (started) and read it with ``loop`` in a task named ``name``."""
        self._consumer = kafka
        self._task = asyncio.create_task(loop, name=name)

    async def stop(self) -> None:
        """Cancel the task, then stop the consumer."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if self._consumer is not None:
            await self._consumer.stop()
            self._consumer = None
