"""Firmware and log status, meter values without a session, DataTransfer: events (pure)."""

import pytest

from contracts.events import EventType
from contracts.payloads.data_transfer import DataTransferReceived
from contracts.payloads.firmware import (
    FirmwareKind,
    FirmwareStatusReported,
    LogKind,
    LogStatusReported,
)
from contracts.payloads.ocpp import Reply, ReplyError
from contracts.payloads.station_meters import MeterValuesReported
from contracts.topics import Topic
from ocppj.versions import OcppVersion
from tests.unit.services.sessions.core.station import V16, V201, Station, at, ts


def booted(version: OcppVersion) -> Station:
    station = Station(version=version)
    station.boot()
    return station


@pytest.mark.parametrize(
    ("version", "action", "payload", "kind", "failed"),
    [
        (V16, "FirmwareStatusNotification", {"status": "Installed"}, FirmwareKind.UPDATE, False),
        (
            V16,
            "SignedFirmwareStatusNotification",
            {"status": "InvalidSignature", "requestId": 4},
            FirmwareKind.UPDATE,
            True,
        ),
        (
            V201,
            "FirmwareStatusNotification",
            {"status": "InstallationFailed", "requestId": 4},
            FirmwareKind.UPDATE,
            True,
        ),
        (
            V201,
            "PublishFirmwareStatusNotification",
            {"status": "Published", "location": ["https://lc.example/fw.bin"], "requestId": 4},
            FirmwareKind.PUBLISH,
            False,
        ),
    ],
)
def test_firmware_status_is_written_with_whether_it_failed(
    version: OcppVersion, action: str, payload: dict[str, object], kind: FirmwareKind, failed: bool
) -> None:
    station = booted(version)
    station.tick(30)
    step = station.call(action, payload)
    assert step.reply == Reply({})
    (event,) = step.events
    assert (event.topic, event.event_type) == (Topic.STATIONS, EventType.FIRMWARE_STATUS_REPORTED)
    reported = FirmwareStatusReported.parse(event.envelope())
    assert reported is not None
    assert (reported.kind, reported.status, reported.failed) == (kind, payload["status"], failed)
    assert (reported.request_id, reported.at) == (payload.get("requestId"), at(30))
    assert reported.locations == tuple(payload.get("location", ()))  # type: ignore[arg-type]
    assert station.state is not None
    if kind is FirmwareKind.UPDATE:
        assert station.state.firmware_status == payload["status"]


@pytest.mark.parametrize(
    ("version", "action", "payload", "kind", "failed"),
    [
        (V16, "DiagnosticsStatusNotification", {"status": "Uploaded"}, LogKind.DIAGNOSTICS, False),
        (
            V16,
            "LogStatusNotification",
            {"status": "UploadFailure", "requestId": 2},
            LogKind.LOG,
            True,
        ),
        (
            V201,
            "LogStatusNotification",
            {"status": "Uploading", "requestId": 2},
            LogKind.LOG,
            False,
        ),
    ],
)
def test_log_status_is_written(
    version: OcppVersion, action: str, payload: dict[str, object], kind: LogKind, failed: bool
) -> None:
    station = booted(version)
    (event,) = station.call(action, payload).events
    reported = LogStatusReported.parse(event.envelope())
    assert reported is not None
    assert (reported.kind, reported.status, reported.failed) == (kind, payload["status"], failed)
    assert reported.request_id == payload.get("requestId")


def test_a_status_without_status_is_a_protocol_error() -> None:
    station = booted(V16)
    step = station.call(
        "FirmwareStatusNotification",
        {},
    )
    assert isinstance(step.reply, ReplyError)
    assert (step.reply.code, step.events) == ("ProtocolError", [])


def test_201_meter_values_are_the_evses_meter_with_every_measurand() -> None:
    station = booted(V201)
    meter_value = {
        "timestamp": ts(60),
        "sampledValue": [
            {"value": 123.4, "unitOfMeasure": {"unit": "kWh", "multiplier": 3}},
            {
                "value": 229.5,
                "measurand": "Voltage",
                "phase": "L1-N",
                "unitOfMeasure": {"unit": "V"},
            },
            {"value": 49.98, "measurand": "Frequency", "location": "Inlet"},
        ],
    }
    step = station.call("MeterValues", {"evseId": 0, "meterValue": [meter_value]})
    assert step.reply == Reply({})
    (event,) = step.events
    reported = MeterValuesReported.parse(event.envelope())
    assert reported is not None
    assert reported.evse_id == 0
    assert [
        (s["measurand"], s["value"], s["unit"], s["phase"], s["location"]) for s in reported.samples
    ] == [
        ("Energy.Active.Import.Register", 123400.0, "kWh", None, "Outlet"),
        ("Voltage", 229.5, "V", "L1-N", "Outlet"),
        ("Frequency", 49.98, None, None, "Inlet"),
    ]
    assert {s["at"] for s in reported.samples} == {at(60)}


def test_signed_meter_values_alone_write_nothing() -> None:
    station = booted(V16)
    signed = {"value": "AABBCC", "format": "SignedData"}
    step = station.call(
        "MeterValues",
        {"connectorId": 0, "meterValue": [{"timestamp": ts(1), "sampledValue": [signed]}]},
    )
    assert (step.reply, step.events) == (Reply({}), [])


@pytest.mark.parametrize(
    ("version", "data"), [(V16, "temperature=41"), (V201, {"temperature": 41, "unit": "C"})]
)
def test_a_vendors_data_transfer_is_written_as_sent(version: OcppVersion, data: object) -> None:
    station = booted(version)
    payload = {"vendorId": "com.example", "messageId": "Thermal", "data": data}
    step = station.call("DataTransfer", payload)
    assert step.reply == Reply({"status": "UnknownVendorId"})
    (event,) = step.events
    received = DataTransferReceived.parse(event.envelope())
    assert received is not None
    assert (received.vendor_id, received.message_id, received.data) == (
        "com.example",
        "Thermal",
        data,
    )


def test_values_and_times_out_of_any_range_are_left_out_not_raised() -> None:
    station = booted(V201)
    meter_value = {
        "timestamp": ts(60),
        "sampledValue": [
            {"value": 1.0, "unitOfMeasure": {"unit": "Wh", "multiplier": 10**6}},
            {"value": 5.0, "measurand": "Voltage"},
        ],
    }
    step = station.call("MeterValues", {"evseId": 1, "meterValue": [meter_value]})
    (event,) = step.events
    reported = MeterValuesReported.parse(event.envelope())
    assert reported is not None
    assert [s["measurand"] for s in reported.samples] == ["Voltage"]
    ancient = {"timestamp": "0001-01-01T00:00:00+01:00", "sampledValue": [{"value": 1.0}]}
    assert station.call("MeterValues", {"evseId": 1, "meterValue": [ancient]}).events == []
    v16 = booted(V16)
    huge = {"timestamp": ts(1), "sampledValue": [{"value": "1E+999999999"}]}
    assert v16.call("MeterValues", {"connectorId": 0, "meterValue": [huge]}).events == []
