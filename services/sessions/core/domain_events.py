"""The domain events of stations.v1 and sessions.v1, built from the sessions state (pure).

The payloads themselves are contracts/payloads/{stations,sessions}.py; this module says what of
the state goes into them. Numbers are floats, times aware datetimes.
"""

from datetime import datetime

from contracts.events import DomainEvent, EventType
from contracts.payloads.ocpp import StationCall
from contracts.payloads.sessions import (
    Anomaly,
    AnomalyDetected,
    SessionEnded,
    SessionOpen,
    SessionStarted,
    SessionUpdated,
    session_id,
)
from contracts.payloads.stations import StationBooted, StationOnlineChanged, StationStatusChanged
from contracts.topics import Topic
from ocppj.versions import OcppVersion
from services.sessions.core.state import Connector, StationState, Transaction


def station_booted(state: StationState) -> DomainEvent:
    return StationBooted(
        station_id=state.station_id,
        vendor=state.vendor,
        model=state.model,
        serial_number=state.serial_number,
        firmware_version=state.firmware_version,
        ocpp_version=state.ocpp_version,
        boot_status=state.boot_status,
    ).event()


def status_changed(station_id: str, connector: Connector) -> DomainEvent:
    return StationStatusChanged(
        station_id=station_id,
        evse_id=connector.evse_id,
        connector_id=connector.connector_id,
        status=connector.status,
        error_code=connector.error_code,
        at=connector.at,
    ).event()


def presence(
    state: StationState,
    *,
    online: bool,
    connection_id: str,
    at: datetime,
    reason: str | None = None,
) -> DomainEvent:
    return StationOnlineChanged(
        station_id=state.station_id,
        online=online,
        gateway=state.gateway,
        connection_id=connection_id,
        at=at,
        reason=reason,
    ).event()


def _started(station_id: str, t: Transaction) -> SessionStarted:
    return SessionStarted(
        session_id=session_id(station_id, t.key),
        station_id=station_id,
        transaction_id=t.key,
        evse_id=t.evse_id,
        connector_id=t.connector_id,
        id_token=t.id_token,
        meter_start_wh=t.start_wh,
        started_at=t.start_time,
        id_token_type=t.id_token_type,
        id_token_source=t.id_token_source,
        charging_state=t.charging_state,
        ocpp_version=t.ocpp_version
        or (str(OcppVersion.V16) if isinstance(t.transaction_id, int) else None),
        reservation_id=t.reservation_id,
        reserved_at=t.reserved_at,
    )


def _updated(station_id: str, t: Transaction) -> SessionUpdated:
    """The latest meter values; ``at`` None before any."""
    times = [
        at
        for at in (t.energy_register_at, t.power_at, t.current_at, t.soc_at, t.charging_state_at)
        if at
    ]
    return SessionUpdated(
        session_id=session_id(station_id, t.key),
        station_id=station_id,
        transaction_id=t.key,
        energy_wh=t.energy_wh(t.energy_register_wh),
        power_w=t.power_w,
        current_a=t.current_a,
        current_total_a=t.current_total_a,
        soc_percent=t.soc_percent,
        at=max(times, default=None),
        charging_state=t.charging_state,
        evse_id=t.evse_id,
        connector_id=t.connector_id,
    )


def session_started(station_id: str, t: Transaction) -> DomainEvent:
    return _started(station_id, t).event()


def session_updated(station_id: str, t: Transaction) -> DomainEvent:
    return _updated(station_id, t).event()


def session_open(station_id: str, t: Transaction) -> DomainEvent:
    """The open session as it stands, for sessions.open.v1 (compacted: the newest is all)."""
    updated = _updated(station_id, t)
    return SessionOpen(
        started=_started(station_id, t), updated=updated if updated.at is not None else None
    ).event()


def session_closed(station_id: str, t: Transaction) -> DomainEvent:
    """The tombstone that takes an ended session out of sessions.open.v1."""
    return DomainEvent(
        topic=Topic.SESSIONS_OPEN,
        event_type=EventType.SESSION_OPEN,
        key=session_id(station_id, t.key),
        payload={},
        tombstone=True,
    )


def session_ended(station_id: str, t: Transaction) -> DomainEvent:
    return SessionEnded(
        session_id=session_id(station_id, t.key),
        station_id=station_id,
        transaction_id=t.key,
        energy_wh=t.energy_wh(t.stop_wh),
        duration_s=t.duration_s,
        id_token=t.id_token,
        stop_reason=t.stop_reason,
        ended_at=t.ended_at,
        closed_by_csms=t.closed_by_csms,
        corrected=t.corrected,
        id_token_type=t.id_token_type,
        id_token_source=t.id_token_source,
    ).event()


def anomaly(
    station_id: str,
    reason: Anomaly,
    detail: str,
    *,
    action: str,
    at: datetime,
    transaction_id: str | None = None,
) -> DomainEvent:
    return AnomalyDetected(
        station_id=station_id,
        reason=str(reason),
        detail=detail,
        action=action,
        transaction_id=transaction_id,
        at=at,
    ).event()


def transaction_anomaly(
    call: StationCall, t: Transaction, reason: Anomaly, detail: str
) -> DomainEvent:
    """An anomaly about transaction ``t`` that the station's ``call`` showed."""
    return anomaly(
        call.station_id,
        reason,
        detail,
        action=call.action,
        at=call.received_at,
        transaction_id=t.key,
    )


def meter_backwards(call: StationCall, t: Transaction, detail: str | None) -> list[DomainEvent]:
    """The MeterBackwards anomaly that ``meter.apply`` found, if it found one."""
    if detail is None:
        return []
    return [transaction_anomaly(call, t, Anomaly.METER_BACKWARDS, detail)]
