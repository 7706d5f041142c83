"""The operations endpoints every process serves: /metrics, /healthz, /readyz (I/O: aiohttp)."""

import json
from collections.abc import Callable
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest

from runtime.metrics import ready_gauge

ReadinessCheck = Callable[[], tuple[bool, str]]


class InvalidBody(ValueError):
    """A request body that is not a JSON object: the message says what is wrong (a 400)."""


def _no_constants(name: str) -> None:
    raise InvalidBody(f"the body is not JSON: {name} is not a JSON number")


async def json_object(
    request: web.Request, *, parse_float: Callable[[str], Any] = float
) -> dict[str, Any]:
    """The body as a JSON object; an empty body is ``{}``. Every API reads bodies this way, so
    that no body makes a route fail: not UTF-8, not JSON, nested deeper than the parser goes,
    NaN, or not an object. ``parse_float=Decimal`` keeps every decimal of a number.

    Raises:
        InvalidBody: with what is wrong.
    """
    raw = await request.read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidBody(
            f"the body is not UTF-8: byte {exc.start} is 0x{raw[exc.start]:02x}"
        ) from None
    if not text.strip():
        return {}
    try:
        value = json.loads(text, parse_constant=_no_constants, parse_float=parse_float)
    except RecursionError:
        raise InvalidBody("the body is not JSON this API reads: it nests too deep") from None
    except ValueError as exc:
        if isinstance(exc, InvalidBody):
            raise
        raise InvalidBody(f"the body is not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise InvalidBody(f"the body must be a JSON object, got {type(value).__name__}")
    return value


def _ready_value(ready: ReadinessCheck) -> float:
    """chargebus_ready: 1 or 0; a check that raises is "not ready", never a failed scrape."""
    try:
        return float(ready()[0])
    except Exception:  # noqa: BLE001 - whatever broke the check, /metrics must still answer
        return 0.0


def operations_app(
    ready: ReadinessCheck, registry: CollectorRegistry = REGISTRY
) -> web.Application:
    """/healthz: the process runs; /readyz: `ready()` says it can serve; /metrics: Prometheus,
    with `ready()` as the gauge chargebus_ready."""
    ready_gauge(registry).set_function(lambda: _ready_value(ready))

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
