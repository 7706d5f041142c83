"""The station registry: boot and its policy, connector status, firmware/log status, presence."""

from typing import Any

import pytest

from contracts.events import DomainEvent, EventType
from contracts.payloads.ocpp import Reply
from contracts.topics import Topic
from ocppj.versions import OcppVersion
from services.sessions.core.policy import BootStatus, Policy
from tests.unit.services.sessions.core.station import (
    STATION_ID,
    V16,
    V201,
    Station,
    at,
    kinds,
    ts,
)

PENDING, REJECTED, ACCEPTED = BootStatus.PENDING, BootStatus.REJECTED, BootStatus.ACCEPTED


@pytest.mark.parametrize(
    ("policy", "status", "interval"),
    [
        (Policy(), "Accepted", 300),
        (Policy(heartbeat_interval_s=900), "Accepted", 900),
        (Policy(unknown_station=PENDING, retry_interval_s=30), "Pending", 30),
        (Policy(unknown_station=REJECTED), "Rejected", 60),
        (Policy(unknown_station=REJECTED, overrides={STATION_ID: ACCEPTED}), "Accepted", 300),
        (Policy(overrides={STATION_ID: REJECTED, "CS-2": ACCEPTED}), "Rejected", 60),
        (Policy(unknown_station=PENDING, overrides={"CS-2": ACCEPTED}), "Pending", 60),
    ],
)
@pytest.mark.parametrize("version", [V16, V201])
def test_boot_status_and_interval_come_from_the_policy(
    version: OcppVersion, policy: Policy, status: str, interval: int
) -> None:
    station = Station(version=version, policy=policy)
    station.tick(0.1234)
    step = station.boot()
    assert step.reply == Reply(
        {"status": status, "currentTime": "2026-11-25T08:00:00.123Z", "interval": interval}
    )
    assert step.state.boot_status == status
    assert step.events == [
        DomainEvent(
            topic=Topic.STATIONS,
            event_type=EventType.STATION_BOOTED,
            key=STATION_ID,
            payload={
                "station_id": STATION_ID,
                "vendor": "VendorX",
                "model": "Model1",
                "serial_number": "SN-1",
                "firmware_version": "1.2.3",
                "ocpp_version": str(version),
                "boot_status": status,
            },
        )
    ]


def test_a_201_boot_records_the_reason() -> None:
    step = Station(version=V201).boot()
    assert step.state.boot_reason == "PowerUp"
    assert step.state.booted_at == at(0)


def test_a_16_boot_with_the_deprecated_serial_number_and_nothing_optional() -> None:
    payload = {"chargePointVendor": "V", "chargePointModel": "M", "chargeBoxSerialNumber": "B-1"}
    step = Station(version=V16).call("BootNotification", payload)
    assert step.events[0].payload["serial_number"] == "B-1"
    assert step.events[0].payload["firmware_version"] is None


def test_a_pending_station_is_accepted_when_it_boots_again_after_the_policy_changed() -> None:
    station = Station(policy=Policy(unknown_station=PENDING))
    station.boot()
    station.policy = Policy(fetch_inventory=False)
    step = station.boot()
    assert step.state.boot_status == "Accepted"
    assert isinstance(station.call("Authorize", {"idTag": "x"}).reply, Reply)


def status_16(
    connector_id: int, status: str, t: float | None, error: str = "NoError"
) -> dict[str, Any]:
    payload: dict[str, Any] = {"connectorId": connector_id, "errorCode": error, "status": status}
    return payload if t is None else payload | {"timestamp": ts(t)}


def test_status_changes_are_written_only_when_something_changed() -> None:
    station = Station()
    station.boot()
    first = station.call("StatusNotification", status_16(1, "Available", 10))
    same = station.call("StatusNotification", status_16(1, "Available", 20))
    fault = station.call("StatusNotification", status_16(1, "Available", 30, "GroundFailure"))
    stale = station.call("StatusNotification", status_16(1, "Charging", 25))
    assert [kinds(s.events) for s in (first, same, fault, stale)] == [
        [EventType.STATION_STATUS_CHANGED],
        [],
        [EventType.STATION_STATUS_CHANGED],
        [],
    ]
    assert fault.events[0].payload["error_code"] == "GroundFailure"
    (connector,) = stale.state.connectors
    assert (connector.status, connector.error_code, connector.at) == (
        "Available",
        "GroundFailure",
        at(30),
    )


def test_connector_zero_is_the_whole_station_and_a_missing_timestamp_is_the_arrival() -> None:
    station = Station()
    station.boot()
    station.tick(42)
    step = station.call("StatusNotification", status_16(0, "Unavailable", None))
    assert step.events[0].payload | {"status": "-"} == {
        "station_id": STATION_ID,
        "evse_id": 0,
        "connector_id": 0,
        "status": "-",
        "error_code": "NoError",
        "at": at(42),
    }


def test_connectors_are_kept_in_order() -> None:
    station = Station()
    station.boot()
    for connector_id in (2, 0, 1):
        station.call("StatusNotification", status_16(connector_id, "Available", 10))
    assert station.state is not None
    assert [c.evse_id for c in station.state.connectors] == [0, 1, 2]
    assert station.state.connector(1, 1) is not None
    assert station.state.connector(1, 2) is None


def test_201_status_without_a_connector_gets_protocol_error() -> None:
    station = Station(version=V201)
    station.boot()
    step = station.call("StatusNotification", {"timestamp": ts(1), "connectorStatus": "Available"})
    assert step.reply is not None
    assert not isinstance(step.reply, Reply)


@pytest.mark.parametrize(
    ("version", "action", "payload", "field", "value"),
    [
        (
            V16,
            "FirmwareStatusNotification",
            {"status": "Installed"},
            "firmware_status",
            "Installed",
        ),
        (
            V16,
            "SignedFirmwareStatusNotification",
            {"status": "Downloaded", "requestId": 1},
            "firmware_status",
            "Downloaded",
        ),
        (
            V201,
            "FirmwareStatusNotification",
            {"status": "Installing", "requestId": 1},
            "firmware_status",
            "Installing",
        ),
        (V16, "DiagnosticsStatusNotification", {"status": "Uploaded"}, "log_status", "Uploaded"),
        (
            V16,
            "LogStatusNotification",
            {"status": "Uploading", "requestId": 1},
            "log_status",
            "Uploading",
        ),
        (V201, "LogStatusNotification", {"status": "UploadFailure"}, "log_status", "UploadFailure"),
    ],
)
def test_firmware_and_log_status_are_remembered(
    version: OcppVersion, action: str, payload: dict[str, Any], field: str, value: str
) -> None:
    station = Station(version=version)
    station.boot()
    step = station.call(action, payload)
    assert step.reply == Reply({})
    assert getattr(step.state, field) == value
    assert getattr(step.state, f"{field}_at") == station.now


def presence_event(online: bool, connection_id: str, gateway: int = 3) -> DomainEvent:
    return DomainEvent(
        topic=Topic.STATIONS,
        event_type=EventType.STATION_ONLINE if online else EventType.STATION_OFFLINE,
        key=STATION_ID,
        payload={
            "station_id": STATION_ID,
            "gateway": gateway,
            "connection_id": connection_id,
            "at": at(0),
        },
    )


def test_presence_online_and_offline_with_the_newest_connection_winning() -> None:
    station = Station()
    connected = station.presence(connected=True, connection_id="c1")
    assert connected.reply is None
    assert connected.events == [presence_event(True, "c1")]
    assert connected.state.online
    assert connected.state.last_seen == at(0)
    assert station.presence(connected=True, connection_id="c1").events == []  # re-assertion
    moved = station.presence(connected=True, connection_id="c2", gateway=5)
    assert moved.events == [presence_event(True, "c2", gateway=5)]
    stale = station.presence(connected=False, connection_id="c1")
    assert stale.events == []
    assert stale.state.online
    assert stale.state.connection_id == "c2"
    gone = station.presence(connected=False, connection_id="c2")
    assert gone.events == [presence_event(False, "c2", gateway=5)]
    assert not gone.state.online
    assert station.presence(connected=False, connection_id="c2").events == []  # repeated
    back = station.presence(connected=True, connection_id="c2", gateway=5)
    assert back.events == [presence_event(True, "c2", gateway=5)]


def test_presence_does_not_change_the_boot_status_and_calls_do_not_change_presence() -> None:
    station = Station()
    station.boot()
    station.presence(connected=True, connection_id="c1")
    station.tick(10)
    step = station.call("Authorize", {"idTag": "x"})
    assert step.state.boot_status == "Accepted"
    assert step.state.online
    assert step.state.last_seen == at(10)
    station.tick(-5)  # a record processed late never moves last seen back
    assert station.call("Authorize", {"idTag": "x"}).state.last_seen == at(10)
