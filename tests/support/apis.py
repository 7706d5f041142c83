"""An API of the project served in process with a client that holds an operator key (tests)."""

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Protocol

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client import CollectorRegistry

from contracts.payloads.api_keys import KeyRing, Role
from runtime.api_keys import issue_key
from services.sessions.api.app import SessionsApi
from services.sessions.api.http import build_app
from services.sessions.api.settings import Settings
from tests.support.waiting import eventually

Client = TestClient[Any, Any]


class Served(Protocol):
    """What the project's API services have in common."""

    keys: KeyRing

    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    def readiness(self) -> tuple[bool, str]: ...


@asynccontextmanager
async def serving(
    service: Served, build_app: Callable[[Any], web.Application], bootstrap: str, name: str
) -> AsyncIterator[Client]:
    """``service`` started and ready, its app served on 127.0.0.1, and a client with a new
    operator key (named ``name-<random>``) the service has read; stopped when the block ends."""
    await service.start()
    try:
        await eventually(lambda: service.readiness()[0], f"the {name} API is ready", 30)
        key = await issue_key(bootstrap, f"{name}-{uuid.uuid4().hex[:8]}", Role.OPERATOR)
        await eventually(lambda: service.keys.authenticate(key) is not None, "the key is known")
        server = TestServer(build_app(service), host="127.0.0.1", port=0)
        async with TestClient(server, headers={"Authorization": f"Bearer {key}"}) as client:
            yield client
    finally:
        await service.stop()


def sessions_api(bootstrap: str, name: str) -> SessionsApi:
    """A sessions API (not started) whose commands.v1 group is its own, from the end of the
    topic: it routes only the commands written while the test runs."""
    settings = Settings(
        bootstrap_servers=bootstrap,
        commands_group=f"test-{name}-{uuid.uuid4().hex[:8]}",
        commands_offset_reset="latest",
        connect_timeout_s=10,
    )
    return SessionsApi(settings, CollectorRegistry())


def serving_sessions_api(bootstrap: str, name: str) -> AbstractAsyncContextManager[Client]:
    """``sessions_api`` started and served, with a client that holds an operator key."""
    return serving(sessions_api(bootstrap, name), build_app, bootstrap, name)


@asynccontextmanager
async def sessions_api_on_a_port(bootstrap: str, name: str) -> AsyncIterator[tuple[str, str]]:
    """``sessions_api`` started and served on a real port of 127.0.0.1 (for a browser or a
    subprocess): (its base URL, an operator key it has read)."""
    service = sessions_api(bootstrap, name)
    await service.start()
    server = TestServer(build_app(service), host="127.0.0.1", port=0)
    try:
        await eventually(lambda: service.readiness()[0], f"the {name} API is ready", 30)
        key = await issue_key(bootstrap, f"{name}-{uuid.uuid4().hex[:8]}", Role.OPERATOR)
        await eventually(lambda: service.keys.authenticate(key) is not None, "the key is known")
        await server.start_server()
        yield str(server.make_url("")).rstrip("/"), key
    finally:
        await server.close()
        await service.stop()
