"""Lost state heals: a station we hold no boot of is asked for one (TriggerMessage), not often."""

from datetime import timedelta

import pytest

from contracts.codec import decode, encode
from contracts.envelope import Envelope
from contracts.events import DomainEvent, EventType
from contracts.payloads.commands import StationCommand
from contracts.topics import Topic
from ocppj.versions import OcppVersion
from services.sessions.core.policy import BootStatus, Policy
from tests.unit.services.sessions.core.station import T0, Station

STATUS_16 = {"connectorId": 1, "errorCode": "NoError", "status": "Available"}
VERSIONS = [OcppVersion.V16, OcppVersion.V201, OcppVersion.V21]


def _status(version: OcppVersion) -> dict[str, object]:
    if version is OcppVersion.V16:
        return STATUS_16
    return {
        "timestamp": T0.isoformat(),
        "connectorStatus": "Available",
        "evseId": 1,
        "connectorId": 1,
    }


@pytest.mark.parametrize("version", VERSIONS)
def test_a_call_from_a_station_without_a_boot_asks_for_one_at_its_gateway(
    version: OcppVersion,
) -> None:
    station = Station(version=version)
    step = station.call("StatusNotification", _status(version))
    assert step.reply is not None  # still SecurityError: the boot comes first
    [event] = step.events
    assert (event.topic, event.event_type, event.key, event.partition) == (
        Topic.GATEWAY_INBOX,
        EventType.STATION_COMMAND,
        station.station_id,
        3,  # the gateway the CALL came through
    )
    command = StationCommand.parse(_envelope(event))
    assert command.action == "TriggerMessage"
    assert command.payload == {"requestedMessage": "BootNotification"}
    assert command.deadline == T0 + timedelta(seconds=60)
    assert command.reply_topic == Topic.COMMAND_RESULTS
    assert command.command_id == f"boot-request/{station.station_id}/2026-11-25T08:00:00.000Z"
    assert step.state.boot_requested_at == T0


def test_a_heartbeat_of_a_lost_station_asks_too() -> None:
    station = Station()
    step = station.call("Heartbeat", {}, answered_by_gateway=True)
    assert step.reply is None
    assert [e.payload["action"] for e in step.events] == ["TriggerMessage"]


def test_at_most_once_per_interval() -> None:
    station = Station(policy=Policy(boot_request_interval_s=60))
    assert station.call("StatusNotification", STATUS_16).events
    station.tick(59)
    assert station.call("StatusNotification", STATUS_16).events == []
    station.tick(1)
    assert station.call("StatusNotification", STATUS_16).events


def test_the_boot_that_follows_ends_the_asking() -> None:
    station = Station()
    station.call("StatusNotification", STATUS_16)
    station.boot()
    station.tick(3600)
    step = station.call("StatusNotification", STATUS_16)
    assert not any(e.event_type == EventType.STATION_COMMAND for e in step.events)


@pytest.mark.parametrize("status", [BootStatus.PENDING, BootStatus.REJECTED])
def test_pending_and_rejected_stations_are_not_asked(status: BootStatus) -> None:
    station = Station(policy=Policy(unknown_station=status))
    station.boot()
    station.tick(3600)
    step = station.call("StatusNotification", STATUS_16)  # Pending may send it (triggered)
    assert not any(e.event_type == EventType.STATION_COMMAND for e in step.events)


def test_an_interval_of_zero_switches_it_off() -> None:
    station = Station(policy=Policy(boot_request_interval_s=0))
    assert station.call("StatusNotification", STATUS_16).events == []
    assert Policy.from_environ({"SESSIONS_BOOT_REQUEST_INTERVAL": "0"}).boot_request_interval_s == 0
    assert Policy.from_environ({}).boot_request_interval_s == 60
    with pytest.raises(ValueError, match="must be positive"):
        Policy.from_environ({"SESSIONS_HEARTBEAT_INTERVAL": "0"})


def _envelope(event: DomainEvent) -> Envelope:
    """The record the worker writes for ``event`` (runtime/batch.py), read back."""
    return decode(encode(event.envelope()))
