"""gateway/keepalive.py against websockets' own keepalive: the same Pings at the same times, the
same failure without a Pong, for every connection from one task (real sockets on 127.0.0.1)."""

import asyncio
import gc
import weakref
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.server import ServerConnection, serve
from websockets.frames import Close, Frame, Opcode
from websockets.protocol import Event
from websockets.typing import Subprotocol

from gateway.keepalive import Keepalive
from tests.support.gateway import RecordingPublisher, serving

INTERVAL = 0.2
CLOSE_TIMEOUT = 0.3  # how long a failed connection waits for the peer to close TCP


class Client(ClientConnection):
    """A client that notes when each Ping arrived (it answers them, as every client does)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.pings: list[float] = []

    def process_event(self, event: Event) -> None:
        if isinstance(event, Frame) and event.opcode is Opcode.PING:
            self.pings.append(self.loop.time())
        super().process_event(event)


@dataclass
class Side:
    """The server's side of each connection, and when it was opened and closed."""

    connections: list[ServerConnection] = field(default_factory=list)
    opened: list[float] = field(default_factory=list)
    closed: list[float] = field(default_factory=list)


@asynccontextmanager
async def server(
    ours: bool, pong_timeout: float | None = INTERVAL
) -> AsyncIterator[tuple[str, Side]]:
    """A server pinging every INTERVAL with websockets' keepalive, or with ours."""
    side = Side()
    tasks: set[asyncio.Task[None]] = set()

    def spawn(coroutine: Any) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    keepalive = Keepalive(INTERVAL, pong_timeout, spawn) if ours else None

    async def handler(ws: ServerConnection) -> None:
        if keepalive is not None:
            keepalive.add(ws)
        side.connections.append(ws)
        side.opened.append(ws.loop.time())
        await ws.wait_closed()
        side.closed.append(ws.loop.time())

    async with serve(
        handler,
        "127.0.0.1",
        0,
        ping_interval=None if ours else INTERVAL,
        ping_timeout=None if ours else pong_timeout,
        close_timeout=CLOSE_TIMEOUT,
    ) as running:
        port = running.sockets[0].getsockname()[1]
        pinging = asyncio.create_task(keepalive.run()) if keepalive is not None else None
        try:
            yield f"ws://127.0.0.1:{port}/", side
        finally:
            if pinging is not None:
                pinging.cancel()
    if tasks:
        await asyncio.wait(tasks, timeout=2)


def _client(url: str) -> Any:
    return connect(url, create_connection=Client, ping_interval=None)


async def _pings(ours: bool, pong_timeout: float | None) -> list[list[float]]:
    """For three connections opened 30 ms apart, the Pings' times after each one opened."""
    async with server(ours, pong_timeout) as (url, side), _client(url) as a:
        await asyncio.sleep(0.03)
        async with _client(url) as b:
            await asyncio.sleep(0.03)
            async with _client(url) as c:
                await asyncio.sleep(3.25 * INTERVAL)  # c: 0.65 s, a: 0.71 s
                clients: list[Client] = [a, b, c]
                return [
                    [t - opened for t in client.pings]
                    for client, opened in zip(clients, side.opened, strict=True)
                ]


@pytest.mark.parametrize("pong_timeout", [INTERVAL, None])
async def test_pings_come_every_interval_from_the_handshake_as_with_websockets(
    pong_timeout: float | None,
) -> None:
    for pings in await _pings(False, pong_timeout), await _pings(True, pong_timeout):
        for offsets in pings:  # websockets' first, then ours: the same
            assert offsets == pytest.approx([0.2, 0.4, 0.6], abs=0.03)


async def _unanswered(ours: bool) -> tuple[Close | None, int | None, float, Close | None]:
    """A client that stops reading: what the server sent, its close code, after how long, and
    what the client got."""
    async with server(ours) as (url, side), _client(url) as client:
        assert client.transport is not None
        client.transport.pause_reading()  # never sees the Ping, never answers
        await asyncio.sleep(0.05)
        (ws,) = side.connections
        await asyncio.wait_for(ws.wait_closed(), 5)
        after = round(side.closed[0] - side.opened[0], 1)
        client.transport.resume_reading()
        await asyncio.wait_for(client.wait_closed(), 5)
        return ws.protocol.close_sent, ws.close_code, after, client.protocol.close_rcvd


async def test_a_connection_without_a_pong_fails_as_with_websockets() -> None:
    theirs, ours = await _unanswered(False), await _unanswered(True)
    assert ours == theirs
    # Ping after an interval, no Pong within the timeout, the peer's close awaited (it reads
    # nothing), then the TCP connection is dropped: 0.2 + 0.2 + 0.3 s.
    failed = Close(1011, "keepalive ping timeout")
    assert ours == (failed, 1006, 0.7, failed)


async def test_a_closed_connection_is_not_kept_by_the_keepalive() -> None:
    async with server(True) as (url, side):
        async with _client(url):
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.05)
        gone: Callable[[], ServerConnection | None] = weakref.ref(side.connections.pop())
        gc.collect()
        assert gone() is None  # freed, though its next Ping was still due


@asynccontextmanager
async def _gateway(ping_interval_s: float | None) -> AsyncIterator[Callable[[str], Any]]:
    """A gateway in process; yields a function that connects a 1.6 station to it (a Client,
    without its own keepalive task)."""
    publisher = RecordingPublisher()
    async with serving(publisher, instance=5, ping_interval_s=ping_interval_s) as (_, url):

        def station(station_id: str) -> Any:
            return connect(
                f"{url}/{station_id}",
                subprotocols=[Subprotocol("ocpp1.6")],
                create_connection=Client,
                ping_interval=None,
            )

        yield station


def _tasks() -> list[str]:
    return [getattr(t.get_coro(), "__qualname__", "") for t in asyncio.all_tasks()]


async def test_the_gateway_pings_its_stations_from_one_task() -> None:
    async with (
        _gateway(0.2) as station,
        station("CS-1") as a,
        station("CS-2") as b,
        station("CS-3") as c,
    ):
        await asyncio.sleep(0.5)
        tasks = _tasks()
        assert tasks.count("Keepalive.run") == 1
        assert tasks.count("Connection.keepalive") == 0  # websockets' task per connection
        assert tasks.count("serve.<locals>.protocol_handler") == 3  # one task a station
        assert [len(client.pings) for client in (a, b, c)] == [2, 2, 2]
    assert "Keepalive.run" not in _tasks()  # drain() stopped it


async def test_no_pings_when_the_interval_is_off() -> None:
    async with _gateway(None) as station, station("CS-1") as client:
        await asyncio.sleep(0.3)
        assert "Keepalive.run" not in _tasks()
        assert client.pings == []
