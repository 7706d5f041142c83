"""The presence read model: which gateway holds each station, from ocpp.presence.v1 (pure).

Rules (docs/events.md, design "Routing"): the newest connection of a station wins; a disconnect
applies only if its ``connection_id`` is the station's current one; an entry written by an older
boot of its gateway (``gateway_boot``) is stale, so the station counts as offline.
"""

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from contracts.envelope import Envelope
from contracts.events import EventType
from contracts.fields import jsonable, moment, text, whole
from ocppj.versions import OcppVersion, version_named


@dataclass(frozen=True, slots=True, kw_only=True)
class Presence:
    """The current (or last) connection of one station."""

    station_id: str
    connected: bool  # the last record of this connection said "connected"
    gateway: int
    connection_id: str
    ocpp_version: OcppVersion | None
    gateway_boot: str
    connected_at: datetime | None
    disconnected_at: datetime | None = None
    reason: str | None = None

    def to_json(self, *, online: bool) -> dict[str, Any]:
        return {
            "online": online,
            "gateway": self.gateway,
            "connection_id": self.connection_id,
            "ocpp_version": None if self.ocpp_version is None else str(self.ocpp_version),
            "connected_at": jsonable(self.connected_at),
            "disconnected_at": jsonable(self.disconnected_at),
            "disconnect_reason": self.reason,
        }


class PresenceView:
    """Presence per station, kept equal to ocpp.presence.v1 by ``apply``."""

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
        newest = self._boots.get(entry.gateway)
        return newest is not None and bool(entry.gateway_boot) and newest[1] != entry.gateway_boot

    def apply(self, envelope: Envelope) -> bool:
        """Apply one presence record; returns whether it changed the view (False: ignored)."""
        p = envelope.payload
        station_id, connection_id = text(p, "station_id") or envelope.key, text(p, "connection_id")
        gateway = whole(p, "gateway")
        if connection_id is None or gateway is None:
            return False
        boot = text(p, "gateway_boot") or ""
        if boot:
            self._note_boot(gateway, boot, envelope.occurred_at)
        current = self._entries.get(station_id)
        if envelope.event_type == EventType.STATION_CONNECTED:
            connected_at = moment(p, "connected_at") or envelope.occurred_at
            if (
                current is not None
                and current.connection_id != connection_id
                and current.connected
                and current.connected_at is not None
                and connected_at < current.connected_at
            ):
                return False  # an older socket's record: the newest connection wins
            self._entries[station_id] = Presence(
                station_id=station_id,
                connected=True,
                gateway=gateway,
                connection_id=connection_id,
                ocpp_version=version_named(p.get("ocpp_version")),
                gateway_boot=boot,
                connected_at=connected_at,
            )
            return True
        if envelope.event_type == EventType.STATION_DISCONNECTED:
            if current is None:
                self._entries[station_id] = Presence(
                    station_id=station_id,
                    connected=False,
                    gateway=gateway,
                    connection_id=connection_id,
                    ocpp_version=version_named(p.get("ocpp_version")),
                    gateway_boot=boot,
                    connected_at=moment(p, "connected_at"),
                    disconnected_at=moment(p, "disconnected_at") or envelope.occurred_at,
                    reason=text(p, "reason"),
                )
                return True
            if current.connection_id != connection_id:
                return False  # a late disconnect of an older connection
            self._entries[station_id] = replace(
                current,
                connected=False,
                disconnected_at=moment(p, "disconnected_at") or envelope.occurred_at,
                reason=text(p, "reason"),
            )
            return True
        return False

    def remove(self, station_id: str) -> None:
        """A tombstone: the station is forgotten."""
        self._entries.pop(station_id, None)

    def _note_boot(self, gateway: int, boot: str, at: datetime) -> None:
        newest = self._boots.get(gateway)
        if newest is None or at >= newest[0]:
            self._boots[gateway] = (at, boot)

    def station_ids(self) -> list[str]:
        return list(self._entries)
