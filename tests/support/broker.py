"""A broker of a test's own (deploy/local/kafka.sh on free ports), for tests that stop it."""

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from aiokafka import AIOKafkaConsumer

from contracts.codec import decode
from contracts.envelope import Envelope
from tests.integration.test_kafka_script import _free_port_pair, _script
from tests.support.gateway import ROOT


@dataclass(frozen=True)
class OwnBroker:
    bootstrap: str
    port: int
    data_dir: Path

    def stop(self) -> None:
        stopped = _script("stop", port=self.port, data_dir=self.data_dir)
        assert stopped.returncode == 0, stopped.stderr

    def start(self) -> None:
        started = _script("start", port=self.port, data_dir=self.data_dir)
        assert started.returncode == 0, started.stderr


@contextmanager
def own_broker(tmp_path: Path) -> Iterator[OwnBroker]:
    """Started and provisioned; stopped at the end."""
    broker = OwnBroker(f"127.0.0.1:{(port := _free_port_pair())}", port, tmp_path / "kafka")
    broker.start()
    try:
        provisioned = subprocess.run(
            [sys.executable, "-m", "runtime", "provision"],
            env={**os.environ, "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap},
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert provisioned.returncode == 0, provisioned.stderr
        yield broker
    finally:
        _script("stop", port=broker.port, data_dir=broker.data_dir)


async def read_all(bootstrap: str, topic: str) -> list[Envelope]:
    """Every record of ``topic`` from the beginning, decoded (tombstones left out)."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    try:
        found: list[Envelope] = []
        while True:
            batch = await consumer.getmany(timeout_ms=2000)
            if not batch:
                return found
            for records in batch.values():
                found += [decode(r.value) for r in records if r.value is not None]
    finally:
        await consumer.stop()
