"""The broker stops in the middle of charging sessions and starts again (a broker of its own).

While Kafka is away the gateway answers the stations' CALLs with InternalError (docs/gateway.md,
"Kafka away"), and they retry as stations do; the gateway and the sessions worker reconnect by
themselves; afterwards every transaction has exactly one SessionStarted and one SessionEnded.
"""

import asyncio
import os
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer
from ocpp.v16 import call as call16

from contracts.codec import decode
from contracts.envelope import Envelope
from contracts.events import EventType
from contracts.topics import Topic
from tests.e2e.test_sessions import Station, _define_token, _now, _station16
from tests.integration.test_kafka_script import _free_port_pair, _script
from tests.support.gateway import ROOT, running_gateway
from tests.support.sessions import running_sessions

STATIONS = 4


@pytest.fixture
def broker(tmp_path: Path, kafka_bootstrap: str) -> Iterator[tuple[str, int, Path]]:
    """A broker of its own, provisioned: (bootstrap, port, data dir)."""
    port, data_dir = _free_port_pair(), tmp_path / "kafka"
    started = _script("start", port=port, data_dir=data_dir)
    assert started.returncode == 0, started.stderr
    bootstrap = f"127.0.0.1:{port}"
    provisioned = subprocess.run(
        [sys.executable, "-m", "runtime", "provision"],
        env={**os.environ, "KAFKA_BOOTSTRAP_SERVERS": bootstrap},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert provisioned.returncode == 0, provisioned.stderr
    try:
        yield bootstrap, port, data_dir
    finally:
        _script("stop", port=port, data_dir=data_dir)


async def _read_all(bootstrap: str, topic: str) -> list[Envelope]:
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


async def test_a_broker_restart_mid_session_loses_and_doubles_nothing(
    broker: tuple[str, int, Path], tmp_path: Path
) -> None:
    bootstrap, port, data_dir = broker
    tag = f"TAG-{uuid.uuid4().hex[:8]}"
    await _define_token(bootstrap, tag)
    async with (
        running_gateway(bootstrap, tmp_path, "--security-profile=0") as gateway,
        running_sessions(bootstrap, tmp_path / "sessions"),
    ):
        stations = [
            await _station16(gateway, f"BR-{n}-{uuid.uuid4().hex[:6]}") for n in range(STATIONS)
        ]
        started: dict[str, int] = {}
        for station in stations:
            await station.call(call16.BootNotification("M", "V"))
            answer = await station.call(call16.StartTransaction(1, tag, 1000, _now()))
            started[station.cp.id] = answer.transaction_id

        stopped = await asyncio.to_thread(_script, "stop", port=port, data_dir=data_dir)
        assert stopped.returncode == 0, stopped.stderr

        async def finish(station: Station) -> None:
            tx = started[station.cp.id]
            meter = [{"timestamp": _now(30), "sampledValue": [{"value": "1500"}]}]
            # Station.call retries a CALLERROR or a timeout for up to 90 s, as stations do.
            await station.call(call16.MeterValues(1, meter, transaction_id=tx))
            await station.call(call16.StopTransaction(2000, _now(60), tx))

        finishing = [asyncio.create_task(finish(s)) for s in stations]
        await asyncio.sleep(8)  # the stations' CALLs meet a gateway without Kafka
        assert not any(task.done() for task in finishing)
        restarted = await asyncio.to_thread(_script, "start", port=port, data_dir=data_dir)
        assert restarted.returncode == 0, restarted.stderr
        await asyncio.gather(*finishing)  # every station got its answers, by retrying
        for station in stations:
            await station.close()

    events = await _read_all(bootstrap, Topic.SESSIONS)
    unique = {e.event_id: e for e in events}.values()  # consumers deduplicate on event id
    kinds = Counter((e.payload.get("transaction_id"), e.event_type) for e in unique)
    for transaction_id in started.values():
        assert kinds[(str(transaction_id), EventType.SESSION_STARTED)] == 1
        assert kinds[(str(transaction_id), EventType.SESSION_ENDED)] == 1
    ended = {
        e.payload["transaction_id"]: e for e in unique if e.event_type == EventType.SESSION_ENDED
    }
    assert {ended[str(tx)].payload["energy_wh"] for tx in started.values()} == {1000.0}
