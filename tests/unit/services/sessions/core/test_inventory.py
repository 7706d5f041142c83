"""After a boot, a station whose inventory we lack is asked for it, once (pure)."""

from typing import Any

import pytest

from contracts.events import DomainEvent, EventType
from contracts.payloads.commands import StationCommand
from contracts.topics import Topic
from ocppj.versions import OcppVersion
from services.sessions.core.policy import BootStatus, Policy
from tests.unit.services.sessions.core.station import V16, V201, Station, at, boot_payload

STATUS = {
    V16: {"connectorId": 1, "errorCode": "NoError", "status": "Available"},
    V201: {
        "timestamp": "2026-11-25T08:00:00Z",
        "connectorStatus": "Available",
        "evseId": 1,
        "connectorId": 1,
    },
}
ASKED = {
    V16: ("GetConfiguration", {}),
    V201: ("GetBaseReport", {"reportBase": "FullInventory"}),
}


def commands(events: list[DomainEvent]) -> list[StationCommand]:
    found = []
    for event in events:
        if event.event_type != EventType.STATION_COMMAND:
            continue
        assert (event.topic, event.partition) == (Topic.GATEWAY_INBOX, 3)  # the station's gateway
        command = StationCommand.parse(event.envelope())
        assert command is not None
        found.append(command)
    return found


def fetching(version: OcppVersion) -> Station:
    return Station(version=version, policy=Policy(fetch_inventory=True))


def full_inventory(station: Station, command: StationCommand) -> None:
    """The station's answer to ``command`` and, for 2.0.1, its one-part report."""
    if station.version is V16:
        response = {
            "configurationKey": [{"key": "HeartbeatInterval", "readonly": False, "value": "300"}]
        }
        station.answer(command.action, dict(command.payload), response)
        return
    station.answer(command.action, dict(command.payload), {"status": "Accepted"})
    report: dict[str, Any] = {
        "requestId": command.payload["requestId"],
        "generatedAt": "2026-11-25T08:00:01Z",
        "seqNo": 0,
        "reportData": [
            {
                "component": {"name": "OCPPCommCtrlr"},
                "variable": {"name": "HeartbeatInterval"},
                "variableAttribute": [{"value": "300"}],
            }
        ],
    }
    station.call("NotifyReport", report)


@pytest.mark.parametrize("version", [V16, V201])
def test_the_first_call_after_a_boot_asks_for_the_inventory_once(version: OcppVersion) -> None:
    station = fetching(version)
    boot = station.boot()
    assert commands(boot.events) == []  # not before the station has its boot answer
    station.tick(1)
    (command,) = commands(station.call("StatusNotification", STATUS[version]).events)
    action, payload = ASKED[version]
    assert command.action == action
    assert {k: v for k, v in command.payload.items() if k != "requestId"} == payload
    assert command.deadline == at(61)
    assert station.state is not None
    assert (station.state.inventory_due, station.state.inventory_requested_at) == (False, at(1))
    assert commands(station.call("StatusNotification", STATUS[version]).events) == []
    full_inventory(station, command)
    assert station.state.inventory_at == at(1)
    station.boot()  # the same firmware: the inventory we have stands
    assert commands(station.call("StatusNotification", STATUS[version]).events) == []


@pytest.mark.parametrize("version", [V16, V201])
def test_a_firmware_update_asks_again(version: OcppVersion) -> None:
    station = fetching(version)
    station.boot()
    (command,) = commands(station.call("StatusNotification", STATUS[version]).events)
    full_inventory(station, command)
    updated = boot_payload(version)
    if version is V16:
        updated["firmwareVersion"] = "2.0.0"
    else:
        updated["chargingStation"]["firmwareVersion"] = "2.0.0"
        updated["reason"] = "FirmwareUpdate"
    station.call("BootNotification", updated)
    assert len(commands(station.call("StatusNotification", STATUS[version]).events)) == 1


def test_a_heartbeat_the_gateway_answered_asks_too() -> None:
    station = fetching(V201)
    station.boot()
    assert len(commands(station.call("Heartbeat", {}, answered_by_gateway=True).events)) == 1


def test_switched_off_nothing_is_asked() -> None:
    station = Station(version=V201, policy=Policy(fetch_inventory=False))
    station.boot()
    assert commands(station.call("StatusNotification", STATUS[V201]).events) == []
    assert station.state is not None
    assert not station.state.inventory_due


def test_a_station_not_accepted_is_not_asked() -> None:
    station = Station(version=V201, policy=Policy(unknown_station=BootStatus.PENDING))
    station.boot()
    assert station.state is not None
    assert not station.state.inventory_due
