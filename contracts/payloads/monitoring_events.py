"""MonitoringEventReported on stations.v1: one event a 2.0.1 station's monitoring reported (pure).

2.0.1 N07 NotifyEvent carries one or more ``eventData``: a variable of a component crossed a
monitor's threshold, changed (Delta), was sampled (Periodic), or the firmware reports a fault
(HardWiredNotification: ``Problem`` "true", ``techCode`` the error). Each becomes one
MonitoringEventReported; a NotifyEvent split in parts (``seqNo``, ``tbc``) needs no assembly,
since every eventData stands alone. ``cleared`` closes what an earlier event opened (N07.FR.02).
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from contracts.envelope import Envelope
from contracts.events import DomainEvent, EventType
from contracts.fields import moment, text, whole
from contracts.topics import Topic


@dataclass(frozen=True, slots=True, kw_only=True)
class MonitoringEventReported:
    """One eventData of a NotifyEvent, flattened; a field the station left out is None."""

    station_id: str
    event_id: int
    at: datetime  # when it happened at the station
    trigger: str  # Alerting, Delta, Periodic
    notification_type: str  # HardWiredNotification, HardWiredMonitor, PreconfiguredMonitor, ...
    component: str
    variable: str
    actual_value: str = ""
    cleared: bool = False
    cause: int | None = None  # the event_id that caused it
    tech_code: str | None = None
    tech_info: str | None = None
    transaction_id: str | None = None
    monitor_id: int | None = None  # variableMonitoringId
    component_instance: str | None = None
    evse_id: int | None = None
    connector_id: int | None = None
    variable_instance: str | None = None
    severity: int | None = None  # OCPP 2.1 only
    generated_at: datetime | None = None  # the NotifyEvent's
    seq_no: int | None = None

    def event(self) -> DomainEvent:
        payload: dict[str, Any] = {
            "station_id": self.station_id,
            "event_id": self.event_id,
            "at": self.at,
            "trigger": self.trigger,
            "notification_type": self.notification_type,
            "component": self.component,
            "component_instance": self.component_instance,
            "evse_id": self.evse_id,
            "connector_id": self.connector_id,
            "variable": self.variable,
            "variable_instance": self.variable_instance,
            "actual_value": self.actual_value,
            "cleared": self.cleared,
            "cause": self.cause,
            "tech_code": self.tech_code,
            "tech_info": self.tech_info,
            "transaction_id": self.transaction_id,
            "monitor_id": self.monitor_id,
            "severity": self.severity,
            "generated_at": self.generated_at,
            "seq_no": self.seq_no,
        }
        return DomainEvent(
            topic=Topic.STATIONS,
            event_type=EventType.MONITORING_EVENT_REPORTED,
            key=self.station_id,
            payload=payload,
        )

    @classmethod
    def parse(cls, envelope: Envelope) -> "MonitoringEventReported | None":
        p = envelope.payload
        event_id, trigger = whole(p, "event_id"), text(p, "trigger")
        component, variable = text(p, "component"), text(p, "variable")
        if envelope.event_type != EventType.MONITORING_EVENT_REPORTED or event_id is None:
            return None
        if trigger is None or component is None or variable is None:
            return None
        cleared = p.get("cleared")
        return cls(
            station_id=text(p, "station_id") or envelope.key,
            event_id=event_id,
            at=moment(p, "at") or envelope.occurred_at,
            trigger=trigger,
            notification_type=text(p, "notification_type") or "",
            component=component,
            variable=variable,
            actual_value=text(p, "actual_value") or "",
            cleared=cleared if isinstance(cleared, bool) else False,
            cause=whole(p, "cause"),
            tech_code=text(p, "tech_code"),
            tech_info=text(p, "tech_info"),
            transaction_id=text(p, "transaction_id"),
            monitor_id=whole(p, "monitor_id"),
            component_instance=text(p, "component_instance"),
            evse_id=whole(p, "evse_id"),
            connector_id=whole(p, "connector_id"),
            variable_instance=text(p, "variable_instance"),
            severity=whole(p, "severity"),
            generated_at=moment(p, "generated_at"),
            seq_no=whole(p, "seq_no"),
        )
