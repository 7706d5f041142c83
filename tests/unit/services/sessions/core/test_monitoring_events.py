"""NotifyEvent becomes one MonitoringEventReported per eventData (pure)."""

from datetime import UTC, datetime

from contracts.events import EventType
from contracts.payloads.monitoring_events import MonitoringEventReported
from contracts.payloads.ocpp import Reply
from contracts.topics import Topic
from tests.unit.services.sessions.core.station import V201, Station

FAULT = {
    "eventId": 7,
    "timestamp": "2026-11-26T03:04:05Z",
    "trigger": "Alerting",
    "actualValue": "true",
    "techCode": "CX001",
    "techInfo": "ground fault",
    "eventNotificationType": "HardWiredNotification",
    "component": {"name": "Connector", "evse": {"id": 1, "connectorId": 1}},
    "variable": {"name": "Problem"},
}


def _reported(event_data: list[dict[str, object]]) -> list[MonitoringEventReported]:
    station = Station(version=V201)
    station.boot()
    step = station.call(
        "NotifyEvent",
        {"generatedAt": "2026-11-26T03:04:06Z", "seqNo": 0, "eventData": event_data},
    )
    assert step.reply == Reply({})
    assert {(e.topic, e.event_type) for e in step.events} <= {
        (Topic.STATIONS, EventType.MONITORING_EVENT_REPORTED)
    }
    found = [MonitoringEventReported.parse(e.envelope()) for e in step.events]
    return [f for f in found if f is not None]


def test_a_hard_wired_fault_and_its_clearing_are_two_events_with_where_and_why() -> None:
    cleared = FAULT | {"eventId": 8, "actualValue": "false", "cleared": True, "cause": 7}
    raised, gone = _reported([FAULT, cleared])
    assert (raised.component, raised.evse_id, raised.connector_id, raised.variable) == (
        "Connector",
        1,
        1,
        "Problem",
    )
    assert (raised.tech_code, raised.tech_info, raised.cleared) == ("CX001", "ground fault", False)
    assert raised.at == datetime(2026, 11, 26, 3, 4, 5, tzinfo=UTC)
    assert raised.generated_at == datetime(2026, 11, 26, 3, 4, 6, tzinfo=UTC)
    assert (gone.event_id, gone.cleared, gone.cause, gone.actual_value) == (8, True, 7, "false")


def test_a_monitor_that_fired_names_itself_and_a_station_level_component_has_no_evse() -> None:
    (event,) = _reported(
        [
            {
                "eventId": 1,
                "timestamp": "2026-11-26T03:00:00Z",
                "trigger": "Periodic",
                "actualValue": "41.5",
                "eventNotificationType": "CustomMonitor",
                "variableMonitoringId": 12,
                "component": {"name": "ChargingStation"},
                "variable": {"name": "Temperature", "instance": "inlet"},
            }
        ]
    )
    assert (event.trigger, event.monitor_id, event.evse_id, event.variable_instance) == (
        "Periodic",
        12,
        None,
        "inlet",
    )
