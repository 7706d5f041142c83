"""A real sessions worker process (`python -m services.sessions`) for the tests."""

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from aiokafka import AIOKafkaConsumer
from aiokafka.structs import OffsetAndMetadata, TopicPartition

from contracts.topics import SPECS, Topic
from tests.support.gateway import ROOT, free_port


@dataclass
class SessionsWorker:
    """`python -m services.sessions` with its own group id, so tests never share state."""

    bootstrap: str
    workdir: Path
    app_id: str = field(default_factory=lambda: f"test-sessions-{uuid.uuid4().hex[:10]}")
    http_port: int = field(default_factory=free_port)
    extra_env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None

    async def skip_history(self) -> None:
        """Commit the group's offsets at the end of its input topics: a new group then starts
        there instead of replaying every earlier test's records."""
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap, group_id=self.app_id, enable_auto_commit=False
        )
        await consumer.start()
        try:
            tps = [
                TopicPartition(topic, p)
                for topic in (Topic.OCPP_INBOUND, Topic.PRESENCE)
                for p in range(SPECS[topic].partitions)
            ]
            consumer.assign(tps)
            ends = await consumer.end_offsets(tps)
            await consumer.commit({tp: OffsetAndMetadata(end, "") for tp, end in ends.items()})
        finally:
            await consumer.stop()

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "KAFKA_BOOTSTRAP_SERVERS": self.bootstrap,
            "PYTHONPATH": str(ROOT),
            **self.extra_env,
        }
        with (self.workdir / f"sessions-{self.http_port}.log").open("ab") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "services.sessions",
                    f"--group={self.app_id}",
                    "--http-host=127.0.0.1",
                    f"--http-port={self.http_port}",
                ],
                env=env,
                cwd=self.workdir,
                stdout=log,
                stderr=log,
            )

    async def readyz(self) -> int:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", self.http_port)
        except OSError:
            return 0
        writer.write(b"GET /readyz HTTP/1.0\r\nHost: localhost\r\n\r\n")
        data = await reader.read()
        writer.close()
        return int(data.split()[1]) if data else 0

    async def wait_ready(self, limit_s: float = 60) -> None:
        deadline = time.monotonic() + limit_s
        while time.monotonic() < deadline:
            assert self.process is not None
            assert self.process.poll() is None, self.log()
            if await self.readyz() == 200:
                return
            await asyncio.sleep(0.2)
        raise AssertionError(f"sessions worker not ready in {limit_s}s:\n{self.log()}")

    def kill(self, sig: signal.Signals = signal.SIGKILL) -> int:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.process.wait(timeout=30)

    def log(self) -> str:
        return (self.workdir / f"sessions-{self.http_port}.log").read_text(errors="replace")[-4000:]


@asynccontextmanager
async def running_sessions(
    bootstrap: str,
    workdir: Path,
    app_id: str | None = None,
    *,
    skip_history: bool = True,
    **env: str,
) -> AsyncIterator[SessionsWorker]:
    """A worker until the block ends; ``skip_history=False`` for a second member of a group
    (committing offsets from outside fails while the group has members)."""
    worker = SessionsWorker(bootstrap, workdir, extra_env=env)
    if app_id is not None:
        worker.app_id = app_id
    if skip_history:
        await worker.skip_history()
    worker.start()
    try:
        await worker.wait_ready()
        yield worker
    finally:
        if worker.process is not None and worker.process.poll() is None:
            worker.kill(signal.SIGTERM)
