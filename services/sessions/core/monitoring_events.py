"""NotifyEvent (2.0.1 N07): each eventData passed on as MonitoringEventReported (pure).

"The CSMS SHALL respond with NotifyEventResponse" (N07.FR.03, empty). An eventData the schema
let through but that lacks what an event needs (its id, trigger, component or variable name)
is left out; the others of the same NotifyEvent still go.
"""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from contracts.fields import text, whole
from contracts.payloads.monitoring_events import MonitoringEventReported
from contracts.payloads.ocpp import Reply, StationCall
from ocppj.timestamps import parse_timestamp
from services.sessions.core.state import StationState
from services.sessions.core.step import Context, Step


def notify_event(state: StationState, call: StationCall, ctx: Context) -> Step:
    p = call.payload
    generated_at = parse_timestamp(p.get("generatedAt"))
    rows = p.get("eventData")
    events = []
    for row in rows if isinstance(rows, list) else []:
        reported = _event(call, row, generated_at, whole(p, "seqNo"))
        if reported is not None:
            events.append(reported.event())
    return Step(state=state, reply=Reply({}), events=events)


def _event(
    call: StationCall, row: object, generated_at: datetime | None, seq_no: int | None
) -> MonitoringEventReported | None:
    if not isinstance(row, Mapping):
        return None
    component = row.get("component")
    variable = row.get("variable")
    if not isinstance(component, Mapping) or not isinstance(variable, Mapping):
        return None
    found = component.get("evse")
    evse: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
    event_id, trigger = whole(row, "eventId"), text(row, "trigger")
    component_name, variable_name = text(component, "name"), text(variable, "name")
    if event_id is None or trigger is None or component_name is None or variable_name is None:
        return None
    cleared = row.get("cleared")
    return MonitoringEventReported(
        station_id=call.station_id,
        event_id=event_id,
        at=parse_timestamp(row.get("timestamp")) or call.received_at,
        trigger=trigger,
        notification_type=text(row, "eventNotificationType") or "",
        component=component_name,
        variable=variable_name,
        actual_value=text(row, "actualValue") or "",
        cleared=cleared if isinstance(cleared, bool) else False,
        cause=whole(row, "cause"),
        tech_code=text(row, "techCode"),
        tech_info=text(row, "techInfo"),
        transaction_id=text(row, "transactionId"),
        monitor_id=whole(row, "variableMonitoringId"),
        component_instance=text(component, "instance"),
        evse_id=whole(evse, "id"),
        connector_id=whole(evse, "connectorId"),
        variable_instance=text(variable, "instance"),
        severity=whole(row, "severity"),
        generated_at=generated_at,
        seq_no=seq_no,
    )
