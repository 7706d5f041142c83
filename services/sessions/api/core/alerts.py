"""The alerts read model: open alerts from alerts.open.v1, recently resolved ones from alerts.v1
(pure).

alerts.open.v1 is compacted and read from its beginning: each open alert as it stands, a
tombstone when it is resolved; it alone says what is open. alerts.v1 is read over the API's
recent window (``--sessions-window``) for the alerts resolved in it, newest kept up to
``MAX_RESOLVED``.
"""

from collections import OrderedDict
from typing import Any

from contracts.envelope import Envelope
from contracts.events import EventType
from contracts.fields import jsonable
from contracts.http_api import Query, paged
from contracts.payloads.alerts import Alert, AlertKind, Severity

MAX_RESOLVED = 10_000
_SEVERITY_ORDER = {Severity.CRITICAL: 0, Severity.MAJOR: 1, Severity.MINOR: 2}


def alert_json(alert: Alert) -> dict[str, Any]:
    """One alert (openapi.json: Alert)."""
    return {
        "alert_id": alert.alert_id,
        "station_id": alert.station_id,
        "kind": str(alert.kind),
        "severity": str(alert.severity),
        "summary": alert.summary,
        "raised_at": jsonable(alert.raised_at),
        "resolved_at": jsonable(alert.resolved_at),
        "resolution": alert.resolution,
        "details": jsonable(dict(alert.details)),
    }


class AlertsView:
    def __init__(self) -> None:
        self._open: dict[str, Alert] = {}
        self._by_station: dict[str, dict[str, Alert]] = {}  # station -> alert_id -> open alert
        self._resolved: OrderedDict[tuple[str, str], Alert] = OrderedDict()

    def apply(self, envelope: Envelope) -> bool:
        alert = Alert.parse(envelope)
        if alert is None:
            return False
        if envelope.event_type == EventType.ALERT_OPEN:
            self._open[alert.alert_id] = alert
            self._by_station.setdefault(alert.station_id, {})[alert.alert_id] = alert
        elif envelope.event_type == EventType.ALERT_RESOLVED:
            self._resolved[alert.alert_id, alert.raised_at.isoformat()] = alert
            while len(self._resolved) > MAX_RESOLVED:
                self._resolved.popitem(last=False)
        else:
            return False  # AlertRaised: alerts.open.v1 says the same, and says it first
        return True

    def remove(self, alert_id: str) -> None:
        """A tombstone on alerts.open.v1: that alert was resolved."""
        alert = self._open.pop(alert_id, None)
        if alert is not None:
            of_station = self._by_station.get(alert.station_id, {})
            of_station.pop(alert_id, None)
            if not of_station:
                self._by_station.pop(alert.station_id, None)

    def open_of(self, station_id: str) -> list[Alert]:
        return list(self._by_station.get(station_id, {}).values())

    def query(self, query: Query) -> dict[str, Any]:
        """GET /alerts: open alerts by default, most severe and newest first."""
        state = query.choice("state", ("open", "resolved")) or "open"
        station_id = query.string("station_id")
        kind = query.choice("kind", tuple(AlertKind))
        severity = query.choice("severity", tuple(Severity))
        pool = self._open.values() if state == "open" else self._resolved.values()
        matching = [
            a
            for a in pool
            if (station_id is None or a.station_id == station_id)
            and (kind is None or a.kind == kind)
            and (severity is None or a.severity == severity)
        ]
        if state == "open":
            matching.sort(key=lambda a: (_SEVERITY_ORDER[a.severity], -a.raised_at.timestamp()))
        else:
            matching.sort(key=lambda a: a.resolved_at or a.raised_at, reverse=True)
        page, counts = paged(query, matching)
        return {"items": [alert_json(a) for a in page], **counts}
