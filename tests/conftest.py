"""Shared fixtures: the real Kafka broker that `make test` started, and throwaway topics on it."""

import asyncio
import os
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from runtime.kafka import admin_client
from runtime.settings import bootstrap_servers

NewTopicFactory = Callable[..., Awaitable[str]]


@pytest.fixture(scope="session")
def kafka_bootstrap() -> str:
    """The broker address; in CI a missing broker fails the run instead of skipping."""
    address = bootstrap_servers(os.environ)
    host, _, port = address.split(",")[0].rpartition(":")
    try:
        socket.create_connection((host, int(port)), timeout=2).close()
    except OSError:
        if os.environ.get("CI"):
            pytest.fail(f"no Kafka broker at {address} (CI must not skip)")
        pytest.skip(f"no Kafka broker at {address}; run `make test` or deploy/local/kafka.sh start")
    return address


@pytest.fixture
async def kafka_admin(kafka_bootstrap: str) -> AsyncIterator[AIOKafkaAdminClient]:
    admin = admin_client(kafka_bootstrap)
    await admin.start()
    try:
        yield admin
    finally:
        await admin.close()


@pytest.fixture
async def new_topic(kafka_admin: AIOKafkaAdminClient) -> AsyncIterator[NewTopicFactory]:
    """Creates `test-<uuid>` topics (so tests never share one) and deletes them afterwards."""
    created: list[str] = []

    async def create(partitions: int = 1, **configs: str) -> str:
        name = f"test-{uuid.uuid4().hex}"
        await kafka_admin.create_topics([NewTopic(name, partitions, 1, topic_configs=configs)])
        created.append(name)
        for _ in range(200):  # the controller answers before every broker's metadata has it
            if name in await kafka_admin.list_topics():
                break
            await asyncio.sleep(0.05)
        return name

    yield create
    if created:
        await kafka_admin.delete_topics(created)
