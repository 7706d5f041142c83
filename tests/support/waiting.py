"""Waiting in tests for something that becomes true later (presence, a view, a process)."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def eventually(check: Callable[[], bool], what: str, limit_s: float = 20) -> float:
    """Seconds until ``check()`` held; fails the test if it does not within ``limit_s``."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    while not check():
        assert loop.time() - started < limit_s, f"not within {limit_s}s: {what}"
        await asyncio.sleep(0.05)
    return loop.time() - started


async def found(
    get: Callable[[], Awaitable[T | None]], what: str, limit_s: float = 30, every_s: float = 0.2
) -> T:
    """The first thing ``get()`` gives that is not None or empty (an API polled until it shows
    something); fails the test if none comes within ``limit_s``."""
    loop = asyncio.get_running_loop()
    until = loop.time() + limit_s
    while not (value := await get()):
        assert loop.time() < until, f"not within {limit_s}s: {what}"
        await asyncio.sleep(every_s)
    return value
