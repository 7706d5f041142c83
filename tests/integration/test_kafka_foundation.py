"""Contracts on the real broker: an envelope through Kafka, provisioning, bounded failure."""

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient

from contracts.codec import decode, encode
from contracts.envelope import Envelope
from contracts.topics import SPECS, TopicSpec
from runtime.kafka import KafkaUnavailable, reliable_producer, start_bounded
from runtime.provision import Action, provision, read_configs
from tests.conftest import NewTopicFactory


async def test_envelope_through_an_idempotent_producer(
    kafka_bootstrap: str, new_topic: NewTopicFactory
) -> None:
    topic = await new_topic(partitions=3)
    sent = [
        Envelope(
            event_type="OcppCall",
            schema_version=1,
            key=f"CS-{i}",
            payload={"action": "Heartbeat", "payload": {}, "n": i},
        )
        for i in range(20)
    ]
    producer = reliable_producer(kafka_bootstrap)
    await start_bounded(producer, kafka_bootstrap, 15)
    try:
        await asyncio.gather(
            *[
                producer.send_and_wait(topic, encode(e), key=e.key.encode(), headers=[("h", b"1")])
                for e in sent
            ]
        )
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=kafka_bootstrap, auto_offset_reset="earliest"
    )
    await consumer.start()
    received: list[Envelope] = []
    try:
        async with asyncio.timeout(20):
            async for record in consumer:
                assert record.value is not None
                assert record.key == decode(record.value).key.encode()
                assert ("h", b"1") in list(record.headers)
                received.append(decode(record.value))
                if len(received) == len(sent):
                    break
    finally:
        await consumer.stop()
    assert sorted(received, key=lambda e: int(e.payload["n"])) == sent


async def test_provision_creates_declared_topics_idempotently(
    kafka_admin: AIOKafkaAdminClient,
) -> None:
    await provision(kafka_admin, SPECS.values())  # the shared broker may already have them
    again = await provision(kafka_admin, SPECS.values())
    assert {o.action for o in again} == {Action.UNCHANGED}, again
    described = {t["topic"]: t for t in await kafka_admin.describe_topics(list(SPECS))}
    for spec in SPECS.values():
        assert len(described[spec.topic]["partitions"]) == spec.partitions, spec.topic
        configs = await read_configs(kafka_admin, spec.topic)
        assert configs["cleanup.policy"] == spec.cleanup_policy, spec.topic
        assert configs["retention.ms"] == str(spec.retention_ms), spec.topic


async def test_provision_brings_a_drifted_topic_to_its_declaration(
    kafka_admin: AIOKafkaAdminClient, new_topic: NewTopicFactory
) -> None:
    name = await new_topic(partitions=1, **{"cleanup.policy": "delete"})
    spec = TopicSpec(
        topic=name,
        key="station_id",
        partitions=3,
        cleanup_policy="compact",
        retention_ms=-1,
        description="test",
    )
    (outcome,) = await provision(kafka_admin, [spec])
    assert outcome.action is Action.UPDATED
    assert "partitions 1 -> 3" in outcome.detail
    for _ in range(100):  # the broker applies an altered config a moment after it says so
        if (await read_configs(kafka_admin, name))["cleanup.policy"] == "compact":
            break
        await asyncio.sleep(0.1)
    assert (await read_configs(kafka_admin, name))["cleanup.policy"] == "compact"
    (outcome,) = await provision(kafka_admin, [spec])
    assert outcome.action is Action.UNCHANGED
    shrunk = TopicSpec(
        topic=name,
        key="station_id",
        partitions=2,
        cleanup_policy="compact",
        retention_ms=-1,
        description="test",
    )
    (outcome,) = await provision(kafka_admin, [shrunk])
    assert outcome.action is Action.FAILED
    assert "cannot shrink" in outcome.detail


def test_provision_command_reports_every_topic(kafka_bootstrap: str) -> None:
    env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap}
    done = subprocess.run(
        [sys.executable, "-m", "runtime", "provision"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == len(SPECS)
    for spec, line in zip(SPECS.values(), lines, strict=True):
        action, topic = line.split()[:2]
        assert topic == spec.topic
        assert action in {"created", "unchanged", "updated"}


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts TCP connections and never answers: a hung broker."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(64)
        yield server.getsockname()[1]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("broker", ["refused", "silent"])
def test_provision_against_an_unreachable_broker_fails_in_bounded_time(
    broker: str, request: pytest.FixtureRequest
) -> None:
    port = request.getfixturevalue("silent_port") if broker == "silent" else _free_port()
    env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{port}"}
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "runtime", "provision", "--timeout", "3"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    elapsed = time.monotonic() - started
    assert done.returncode == 2
    assert f"Kafka at 127.0.0.1:{port} is unreachable after 3s" in done.stderr
    assert elapsed < 15


async def test_a_client_against_a_silent_broker_raises_within_the_bound(
    silent_port: int,
) -> None:
    address = f"127.0.0.1:{silent_port}"
    producer = reliable_producer(address)
    started = time.monotonic()
    with pytest.raises(KafkaUnavailable, match="unreachable after 1s"):
        await start_bounded(producer, address, 1.0)
    assert time.monotonic() - started < 8
