"""StationConnected / StationDisconnected on ocpp.presence.v1: which gateway holds a station (pure).

Readers apply the rules of docs/events.md, as ``PresenceView`` does: the newest connection of a
station wins; a disconnect applies only if its ``connection_id`` is the station's current one;
an entry written by an older boot of its gateway (``gateway_boot``) is stale. Any service that
routes commands to stations follows ocpp.presence.v1 into a PresenceView.
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


class PresenceView:
    """The current (or last) connection per station, kept equal to ocpp.presence.v1 by
    ``apply``; every entry names its gateway."""

    def __init__(self) -> None:
        self._entries: dict[str, Presence] = {}
        self._boots: dict[int, tuple[datetime, str]] = {}  # gateway -> newest (seen at, boot)

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, station_id: object) -> bool:
        return station_id in self._entries

    def get(self, station_id: str) -> Presence | None:
        return self._entries.get(station_id)

    def online(self, station_id: str) -> bool:
        """Connected, and written by the newest boot of its gateway that we know of."""
        entry = self._entries.get(station_id)
        return entry is not None and entry.connected and not self._stale(entry)

    def _stale(self, entry: Presence) -> bool:
        newest = None if entry.gateway is None else self._boots.get(entry.gateway)
        return newest is not None and bool(entry.gateway_boot) and newest[1] != entry.gateway_boot

    def apply(self, envelope: Envelope) -> bool:
        """Apply one presence record; returns whether it changed the view (False: ignored)."""
        record = Presence.parse(envelope)
        if record is None or record.gateway is None:
            return False  # not presence, or no route to the station in it
        if record.gateway_boot:
            self._note_boot(record.gateway, record.gateway_boot, envelope.occurred_at)
        current = self._entries.get(record.station_id)
        if record.connected:
            if (
                current is not None
                and current.connection_id != record.connection_id
                and current.connected
                and current.connected_at is not None
                and record.connected_at is not None
                and record.connected_at < current.connected_at
            ):
                return False  # an older socket's record: the newest connection wins
            self._entries[record.station_id] = record
            return True
        if current is None:
            self._entries[record.station_id] = record
            return True
        if current.connection_id != record.connection_id:
            return False  # a late disconnect of an older connection
        self._entries[record.station_id] = replace(
            current,
            connected=False,
            disconnected_at=record.disconnected_at,
            reason=record.reason,
        )
        return True

    def remove(self, station_id: str) -> None:
        """A tombstone: the station is forgotten."""
        self._entries.pop(station_id, None)

    def _note_boot(self, gateway: int, boot: str, at: datetime) -> None:
        newest = self._boots.get(gateway)
        if newest is None or at >= newest[0]:
            self._boots[gateway] = (at, boot)

    def station_ids(self) -> list[str]:
        return list(self._entries)
