"""Alerts: what needs an operator, raised once and resolved once (pure).

alerts.v1 (key station_id) is the log: ``AlertRaised`` when a condition begins, ``AlertResolved``
when it ends; at most one alert of an ``alert_id`` is open at a time. alerts.open.v1 (key
alert_id, compacted) holds each open alert as it stands (``AlertOpen``) and a tombstone once it
is resolved, so a reader starts from the open alerts without reading the log. The alerts
service decides (services/alerts/core/rules.py; docs/alerts.md).
"""

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from contracts.envelope import Envelope
from contracts.events import DomainEvent, EventType
from contracts.fields import mapping, moment, text
from contracts.topics import Topic


class AlertKind(StrEnum):
    STATION_OFFLINE = "StationOffline"  # offline longer than the threshold
    CONNECTOR_FAULTED = "ConnectorFaulted"  # a connector's status is Faulted
    COMPONENT_PROBLEM = "ComponentProblem"  # 2.0.1 NotifyEvent: a component's Problem is true
    CRITICAL_SECURITY_EVENT = "CriticalSecurityEvent"  # a security event the 2.0.1 list marks
    FIRMWARE_FAILED = "FirmwareFailed"  # a firmware update (or publication) ended in failure
    LOG_UPLOAD_FAILED = "LogUploadFailed"  # a log or diagnostics upload ended in failure
    REBOOT_LOOP = "RebootLoop"  # the station booted again and again


class Severity(StrEnum):
    CRITICAL = "critical"  # act now: the station cannot charge, or is under attack
    MAJOR = "major"  # act today
    MINOR = "minor"  # look when there is time


@dataclass(frozen=True, slots=True, kw_only=True)
class Alert:
    """One alert. ``alert_id`` is ``<station_id>/<kind>`` and, where a station can have several
    of a kind at once, ``/<what>`` (the connector, the component, the security event type)."""

    alert_id: str
    station_id: str
    kind: AlertKind
    severity: Severity
    raised_at: datetime  # when the condition began (the event's time, not the alert's)
    summary: str  # one line for a person
    details: Mapping[str, Any] = field(default_factory=dict)  # what the condition says
    resolved_at: datetime | None = None
    resolution: str | None = None  # why it was resolved, for a person

    def to_dict(self) -> dict[str, Any]:
        return {
            "alert_id": self.alert_id,
            "station_id": self.station_id,
            "kind": str(self.kind),
            "severity": str(self.severity),
            "raised_at": self.raised_at,
            "summary": self.summary,
            "details": dict(self.details),
            "resolved_at": self.resolved_at,
            "resolution": self.resolution,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Alert | None":
        kind, severity = text(data, "kind"), text(data, "severity")
        alert_id, raised_at = text(data, "alert_id"), moment(data, "raised_at")
        if kind not in set(AlertKind) or severity not in set(Severity):
            return None
        if alert_id is None or raised_at is None:
            return None
        return cls(
            alert_id=alert_id,
            station_id=text(data, "station_id") or alert_id.partition("/")[0],
            kind=AlertKind(kind),
            severity=Severity(severity),
            raised_at=raised_at,
            summary=text(data, "summary") or "",
            details=dict(mapping(data, "details") or {}),
            resolved_at=moment(data, "resolved_at"),
            resolution=text(data, "resolution"),
        )

    def raised(self) -> list[DomainEvent]:
        """AlertRaised on alerts.v1, and the alert on alerts.open.v1."""
        return [
            DomainEvent(
                topic=Topic.ALERTS,
                event_type=EventType.ALERT_RAISED,
                key=self.station_id,
                payload=self.to_dict(),
            ),
            DomainEvent(
                topic=Topic.ALERTS_OPEN,
                event_type=EventType.ALERT_OPEN,
                key=self.alert_id,
                payload=self.to_dict(),
            ),
        ]

    def resolved(self, at: datetime, resolution: str) -> tuple["Alert", list[DomainEvent]]:
        """The alert resolved at ``at``: AlertResolved on alerts.v1, a tombstone on
        alerts.open.v1."""
        done = replace(self, resolved_at=at, resolution=resolution)
        return done, [
            DomainEvent(
                topic=Topic.ALERTS,
                event_type=EventType.ALERT_RESOLVED,
                key=self.station_id,
                payload=done.to_dict(),
            ),
            DomainEvent(
                topic=Topic.ALERTS_OPEN,
                event_type=EventType.ALERT_OPEN,
                key=self.alert_id,
                payload={},
                tombstone=True,
            ),
        ]

    @classmethod
    def parse(cls, envelope: Envelope) -> "Alert | None":
        """An AlertRaised, AlertResolved or AlertOpen record's alert."""
        types = (EventType.ALERT_RAISED, EventType.ALERT_RESOLVED, EventType.ALERT_OPEN)
        if envelope.event_type not in types:
            return None
        return cls.from_dict(envelope.payload)
