"""The version-neutral domain events of stations.v1 and sessions.v1, built from state (pure).

Payloads are exactly those of docs/events.md "Domain events"; times are aware datetimes
(msgpack timestamps), energy in Wh, power in W, current in A, all numbers floats.
``transaction_id`` is text for both versions ("17" for 1.6), ``session_id`` is
``{station_id}/{transaction_id}``.
"""

from datetime import datetime
from enum import StrEnum

from contracts.events import EventType
from contracts.topics import Topic
from services.sessions.state import Connector, StationState, Transaction
from services.sessions.step import DomainEvent

# Something the station told us that does not fit what we know, on sessions.v1. Payload:
# station_id, reason, detail, action, transaction_id (or None), at.
ANOMALY_DETECTED = EventType.ANOMALY_DETECTED


class Anomaly(StrEnum):
    """``reason`` of an AnomalyDetected event."""

    UNKNOWN_TRANSACTION = "UnknownTransaction"  # a transaction id we never handed out / saw
    CONNECTOR_BUSY = "ConnectorBusy"  # 1.6 start on a connector with an open transaction
    START_MISMATCH = "StartMismatch"  # a 1.6 start resent with other idTag or meterStart
    START_MISSING = "StartMissing"  # ended without its start; announced with estimates
    LATE_START = "LateStart"  # a start after the transaction was announced with estimates
    TRANSACTION_DROPPED = "TransactionDropped"  # too many open transactions: oldest dropped
    NEGATIVE_ENERGY = "NegativeEnergy"  # the meter at the end is below the one at the start
    UNREADABLE = "Unreadable"  # a field we need is missing or unusable


def session_id(station_id: str, transaction: Transaction) -> str:
    return f"{station_id}/{transaction.key}"


def _event(
    topic: Topic, event_type: str, station_id: str, payload: dict[str, object]
) -> DomainEvent:
    return DomainEvent(topic=topic, event_type=event_type, key=station_id, payload=payload)


def station_booted(state: StationState) -> DomainEvent:
    return _event(
        Topic.STATIONS,
        EventType.STATION_BOOTED,
        state.station_id,
        {
            "station_id": state.station_id,
            "vendor": state.vendor,
            "model": state.model,
            "serial_number": state.serial_number,
            "firmware_version": state.firmware_version,
            "ocpp_version": state.ocpp_version,
            "boot_status": state.boot_status,
        },
    )


def status_changed(station_id: str, connector: Connector) -> DomainEvent:
    return _event(
        Topic.STATIONS,
        EventType.STATION_STATUS_CHANGED,
        station_id,
        {
            "station_id": station_id,
            "evse_id": connector.evse_id,
            "connector_id": connector.connector_id,
            "status": connector.status,
            "error_code": connector.error_code,
            "at": connector.at,
        },
    )


def presence(state: StationState, *, online: bool, connection_id: str, at: datetime) -> DomainEvent:
    return _event(
        Topic.STATIONS,
        EventType.STATION_ONLINE if online else EventType.STATION_OFFLINE,
        state.station_id,
        {
            "station_id": state.station_id,
            "gateway": state.gateway,
            "connection_id": connection_id,
            "at": at,
        },
    )


def session_started(station_id: str, t: Transaction) -> DomainEvent:
    return _event(
        Topic.SESSIONS,
        EventType.SESSION_STARTED,
        station_id,
        {
            "session_id": session_id(station_id, t),
            "station_id": station_id,
            "transaction_id": t.key,
            "evse_id": t.evse_id,
            "connector_id": t.connector_id,
            "id_token": t.id_token,
            "meter_start_wh": t.start_wh,
            "started_at": t.start_time,
        },
    )


def session_updated(station_id: str, t: Transaction) -> DomainEvent:
    times = [at for at in (t.energy_register_at, t.power_at, t.current_at, t.soc_at) if at]
    return _event(
        Topic.SESSIONS,
        EventType.SESSION_UPDATED,
        station_id,
        {
            "session_id": session_id(station_id, t),
            "station_id": station_id,
            "transaction_id": t.key,
            "energy_wh": t.energy_wh(t.energy_register_wh),
            "power_w": t.power_w,
            "current_a": t.current_a,
            "soc_percent": t.soc_percent,
            "at": max(times, default=None),
        },
    )


def session_ended(station_id: str, t: Transaction) -> DomainEvent:
    energy = t.energy_wh(t.stop_wh)
    return _event(
        Topic.SESSIONS,
        EventType.SESSION_ENDED,
        station_id,
        {
            "session_id": session_id(station_id, t),
            "station_id": station_id,
            "transaction_id": t.key,
            "energy_wh": energy if energy is None or energy >= 0 else None,
            "duration_s": t.duration_s,
            "id_token": t.id_token,
            "stop_reason": t.stop_reason,
            "ended_at": t.ended_at,
        },
    )


def anomaly(
    station_id: str,
    reason: Anomaly,
    detail: str,
    *,
    action: str,
    at: datetime,
    transaction_id: str | None = None,
) -> DomainEvent:
    return _event(
        Topic.SESSIONS,
        ANOMALY_DETECTED,
        station_id,
        {
            "station_id": station_id,
            "reason": str(reason),
            "detail": detail,
            "action": action,
            "transaction_id": transaction_id,
            "at": at,
        },
    )
