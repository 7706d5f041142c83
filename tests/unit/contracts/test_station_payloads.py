"""The payloads of issue 10 (reports, meters, firmware and log status, vendor data, alerts):
their fields are docs/events.md's, they survive the wire, and parsers refuse what is not theirs."""

from datetime import UTC, datetime
from typing import Any

import pytest

from contracts.codec import decode, encode
from contracts.events import DomainEvent, EventType
from contracts.payloads.alerts import Alert, AlertKind, Severity
from contracts.payloads.api_keys import ApiKey, KeyRing, Role, key_hash
from contracts.payloads.data_transfer import DataTransferReceived
from contracts.payloads.firmware import (
    FirmwareKind,
    FirmwareStatusReported,
    LogKind,
    LogStatusReported,
)
from contracts.payloads.station_meters import MeterValuesReported
from contracts.payloads.station_reports import ReportKind, ReportOutcome, ReportReceived

AT = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)
REPORT = ReportReceived(
    station_id="CS-1",
    kind=ReportKind.MONITORS,
    request_id=4,
    outcome=ReportOutcome.TIMED_OUT,
    rows=[{"component": "EVSE", "variable": "Power", "monitors": []}],
    generated_at=AT,
    closed_at=AT,
    parts=3,
    missing_parts=[1],
    rows_dropped=2,
    requested={"action": "GetMonitoringReport", "request": {"requestId": 4}},
)
METERS = MeterValuesReported(
    station_id="CS-1",
    evse_id=0,
    samples=[
        {
            "at": AT,
            "measurand": "Voltage",
            "value": 230.1,
            "unit": "V",
            "phase": "L1-N",
            "location": "Outlet",
            "context": "Sample.Periodic",
        }
    ],
    ocpp_version="ocpp2.0.1",
)
FIRMWARE = FirmwareStatusReported(
    station_id="CS-1",
    kind=FirmwareKind.PUBLISH,
    status="PublishFailed",
    at=AT,
    request_id=3,
    locations=("https://lc/fw",),
    ocpp_version="ocpp2.0.1",
)
LOG = LogStatusReported(
    station_id="CS-1", kind=LogKind.DIAGNOSTICS, status="Uploaded", at=AT, ocpp_version="ocpp1.6"
)
DATA = DataTransferReceived(
    station_id="CS-1",
    vendor_id="com.example",
    at=AT,
    message_id="M",
    data={"a": [1, 2]},
    ocpp_version="ocpp2.0.1",
)
ALERT = Alert(
    alert_id="CS-1/ConnectorFaulted/1/1",
    station_id="CS-1",
    kind=AlertKind.CONNECTOR_FAULTED,
    severity=Severity.MAJOR,
    raised_at=AT,
    summary="EVSE 1 connector 1 is Faulted",
    details={"evse_id": 1},
)
_ALERT_FIELDS = {
    "alert_id",
    "station_id",
    "kind",
    "severity",
    "raised_at",
    "summary",
    "details",
    "resolved_at",
    "resolution",
}


@pytest.mark.parametrize(
    ("event", "event_type", "fields"),
    [
        (
            REPORT.event(),
            EventType.REPORT_RECEIVED,
            {
                "station_id",
                "kind",
                "request_id",
                "outcome",
                "generated_at",
                "closed_at",
                "parts",
                "missing_parts",
                "rows_dropped",
                "requested",
                "rows",
            },
        ),
        (
            METERS.event(),
            EventType.METER_VALUES_REPORTED,
            {"station_id", "evse_id", "samples", "ocpp_version"},
        ),
        (
            FIRMWARE.event(),
            EventType.FIRMWARE_STATUS_REPORTED,
            {
                "station_id",
                "kind",
                "status",
                "failed",
                "at",
                "request_id",
                "locations",
                "ocpp_version",
            },
        ),
        (
            LOG.event(),
            EventType.LOG_STATUS_REPORTED,
            {"station_id", "kind", "status", "failed", "at", "request_id", "ocpp_version"},
        ),
        (
            DATA.event(),
            EventType.DATA_TRANSFER_RECEIVED,
            {"station_id", "vendor_id", "message_id", "data", "at", "ocpp_version"},
        ),
        (ALERT.raised()[0], EventType.ALERT_RAISED, _ALERT_FIELDS),
        (ALERT.raised()[1], EventType.ALERT_OPEN, _ALERT_FIELDS),
        (ALERT.resolved(AT, "status Available")[1][0], EventType.ALERT_RESOLVED, _ALERT_FIELDS),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_the_documented_fields(event: DomainEvent, event_type: str, fields: set[str]) -> None:
    assert event.event_type == event_type
    assert event.payload.keys() == fields


@pytest.mark.parametrize(
    ("built", "parse"),
    [
        (REPORT, ReportReceived.parse),
        (METERS, MeterValuesReported.parse),
        (FIRMWARE, FirmwareStatusReported.parse),
        (LOG, LogStatusReported.parse),
        (DATA, DataTransferReceived.parse),
    ],
)
def test_each_survives_the_wire_and_refuses_other_records(built: Any, parse: Any) -> None:
    wire = decode(encode(built.event().envelope()))
    assert parse(wire) == built
    assert parse(DATA.event().envelope() if built is not DATA else LOG.event().envelope()) is None


def test_an_alert_survives_the_wire_raised_and_resolved() -> None:
    assert Alert.parse(decode(encode(ALERT.raised()[0].envelope()))) == ALERT
    done, events = ALERT.resolved(AT, "status Available")
    assert Alert.parse(decode(encode(events[0].envelope()))) == done
    assert (events[1].key, events[1].tombstone) == (ALERT.alert_id, True)
    assert Alert.parse(LOG.event().envelope()) is None


def test_parsers_tolerate_what_they_cannot_use() -> None:
    broken = REPORT.event()
    broken.payload["kind"] = "no-such-kind"
    assert ReportReceived.parse(broken.envelope()) is None
    odd = METERS.event()
    odd.payload["samples"] = "not a list"
    parsed = MeterValuesReported.parse(odd.envelope())
    assert parsed is not None
    assert parsed.samples == []
    assert FIRMWARE.failed
    assert not LOG.failed


def test_a_key_is_live_until_revoked_or_replaced() -> None:
    ring = KeyRing()
    first = ApiKey(name="ops", role=Role.OPERATOR, key_hash=key_hash("cbk_a"), issued_at=AT)
    ring.apply(first.envelope())
    known = ring.authenticate("cbk_a")
    assert known is not None
    assert ring.live(known)
    ring.apply(
        ApiKey(name="ops", role=Role.OPERATOR, key_hash=key_hash("cbk_b"), issued_at=AT).envelope()
    )
    assert not ring.live(known)  # replaced: the old key stops working
    ring.remove("ops")
    assert ring.authenticate("cbk_b") is None
