"""The operations endpoints every process serves: /metrics, /healthz, /readyz (I/O: aiohttp)."""

from collections.abc import Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest

ReadinessCheck = Callable[[], tuple[bool, str]]


def operations_app(
    ready: ReadinessCheck, registry: CollectorRegistry = REGISTRY
) -> web.Application:
    """/healthz: the process runs; /readyz: `ready()` says it can serve; /metrics: Prometheus."""

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def readyz(_: web.Request) -> web.Response:
        ok, detail = ready()
        return web.json_response(
            {"status": "ready" if ok else "not ready", "detail": detail}, status=200 if ok else 503
        )

    async def metrics(_: web.Request) -> web.Response:
        body = generate_latest(registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    return app


async def start_operations_server(
    ready: ReadinessCheck, host: str, port: int, registry: CollectorRegistry = REGISTRY
) -> web.AppRunner:
    """Serve the operations app; the caller awaits `runner.cleanup()` on shutdown."""
    runner = web.AppRunner(operations_app(ready, registry), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner
