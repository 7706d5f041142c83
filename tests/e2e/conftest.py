"""Fixtures of the end-to-end tests."""

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.support.broker import OwnBroker, own_broker
from tests.support.gateway import GatewayProcess, running_gateway
from tests.support.sessions import SessionsWorker, running_sessions


@pytest.fixture
def broker(tmp_path: Path, kafka_bootstrap: str) -> Iterator[OwnBroker]:
    """A broker of the test's own, provisioned, that the test may stop and start."""
    with own_broker(tmp_path) as started:
        yield started


@pytest.fixture
async def gateway(kafka_bootstrap: str, tmp_path: Path) -> AsyncIterator[GatewayProcess]:
    """A gateway process of the test's own (security profile 0); a module may define its own."""
    async with running_gateway(
        kafka_bootstrap, tmp_path, "--security-profile=0", "--answer-timeout=4"
    ) as process:
        yield process


@pytest.fixture
async def sessions(kafka_bootstrap: str, tmp_path: Path) -> AsyncIterator[SessionsWorker]:
    """A sessions worker process with a group of its own."""
    async with running_sessions(kafka_bootstrap, tmp_path / "sessions") as worker:
        yield worker
