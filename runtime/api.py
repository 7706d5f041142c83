"""What every operator HTTP API shares: metrics, the error middleware, the body reader, the
operations routes, writes that read themselves back, and the serving loop (I/O: aiohttp).

An API is its routes plus these; errors are contracts.http_api's (``{"error", "message"}``
with the status the class names), Kafka that does not acknowledge in time is a 503, and a bug
is a logged 500 with the same shape. docs/adding-a-service.md, "An HTTP API".
"""

import logging
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

from aiohttp import web
from aiohttp.typedefs import Handler
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from aiokafka.structs import RecordMetadata
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from contracts import codec
from contracts.envelope import Envelope
from contracts.http_api import ApiError, InvalidRequest
from runtime import process
from runtime.follower import Follower
from runtime.http import InvalidBody, json_object, operations_app
from runtime.kafka import KafkaUnavailable, PublishFailed, TopicMissing, send_acknowledged

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)


class HttpMetrics:
    """``chargebus_<name>_requests_total``, ``..._request_seconds``, ``..._records_total`` and
    ``..._view_entries`` on a registry the caller owns (tests pass their own)."""

    def __init__(self, name: str, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            f"chargebus_{name}_requests_total",
            "HTTP requests by route template, method and status",
            ["route", "method", "status"],
            registry=registry,
        )
        self.request_seconds = Histogram(
            f"chargebus_{name}_request_seconds",
            "HTTP request duration by route template",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.records = Counter(
            f"chargebus_{name}_records_total",
            "Records read by topic and fate (applied, ignored, undecodable)",
            ["topic", "fate"],
            registry=registry,
        )
        self.view_size = Gauge(
            f"chargebus_{name}_view_entries",
            "Entries in each in-memory read model",
            ["view"],
            registry=registry,
        )


def readiness(checks: Iterable[tuple[str, bool]]) -> tuple[bool, str]:
    """/readyz's answer from (what, ready) pairs: ready when all are, else what it waits for."""
    waiting = [what for what, ready in checks if not ready]
    return (False, f"waiting for {', '.join(waiting)}") if waiting else (True, "ok")


def error_response(status: int, name: str, message: str, **headers: str) -> web.Response:
    return web.json_response({"error": name, "message": message}, status=status, headers=headers)


def _route_name(request: web.Request) -> str:
    resource = request.match_info.route.resource
    return "unmatched" if resource is None else resource.canonical


def errors_and_metrics(
    metrics: HttpMetrics,
    log: logging.Logger,
    extra: dict[type[Exception], tuple[int, str]] | None = None,
) -> Any:
    """The middleware that turns errors into error documents and counts every request;
    ``extra`` maps more exception types to (status, error name)."""
    more = tuple((extra or {}).items())

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        started = time.monotonic()
        try:
            response: web.StreamResponse = await handler(request)
        except ApiError as exc:
            response = error_response(exc.status, type(exc).__name__, str(exc))
        except web.HTTPException as exc:  # no route (404), wrong method (405)
            name = exc.reason.title().replace(" ", "")
            allow = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else {}
            message = f"{exc.reason}: {request.method} {request.path}"
            response = error_response(exc.status, name, message, **allow)
        except (PublishFailed, KafkaError, TimeoutError) as exc:
            reason = str(exc) or type(exc).__name__
            message = f"Kafka did not acknowledge the write in time: {reason}; try again"
            response = error_response(503, "KafkaUnavailable", message)
        except Exception as exc:  # the one broad except: a bug answers 500 JSON, logged
            known = next(((s, n) for kind, (s, n) in more if isinstance(exc, kind)), None)
            if known is None:
                log.exception("%s %s failed", request.method, request.path)
                known = (500, "InternalError")
                message = "the API failed; the log has the details"
            else:
                message = str(exc)
            response = error_response(known[0], known[1], message)
        route = _route_name(request)
        metrics.requests.labels(route, request.method, str(response.status)).inc()
        metrics.request_seconds.labels(route).observe(time.monotonic() - started)
        return response

    return middleware


async def read_object(
    request: web.Request, *, parse_float: Callable[[str], Any] = float
) -> dict[str, Any]:
    """The body as a JSON object; an empty body is ``{}`` (``parse_float``: json.loads's).

    Raises:
        InvalidRequest: the body is not UTF-8, not JSON, or not an object.
    """
    try:
        return await json_object(request, parse_float=parse_float)
    except InvalidBody as exc:
        raise InvalidRequest(str(exc)) from None


def add_operations(
    app: web.Application,
    readiness: Callable[[], tuple[bool, str]],
    registry: CollectorRegistry,
) -> None:
    """/healthz, /readyz and /metrics on ``app`` (no key needed: runtime/api_keys.py)."""
    for route in operations_app(readiness, registry).router.routes():
        if route.method != "HEAD" and route.resource is not None:
            app.router.add_route(route.method, route.resource.canonical, route.handler)


PRODUCE_TIMEOUT_S = 15.0  # for the broker to acknowledge an API's write
READ_YOUR_WRITES_S = 5.0  # for the API's own view to show it


async def write(
    producer: AIOKafkaProducer | None,
    topic: str,
    key: str,
    envelope: Envelope | None,
    *,
    read_back: Follower | None = None,
    headers: Sequence[tuple[str, bytes]] = (),
) -> RecordMetadata:
    """Write one record (``envelope`` None: a tombstone), acknowledged by the broker; with
    ``read_back``, return once that follower applied it, so the API's next read shows it.

    Raises:
        PublishFailed: the broker did not acknowledge in time, or the API is not connected.
    """
    if producer is None:
        raise PublishFailed(f"{topic}: not connected to Kafka yet")
    value = None if envelope is None else codec.encode(envelope)
    metadata = await send_acknowledged(
        producer, topic, key.encode(), value, headers=headers, timeout_s=PRODUCE_TIMEOUT_S
    )
    if read_back is not None:
        await read_back.wait_applied(topic, metadata.partition, metadata.offset, READ_YOUR_WRITES_S)
    return metadata


class Startable(Protocol):
    async def start(self) -> None: ...
    async def stop(self) -> None: ...


async def serve(
    api: Startable, app: web.Application, *, host: str, port: int, log: logging.Logger
) -> int:
    """Serve ``app`` (its /healthz answers and /readyz says 503 while ``api`` starts), then
    start ``api`` and run until SIGTERM/SIGINT; 2 when Kafka, a topic or the port is missing."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    stop = process.stop_on_signals()
    try:
        await web.TCPSite(runner, host, port).start()
        log.info("listening on %s:%d", host, port)
        await api.start()
        await stop.wait()
        log.info("stopping")
        return 0
    except (KafkaUnavailable, TopicMissing) as exc:
        log.error("%s", exc)
        print(f"error: {exc}", file=sys.stderr)  # noqa: T201 - the reason for exit code 2
        return 2
    except OSError as exc:  # the port is taken, say
        log.error("cannot serve on %s:%d: %s", host, port, exc)
        return 2
    finally:
        await runner.cleanup()
        await api.stop()
