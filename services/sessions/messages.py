"""Inbound records as typed station messages (pure)."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from contracts.envelope import Envelope
from contracts.events import EventType
from contracts.fields import text, whole
from ocppj.timestamps import utc
from ocppj.versions import OcppVersion, version_named


@dataclass(frozen=True, slots=True, kw_only=True)
class StationCall:
    """A station-initiated CALL (an OcppCall record), payload as the station sent it."""

    station_id: str
    ocpp_version: OcppVersion
    unique_id: str
    action: str
    payload: Mapping[str, Any] = field(default_factory=dict)
    connection_id: str
    gateway: int | None = None
    received_at: datetime  # the envelope's occurred_at: when the gateway received the frame
    answered_by_gateway: bool = False  # Heartbeat: the gateway answered, nobody else may


@dataclass(frozen=True, slots=True, kw_only=True)
class PresenceChange:
    """A StationConnected (``connected``) or StationDisconnected record."""

    station_id: str
    connected: bool
    connection_id: str
    gateway: int | None = None
    ocpp_version: OcppVersion | None = None
    at: datetime


def parse(envelope: Envelope) -> StationCall | PresenceChange | None:
    """The message an envelope carries; None for other event types or unusable payloads."""
    p = envelope.payload
    station_id = text(p, "station_id") or envelope.key
    if not station_id:
        return None
    if envelope.event_type == EventType.OCPP_CALL:
        version = version_named(p.get("ocpp_version"))
        unique_id, action = text(p, "unique_id"), text(p, "action")
        payload = p.get("payload")
        if version is None or not unique_id or not action:
            return None
        if not isinstance(payload, Mapping):
            return None
        return StationCall(
            station_id=station_id,
            ocpp_version=version,
            unique_id=unique_id,
            action=action,
            payload=payload,
            connection_id=text(p, "connection_id") or "",
            gateway=whole(p, "gateway"),
            received_at=utc(envelope.occurred_at),
            answered_by_gateway=p.get("answered_by_gateway") is True,
        )
    if envelope.event_type in (EventType.STATION_CONNECTED, EventType.STATION_DISCONNECTED):
        connected = envelope.event_type == EventType.STATION_CONNECTED
        connection_id = text(p, "connection_id")
        if not connection_id:
            return None
        at = p.get("connected_at" if connected else "disconnected_at")
        return PresenceChange(
            station_id=station_id,
            connected=connected,
            connection_id=connection_id,
            gateway=whole(p, "gateway"),
            ocpp_version=version_named(p.get("ocpp_version")),
            at=utc(at if isinstance(at, datetime) else envelope.occurred_at),
        )
    return None
