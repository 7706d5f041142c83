"""A faust worker counts into a table, is SIGKILLed; a new worker recovers it from the changelog."""

import asyncio
import json
import os
import signal
import subprocess
import sys
import uuid
from collections import Counter
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient

from contracts.codec import encode
from contracts.envelope import Envelope
from runtime.kafka import reliable_producer
from tests.conftest import NewTopicFactory

ROOT = Path(__file__).resolve().parents[2]
WORKER = [
    sys.executable,
    "-c",
    "from tests.integration.faust_counter import app; app.main()",
    "worker",
    "--loglevel",
    "warn",
    "--without-web",
]


class Worker:
    """One faust worker process running tests/integration/faust_counter.py."""

    def __init__(self, workdir: Path, env: dict[str, str]) -> None:
        workdir.mkdir()
        self.dump = Path(env["COUNTER_DUMP"])
        self.dump.unlink(missing_ok=True)
        self.log = workdir / "worker.log"
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                WORKER, cwd=workdir, env={**env, "PYTHONPATH": str(ROOT)}, stdout=log, stderr=log
            )

    async def wait_for(self, expected: dict[str, int], limit_s: float = 90) -> None:
        """Until the worker has recovered and its table holds exactly `expected`."""
        state: object = None
        try:
            async with asyncio.timeout(limit_s):
                while True:
                    assert self.process.poll() is None, self.log.read_text()[-3000:]
                    if self.dump.exists():
                        state = json.loads(self.dump.read_text())
                        if state == {"recovered": True, "counts": expected}:
                            return
                    await asyncio.sleep(0.1)
        except TimeoutError:
            raise AssertionError(f"table is {state}, expected {expected}") from None

    def kill(self, sig: signal.Signals) -> None:
        self.process.send_signal(sig)
        self.process.wait(timeout=30)


async def _produce(bootstrap: str, topic: str, keys: list[str]) -> None:
    producer = reliable_producer(bootstrap)
    await producer.start()
    try:
        for key in keys:
            envelope = Envelope(event_type="Counted", schema_version=1, key=key, payload={})
            await producer.send_and_wait(topic, encode(envelope), key=key.encode())
    finally:
        await producer.stop()


async def _wait_committed(admin: AIOKafkaAdminClient, group: str, topic: str, total: int) -> None:
    """Until the group's committed offsets cover every record (no replay after the kill)."""
    async with asyncio.timeout(30):
        while True:
            offsets = await admin.list_consumer_group_offsets(group)
            committed = sum(m.offset for tp, m in offsets.items() if tp.topic == topic)
            if committed == total:
                return
            await asyncio.sleep(0.1)


async def test_table_recovers_from_its_changelog_after_sigkill(
    kafka_bootstrap: str,
    kafka_admin: AIOKafkaAdminClient,
    new_topic: NewTopicFactory,
    tmp_path: Path,
) -> None:
    topic = await new_topic(partitions=8)
    app_id = f"test-counter-{uuid.uuid4().hex[:12]}"
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "COUNTER_APP_ID": app_id,
        "COUNTER_TOPIC": topic,
        "COUNTER_DUMP": str(tmp_path / "counts.json"),
        "COUNTER_PARTITIONS": "8",
    }
    keys = ["CS-A"] * 20 + ["CS-B"] * 12 + ["CS-C"] * 7
    expected = dict(Counter(keys))

    first = Worker(tmp_path / "first", env)
    try:
        await first.wait_for({})
        await _produce(kafka_bootstrap, topic, keys)
        await first.wait_for(expected)
        await _wait_committed(kafka_admin, app_id, topic, len(keys))
    finally:
        first.kill(signal.SIGKILL)
    assert first.process.returncode == -signal.SIGKILL

    second = Worker(tmp_path / "second", env)  # memory store: only the changelog can restore it
    try:
        await second.wait_for(expected)
        await _produce(kafka_bootstrap, topic, ["CS-A"] * 3)
        await second.wait_for({**expected, "CS-A": 23})
    finally:
        second.kill(signal.SIGTERM)
    changelog = f"{app_id}-counts-changelog"
    (described,) = await kafka_admin.describe_topics([changelog])
    assert len(described["partitions"]) == 8  # co-partitioned with the source topic
    await kafka_admin.delete_topics([changelog])
