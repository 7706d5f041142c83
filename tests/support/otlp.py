"""A tiny OTLP/HTTP collector on 127.0.0.1 for tests: keeps the spans POSTed to /v1/traces."""

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class ReceivedSpan:
    service: str  # the resource's service.name
    name: str
    trace_id: str  # hex, as in a traceparent
    span_id: str
    parent_id: str | None
    kind: int  # OTLP's Span.SpanKind: 2 server, 5 consumer
    attributes: dict[str, Any]


class Collector:
    """The spans received so far, and a way to wait for some."""

    def __init__(self, url: str) -> None:
        self.url = url  # for OTEL_EXPORTER_OTLP_ENDPOINT
        self.spans: list[ReceivedSpan] = []
        self.posts: list[str] = []  # the paths posted to
        self._changed = threading.Condition()

    def add(self, path: str, body: bytes) -> None:
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
            ExportTraceServiceRequest,
        )

        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        received = []
        for resource_spans in request.resource_spans:
            resource = {a.key: _value(a.value) for a in resource_spans.resource.attributes}
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    received.append(
                        ReceivedSpan(
                            service=str(resource.get("service.name")),
                            name=span.name,
                            trace_id=span.trace_id.hex(),
                            span_id=span.span_id.hex(),
                            parent_id=span.parent_span_id.hex() or None,
                            kind=span.kind,
                            attributes={a.key: _value(a.value) for a in span.attributes},
                        )
                    )
        with self._changed:
            self.posts.append(path)
            self.spans.extend(received)
            self._changed.notify_all()

    def wait_for(
        self, match: Callable[[ReceivedSpan], bool], count: int = 1, limit_s: float = 20
    ) -> list[ReceivedSpan]:
        """Blocks until ``count`` spans that ``match`` arrived (call it from a thread in async
        tests); they, in the order received.

        Raises:
            TimeoutError: fewer arrived in time.
        """
        deadline = time.monotonic() + limit_s
        with self._changed:
            while len(found := [s for s in self.spans if match(s)]) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"{len(found)} of {count} spans: {self.spans}")
                self._changed.wait(remaining)
            return found


def _value(value: Any) -> Any:
    kind = value.WhichOneof("value")
    return None if kind is None else getattr(value, kind)


@contextmanager
def collector() -> Iterator[Collector]:
    """An OTLP/HTTP collector on a free port of 127.0.0.1 until the block ends."""
    found: list[Collector] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            found[0].add(self.path, body)
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - its name
            pass  # quiet

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    found.append(Collector(f"http://127.0.0.1:{server.server_address[1]}"))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield found[0]
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
