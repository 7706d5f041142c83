"""Pure translation between OCPP session events and Kafka envelopes (no I/O, no clock)."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from contracts.envelope import Envelope
from contracts.events import EventType, Outcome
from contracts.topics import Topic
from ocppj.timestamps import rfc3339
from ocppj.versions import OcppVersion

SCHEMA_VERSION = 1
# Actions the gateway answers itself, because the answer needs no state (design: "Who answers").
LOCAL_ACTIONS = frozenset({"Heartbeat"})


@dataclass(frozen=True, slots=True, kw_only=True)
class Connection:
    """One station WebSocket held by this gateway."""

    station_id: str
    connection_id: str
    ocpp_version: OcppVersion
    gateway: int  # the gateway instance k = its inbox partition
    gateway_boot: str  # changes at every gateway start: tells stale presence apart
    connected_at: datetime


def correlation_id(connection_id: str, unique_id: str) -> str:
    """Ties a service's reply to the connection and the CALL it answers."""
    return f"{connection_id}/{unique_id}"


def split_correlation_id(value: str) -> tuple[str, str] | None:
    """(connection_id, unique_id), or None for a value this gateway did not issue."""
    connection_id, sep, unique_id = value.partition("/")
    return (connection_id, unique_id) if sep and connection_id and unique_id else None


def _envelope(
    event_type: EventType, key: str, payload: Mapping[str, Any], at: datetime, cause: str | None
) -> Envelope:
    return Envelope(
        event_type=event_type,
        schema_version=SCHEMA_VERSION,
        key=key,
        payload=payload,
        occurred_at=at,
        causation_id=cause,
    )


def _station(connection: Connection) -> dict[str, Any]:
    return {
        "station_id": connection.station_id,
        "ocpp_version": str(connection.ocpp_version),
        "connection_id": connection.connection_id,
        "gateway": connection.gateway,
    }


def station_call(
    connection: Connection,
    *,
    unique_id: str,
    action: str,
    payload: Mapping[str, Any],
    at: datetime,
    send: bool = False,
) -> Envelope:
    """A station CALL (or 2.1 SEND) for ocpp.inbound.v1, as the station sent it."""
    body = {
        **_station(connection),
        "unique_id": unique_id,
        "action": action,
        "payload": payload,
        # Heartbeat is answered by the gateway; services must not answer it again.
        "answered_by_gateway": action in LOCAL_ACTIONS,
    }
    event_type = EventType.OCPP_SEND if send else EventType.OCPP_CALL
    return _envelope(event_type, connection.station_id, body, at, None)


def heartbeat_result(now: datetime) -> dict[str, str]:
    """HeartbeatResponse: currentTime in RFC 3339 with a zone (ocpp.md §1.7)."""
    return {"currentTime": rfc3339(now)}


def presence_connected(connection: Connection) -> Envelope:
    payload = {
        **_station(connection),
        "gateway_boot": connection.gateway_boot,
        "connected_at": connection.connected_at,
        "state": "connected",
    }
    return _envelope(
        EventType.STATION_CONNECTED, connection.station_id, payload, connection.connected_at, None
    )


def presence_disconnected(connection: Connection, *, at: datetime, reason: str) -> Envelope:
    """Consumers apply it only if `connection_id` is the station's current one (design)."""
    payload = {
        **_station(connection),
        "gateway_boot": connection.gateway_boot,
        "connected_at": connection.connected_at,
        "disconnected_at": at,
        "reason": reason,
        "state": "disconnected",
    }
    return _envelope(EventType.STATION_DISCONNECTED, connection.station_id, payload, at, None)


@dataclass(frozen=True, slots=True, kw_only=True)
class Command:
    """A CALL a service wants sent to a station (StationCommand on the gateway inbox)."""

    command_id: str
    station_id: str
    action: str
    payload: Mapping[str, Any]
    deadline: datetime
    reply_topic: str
    event_id: str  # of the StationCommand envelope: the causation of the outcome


class InvalidCommand(ValueError):
    """A StationCommand envelope without the fields the contract requires."""


def parse_command(envelope: Envelope) -> Command:
    """Raises: InvalidCommand: if a required field is missing or has the wrong type."""
    p = envelope.payload
    fields = {"command_id": str, "action": str, "payload": dict, "deadline": datetime}
    for name, expected in fields.items():
        if not isinstance(p.get(name), expected):
            raise InvalidCommand(f"StationCommand.{name} must be {expected.__name__}")
    reply_topic = p.get("reply_topic", str(Topic.COMMAND_RESULTS))
    if not isinstance(reply_topic, str):
        raise InvalidCommand("StationCommand.reply_topic must be str")
    return Command(
        command_id=p["command_id"],
        station_id=envelope.key,
        action=p["action"],
        payload=p["payload"],
        deadline=p["deadline"],
        reply_topic=reply_topic,
        event_id=envelope.event_id,
    )


def command_outcome(
    command: Command,
    outcome: Outcome,
    *,
    gateway: int,
    at: datetime,
    response: Mapping[str, Any] | None = None,
    error: Mapping[str, Any] | None = None,
    detail: str = "",
) -> Envelope:
    """CommandCompleted: the one outcome of a command, for its reply topic."""
    payload: dict[str, Any] = {
        "command_id": command.command_id,
        "station_id": command.station_id,
        "action": command.action,
        "outcome": str(outcome),
        "gateway": gateway,
        "detail": detail,
    }
    if response is not None:
        payload["response"] = response
        if isinstance(response.get("status"), str):
            payload["status"] = response["status"]
    if error is not None:
        payload["error"] = error
    return _envelope(EventType.COMMAND_COMPLETED, command.station_id, payload, at, command.event_id)


def station_answer(
    connection: Connection,
    command: Command,
    *,
    unique_id: str,
    at: datetime,
    response: Mapping[str, Any] | None = None,
    error: Mapping[str, Any] | None = None,
) -> Envelope:
    """The station's CALLRESULT/CALLERROR to a command, for ocpp.inbound.v1 (audit trail)."""
    body: dict[str, Any] = {
        **_station(connection),
        "unique_id": unique_id,
        "action": command.action,
        "command_id": command.command_id,
    }
    if error is None:
        body["payload"] = response or {}
        event_type = EventType.OCPP_CALL_RESULT
    else:
        body["error"] = error
        event_type = EventType.OCPP_CALL_ERROR
    return _envelope(event_type, connection.station_id, body, at, command.event_id)


@dataclass(frozen=True, slots=True)
class Reply:
    """A service's answer to a station CALL, read from the gateway inbox."""

    connection_id: str
    unique_id: str
    payload: Mapping[str, Any] | None  # CALLRESULT payload, or None for a CALLERROR
    error_code: str
    error_description: str


def parse_reply(envelope: Envelope, correlation: str) -> Reply | None:
    """The reply for a CALL this gateway published, or None if it is not one of ours."""
    ids = split_correlation_id(correlation)
    if ids is None:
        return None
    p = envelope.payload
    if envelope.event_type == EventType.OCPP_REPLY and isinstance(p.get("payload"), dict):
        return Reply(ids[0], ids[1], p["payload"], "", "")
    if envelope.event_type == EventType.OCPP_REPLY_ERROR:
        code = p.get("code")
        description = p.get("description", "")
        return Reply(
            ids[0],
            ids[1],
            None,
            code if isinstance(code, str) else "InternalError",
            description if isinstance(description, str) else "",
        )
    return None
