"""OpenTelemetry export of our spans, off unless configured (I/O: OTLP/HTTP from the SDK's thread).

Export is on only when ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or ``..._TRACES_ENDPOINT``) is set or
``OTEL_TRACES_EXPORTER`` names ``otlp``, and never with ``OTEL_SDK_DISABLED=true`` or
``OTEL_TRACES_EXPORTER=none``; it needs the ``otel`` extra (``pip install 'chargebus[otel]'``).
Off, ``from_environment`` returns None and a caller's only cost is that None check.

The span ids are the ones our record headers carry (contracts/trace.py), so a span is built as
the SDK's ``ReadableSpan`` and handed to its ``BatchSpanProcessor``: no tracer, no sampler, no
context. The processor's thread posts batches to the collector (``OTEL_BSP_*`` tune it); the SDK
reads the endpoint, headers and timeout from the ``OTEL_EXPORTER_OTLP_*`` variables itself.
"""

import logging
import os
from collections.abc import Mapping
from enum import Enum
from typing import Any

log = logging.getLogger(__name__)

Attributes = Mapping[str, str | int | float | bool]


class Kind(Enum):
    """What a span is to its process (OpenTelemetry's SpanKind)."""

    SERVER = "server"  # the gateway: a station's CALL, answered
    CONSUMER = "consumer"  # a worker: one record handled
    INTERNAL = "internal"


def export_wanted(environ: Mapping[str, str]) -> bool:
    """Whether ``environ`` asks for span export (the module docstring's rules)."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    exporters = {
        e.strip().lower() for e in environ.get("OTEL_TRACES_EXPORTER", "").split(",") if e.strip()
    }
    if exporters:
        if "otlp" not in exporters and exporters != {"none"}:
            log.warning("OTEL_TRACES_EXPORTER=%s: only otlp is supported", ",".join(exporters))
        return "otlp" in exporters
    return any(
        environ.get(name, "").strip()
        for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    )


class Spans:
    """Where a process's spans go: the SDK's batch processor, and its OTLP/HTTP exporter."""

    def __init__(self, processor: Any, resource: Any) -> None:
        from opentelemetry.sdk.trace import ReadableSpan
        from opentelemetry.sdk.util.instrumentation import InstrumentationScope
        from opentelemetry.trace import SpanContext, SpanKind, Status, StatusCode, TraceFlags

        self._processor = processor
        self._resource = resource
        self._scope = InstrumentationScope("chargebus")
        self._span = ReadableSpan
        self._context = SpanContext
        self._flags = TraceFlags
        self._kinds = {kind: SpanKind[kind.name] for kind in Kind}
        self._ok = Status(StatusCode.UNSET)
        self._status, self._error_code = Status, StatusCode.ERROR

    def record(
        self,
        name: str,
        *,
        trace_id: str,
        span_id: str,
        parent_id: str | None,
        kind: Kind,
        start_ns: int,
        end_ns: int,
        attributes: Attributes,
        error: str | None = None,
    ) -> None:
        """One finished span, with the ids of the record headers (hex); ``parent_id`` None: a
        root; ``error``: it ended in an error with this description."""
        trace, flags = int(trace_id, 16), self._flags(self._flags.SAMPLED)
        parent = None
        if parent_id is not None:
            parent = self._context(trace, int(parent_id, 16), is_remote=True, trace_flags=flags)
        span = self._span(
            name,
            context=self._context(trace, int(span_id, 16), is_remote=False, trace_flags=flags),
            parent=parent,
            resource=self._resource,
            attributes=attributes,
            kind=self._kinds[kind],
            status=self._ok if error is None else self._status(self._error_code, error),
            start_time=start_ns,
            end_time=end_ns,
            instrumentation_scope=self._scope,
        )
        self._processor.on_end(span)

    def close(self) -> None:
        """Export what is queued and stop the processor's thread (blocks up to the export
        timeout: call it from a thread in async code)."""
        self._processor.shutdown()


def from_environment(service_name: str, environ: Mapping[str, str] | None = None) -> Spans | None:
    """The process's span export, if its environment asks for one (module docstring); None
    otherwise, or (with one warning) if the ``otel`` extra is not installed. ``service_name``
    unless ``OTEL_SERVICE_NAME`` names the service."""
    env = os.environ if environ is None else environ
    if not export_wanted(env):
        return None
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import SERVICE_NAME, Resource
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError as exc:
        log.warning(
            "span export is configured (OTEL_*) but OpenTelemetry is not installed "
            "(pip install 'chargebus[otel]'): no spans are exported (%s)",
            exc,
        )
        return None
    named = bool(env.get("OTEL_SERVICE_NAME", "").strip())
    resource = Resource.create({} if named else {SERVICE_NAME: service_name})
    processor = BatchSpanProcessor(OTLPSpanExporter())
    log.info("exporting spans by OTLP/HTTP as %s", resource.attributes.get(SERVICE_NAME))
    return Spans(processor, resource)
