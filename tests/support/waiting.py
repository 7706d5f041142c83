"""Waiting in tests for something that becomes true later (presence, a view, a process)."""

import asyncio
from collections.abc import Callable


async def eventually(check: Callable[[], bool], what: str, limit_s: float = 20) -> float:
    """Seconds until ``check()`` held; fails the test if it does not within ``limit_s``."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    while not check():
        assert loop.time() - started < limit_s, f"not within {limit_s}s: {what}"
        await asyncio.sleep(0.05)
    return loop.time() - started
