"""handle(): one station message in; the new state, the reply and the domain events out (pure).

Every station-initiated action of OCPP 1.6 and 2.0.1 is answered (docs/sessions.md has the
table); 2.1 stations get the 2.0.1 behaviour for the actions 2.0.1 has. Nothing here raises
on what a station sent: a message that does not fit is answered and reported as an
AnomalyDetected event.
"""

from collections.abc import Callable, Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any

from contracts.events import DomainEvent
from contracts.payloads.billing import CostQuoted, PriceAnnounced
from contracts.payloads.ocpp import Reply, ReplyError, StationAnswer, StationCall
from contracts.payloads.presence import Presence
from ocppj.timestamps import rfc3339, utc
from ocppj.versions import OcppVersion
from services.sessions.core import (
    certificates,
    charging_limits,
    costs,
    inventory,
    monitoring_events,
    remote_start,
    reports,
    reservations,
    security_events,
    station_data,
)
from services.sessions.core import domain_events as de
from services.sessions.core.boot_request import boot_request
from services.sessions.core.copying import replace
from services.sessions.core.messages import Message
from services.sessions.core.policy import BootStatus
from services.sessions.core.registry import (
    boot_notification,
    firmware_status,
    log_status,
    status_notification,
)
from services.sessions.core.state import StationState
from services.sessions.core.step import Context, Step
from services.sessions.core.transaction_events import transaction_event
from services.sessions.core.transactions import (
    authorize,
    meter_values,
    start_transaction,
    stop_transaction,
)

__all__ = ["Context", "DomainEvent", "Reply", "ReplyError", "Step", "handle"]

Handler = Callable[[StationState, StationCall, Context], Step]

BOOT_NOTIFICATION = "BootNotification"
HEARTBEAT = "Heartbeat"
SECURITY_ERROR = "SecurityError"

# Pending (1.6 §4.2, 2.0.1 B02): the station sends nothing unless the CSMS asked for it with
# TriggerMessage, or (2.0.1) with GetBaseReport/GetReport. We cannot see which message was
# triggered, so we admit every action that a trigger or a report request can cause, and never
# a transaction message. Rejected (B03) and never booted: only BootNotification.
_WHILE_PENDING = frozenset(
    {
        "DiagnosticsStatusNotification",
        "FirmwareStatusNotification",
        "LogStatusNotification",
        "MeterValues",
        "NotifyMonitoringReport",
        "NotifyReport",
        "PublishFirmwareStatusNotification",
        "SignCertificate",
        "SignedFirmwareStatusNotification",
        "StatusNotification",
    }
)


def _heartbeat(state: StationState, call: StationCall, ctx: Context) -> Step:
    """Only if the gateway did not answer it already (it normally does)."""
    return Step(state=state, reply=Reply({"currentTime": rfc3339(ctx.now)}))


_COMMON: dict[str, Handler] = {
    "Authorize": authorize,
    BOOT_NOTIFICATION: boot_notification,
    "DataTransfer": station_data.data_transfer,
    "SignCertificate": certificates.sign_certificate,
    "FirmwareStatusNotification": firmware_status,
    HEARTBEAT: _heartbeat,
    "LogStatusNotification": log_status,
    "StatusNotification": status_notification,
}
_HANDLERS_16: dict[str, Handler] = {
    **_COMMON,
    "SecurityEventNotification": security_events.security_event,
    "DiagnosticsStatusNotification": log_status,
    "MeterValues": meter_values,
    "SignedFirmwareStatusNotification": firmware_status,
    "StartTransaction": start_transaction,
    "StopTransaction": stop_transaction,
}
_HANDLERS_2: dict[str, Handler] = {
    **_COMMON,
    "SecurityEventNotification": security_events.security_event,
    "ClearedChargingLimit": charging_limits.cleared_charging_limit,
    "NotifyChargingLimit": charging_limits.notify_charging_limit,
    "NotifyEVChargingNeeds": charging_limits.notify_ev_charging_needs,
    "NotifyEVChargingSchedule": charging_limits.notify_ev_charging_schedule,
    "NotifyEvent": monitoring_events.notify_event,
    "MeterValues": station_data.meter_values_201,
    "PublishFirmwareStatusNotification": firmware_status,
    "ReservationStatusUpdate": reservations.status_update,
    **dict.fromkeys(reports.KINDS, reports.part),
    "TransactionEvent": transaction_event,
}

# Answers that need no state (1.6 has none left).
# Get15118EVCertificate / GetCertificateStatus (M): no ISO 15118 PKI yet.
_ANSWERS_16: Mapping[str, Mapping[str, Any]] = MappingProxyType({})
_ANSWERS_2: Mapping[str, Mapping[str, Any]] = MappingProxyType(
    {
        "Get15118EVCertificate": {"status": "Failed", "exiResponse": ""},
        "GetCertificateStatus": {"status": "Failed"},
    }
)


def handled_actions(version: OcppVersion) -> frozenset[str]:
    """The actions ``handle`` answers for a station of ``version``."""
    if version is OcppVersion.V16:
        return frozenset(_HANDLERS_16) | frozenset(_ANSWERS_16)
    return frozenset(_HANDLERS_2) | frozenset(_ANSWERS_2)


def handle(state: StationState | None, message: Message, context: Context) -> Step:
    """The state after ``message``, the reply to send (if any) and the domain events."""
    if state is None:
        state = StationState(station_id=message.station_id)
    if isinstance(message, CostQuoted):
        return costs.quoted(state, message)
    if isinstance(message, PriceAnnounced):
        return costs.announced(state, message)
    if isinstance(message, Presence):
        return _presence(state, message, utc(message.at or context.now))
    if isinstance(message, StationAnswer):
        if message.action in reservations.ACTIONS:
            return reservations.answered(state, message)
        if message.action in reports.ACTIONS:
            return reports.answered(state, message)
        return remote_start.answered(state, message)
    call = message
    # G02.FR.04: any message is proof of life, so last seen is the last message.
    state = replace(
        state,
        ocpp_version=str(call.ocpp_version),
        last_seen=_later(state.last_seen, call.received_at),
    )
    if call.answered_by_gateway:
        state, asked = boot_request(state, call, context)  # a Heartbeat of a station we lost
        state, inventory_asked = inventory.ask(state, call, context)
        return Step(state=state, events=[*asked, *inventory_asked])
    mismatch = _certificate_mismatch(state, call)
    if mismatch is not None:
        return Step(state=state, reply=ReplyError(SECURITY_ERROR, mismatch))
    if not _admitted(state, call.action):
        # 2.0.1 B02/B03: before Accepted the CSMS SHALL answer CALLERROR SecurityError (ocpp.md
        # §1.7); 1.6 has the same code and the same rule (§4.2), so 1.6 gets it too.
        status = state.boot_status or "not received"
        description = f"{call.action} before BootNotification was Accepted (boot: {status})"
        state, asked = boot_request(state, call, context)
        return Step(state=state, reply=ReplyError(SECURITY_ERROR, description), events=asked)
    v16 = call.ocpp_version is OcppVersion.V16
    handler = (_HANDLERS_16 if v16 else _HANDLERS_2).get(call.action)
    if handler is not None:
        step = handler(state, call, context)
        if step.state.inventory_due and call.action != BOOT_NOTIFICATION:
            asked_state, asked = inventory.ask(step.state, call, context)
            step = replace(step, state=asked_state, events=[*step.events, *asked])
        return step
    answer = (_ANSWERS_16 if v16 else _ANSWERS_2).get(call.action)
    if answer is not None:
        return Step(state=state, reply=Reply(dict(answer)))
    description = f"{call.action} ({call.ocpp_version}) is not handled by the sessions service"
    return Step(state=state, reply=ReplyError("NotSupported", description))


def _certificate_mismatch(state: StationState, call: StationCall) -> str | None:
    """Security profile 3 with ``--client-cn serial``: a connection's certificate may be any
    station's, so its CN must be the serial number this station booted with (B01.FR.12; the
    gateway closes a connection whose BootNotification says another)."""
    cn, serial = call.client_cn, state.serial_number
    if cn is None or call.action == BOOT_NOTIFICATION or serial is None or cn == serial:
        return None
    return f"certificate CN {cn!r} is not the serial number {serial!r} this station booted with"


def _admitted(state: StationState, action: str) -> bool:
    if action in (BOOT_NOTIFICATION, HEARTBEAT) or state.boot_status == BootStatus.ACCEPTED:
        # A station stays accepted across reconnects: stations do not boot again on a plain
        # reconnect (ocpp.md §1.7), so the boot status is kept per station, not per connection.
        return True
    return state.boot_status == BootStatus.PENDING and action in _WHILE_PENDING


def _later(known: datetime | None, at: datetime) -> datetime:
    return at if known is None or at > known else known


def _presence(state: StationState, change: Presence, at: datetime) -> Step:
    """Online/offline from ocpp.presence.v1 as of ``at``. The newest connection wins: a
    disconnect counts only if it is of the station's current connection (docs/events.md)."""
    if change.connected:
        is_new = not state.online or change.connection_id != state.connection_id
        state = replace(
            state,
            online=True,
            connection_id=change.connection_id,
            gateway=change.gateway,
            gateway_boot=change.gateway_boot or None,
            presence_at=at,
            ocpp_version=str(change.ocpp_version) if change.ocpp_version else state.ocpp_version,
            last_seen=_later(state.last_seen, at),
        )
        events = [de.presence(state, online=True, connection_id=change.connection_id, at=at)]
        return Step(state=state, events=events if is_new else [])
    if not state.online or change.connection_id != state.connection_id:
        return Step(state=state)  # a stale disconnect, or a repeated one
    state = replace(state, online=False, presence_at=at)
    events = [de.presence(state, online=False, connection_id=change.connection_id, at=at)]
    return Step(state=state, events=events)
