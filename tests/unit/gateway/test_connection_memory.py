"""What an idle station connection keeps (issue 14): its link and websockets' own state, not the
upgrade's headers nor what the gateway wrote when it connected (in-process, no Kafka); and what
a closed one leaves: nothing that only the garbage collector can free.

Measured with tracemalloc at 2,000 idle stations, the headers held 4.5 kB per connection and the
StationConnected record with its log context 0.6 kB; these tests keep them from coming back.
"""

import asyncio
import gc
import json
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from contracts.events import EventType
from contracts.topics import Topic
from gateway.link import StationLink
from gateway.server import Gateway
from ocppj.session import Session
from tests.support.gateway import RecordingPublisher, serving


@dataclass
class Running:
    gateway: Gateway
    publisher: RecordingPublisher
    url: str


@pytest.fixture
async def running() -> AsyncIterator[Running]:
    publisher = RecordingPublisher()
    async with serving(publisher, instance=5) as (gateway, url):
        yield Running(gateway, publisher, url)


async def _held(running: Running, station_id: str) -> StationLink:
    """The station's link, once the gateway wrote its StationConnected."""
    await running.publisher.wait_count(Topic.PRESENCE, station_id, 1)
    link = running.gateway.links.get(station_id)
    assert link is not None
    return link


def _handler_tasks(ws: ServerConnection) -> list[asyncio.Task[Any]]:
    """The tasks whose coroutine chain runs the gateway's handler for ``ws``."""
    found = []
    for task in asyncio.all_tasks():
        coroutine: Any = task.get_coro()
        while coroutine is not None:
            frame = getattr(coroutine, "cr_frame", None)
            if frame is not None and frame.f_locals.get("ws") is ws:
                found.append(task)
                break
            coroutine = getattr(coroutine, "cr_await", None)
    return found


async def test_the_handshake_headers_are_not_kept_once_the_station_is_held(
    running: Running,
) -> None:
    station_id = f"CS-{uuid.uuid4().hex[:10]}"
    async with connect(
        f"{running.url}/{station_id}",
        subprotocols=[Subprotocol("ocpp1.6")],
        additional_headers={"X-Padding": "x" * 2000},
    ) as ws:
        link = await _held(running, station_id)
        assert link.ws.request is not None
        assert link.ws.request.path == f"/ocpp/{station_id}"  # kept: a handshake happened
        assert len(link.ws.request.headers) == 0
        assert link.ws.response is None
        # The connection works as before: a CALL is answered, a ping gets its pong.
        await ws.send(json.dumps([2, "h-1", "Heartbeat", {}]))
        answer = json.loads(await ws.recv())
        assert answer[:2] == [3, "h-1"]
        assert "currentTime" in answer[2]
        await asyncio.wait_for(await link.ws.ping(), 5)
    await running.publisher.wait_count(Topic.PRESENCE, station_id, 2)
    presence = [r.envelope.event_type for r in running.publisher.on(Topic.PRESENCE, station_id)]
    assert presence == [EventType.STATION_CONNECTED, EventType.STATION_DISCONNECTED]


async def test_the_reading_frame_holds_the_link_and_no_record_of_the_connect(
    running: Running,
) -> None:
    station_id = f"CS-{uuid.uuid4().hex[:10]}"
    async with connect(f"{running.url}/{station_id}", subprotocols=[Subprotocol("ocpp1.6")]):
        link = await _held(running, station_id)
        await asyncio.sleep(0.05)  # the handler is back in its read loop
        (task,) = _handler_tasks(link.ws)
        coroutine: Any = task.get_coro()
        gateway_frames, awaited = [], []
        while coroutine is not None:
            awaited.append(type(coroutine).__name__)
            frame = getattr(coroutine, "cr_frame", None)
            if frame is not None and frame.f_code.co_filename.endswith("gateway/server.py"):
                gateway_frames.append(frame)
            coroutine = getattr(coroutine, "cr_await", None)
        # recv() awaited directly: no async generator (`async for`) held as well.
        assert "async_generator_asend" not in awaited, awaited
        # One frame of ours while idle (handle()), holding the link, not the StationConnected
        # record, the log context or the handshake.
        (frame,) = gateway_frames
        assert frame.f_code.co_name == "handle"
        held = {type(value).__name__ for value in frame.f_locals.values()}
        assert "StationLink" in held
        assert not held & {"Connected", "Envelope", "dict", "Headers", "Request", "Response"}


async def test_a_station_without_a_common_subprotocol_is_still_closed_with_1002(
    running: Running,
) -> None:
    station_id = f"CS-{uuid.uuid4().hex[:10]}"
    async with connect(f"{running.url}/{station_id}", subprotocols=[Subprotocol("ocpp0.9")]) as ws:
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 5)
        assert ws.close_code == 1002
    assert running.gateway.links.get(station_id) is None
    assert running.publisher.on(Topic.PRESENCE, station_id) == []


@contextmanager
def _cyclic_garbage() -> Iterator[Counter[str]]:
    """Counts by type what became garbage inside the block that only a collection frees (the
    collector is off meanwhile, so nothing is freed behind the count's back)."""
    found: Counter[str] = Counter()
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield found
        gc.set_debug(gc.DEBUG_SAVEALL)
        gc.collect()
        found.update(type(o).__qualname__ for o in gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.collect()
        if was_enabled:
            gc.enable()


async def test_a_closed_connection_is_freed_by_reference_counting(running: Running) -> None:
    """websockets bound our subprotocol selector into a cycle through the connection, so every
    closed connection (30 objects and its buffers) waited for a collection: in a reconnect storm
    the survivors of 20 young collections, a million objects, were walked in one 1.2 s pause."""
    with _cyclic_garbage() as garbage:
        for n in range(10):
            station_id = f"CS-{uuid.uuid4().hex[:10]}"
            async with connect(
                f"{running.url}/{station_id}", subprotocols=[Subprotocol("ocpp1.6")]
            ) as ws:
                await ws.send(json.dumps([2, f"h-{n}", "Heartbeat", {}]))
                assert json.loads(await ws.recv())[:2] == [3, f"h-{n}"]
            await running.publisher.wait_count(Topic.PRESENCE, station_id, 2)
        refused = f"CS-{uuid.uuid4().hex[:10]}"  # closed by the gateway: no common version
        async with connect(f"{running.url}/{refused}", subprotocols=[Subprotocol("ocpp0.9")]) as ws:
            with pytest.raises(ConnectionClosed):
                await asyncio.wait_for(ws.recv(), 5)
        await asyncio.sleep(0.2)  # the server side's handlers end
    kept = {
        kind: garbage[kind]
        for kind in (ServerConnection.__qualname__, StationLink.__qualname__, Session.__qualname__)
        if garbage[kind]
    }
    assert kept == {}, f"closed connections left in cycles: {kept}"
