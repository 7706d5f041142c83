"""A real gateway process for integration tests, a test that plays the owning service, and a
recording publisher for the gateway in-process (no Kafka)."""

import asyncio
import itertools
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import TopicPartition

from contracts.codec import decode, encode
from contracts.envelope import Envelope
from contracts.headers import Header
from contracts.payloads.commands import StationCommand
from contracts.payloads.ocpp import Reply, ReplyError, reply_to
from contracts.topics import SPECS, Topic
from gateway.server import Gateway
from gateway.settings import Settings
from runtime.kafka import PublishFailed
from runtime.tracing import Spans

ROOT = Path(__file__).resolve().parents[2]
# Tests take inbox partitions from the top so they never meet `make run`'s gateway 0.
_instances = itertools.cycle(range(SPECS[Topic.GATEWAY_INBOX].partitions - 1, 0, -1))


def new_instance() -> int:
    """An inbox partition for a test's gateway (from the top: never `make run`'s gateway 0)."""
    return next(_instances)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class GatewayProcess:
    """`python -m gateway` on free ports, with its JSON log in a file."""

    bootstrap: str
    log_path: Path
    args: list[str] = field(default_factory=list)
    instance: int = field(default_factory=new_instance)
    port: int = field(default_factory=free_port)
    http_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        scheme = "wss" if any(a.startswith("--tls-cert") for a in self.args) else "ws"
        return f"{scheme}://127.0.0.1:{self.port}/ocpp"

    def start(self) -> None:
        command = [
            sys.executable,
            "-m",
            "gateway",
            "--host=127.0.0.1",
            f"--port={self.port}",
            "--http-host=127.0.0.1",
            f"--http-port={self.http_port}",
            f"--instance={self.instance}",
            *self.args,
        ]
        env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": self.bootstrap, "PYTHONPATH": str(ROOT)}
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(command, env=env, stdout=log, stderr=log, cwd=ROOT)

    async def wait_ready(self, limit_s: float = 30) -> None:
        deadline = time.monotonic() + limit_s
        while time.monotonic() < deadline:
            assert self.process is not None
            assert self.process.poll() is None, self.log()
            if await self.http_status("/readyz") == 200:
                return
            await asyncio.sleep(0.1)
        raise AssertionError(f"gateway not ready in {limit_s}s:\n{self.log()}")

    async def http_get(self, path: str) -> tuple[int, str]:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", self.http_port)
        except OSError:
            return 0, ""
        writer.write(f"GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n".encode())
        data = await reader.read()
        writer.close()
        head, _, body = data.decode().partition("\r\n\r\n")
        return int(head.split()[1]), body

    async def http_status(self, path: str) -> int:
        return (await self.http_get(path))[0]

    def stop(self, sig: signal.Signals = signal.SIGTERM, limit_s: float = 30) -> int:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.process.wait(timeout=limit_s)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:]


@asynccontextmanager
async def running_gateway(
    bootstrap: str, tmp_path: Path, *args: str
) -> AsyncIterator[GatewayProcess]:
    gateway = GatewayProcess(bootstrap, tmp_path / f"gateway-{uuid.uuid4().hex[:6]}.log", [*args])
    gateway.start()
    try:
        await gateway.wait_ready()
        yield gateway
    finally:
        if gateway.process is not None and gateway.process.poll() is None:
            gateway.stop(signal.SIGKILL)


@dataclass
class Received:
    envelope: Envelope
    headers: dict[str, str]


class TopicTail:
    """Reads a topic from its current end: what a test's actions produce from now on."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self._consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
        self._topic = topic
        self._buffer: deque[Received] = deque()

    async def __aenter__(self) -> "TopicTail":
        await self._consumer.start()
        tps = [TopicPartition(self._topic, p) for p in range(SPECS[Topic(self._topic)].partitions)]
        self._consumer.assign(tps)
        await self._consumer.seek_to_end(*tps)
        for tp in tps:  # resolve the positions now, before the test acts
            await self._consumer.position(tp)
        return self

    async def __aexit__(self, *_: object) -> None:
        await self._consumer.stop()

    async def next(self, match: Callable[[Envelope], bool], limit_s: float = 20) -> Received:
        """The next record that matches; records read past it are kept for later calls."""
        async with asyncio.timeout(limit_s):
            while True:
                while self._buffer:
                    received = self._buffer.popleft()
                    if match(received.envelope):
                        return received
                batch = await self._consumer.getmany(timeout_ms=200)
                for records in batch.values():
                    for record in records:
                        if record.value is not None:
                            headers = {k: v.decode() for k, v in record.headers}
                            self._buffer.append(Received(decode(record.value), headers))


def for_station(station_id: str, event_type: str | None = None) -> Callable[[Envelope], bool]:
    def match(envelope: Envelope) -> bool:
        return envelope.key == station_id and (
            event_type is None or envelope.event_type == event_type
        )

    return match


class ServicePlayer:
    """Plays the owning service: answers station CALLs and sends commands to a gateway."""

    def __init__(self, bootstrap: str) -> None:
        self.producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True)

    async def __aenter__(self) -> "ServicePlayer":
        await self.producer.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.producer.stop()

    async def reply(self, call: Received, payload: Mapping[str, Any]) -> None:
        await self._to_inbox(call, Reply(dict(payload)))

    async def reply_error(self, call: Received, code: str, description: str) -> None:
        await self._to_inbox(call, ReplyError(code, description))

    async def _to_inbox(self, call: Received, answer: Reply | ReplyError) -> None:
        envelope = reply_to(call.envelope, answer)
        await self.producer.send_and_wait(
            Topic.GATEWAY_INBOX,
            encode(envelope),
            key=envelope.key.encode(),
            partition=int(call.headers[Header.REPLY_PARTITION]),
            headers=[(Header.CORRELATION_ID.value, call.headers[Header.CORRELATION_ID].encode())],
        )

    async def command(
        self,
        gateway: int,
        station_id: str,
        action: str,
        payload: Mapping[str, Any],
        *,
        command_id: str | None = None,
        deadline: datetime | None = None,
    ) -> str:
        command_id = command_id or uuid.uuid4().hex
        envelope = StationCommand(
            command_id=command_id,
            station_id=station_id,
            action=action,
            payload=payload,
            deadline=deadline or datetime.now(UTC) + timedelta(seconds=30),
        ).envelope()
        await self.producer.send_and_wait(
            Topic.GATEWAY_INBOX, encode(envelope), key=station_id.encode(), partition=gateway
        )
        return command_id


@dataclass(frozen=True)
class Published:
    """One record a RecordingPublisher was given."""

    topic: str
    envelope: Envelope
    headers: dict[str, str]
    partition: int | None


class RecordingPublisher:
    """A gateway Publisher that keeps what it is given; topics in ``failing`` raise
    PublishFailed, as KafkaBus does when the broker is down."""

    def __init__(self) -> None:
        self.records: list[Published] = []
        self.failing: set[str] = set()
        self._changed = asyncio.Condition()

    async def publish(
        self,
        topic: str,
        envelope: Envelope,
        *,
        headers: Sequence[tuple[str, bytes]] = (),
        partition: int | None = None,
    ) -> None:
        if topic in self.failing:
            raise PublishFailed(f"{topic}: failing on purpose")
        decoded = {str(k): v.decode() for k, v in headers}
        async with self._changed:
            self.records.append(Published(topic, envelope, decoded, partition))
            self._changed.notify_all()

    def on(self, topic: str, station_id: str) -> list[Published]:
        """What was published on ``topic`` for ``station_id``, in order."""
        return [r for r in self.records if r.topic == topic and r.envelope.key == station_id]

    async def wait_for(self, match: Callable[[Published], bool], limit_s: float = 5) -> Published:
        """The first record that matches, once there is one."""
        async with asyncio.timeout(limit_s), self._changed:
            await self._changed.wait_for(lambda: any(match(r) for r in self.records))
        return next(r for r in self.records if match(r))

    async def wait_count(self, topic: str, station_id: str, count: int, limit_s: float = 5) -> None:
        """Until at least ``count`` records were published on ``topic`` for ``station_id``."""
        async with asyncio.timeout(limit_s), self._changed:
            await self._changed.wait_for(lambda: len(self.on(topic, station_id)) >= count)


@asynccontextmanager
async def serving(
    publisher: RecordingPublisher, *, spans: Spans | None = None, **settings: Any
) -> AsyncIterator[tuple[Gateway, str]]:
    """A Gateway in process on a free port of 127.0.0.1 (no TLS, no passwords, drained within
    1 s) with ``settings`` over those; yields it and its URL (``ws://…/ocpp``)."""
    local: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": 0,
        "security_profile": 0,
        "drain_timeout_s": 1.0,
    }
    gateway = Gateway(Settings(**(local | settings)), publisher, None, spans=spans)
    server = await gateway.serve()
    try:
        yield gateway, f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}/ocpp"
    finally:
        await gateway.drain()
