"""The version-neutral station facts of stations.v1: booted, status changed, online/offline (pure).

Written by the sessions service (``event()``), read by the API, billing, load balancing and other
teams (``parse()``). Times are aware datetimes (msgpack timestamps).
"""

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from contracts.envelope import Envelope
from contracts.events import DomainEvent, EventType
from contracts.fields import moment, text, whole
from contracts.topics import Topic


@dataclass(frozen=True, slots=True, kw_only=True)
class StationBooted:
    """A BootNotification the sessions service answered (any status)."""

    station_id: str
    vendor: str | None
    model: str | None
    serial_number: str | None
    firmware_version: str | None
    ocpp_version: str | None  # "ocpp1.6", "ocpp2.0.1", ...
    boot_status: str | None  # Accepted, Pending, Rejected

    def event(self) -> DomainEvent:
        payload: dict[str, Any] = {
            "station_id": self.station_id,
            "vendor": self.vendor,
            "model": self.model,
            "serial_number": self.serial_number,
            "firmware_version": self.firmware_version,
            "ocpp_version": self.ocpp_version,
            "boot_status": self.boot_status,
        }
        return DomainEvent(
            topic=Topic.STATIONS,
            event_type=EventType.STATION_BOOTED,
            key=self.station_id,
            payload=payload,
        )

    @classmethod
    def parse(cls, envelope: Envelope) -> "StationBooted | None":
        if envelope.event_type != EventType.STATION_BOOTED:
            return None
        p = envelope.payload
        return cls(
            station_id=text(p, "station_id") or envelope.key,
            vendor=text(p, "vendor"),
            model=text(p, "model"),
            serial_number=text(p, "serial_number"),
            firmware_version=text(p, "firmware_version"),
            ocpp_version=text(p, "ocpp_version"),
            boot_status=text(p, "boot_status"),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class StationStatusChanged:
    """A connector's (1.6) or EVSE connector's (2.0.1) new status."""

    station_id: str
    evse_id: int | None
    connector_id: int | None
    status: str  # Available, Occupied, Charging, Faulted, ...
    error_code: str | None
    at: datetime | None

    def event(self) -> DomainEvent:
        payload: dict[str, Any] = {
            "station_id": self.station_id,
            "evse_id": self.evse_id,
            "connector_id": self.connector_id,
            "status": self.status,
            "error_code": self.error_code,
            "at": self.at,
        }
        return DomainEvent(
            topic=Topic.STATIONS,
            event_type=EventType.STATION_STATUS_CHANGED,
            key=self.station_id,
            payload=payload,
        )

    @classmethod
    def parse(cls, envelope: Envelope) -> "StationStatusChanged | None":
        """None without a status; a missing ``at`` is the record's ``occurred_at``."""
        p = envelope.payload
        status = text(p, "status")
        if envelope.event_type != EventType.STATION_STATUS_CHANGED or status is None:
            return None
        return cls(
            station_id=text(p, "station_id") or envelope.key,
            evse_id=whole(p, "evse_id"),
            connector_id=whole(p, "connector_id"),
            status=status,
            error_code=text(p, "error_code"),
            at=moment(p, "at") or envelope.occurred_at,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class StationOnlineChanged:
    """StationOnline / StationOffline: the sessions service saw the station connect or leave."""

    station_id: str
    online: bool
    gateway: int | None
    connection_id: str | None
    at: datetime | None
    reason: str | None = None  # StationOffline without a disconnect: why (its gateway is gone)

    def event(self) -> DomainEvent:
        payload: dict[str, Any] = {
            "station_id": self.station_id,
            "gateway": self.gateway,
            "connection_id": self.connection_id,
            "at": self.at,
        }
        if self.reason is not None:
            payload["reason"] = self.reason
        return DomainEvent(
            topic=Topic.STATIONS,
            event_type=EventType.STATION_ONLINE if self.online else EventType.STATION_OFFLINE,
            key=self.station_id,
            payload=payload,
        )

    @classmethod
    def parse(cls, envelope: Envelope) -> "StationOnlineChanged | None":
        """A missing ``at`` is the record's ``occurred_at``."""
        if envelope.event_type not in (EventType.STATION_ONLINE, EventType.STATION_OFFLINE):
            return None
        p = envelope.payload
        return cls(
            station_id=text(p, "station_id") or envelope.key,
            online=envelope.event_type == EventType.STATION_ONLINE,
            gateway=whole(p, "gateway"),
            connection_id=text(p, "connection_id"),
            at=moment(p, "at") or envelope.occurred_at,
            reason=text(p, "reason"),
        )


def report_fact(payload: Mapping[str, Any]) -> str | None:
    """The fact a ReportReceived states in stations.latest.v1: ``report/device_model`` for a
    whole device model, ``report/device_model/partial`` for the newest other one,
    ``report/<kind>`` for monitors, charging profiles and display messages. None for customer
    information: a driver's personal data is not kept forever in a compacted topic."""
    kind = payload.get("kind")
    if kind == "customer_information" or not isinstance(kind, str):
        return None
    if kind == "device_model" and not whole_device_model(payload):
        return "report/device_model/partial"
    return f"report/{kind}"


def whole_device_model(payload: Mapping[str, Any]) -> bool:
    """Whether a ReportReceived payload is a station's whole device model: a complete report
    of a GetBaseReport FullInventory (1.6: GetConfiguration without keys), no row dropped."""
    requested = payload.get("requested")
    if payload.get("kind") != "device_model" or not isinstance(requested, Mapping):
        return False
    if payload.get("outcome") != "complete" or payload.get("rows_dropped"):
        return False
    request = requested.get("request")
    request = request if isinstance(request, Mapping) else {}
    if requested.get("action") == "GetConfiguration":
        return not request.get("key")
    return bool(request.get("reportBase") == "FullInventory")


def latest(event: DomainEvent) -> DomainEvent | None:
    """The copy of a stations.v1 event for stations.latest.v1, keyed by the fact it states, so
    that compaction keeps the newest of each: ``<station_id>/boot``, ``<station_id>/online``,
    ``<station_id>/connector/<evse_id>/<connector_id>`` (a missing id as 0),
    ``<station_id>/firmware``, ``<station_id>/log``, ``<station_id>/report/...``
    (``report_fact``). None for other events."""
    if event.topic != Topic.STATIONS:
        return None
    station_id = str(event.payload.get("station_id") or event.key)
    if event.event_type == EventType.STATION_BOOTED:
        fact = "boot"
    elif event.event_type in (EventType.STATION_ONLINE, EventType.STATION_OFFLINE):
        fact = "online"
    elif event.event_type == EventType.STATION_STATUS_CHANGED:
        evse, connector = event.payload.get("evse_id") or 0, event.payload.get("connector_id") or 0
        fact = f"connector/{evse}/{connector}"
    elif event.event_type == EventType.FIRMWARE_STATUS_REPORTED:
        fact = "firmware"
    elif event.event_type == EventType.LOG_STATUS_REPORTED:
        fact = "log"
    elif event.event_type == EventType.REPORT_RECEIVED:
        found = report_fact(event.payload)
        if found is None:
            return None
        fact = found
    else:
        return None
    return replace(event, topic=Topic.STATIONS_LATEST, key=f"{station_id}/{fact}")
