"""Real stateful worker processes (`python -m services.sessions`, `services.billing`) for tests."""

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from aiokafka import AIOKafkaConsumer
from aiokafka.structs import OffsetAndMetadata, TopicPartition

from contracts.topics import SPECS, Topic
from services.sessions.app import SOURCES as SESSIONS_SOURCES
from tests.support.gateway import ROOT, free_port

SESSIONS = "services.sessions"
SESSIONS_INPUTS = SESSIONS_SOURCES


@dataclass
class WorkerProcess:
    """`python -m <module>` with its own group id, so tests never share state."""

    bootstrap: str
    workdir: Path
    module: str = SESSIONS
    inputs: tuple[str, ...] = SESSIONS_INPUTS
    app_id: str = ""
    http_port: int = field(default_factory=free_port)
    extra_env: dict[str, str] = field(default_factory=dict)
    extra_args: tuple[str, ...] = ()  # options of the module beside the group and the port
    process: subprocess.Popen[bytes] | None = None

    def __post_init__(self) -> None:
        self.app_id = self.app_id or f"test-{self.name}-{uuid.uuid4().hex[:10]}"

    @property
    def name(self) -> str:
        return self.module.rsplit(".", 1)[-1]

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
                for topic in self.inputs
                for p in range(SPECS[Topic(topic)].partitions)
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
        with self._log_path().open("ab") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    self.module,
                    f"--group={self.app_id}",
                    "--http-host=127.0.0.1",
                    f"--http-port={self.http_port}",
                    *self.extra_args,
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
        raise AssertionError(f"{self.name} worker not ready in {limit_s}s:\n{self.log()}")

    def kill(self, sig: signal.Signals = signal.SIGKILL) -> int:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.process.wait(timeout=30)

    def _log_path(self) -> Path:
        return self.workdir / f"{self.name}-{self.http_port}.log"

    def log(self) -> str:
        return self._log_path().read_text(errors="replace")[-4000:]


SessionsWorker = WorkerProcess  # the sessions worker is the default


def running_sessions(
    bootstrap: str,
    workdir: Path,
    app_id: str | None = None,
    *,
    skip_history: bool = True,
    **env: str,
) -> AbstractAsyncContextManager[WorkerProcess]:
    """A sessions worker until the block ends (see ``running_worker``)."""
    return running_worker(
        SESSIONS, SESSIONS_INPUTS, bootstrap, workdir, app_id, skip_history=skip_history, **env
    )


@asynccontextmanager
async def running_worker(
    module: str,
    inputs: tuple[str, ...],
    bootstrap: str,
    workdir: Path,
    app_id: str | None = None,
    *,
    skip_history: bool = True,
    **env: str,
) -> AsyncIterator[WorkerProcess]:
    """A worker of ``module`` reading ``inputs`` until the block ends; ``skip_history=False``
    for a second member of a group or a restart (committing offsets from outside fails while
    the group has members, and a restart resumes where it was)."""
    worker = WorkerProcess(bootstrap, workdir, module=module, inputs=inputs, extra_env=env)
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
