"""runtime.tracing for real: spans posted by OTLP/HTTP to a collector on 127.0.0.1."""

import importlib
import time

import pytest

from contracts.trace import new_root
from runtime.tracing import Kind, from_environment
from tests.support.otlp import collector

importlib.import_module("opentelemetry.sdk")  # the otel extra (make install): never a skip


def test_spans_arrive_with_our_ids_and_the_service_name(monkeypatch: pytest.MonkeyPatch) -> None:
    with collector() as otlp:
        # The SDK reads the endpoint itself and appends v1/traces to the generic variable.
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", otlp.url)
        monkeypatch.delenv("OTEL_SERVICE_NAME", raising=False)
        spans = from_environment("chargebus-test")
        assert spans is not None
        root = new_root()
        child = root.child()
        now = time.time_ns()
        spans.record(
            "OCPP BootNotification",
            trace_id=root.trace_id,
            span_id=root.parent_id,
            parent_id=None,
            kind=Kind.SERVER,
            start_ns=now,
            end_ns=now + 1_000_000,
            attributes={"ocpp.station_id": "S-1"},
        )
        spans.record(
            "sessions OcppCall BootNotification",
            trace_id=child.trace_id,
            span_id=child.parent_id,
            parent_id=root.parent_id,
            kind=Kind.CONSUMER,
            start_ns=now,
            end_ns=now + 2_000_000,
            attributes={"messaging.kafka.offset": 17},
            error="no route",
        )
        spans.close()  # exports what is queued
        server, consumer = otlp.wait_for(lambda s: s.trace_id == root.trace_id, count=2)
    assert otlp.posts[0] == "/v1/traces"
    assert (server.service, server.name, server.span_id, server.parent_id) == (
        "chargebus-test",
        "OCPP BootNotification",
        root.parent_id,
        None,
    )
    assert server.kind == 2  # SPAN_KIND_SERVER
    assert server.attributes == {"ocpp.station_id": "S-1"}
    assert (consumer.span_id, consumer.parent_id, consumer.kind) == (
        child.parent_id,
        root.parent_id,
        5,  # SPAN_KIND_CONSUMER
    )
    assert consumer.attributes == {"messaging.kafka.offset": 17}


def test_otel_service_name_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    with collector() as otlp:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", otlp.url)
        monkeypatch.setenv("OTEL_SERVICE_NAME", "csms-east")
        spans = from_environment("chargebus-test")
        assert spans is not None
        root = new_root()
        now = time.time_ns()
        spans.record(
            "x",
            trace_id=root.trace_id,
            span_id=root.parent_id,
            parent_id=None,
            kind=Kind.INTERNAL,
            start_ns=now,
            end_ns=now,
            attributes={},
        )
        spans.close()
        (span,) = otlp.wait_for(lambda s: s.trace_id == root.trace_id)
    assert span.service == "csms-east"
