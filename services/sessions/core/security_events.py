"""SecurityEventNotification (2.0.1 A04, 1.6 security extension), passed on (pure).

"The CSMS SHALL respond with SecurityEventNotificationResponse" (empty); the event goes to
stations.v1 as SecurityEventReported, its type normalised and its criticality set
(contracts/payloads/security_events.py), so that an operator console or an alerting system
sees what only the station's security log held before.
"""

from contracts.fields import text
from contracts.payloads.ocpp import Reply, StationCall
from contracts.payloads.security_events import SecurityEventReported
from ocppj.timestamps import parse_timestamp
from services.sessions.core.state import StationState
from services.sessions.core.step import Context, Step


def security_event(state: StationState, call: StationCall, ctx: Context) -> Step:
    reported = text(call.payload, "type")
    if reported is None:
        return Step(state=state, reply=Reply({}))  # the schema checked it; nothing to say
    at = parse_timestamp(call.payload.get("timestamp")) or call.received_at
    event = SecurityEventReported.of(
        call.station_id,
        reported,
        at,
        text(call.payload, "techInfo"),
        str(call.ocpp_version),
    )
    return Step(state=state, reply=Reply({}), events=[event.event()])
