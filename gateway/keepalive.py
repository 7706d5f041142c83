"""Keepalive Pings for every station socket from one task (I/O).

websockets' own keepalive is a task per connection (``Connection.keepalive``): it sleeps
``ping_interval``, sends a Ping, waits up to ``ping_timeout`` for its Pong and fails the
connection with 1011 "keepalive ping timeout" when none came, then sleeps ``ping_interval``
less the round trip. Measured with tracemalloc at 2,000 idle stations, that task with its sleeping
coroutines, its timer and its futures held 2.0 kB of every connection, the second task of each.

``Keepalive`` does the same from one task for all of them: a heap of (due time, connection)
entries (0.2 kB a connection, by weak reference, so a closed connection is freed at once), and a
short task per Ping that lives while its Pong is awaited. A connection is pinged
``interval`` after its handshake and then ``interval`` after each Ping was sent, once its Pong
came back, as websockets does; a connection that is no longer open is dropped from the heap.
"""

import asyncio
import contextlib
import heapq
import itertools
import weakref
from collections.abc import Callable, Coroutine
from typing import Any

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed
from websockets.frames import CloseCode
from websockets.protocol import State


class Keepalive:
    """Pings every connection given to ``add`` every ``interval`` seconds; one without a Pong
    within ``timeout`` (None: never) is failed as websockets fails it. ``spawn`` runs a
    coroutine in a task the caller keeps track of."""

    def __init__(
        self,
        interval: float,
        timeout: float | None,
        spawn: Callable[[Coroutine[Any, Any, None]], None],
    ) -> None:
        self.interval = interval
        self.timeout = timeout
        self._spawn = spawn
        self._due: list[tuple[float, int, weakref.ref[ServerConnection]]] = []  # a heap
        self._order = itertools.count()  # equal due times keep their order
        self._earlier = asyncio.Event()  # a new entry came before the one waited for

    def add(self, ws: ServerConnection) -> None:
        """Ping ``ws`` from now on, the first time ``interval`` from now."""
        self._schedule(ws, asyncio.get_running_loop().time() + self.interval)

    def _schedule(self, ws: ServerConnection, at: float) -> None:
        entry = (at, next(self._order), weakref.ref(ws))
        heapq.heappush(self._due, entry)
        if self._due[0] is entry:
            self._earlier.set()

    async def run(self) -> None:
        """Ping each connection when it is due, until cancelled."""
        loop = asyncio.get_running_loop()
        while True:
            now = loop.time()
            while self._due and self._due[0][0] <= now:
                ws = heapq.heappop(self._due)[2]()
                if ws is not None and ws.state is State.OPEN:
                    self._spawn(self._ping(ws))
            self._earlier.clear()
            delay = self._due[0][0] - now if self._due else None
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    await self._earlier.wait()

    async def _ping(self, ws: ServerConnection) -> None:
        """One Ping and its Pong, as one turn of websockets' ``Connection.keepalive``."""
        loop = asyncio.get_running_loop()
        try:
            sent = loop.time()  # the Ping's own time stamp: ping() does not wait before it
            pong = await ws.ping()
            if ws.debug:  # websockets' debug lines, word for word
                ws.logger.debug("% sent keepalive ping")
            if self.timeout is None:
                sent = loop.time()  # websockets then sleeps a whole interval from here
            else:
                try:
                    async with asyncio.timeout(self.timeout):
                        await pong  # websockets then sleeps the interval less the round trip
                    if ws.debug:
                        ws.logger.debug("% received keepalive pong")
                except TimeoutError:
                    if ws.debug:
                        ws.logger.debug("- timed out waiting for keepalive pong")
                    # As websockets does: a Close frame 1011 and the TCP connection closed,
                    # without waiting for the station's Close.
                    async with ws.send_context():
                        ws.protocol.fail(CloseCode.INTERNAL_ERROR, "keepalive ping timeout")
                    return
        except ConnectionClosed:
            return  # it ended meanwhile
        except Exception:
            ws.logger.exception("keepalive ping failed")
            return
        self._schedule(ws, sent + self.interval)
