"""StationConnected / StationDisconnected on ocpp.presence.v1: which gateway holds a station (pure).

Readers apply the rules of docs/events.md: the newest connection of a station wins; a
disconnect applies only if its ``connection_id`` is the station's current one; an entry written
by an older boot of its gateway (``gateway_boot``) is stale.
"""

from dataclasses import dataclass, replace
from datetime import datetime

from contracts.envelope import Envelope
from contracts.events import EventType
from contracts.fields import moment, text, whole
from ocppj.versions import OcppVersion, version_named

SCHEMA_VERSION = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class Presence:
    """One connection of a station to a gateway: as it began, and as it ended."""

    station_id: str
    connected: bool  # StationConnected; False: StationDisconnected
    gateway: int | None  # the gateway instance k = its inbox partition
    connection_id: str
    ocpp_version: OcppVersion | None
    gateway_boot: str  # changes at every gateway start: tells stale presence apart
    connected_at: datetime | None
    disconnected_at: datetime | None = None
    reason: str | None = None  # of the disconnect: "1006", "1000 replaced by ..."

    @property
    def at(self) -> datetime | None:
        """When this record's state began."""
        return self.connected_at if self.connected else self.disconnected_at

    def ended(self, *, at: datetime, reason: str) -> "Presence":
        """The StationDisconnected of this connection."""
        return replace(self, connected=False, disconnected_at=at, reason=reason)

    def envelope(self) -> Envelope:
        """Raises: ValueError: the record has no time (``connected_at``/``disconnected_at``)."""
        at = self.at
        if at is None:
            raise ValueError("a presence record needs the time of its state")
        payload: dict[str, object] = {
            "station_id": self.station_id,
            "ocpp_version": None if self.ocpp_version is None else str(self.ocpp_version),
            "connection_id": self.connection_id,
            "gateway": self.gateway,
            "gateway_boot": self.gateway_boot,
            "connected_at": self.connected_at,
        }
        if not self.connected:
            payload |= {"disconnected_at": self.disconnected_at, "reason": self.reason}
        payload["state"] = "connected" if self.connected else "disconnected"
        return Envelope(
            event_type=(
                EventType.STATION_CONNECTED if self.connected else EventType.STATION_DISCONNECTED
            ),
            schema_version=SCHEMA_VERSION,
            key=self.station_id,
            payload=payload,
            occurred_at=at,
        )

    @classmethod
    def parse(cls, envelope: Envelope) -> "Presence | None":
        """The record's presence; None for other event types or without a connection id. A
        missing time is the record's ``occurred_at``."""
        if envelope.event_type == EventType.STATION_CONNECTED:
            connected = True
        elif envelope.event_type == EventType.STATION_DISCONNECTED:
            connected = False
        else:
            return None
        p = envelope.payload
        station_id, connection_id = text(p, "station_id") or envelope.key, text(p, "connection_id")
        if not station_id or not connection_id:
            return None
        connected_at = moment(p, "connected_at")
        return cls(
            station_id=station_id,
            connected=connected,
            gateway=whole(p, "gateway"),
            connection_id=connection_id,
            ocpp_version=version_named(p.get("ocpp_version")),
            gateway_boot=text(p, "gateway_boot") or "",
            connected_at=connected_at or (envelope.occurred_at if connected else None),
            disconnected_at=(
                None if connected else moment(p, "disconnected_at") or envelope.occurred_at
            ),
            reason=text(p, "reason"),
        )
