"""The console's live feed over real HTTP: a change reaches a subscriber once per flush, a
subscriber that stops reading is let go with a resync (asyncio, aiohttp on 127.0.0.1)."""

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from contracts.payloads.stations import StationStatusChanged
from services.sessions.api import live
from services.sessions.api.core.live import Changes, RecentEvents, batch


async def _feed(
    changes: Changes, rendered: list[Changes]
) -> tuple[live.LiveFeed, TestClient[Any, Any]]:
    def render(changed: Changes) -> bytes:
        rendered.append(changed)
        return batch(("station", {"station_id": s}) for s in sorted(changed.stations))

    feed = live.LiveFeed(changes, render)
    app = web.Application()
    app.router.add_get("/events", feed.stream)
    client: TestClient[Any, Any] = TestClient(TestServer(app, host="127.0.0.1", port=0))
    await client.start_server()
    feed.start()
    return feed, client


async def _events(response: Any, count: int) -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    buffer = ""
    while len(found) < count:
        chunk = await asyncio.wait_for(response.content.readany(), 5)
        buffer += chunk.decode()
        while "\n\n" in buffer:
            block, buffer = buffer.split("\n\n", 1)
            lines = dict(
                line.split(": ", 1) for line in block.split("\n") if not line.startswith(":")
            )
            if lines:
                found.append((lines["event"], json.loads(lines["data"])))
    return found


async def test_a_burst_of_changes_reaches_a_subscriber_once() -> None:
    changes, rendered = Changes(), list[Changes]()
    feed, client = await _feed(changes, rendered)
    try:
        response = await client.get("/events")
        assert response.headers["Content-Type"] == "text/event-stream"
        assert (await _events(response, 1))[0][0] == "hello"
        for _ in range(1000):  # a thousand records about two stations within one flush
            changes.stations.update({"CS-1", "CS-2"})
        got = await _events(response, 2)
        assert got == [("station", {"station_id": "CS-1"}), ("station", {"station_id": "CS-2"})]
        assert len(rendered) == 1  # rendered once, for every subscriber
        assert feed.subscribers == 1
        response.close()
    finally:
        await feed.stop()
        await client.close()


async def test_a_subscriber_that_stops_reading_is_told_to_resync_and_let_go() -> None:
    changes = Changes()
    feed = live.LiveFeed(changes, lambda changed: b"event: station\ndata: {}\n\n")
    stuck: asyncio.Queue[bytes | None] = asyncio.Queue(maxsize=live.QUEUE + 2)
    while not stuck.full():  # a browser that stopped reading: its queue filled up
        stuck.put_nowait(b"old")
    feed._subscribers.add(stuck)
    feed.start()
    try:
        changes.stations.add("CS-9")
        for _ in range(50):
            await asyncio.sleep(0.05)
            if feed.subscribers == 0:
                break
        assert feed.subscribers == 0
        left = [stuck.get_nowait() for _ in range(stuck.qsize())]
        assert left == [b'event: resync\ndata: {"reason":"fell behind"}\n\n', None]
    finally:
        await feed.stop()


def test_recent_events_are_per_station_newest_first() -> None:
    recent = RecentEvents(size=3)
    at = datetime(2026, 11, 27, tzinfo=UTC)
    for n, station in enumerate(["A", "B", "A", "A"]):
        event = StationStatusChanged(
            station_id=station, evse_id=1, connector_id=1, status=f"S{n}", error_code=None, at=at
        )
        recent.note(station, event.event().envelope(occurred_at=at))
    assert [e["detail"]["status"] for e in recent.of("A", 10)] == ["S3", "S2"]  # S0 fell out
    assert recent.of("B", 10)[0]["event_type"] == "StationStatusChanged"


async def test_a_stream_whose_key_was_revoked_is_told_so_and_ends() -> None:
    changes = Changes()
    allowed = [True]
    feed = live.LiveFeed(
        changes, lambda changed: b"event: station\ndata: {}\n\n", lambda _: allowed[0]
    )
    app = web.Application()
    app.router.add_get("/events", feed.stream)
    client: TestClient[Any, Any] = TestClient(TestServer(app, host="127.0.0.1", port=0))
    await client.start_server()
    feed.start()
    try:
        response = await client.get("/events")
        await _events(response, 1)  # hello
        changes.stations.add("CS-1")
        assert (await _events(response, 1))[0][0] == "station"
        allowed[0] = False  # revoked on api.keys.v1
        changes.stations.add("CS-1")
        assert await _events(response, 1) == [("revoked", {})]
        assert await asyncio.wait_for(response.content.read(), 5) == b""  # the stream ended
        assert feed.subscribers == 0
    finally:
        await feed.stop()
        await client.close()
