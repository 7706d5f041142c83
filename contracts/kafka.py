"""Kafka clients with chargebus defaults and a bounded start (I/O shell shared by every process)."""

import asyncio
from typing import Any, Protocol

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

# A client that cannot reach the broker fails after this long instead of hanging.
DEFAULT_CONNECT_TIMEOUT_S = 15.0


class KafkaUnavailable(Exception):
    """The broker could not be reached within the connect timeout."""


class _Startable(Protocol):
    async def start(self) -> None: ...
    async def stop(self) -> None: ...


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


def reliable_producer(bootstrap_servers: str, **overrides: Any) -> AIOKafkaProducer:
    """An idempotent producer with acks=all (aiokafka's default is acks=1 without idempotence)."""
    options: dict[str, Any] = {
        "bootstrap_servers": bootstrap_servers,
        "enable_idempotence": True,
        "acks": "all",
        "linger_ms": 2,
        "request_timeout_ms": 15000,
        "compression_type": None,
    }
    options.update(overrides)
    return AIOKafkaProducer(**options)


def consumer(bootstrap_servers: str, *topics: str, **overrides: Any) -> AIOKafkaConsumer:
    """A consumer that commits manually, after its outputs (at-least-once)."""
    options: dict[str, Any] = {
        "bootstrap_servers": bootstrap_servers,
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest",
        "fetch_max_wait_ms": 50,
        "request_timeout_ms": 15000,
    }
    options.update(overrides)
    return AIOKafkaConsumer(*topics, **options)


def admin_client(bootstrap_servers: str) -> AIOKafkaAdminClient:
    """An admin client with a request timeout shorter than our connect bound."""
    return AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=10000)
