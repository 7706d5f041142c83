"""Presence across two real gateways, a sessions worker and the API: moves, a SIGKILL, returns."""

import asyncio
import signal
import time
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest_asyncio
from prometheus_client import CollectorRegistry
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from contracts.events import EventType
from contracts.topics import Topic
from services.sessions.api.app import SessionsApi
from services.sessions.api.settings import Settings
from tests.support.gateway import GatewayProcess, TopicTail, running_gateway
from tests.support.sessions import running_sessions
from tests.support.waiting import eventually

V16 = [Subprotocol("ocpp1.6")]
# Short for the test; production defaults are 5 s and 15 s (docs/gateway.md).
FAST_LEASE = ("--security-profile=0", "--heartbeat-interval=1", "--lease=3")
STATIONS = 10


@pytest_asyncio.fixture
async def api(kafka_bootstrap: str) -> AsyncIterator[SessionsApi]:
    settings = Settings(
        bootstrap_servers=kafka_bootstrap,
        commands_group=f"test-presence-api-{uuid.uuid4().hex[:8]}",
        commands_offset_reset="latest",
        connect_timeout_s=10,
    )
    service = SessionsApi(settings, CollectorRegistry())
    try:
        await service.start()
        await eventually(lambda: service.readiness()[0], "the API is ready", 30)
        yield service
    finally:
        await service.stop()


async def _connect(gateway: GatewayProcess, station_id: str) -> ClientConnection:
    return await connect(f"{gateway.url}/{station_id}", subprotocols=V16)


async def test_stations_move_and_a_killed_gateways_stations_go_offline(
    kafka_bootstrap: str, tmp_path: Path, api: SessionsApi
) -> None:
    ids = [f"PRS-{uuid.uuid4().hex[:8]}-{n}" for n in range(STATIONS)]
    moved, stayed = ids[:3], ids[3:]
    async with (
        running_sessions(kafka_bootstrap, tmp_path / "sessions"),
        running_gateway(kafka_bootstrap, tmp_path, *FAST_LEASE) as zero,
        running_gateway(kafka_bootstrap, tmp_path, *FAST_LEASE) as one,
        TopicTail(kafka_bootstrap, Topic.STATIONS) as stations,
    ):
        at_one = {station_id: await _connect(one, station_id) for station_id in ids}

        def held_by(gateway: GatewayProcess, station_ids: list[str]) -> Callable[[], bool]:
            def check() -> bool:
                entries = [api.presence.get(s) for s in station_ids]
                return all(
                    e is not None and e.gateway == gateway.instance and api.presence.online(s)
                    for s, e in zip(station_ids, entries, strict=True)
                )

            return check

        await eventually(held_by(one, ids), "every station online at gateway one")

        # Three stations connect again, to gateway zero, while gateway one still holds them:
        # gateway one closes the old sockets (one connection per station).
        at_zero = {station_id: await _connect(zero, station_id) for station_id in moved}
        for station_id in moved:
            old = at_one.pop(station_id)
            await asyncio.wait_for(old.wait_closed(), 10)
            assert (old.close_code, old.close_reason) == (1000, "replaced by a newer connection")
        await eventually(held_by(zero, moved), "the moved stations at gateway zero")
        assert all(api.presence.online(s) for s in ids)

        # Gateway one dies without a word: its stations go offline within the lease bound,
        # in the API and on stations.v1 (the worker judges from gateway zero's heartbeats).
        assert one.process is not None
        one.process.send_signal(signal.SIGKILL)
        one.process.wait(timeout=10)
        killed = time.monotonic()
        offline_s = await eventually(
            lambda: not any(api.presence.online(s) for s in stayed), "offline in the API", 15
        )
        assert offline_s < 3 + 1 + 1  # lease + heartbeat + slack
        reasons: dict[str, str] = {}
        while set(reasons) != set(stayed):
            received = await stations.next(
                lambda e: e.key in stayed and e.event_type == EventType.STATION_OFFLINE, 20
            )
            reasons[received.envelope.key] = str(received.envelope.payload.get("reason"))
        assert time.monotonic() - killed < 15
        assert all(f"gateway {one.instance} lease ran out" in r for r in reasons.values())
        assert all(api.presence.online(s) for s in moved)  # the moved ones stay online

        # They come back, to gateway zero.
        for station_id in stayed:
            at_zero[station_id] = await _connect(zero, station_id)
        await eventually(held_by(zero, ids), "every station online at gateway zero")
        back: set[str] = set()
        while back != set(stayed):
            received = await stations.next(
                lambda e: e.key in stayed and e.event_type == EventType.STATION_ONLINE, 20
            )
            back.add(received.envelope.key)
        for ws in [*at_one.values(), *at_zero.values()]:
            await ws.close()
