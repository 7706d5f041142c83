"""A real load balancing worker process (`python -m services.loadbalance`) for tests."""

import uuid
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

from prometheus_client import CollectorRegistry

from services.loadbalance.api.app import LoadbalanceApi
from services.loadbalance.api.http import build_app
from services.loadbalance.api.settings import Settings
from services.loadbalance.app import ROUTED, ROUTER, SOURCES
from tests.support.apis import Client, serving
from tests.support.sessions import WorkerProcess, running_worker

LOADBALANCE = "services.loadbalance"


@asynccontextmanager
async def running_loadbalance(bootstrap: str, workdir: Path) -> AsyncIterator[WorkerProcess]:
    """A load balancing worker with groups of its own (the balancer's and its router's), both
    starting at the end of their inputs; stopped with SIGTERM when the block ends."""
    app_id = f"test-loadbalance-{uuid.uuid4().hex[:10]}"
    router = WorkerProcess(
        bootstrap, workdir, module=LOADBALANCE, inputs=ROUTED, app_id=f"{app_id}-{ROUTER}"
    )
    await router.skip_history()  # running_worker skips the balancer's
    async with running_worker(LOADBALANCE, SOURCES, bootstrap, workdir, app_id) as worker:
        yield worker


def loadbalance_api(bootstrap: str) -> AbstractAsyncContextManager[Client]:
    """The load balancing API in process, and a client with an operator key it has read."""
    service = LoadbalanceApi(Settings(bootstrap_servers=bootstrap), CollectorRegistry())
    return serving(service, build_app, bootstrap, "lb")
