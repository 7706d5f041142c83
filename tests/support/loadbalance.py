"""A real load balancing worker process (`python -m services.loadbalance`) for tests."""

import signal
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer
from prometheus_client import CollectorRegistry

from contracts.payloads.api_keys import Role
from runtime.api_keys import issue_key
from services.loadbalance.api.app import LoadbalanceApi
from services.loadbalance.api.http import build_app
from services.loadbalance.api.settings import Settings
from services.loadbalance.app import ROUTED, ROUTER, SOURCES
from tests.support.sessions import WorkerProcess
from tests.support.waiting import eventually

Client = TestClient[Any, Any]

LOADBALANCE = "services.loadbalance"


@asynccontextmanager
async def running_loadbalance(bootstrap: str, workdir: Path) -> AsyncIterator[WorkerProcess]:
    """A load balancing worker with groups of its own (the balancer's and its router's), both
    starting at the end of their inputs; stopped with SIGTERM when the block ends."""
    worker = WorkerProcess(bootstrap, workdir, module=LOADBALANCE, inputs=SOURCES)
    router = WorkerProcess(
        bootstrap, workdir, module=LOADBALANCE, inputs=ROUTED, app_id=f"{worker.app_id}-{ROUTER}"
    )
    await worker.skip_history()
    await router.skip_history()
    worker.start()
    try:
        await worker.wait_ready()
        yield worker
    finally:
        if worker.process is not None and worker.process.poll() is None:
            worker.kill(signal.SIGTERM)


@asynccontextmanager
async def loadbalance_api(bootstrap: str) -> AsyncIterator[Client]:
    """The load balancing API in process, and a client with an operator key it has read."""
    service = LoadbalanceApi(Settings(bootstrap_servers=bootstrap), CollectorRegistry())
    await service.start()
    try:
        await eventually(lambda: service.readiness()[0], "the API is ready", 30)
        key = await issue_key(bootstrap, f"lb-{uuid.uuid4().hex[:8]}", Role.OPERATOR)
        await eventually(lambda: service.keys.authenticate(key) is not None, "the key is known")
        server = TestServer(build_app(service), host="127.0.0.1", port=0)
        async with TestClient(server, headers={"Authorization": f"Bearer {key}"}) as client:
            yield client
    finally:
        await service.stop()
