"""A real load balancing worker process (`python -m services.loadbalance`) for tests."""

import signal
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

from prometheus_client import CollectorRegistry

from services.loadbalance.api.app import LoadbalanceApi
from services.loadbalance.api.http import build_app
from services.loadbalance.api.settings import Settings
from services.loadbalance.app import ROUTED, ROUTER, SOURCES
from tests.support.apis import Client, serving
from tests.support.sessions import WorkerProcess

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


def loadbalance_api(bootstrap: str) -> AbstractAsyncContextManager[Client]:
    """The load balancing API in process, and a client with an operator key it has read."""
    service = LoadbalanceApi(Settings(bootstrap_servers=bootstrap), CollectorRegistry())
    return serving(service, build_app, bootstrap, "lb")
