"""Parsing inbound envelopes into the messages the sessions core handles."""

from typing import Any

import pytest

from contracts.envelope import Envelope
from contracts.events import EventType
from contracts.payloads.ocpp import StationAnswer, StationCall
from contracts.payloads.presence import Presence
from ocppj.versions import OcppVersion
from services.sessions.core.messages import parse
from tests.unit.services.sessions.core.station import T0, at

CALL = {
    "station_id": "CS-0001",
    "ocpp_version": "ocpp1.6",
    "connection_id": "6d29a5881b924856",
    "gateway": 3,
    "unique_id": "19223201",
    "action": "StartTransaction",
    "answered_by_gateway": False,
    "payload": {"connectorId": 1},
}
PRESENCE = {
    "station_id": "CS-0001",
    "ocpp_version": "ocpp2.0.1",
    "connection_id": "c1",
    "gateway": 3,
    "gateway_boot": "b",
    "connected_at": at(-10),
    "state": "connected",
}


def envelope(event_type: str, payload: dict[str, Any], key: str = "CS-0001") -> Envelope:
    return Envelope(
        event_type=event_type, schema_version=1, key=key, payload=payload, occurred_at=T0
    )


def test_an_ocpp_call() -> None:
    assert parse(envelope(EventType.OCPP_CALL, CALL)) == StationCall(
        station_id="CS-0001",
        ocpp_version=OcppVersion.V16,
        unique_id="19223201",
        action="StartTransaction",
        payload={"connectorId": 1},
        connection_id="6d29a5881b924856",
        gateway=3,
        received_at=T0,
        answered_by_gateway=False,
    )


def test_a_heartbeat_answered_by_the_gateway_and_the_key_as_station_id() -> None:
    payload = {k: v for k, v in CALL.items() if k not in ("station_id", "gateway")}
    message = parse(envelope(EventType.OCPP_CALL, payload | {"answered_by_gateway": True}))
    assert isinstance(message, StationCall)
    assert (message.station_id, message.answered_by_gateway, message.gateway) == (
        "CS-0001",
        True,
        None,
    )


@pytest.mark.parametrize(
    "changes",
    [
        {"ocpp_version": "ocpp9"},
        {"ocpp_version": 16},
        {"unique_id": ""},
        {"action": None},
        {"payload": "{}"},
    ],
)
def test_an_unusable_call_is_none(changes: dict[str, Any]) -> None:
    assert parse(envelope(EventType.OCPP_CALL, CALL | changes)) is None


def test_no_station_is_none() -> None:
    assert parse(envelope(EventType.OCPP_CALL, CALL | {"station_id": None}, key="")) is None


def test_presence() -> None:
    connected = parse(envelope(EventType.STATION_CONNECTED, PRESENCE))
    assert connected == Presence(
        station_id="CS-0001",
        connected=True,
        connection_id="c1",
        gateway=3,
        ocpp_version=OcppVersion.V201,
        gateway_boot="b",
        connected_at=at(-10),
    )
    gone = PRESENCE | {"disconnected_at": at(-5), "state": "disconnected", "ocpp_version": None}
    disconnected = parse(envelope(EventType.STATION_DISCONNECTED, gone))
    assert isinstance(disconnected, Presence)
    assert (disconnected.connected, disconnected.at, disconnected.ocpp_version) == (
        False,
        at(-5),
        None,
    )
    # without its own time, the record's
    no_time = parse(envelope(EventType.STATION_DISCONNECTED, PRESENCE))
    assert isinstance(no_time, Presence)
    assert no_time.at == T0


def test_presence_without_connection_is_none() -> None:
    assert parse(envelope(EventType.STATION_CONNECTED, PRESENCE | {"connection_id": ""})) is None


@pytest.mark.parametrize(
    "event_type",
    [EventType.OCPP_CALL_RESULT, EventType.OCPP_SEND, EventType.SESSION_STARTED, "Whatever"],
)
def test_other_event_types_are_none(event_type: str) -> None:
    assert parse(envelope(event_type, CALL)) is None


def test_a_stations_answer_to_a_remote_start_is_read_and_to_other_commands_not() -> None:
    answer = CALL | {"action": "RequestStartTransaction", "request": {"remoteStartId": 1}}
    parsed = parse(envelope(EventType.OCPP_CALL_RESULT, answer))
    assert isinstance(parsed, StationAnswer)
    assert parsed.request == {"remoteStartId": 1}
    assert parse(envelope(EventType.OCPP_CALL_RESULT, answer | {"action": "Reset"})) is None
