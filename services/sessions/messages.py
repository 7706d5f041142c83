"""Inbound records as typed station messages, and OCPP timestamp text (pure)."""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from contracts.envelope import Envelope
from contracts.events import EventType
from gateway.ocpp.versions import OcppVersion


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
        version = _version(p.get("ocpp_version"))
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
            ocpp_version=_version(p.get("ocpp_version")),
            at=utc(at if isinstance(at, datetime) else envelope.occurred_at),
        )
    return None


# Readers for payload fields: the gateway validated the payload, lenient mode may still let
# through odd values, and a handler never raises on what a station sent.


def text(p: Mapping[str, Any], name: str) -> str | None:
    value = p.get(name)
    return value if isinstance(value, str) else None


def whole(p: Mapping[str, Any], name: str) -> int | None:
    value = p.get(name)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def number(p: Mapping[str, Any], name: str) -> float | None:
    value = p.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def mapping(p: Mapping[str, Any], name: str) -> Mapping[str, Any] | None:
    value = p.get(name)
    return value if isinstance(value, Mapping) else None


def _version(value: object) -> OcppVersion | None:
    return OcppVersion(value) if isinstance(value, str) and value in set(OcppVersion) else None


def utc(value: datetime) -> datetime:
    """``value`` in UTC; a naive datetime is taken to be UTC already."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# Lenient gateways let through lowercase "t"/"z", "+0200", second 60 and long fractions.
_FRACTION = re.compile(r"(\.\d{6})\d+")
_LEAP_SECOND = re.compile(r"(T\d\d:\d\d:)60")


def parse_timestamp(value: object) -> datetime | None:
    """An OCPP dateTime (RFC 3339) as an aware UTC datetime; None if it is not one.

    A missing zone means UTC (lenient gateways pass such values on); a leap second 60 is read
    as 59.
    """
    if isinstance(value, datetime):
        return utc(value)
    if not isinstance(value, str):
        return None
    text = _LEAP_SECOND.sub(r"\g<1>59", _FRACTION.sub(r"\1", value.upper()))
    try:
        return utc(datetime.fromisoformat(text))
    except ValueError:
        return None


def rfc3339(value: datetime) -> str:
    """UTC, milliseconds and a "Z", as OCPP wants every dateTime (ocpp.md §1.7)."""
    return utc(value).isoformat(timespec="milliseconds").replace("+00:00", "Z")
