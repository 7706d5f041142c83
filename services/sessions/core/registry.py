"""The station registry: BootNotification, StatusNotification, firmware and log status (pure)."""

from datetime import datetime

from contracts.events import DomainEvent
from contracts.fields import mapping, text, whole
from contracts.payloads.firmware import (
    FirmwareKind,
    FirmwareStatusReported,
    LogKind,
    LogStatusReported,
)
from contracts.payloads.ocpp import Reply, StationCall
from contracts.payloads.sessions import Anomaly, Closure
from ocppj.timestamps import parse_timestamp, rfc3339
from ocppj.versions import OcppVersion
from services.sessions.core import domain_events as de
from services.sessions.core import inventory
from services.sessions.core.abandoned import close_open
from services.sessions.core.copying import replace
from services.sessions.core.policy import BootStatus
from services.sessions.core.settling import save, settle
from services.sessions.core.state import Connector, StationState, with_charging_state
from services.sessions.core.step import Context, Step, protocol_error


def boot_notification(state: StationState, call: StationCall, ctx: Context) -> Step:
    """1.6 §4.2 / 2.0.1 B01-B03: record who the station is; the policy decides the status."""
    p = call.payload
    if call.ocpp_version is OcppVersion.V16:
        vendor, model = text(p, "chargePointVendor"), text(p, "chargePointModel")
        # chargeBoxSerialNumber is deprecated in favour of chargePointSerialNumber
        serial = text(p, "chargePointSerialNumber") or text(p, "chargeBoxSerialNumber")
        firmware, reason = text(p, "firmwareVersion"), None
    else:
        station = mapping(p, "chargingStation") or {}
        vendor, model = text(station, "vendorName"), text(station, "model")
        serial, firmware = text(station, "serialNumber"), text(station, "firmwareVersion")
        reason = text(p, "reason")
    if call.client_cn is not None and state.serial_number not in (None, serial):
        # Profile 3 with --client-cn serial: a certificate names its CN, not the station, so
        # a station's serial number is pinned by its first boot; a boot with another one (a
        # valid certificate of another station) is Rejected and changes nothing.
        detail = f"boot says serial {serial!r}; the station booted with {state.serial_number!r}"
        reply = {
            "status": str(BootStatus.REJECTED),
            "currentTime": rfc3339(ctx.now),
            "interval": ctx.policy.interval_s(BootStatus.REJECTED),
        }
        refused = de.anomaly(
            call.station_id, Anomaly.SERIAL_CHANGED, detail, action=call.action, at=ctx.now
        )
        return Step(state=state, reply=Reply(reply), events=[refused])
    status = ctx.policy.boot_status(call.station_id)
    # At-least-once: a boot read again after a crash finds a state that already has it (or a
    # later one); the transactions open in that state began after it and must stay open.
    replayed = state.booted_at is not None and state.booted_at >= ctx.now
    before = state
    state = replace(
        state,
        vendor=vendor,
        model=model,
        serial_number=serial,
        firmware_version=firmware,
        boot_status=str(status),
        boot_reason=reason,
        booted_at=ctx.now,
    )
    state = inventory.due(before, state, ctx)
    reply = {
        "status": str(status),
        "currentTime": rfc3339(ctx.now),
        "interval": ctx.policy.interval_s(status),
    }
    # A BootNotification is a reboot, and stations end their transactions when they reboot:
    # the open ones were abandoned; a late end of theirs corrects them (abandoned.py).
    closed: list[DomainEvent] = []
    if not replayed:
        state, closed = close_open(state, Closure.REBOOTED, action=call.action, at=call.received_at)
    return Step(state=state, reply=Reply(reply), events=[*closed, de.station_booted(state)])


def status_notification(state: StationState, call: StationCall, ctx: Context) -> Step:
    """1.6 connectorId/status/errorCode (connectorId 0: the whole station); 2.0.1 G01
    evseId/connectorId/connectorStatus. StationStatusChanged only when something changed; a
    report older than the last one changes nothing."""
    p = call.payload
    at = parse_timestamp(p.get("timestamp")) or call.received_at  # optional in 1.6
    if call.ocpp_version is OcppVersion.V16:
        connector_16 = whole(p, "connectorId")
        evse_id = connector_16
        connector_id = None if connector_16 is None else min(connector_16, 1)
        status, error_code = text(p, "status"), text(p, "errorCode")
    else:
        evse_id, connector_id = whole(p, "evseId"), whole(p, "connectorId")
        status, error_code = text(p, "connectorStatus"), None
    if evse_id is None or connector_id is None or status is None:
        return Step(state=state, reply=protocol_error(call, "connector and status"))
    reply = Reply({})
    known = state.connector(evse_id, connector_id)
    if known is not None and at < known.at:
        return Step(state=state, reply=reply)
    connector = Connector(
        evse_id=evse_id, connector_id=connector_id, status=status, error_code=error_code, at=at
    )
    state = state.with_connector(connector)
    state, updated = _charging_state_16(state, call, evse_id, status, at)
    if known is not None and (known.status, known.error_code) == (status, error_code):
        return Step(state=state, reply=reply, events=updated)
    events = [de.status_changed(state.station_id, connector), *updated]
    return Step(state=state, reply=reply, events=events)


# 1.6 ChargePointStatus of a connector in a transaction: whether the EV takes power, which the
# session's charging_state says in 2.0.1's words (billing tells charging from parking by it).
_CHARGING_STATES_16 = {
    "Charging": "Charging",
    "SuspendedEV": "SuspendedEV",
    "SuspendedEVSE": "SuspendedEVSE",
}


def _charging_state_16(
    state: StationState, call: StationCall, evse_id: int, status: str, at: datetime
) -> tuple[StationState, list[DomainEvent]]:
    """A 1.6 status of a connector with an open transaction: a SessionUpdated with the
    transaction's new charging state."""
    charging_state = _CHARGING_STATES_16.get(status)
    t = state.open_on(evse_id) if call.ocpp_version is OcppVersion.V16 else None
    if charging_state is None or t is None:
        return state, []
    t, changed = with_charging_state(t, charging_state, at)
    if not changed:
        return state, []
    t = replace(t, update_pending=not t.end_announced)
    t, settled = settle(call.station_id, t)
    state, dropped = save(state, t, action=call.action, at=call.received_at)
    return state, settled + dropped


def firmware_status(state: StationState, call: StationCall, ctx: Context) -> Step:
    """(Signed)FirmwareStatusNotification (L01, 1.6 §4.5, 1.6S) and 2.0.1
    PublishFirmwareStatusNotification (L03): the last status kept, FirmwareStatusReported
    written."""
    status = text(call.payload, "status")
    if status is None:
        return Step(state=state, reply=protocol_error(call, "status"))
    publish = call.action == "PublishFirmwareStatusNotification"
    locations = call.payload.get("location")
    reported = FirmwareStatusReported(
        station_id=call.station_id,
        kind=FirmwareKind.PUBLISH if publish else FirmwareKind.UPDATE,
        status=status,
        at=call.received_at,
        request_id=whole(call.payload, "requestId"),
        locations=tuple(x for x in locations if isinstance(x, str))
        if isinstance(locations, list)
        else (),
        ocpp_version=str(call.ocpp_version),
    )
    if not publish:
        state = replace(state, firmware_status=status, firmware_status_at=ctx.now)
    return Step(state=state, reply=Reply({}), events=[reported.event()])


def log_status(state: StationState, call: StationCall, ctx: Context) -> Step:
    """DiagnosticsStatusNotification (1.6 §4.4) / LogStatusNotification (N01, 1.6S): the last
    upload status kept, LogStatusReported written."""
    status = text(call.payload, "status")
    if status is None:
        return Step(state=state, reply=protocol_error(call, "status"))
    diagnostics = call.action == "DiagnosticsStatusNotification"
    reported = LogStatusReported(
        station_id=call.station_id,
        kind=LogKind.DIAGNOSTICS if diagnostics else LogKind.LOG,
        status=status,
        at=call.received_at,
        request_id=whole(call.payload, "requestId"),
        ocpp_version=str(call.ocpp_version),
    )
    state = replace(state, log_status=status, log_status_at=ctx.now)
    return Step(state=state, reply=Reply({}), events=[reported.event()])
