"""The gateway's listen backlog holds a burst of connections while it is busy (issue 14).

With Python's default backlog of 100, a reconnect storm overflowed the accept queue: the kernel
dropped SYNs and the stations retried them 1, 3, 7 s later. Here the gateway's event loop is
kept busy while 400 clients connect; the kernel must complete them all (in-process, no Kafka).
"""

import asyncio
import socket
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from gateway.server import Gateway
from gateway.settings import Settings, parse
from tests.support.gateway import RecordingPublisher

CLIENTS = 400


def _connect(port: int) -> bool:
    """Whether a TCP connection completes within 0.5 s (a dropped SYN is retried after 1 s)."""
    with socket.socket() as client:
        client.settimeout(0.5)
        try:
            client.connect(("127.0.0.1", port))
        except OSError:
            return False
        return True


async def _completed_while_busy(backlog: int) -> int:
    settings = Settings(host="127.0.0.1", port=0, security_profile=0, listen_backlog=backlog)
    gateway = Gateway(settings, RecordingPublisher(), None)
    server = await gateway.serve()
    port = server.sockets[0].getsockname()[1]
    try:
        with ThreadPoolExecutor(max_workers=64) as pool:
            connecting = [pool.submit(_connect, port) for _ in range(CLIENTS)]
            time.sleep(1.5)  # noqa: ASYNC251  the event loop busy: nothing is accepted meanwhile
            return sum(future.result() for future in connecting)
    finally:
        server.close()
        await asyncio.sleep(0)


def test_the_default_backlog_and_its_option() -> None:
    assert Settings().listen_backlog == 4096
    assert parse(["--listen-backlog", "512"], {}).listen_backlog == 512


async def test_a_burst_of_connections_waits_in_the_backlog_while_the_gateway_is_busy() -> None:
    assert await _completed_while_busy(4096) == CLIENTS


@pytest.mark.parametrize("backlog", [50])
async def test_a_small_backlog_drops_the_rest_which_is_what_the_default_prevents(
    backlog: int,
) -> None:
    completed = await _completed_while_busy(backlog)
    assert completed < CLIENTS / 2  # the kernel completes about backlog + 1, drops the others
