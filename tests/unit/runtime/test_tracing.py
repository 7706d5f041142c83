"""runtime.tracing: when span export is on, and what happens when it cannot be."""

import logging
import sys

import pytest

from runtime.tracing import export_wanted, from_environment

ENDPOINT = "http://127.0.0.1:4318"


@pytest.mark.parametrize(
    ("environ", "wanted"),
    [
        ({}, False),  # off unless configured
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": ENDPOINT}, True),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": f"{ENDPOINT}/v1/traces"}, True),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": " "}, False),
        ({"OTEL_TRACES_EXPORTER": "otlp"}, True),  # the SDK's default endpoint
        ({"OTEL_TRACES_EXPORTER": "console, OTLP"}, True),
        ({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": ENDPOINT}, False),
        ({"OTEL_TRACES_EXPORTER": "zipkin", "OTEL_EXPORTER_OTLP_ENDPOINT": ENDPOINT}, False),
        ({"OTEL_SDK_DISABLED": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": ENDPOINT}, False),
        ({"OTEL_SDK_DISABLED": "TRUE", "OTEL_TRACES_EXPORTER": "otlp"}, False),
        ({"OTEL_SDK_DISABLED": "false", "OTEL_EXPORTER_OTLP_ENDPOINT": ENDPOINT}, True),
    ],
)
def test_export_is_on_only_when_configured_and_never_when_disabled(
    environ: dict[str, str], wanted: bool
) -> None:
    assert export_wanted(environ) is wanted


def test_nothing_is_built_when_export_is_off() -> None:
    assert from_environment("chargebus-test", {}) is None
    assert from_environment("chargebus-test", {"OTEL_SDK_DISABLED": "true"}) is None


def test_without_the_packages_one_warning_and_no_export(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # None in sys.modules makes the import raise ImportError, as if it were not installed.
    monkeypatch.setitem(sys.modules, "opentelemetry.exporter.otlp.proto.http.trace_exporter", None)
    with caplog.at_level(logging.WARNING, logger="runtime.tracing"):
        spans = from_environment("chargebus-test", {"OTEL_EXPORTER_OTLP_ENDPOINT": ENDPOINT})
    assert spans is None
    (warning,) = caplog.records
    assert "chargebus[otel]" in warning.getMessage()
