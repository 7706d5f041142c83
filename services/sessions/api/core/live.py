"""What the console hears live: changed stations, sessions and alerts, and recent events (pure).

The read models mark what a record changed (``Changes``); the live feed (api/live.py) drains the
marks every ``FLUSH_S`` and sends each subscriber the new documents as server-sent events, so a
burst of ten thousand records about one station costs one message, and a subscriber gets at
most one message per station per flush. ``RecentEvents`` keeps the newest events of the fleet in
one ring, for a station's page.
"""

import json
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from contracts.envelope import Envelope
from contracts.events import EventType
from contracts.fields import jsonable

FLUSH_S = 0.1
RECENT = 20_000  # events kept, fleet-wide

# what a record says, in a few words, for the station page's event list
_SUMMARIES: dict[str, tuple[str, ...]] = {
    EventType.STATION_STATUS_CHANGED: ("evse_id", "connector_id", "status", "error_code"),
    EventType.STATION_BOOTED: ("vendor", "model", "firmware_version", "boot_status"),
    EventType.STATION_ONLINE: ("gateway",),
    EventType.STATION_OFFLINE: ("reason",),
    EventType.FIRMWARE_STATUS_REPORTED: ("kind", "status"),
    EventType.LOG_STATUS_REPORTED: ("kind", "status"),
    EventType.REPORT_RECEIVED: ("kind", "outcome", "parts"),
    EventType.SESSION_STARTED: ("transaction_id", "evse_id", "id_token"),
    EventType.SESSION_ENDED: ("transaction_id", "energy_wh", "stop_reason"),
    EventType.ALERT_RAISED: ("kind", "severity", "summary"),
    EventType.ALERT_RESOLVED: ("kind", "resolution"),
}


@dataclass
class Changes:
    """Marks since the last drain: stations whose document changed, sessions that changed."""

    stations: set[str] = field(default_factory=set)
    sessions: set[str] = field(default_factory=set)  # session ids
    alerts: set[str] = field(default_factory=set)  # station ids whose open alerts changed

    def drain(self) -> "Changes":
        drained = Changes(self.stations, self.sessions, self.alerts)
        self.stations, self.sessions, self.alerts = set(), set(), set()
        return drained

    def __bool__(self) -> bool:
        return bool(self.stations or self.sessions or self.alerts)


@dataclass(frozen=True, slots=True)
class RecentEvent:
    station_id: str
    event_type: str
    at: datetime
    detail: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "station_id": self.station_id,
            "event_type": self.event_type,
            "at": jsonable(self.at),
            "detail": jsonable(self.detail),
        }


class RecentEvents:
    """The newest ``RECENT`` events of the fleet that the console shows."""

    def __init__(self, size: int = RECENT) -> None:
        self._ring: deque[RecentEvent] = deque(maxlen=size)

    def note(self, station_id: str, envelope: Envelope) -> None:
        fields = _SUMMARIES.get(envelope.event_type)
        if fields is None:
            return
        detail = {name: envelope.payload.get(name) for name in fields}
        self._ring.append(
            RecentEvent(station_id, envelope.event_type, envelope.occurred_at, detail)
        )

    def of(self, station_id: str, limit: int) -> list[dict[str, Any]]:
        """The station's newest ``limit`` events, newest first."""
        found: list[dict[str, Any]] = []
        for event in reversed(self._ring):
            if event.station_id == station_id:
                found.append(event.to_json())
                if len(found) == limit:
                    break
        return found


def server_sent(kind: str, data: Any) -> bytes:
    """One server-sent event (text/event-stream): ``event: kind`` and the JSON on one line."""
    return f"event: {kind}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


def batch(items: Iterable[tuple[str, Any]]) -> bytes:
    """Several events as one write."""
    return b"".join(server_sent(kind, data) for kind, data in items)
