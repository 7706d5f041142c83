"""The console's live feed: server-sent events of what the read models changed (I/O: asyncio).

Every ``FLUSH_S`` the feed drains the marks of the read models (core/live.py ``Changes``),
renders each changed station, session and station's alerts once, and hands the bytes to every
subscriber's queue. A subscriber whose queue is full (a browser that stopped reading) gets a
``resync`` event and is let go: the page reloads what it shows and subscribes again. A comment
every ``KEEPALIVE_S`` keeps proxies from closing an idle stream. Before each write the key is
looked at again: a stream whose key was revoked gets ``revoked`` and ends.
"""

import asyncio
import contextlib
import logging
from collections.abc import Callable

from aiohttp import web

from services.sessions.api.core.live import FLUSH_S, Changes, server_sent

log = logging.getLogger("sessions.api")

KEEPALIVE_S = 15.0
QUEUE = 64  # flushes a subscriber may fall behind before it is let go
Render = Callable[[Changes], bytes]
Authorized = Callable[[web.Request], bool]


class LiveFeed:
    def __init__(
        self, changes: Changes, render: Render, authorized: Authorized = lambda _: True
    ) -> None:
        self._changes, self._render, self._authorized = changes, render, authorized
        self._subscribers: set[asyncio.Queue[bytes | None]] = set()
        self._task: asyncio.Task[None] | None = None

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    def start(self) -> None:
        self._task = asyncio.create_task(self._flush_every())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for queue in self._subscribers:
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(None)

    async def _flush_every(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_S)
            changed = self._changes.drain()
            if not changed or not self._subscribers:
                continue
            try:
                message = self._render(changed)
            except Exception:  # the loop's one broad except: one bad document, not the feed
                log.exception("rendering the live feed failed; its consoles resync")
                message = server_sent("resync", {"reason": "an update could not be rendered"})
            for queue in list(self._subscribers):
                try:
                    queue.put_nowait(message)
                except asyncio.QueueFull:
                    self._subscribers.discard(queue)
                    while not queue.empty():  # what it did not read is stale: it reloads
                        queue.get_nowait()
                    queue.put_nowait(server_sent("resync", {"reason": "fell behind"}))
                    queue.put_nowait(None)

    async def stream(self, request: web.Request) -> web.StreamResponse:
        """GET /events: the feed as text/event-stream, until the client goes away."""
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream",
                "Cache-Control": "no-cache",
                "X-Accel-Buffering": "no",  # nginx: do not buffer the stream
            }
        )
        await response.prepare(request)
        queue: asyncio.Queue[bytes | None] = asyncio.Queue(maxsize=QUEUE + 2)
        self._subscribers.add(queue)
        try:
            await response.write(server_sent("hello", {"flush_s": FLUSH_S}))
            while True:
                try:
                    message = await asyncio.wait_for(queue.get(), KEEPALIVE_S)
                except TimeoutError:
                    message = b": keep-alive\n\n"
                if message is None:
                    break
                if not self._authorized(request):  # the key was revoked while it listened
                    await response.write(server_sent("revoked", {}))
                    break
                await response.write(message)
        except ConnectionResetError:
            pass  # the browser went away
        finally:
            self._subscribers.discard(queue)
        return response
