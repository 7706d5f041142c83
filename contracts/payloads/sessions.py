"""The version-neutral charging sessions of sessions.v1: started, updated, ended, anomalies (pure).

Written by the sessions service (``event()``), read by the API, billing, load balancing and other
teams (``parse()``). Energy in Wh, power in W, current in A; times are aware datetimes.
``transaction_id`` is text for both OCPP versions ("17" for 1.6); ``session_id`` is
``{station_id}/{transaction_id}``. A parser reads an integer ``transaction_id`` as its text and
takes the record's ``occurred_at`` for a missing time.
"""

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from contracts.envelope import Envelope
from contracts.events import DomainEvent, EventType
from contracts.fields import moment, number, text, whole
from contracts.topics import Topic


class Anomaly(StrEnum):
    """``reason`` of an AnomalyDetected event."""

    UNKNOWN_TRANSACTION = "UnknownTransaction"  # a transaction id we never handed out / saw
    CONNECTOR_BUSY = "ConnectorBusy"  # 1.6 start on a connector with an open transaction
    START_MISMATCH = "StartMismatch"  # a 1.6 start resent with other idTag or meterStart
    START_MISSING = "StartMissing"  # ended without its start; announced with estimates
    LATE_START = "LateStart"  # a start after the transaction was announced with estimates
    TRANSACTION_DROPPED = "TransactionDropped"  # too many open transactions: oldest dropped
    # An energy register reading below an earlier one (or above a later one), the end below
    # the start included; the register keeps its highest reading. Until 2026-11-26 an end below
    # the start was "NegativeEnergy" with energy_wh nil; it is this now, and energy_wh is >= 0.
    METER_BACKWARDS = "MeterBackwards"
    AFTER_END = "MessageAfterEnd"  # a message of a transaction after the station ended it
    # a remotely started transaction carries another token than the remote start sent
    REMOTE_START_MISMATCH = "RemoteStartMismatch"
    UNREADABLE = "Unreadable"  # a field we need is missing or unusable
    # profile 3, --client-cn serial: a boot with another serial number than the station's
    SERIAL_CHANGED = "SerialChanged"


class TokenSource(StrEnum):
    """Where a session's ``id_token`` came from (docs/sessions.md, "Remote starts")."""

    STATION = "Station"  # the station's own message carried it (a card or an app at the station)
    REMOTE_START = "RemoteStart"  # our RequestStartTransaction / RemoteStartTransaction sent it


CLOSED_BY_CSMS = "ClosedByCsms"  # SessionEnded.stop_reason when we closed an abandoned one


class Closure(StrEnum):
    """Why the CSMS closed a transaction the station abandoned (docs/sessions.md)."""

    NEW_TRANSACTION = "NewTransaction"  # another transaction started on its connector / EVSE
    REBOOTED = "Rebooted"  # the station sent BootNotification: it rebooted
    SILENCE = "Silence"  # nothing about it for SESSIONS_ABANDON_AFTER


def session_id(station_id: str, transaction_id: str) -> str:
    """The contract's session id: ``{station_id}/{transaction_id}``."""
    return f"{station_id}/{transaction_id}"


def _event(event_type: str, station_id: str, payload: dict[str, Any]) -> DomainEvent:
    return DomainEvent(topic=Topic.SESSIONS, event_type=event_type, key=station_id, payload=payload)


def _transaction_id(payload: Mapping[str, Any]) -> str | None:
    """``transaction_id`` as text: 1.6 ids may arrive as integers."""
    raw = payload.get("transaction_id")
    return None if isinstance(raw, bool) or not isinstance(raw, str | int) else str(raw)


def _identity(envelope: Envelope, event_type: str) -> tuple[str, str, str] | None:
    """(session_id, station_id, transaction_id) of a record of ``event_type``, or None."""
    if envelope.event_type != event_type:
        return None
    p = envelope.payload
    transaction_id = _transaction_id(p)
    if transaction_id is None:
        return None
    station_id = text(p, "station_id") or envelope.key
    return (
        text(p, "session_id") or session_id(station_id, transaction_id),
        station_id,
        transaction_id,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionStarted:
    """A transaction began (1.6 StartTransaction, 2.0.1 TransactionEvent Started)."""

    session_id: str
    station_id: str
    transaction_id: str
    evse_id: int | None
    connector_id: int | None
    id_token: str | None
    meter_start_wh: float | None
    started_at: datetime | None
    id_token_type: str | None = None  # 2.0.1 IdTokenEnumType; None for 1.6
    id_token_source: str | None = None  # a TokenSource; None while no token is known
    charging_state: str | None = None  # as SessionUpdated's, at the start (2.0.1)
    ocpp_version: str | None = None  # "ocpp1.6", "ocpp2.0.1", "ocpp2.1"; None: not known
    reservation_id: int | None = None  # the reservation it used ...
    reserved_at: datetime | None = None  # ... made then (the station accepted ReserveNow)

    def event(self) -> DomainEvent:
        payload: dict[str, Any] = {
            "session_id": self.session_id,
            "station_id": self.station_id,
            "transaction_id": self.transaction_id,
            "ocpp_version": self.ocpp_version,
            "reservation_id": self.reservation_id,
            "reserved_at": self.reserved_at,
            "evse_id": self.evse_id,
            "connector_id": self.connector_id,
            "id_token": self.id_token,
            "id_token_type": self.id_token_type,
            "id_token_source": self.id_token_source,
            "charging_state": self.charging_state,
            "meter_start_wh": self.meter_start_wh,
            "started_at": self.started_at,
        }
        return _event(EventType.SESSION_STARTED, self.station_id, payload)

    @classmethod
    def parse(cls, envelope: Envelope) -> "SessionStarted | None":
        ids = _identity(envelope, EventType.SESSION_STARTED)
        if ids is None:
            return None
        p = envelope.payload
        return cls(
            session_id=ids[0],
            station_id=ids[1],
            transaction_id=ids[2],
            evse_id=whole(p, "evse_id"),
            connector_id=whole(p, "connector_id"),
            id_token=text(p, "id_token"),
            meter_start_wh=number(p, "meter_start_wh"),
            started_at=moment(p, "started_at") or envelope.occurred_at,
            id_token_type=text(p, "id_token_type"),
            id_token_source=text(p, "id_token_source"),
            charging_state=text(p, "charging_state"),
            ocpp_version=text(p, "ocpp_version"),
            reservation_id=whole(p, "reservation_id"),
            reserved_at=moment(p, "reserved_at"),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionUpdated:
    """New meter values of an open session; a field the station did not report is None."""

    session_id: str
    station_id: str
    transaction_id: str
    energy_wh: float | None
    power_w: float | None
    current_a: float | None
    soc_percent: float | None
    at: datetime | None
    # 2.0.1 ChargingStateEnumType (Charging, EVConnected, SuspendedEV, SuspendedEVSE, Idle);
    # 1.6: the connector's Charging / SuspendedEV / SuspendedEVSE. None: not reported.
    charging_state: str | None = None
    current_total_a: float | None = None  # summed over phases (current_a: the highest phase)
    evse_id: int | None = None  # as SessionStarted's: a reader that joins late knows the EVSE
    connector_id: int | None = None

    def event(self) -> DomainEvent:
        payload: dict[str, Any] = {
            "session_id": self.session_id,
            "station_id": self.station_id,
            "transaction_id": self.transaction_id,
            "evse_id": self.evse_id,
            "connector_id": self.connector_id,
            "energy_wh": self.energy_wh,
            "power_w": self.power_w,
            "current_a": self.current_a,
            "current_total_a": self.current_total_a,
            "soc_percent": self.soc_percent,
            "charging_state": self.charging_state,
            "at": self.at,
        }
        return _event(EventType.SESSION_UPDATED, self.station_id, payload)

    @classmethod
    def parse(cls, envelope: Envelope) -> "SessionUpdated | None":
        ids = _identity(envelope, EventType.SESSION_UPDATED)
        if ids is None:
            return None
        p = envelope.payload
        return cls(
            session_id=ids[0],
            station_id=ids[1],
            transaction_id=ids[2],
            energy_wh=number(p, "energy_wh"),
            power_w=number(p, "power_w"),
            current_a=number(p, "current_a"),
            soc_percent=number(p, "soc_percent"),
            at=moment(p, "at") or envelope.occurred_at,
            charging_state=text(p, "charging_state"),
            current_total_a=number(p, "current_total_a"),
            evse_id=whole(p, "evse_id"),
            connector_id=whole(p, "connector_id"),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionEnded:
    """A transaction ended: one per session (deduplicate on ``session_id``).

    ``closed_by_csms`` says why we ended a transaction the station abandoned (Closure); then
    ``stop_reason`` is ``ClosedByCsms`` and the energy and end are the last ones we knew. A
    station's own end that arrives after that writes one ``SessionCorrected`` with the same
    fields (``corrected``): consumers replace what SessionEnded said."""

    session_id: str
    station_id: str
    transaction_id: str
    energy_wh: float | None  # None when unknown, never negative
    duration_s: float | None
    id_token: str | None
    stop_reason: str | None
    ended_at: datetime | None
    closed_by_csms: str | None = None  # a Closure
    corrected: bool = False  # a SessionCorrected: the station's own end, after our closure
    id_token_type: str | None = None  # as SessionStarted
    id_token_source: str | None = None  # as SessionStarted: a token joined late shows here

    def event(self) -> DomainEvent:
        payload: dict[str, Any] = {
            "session_id": self.session_id,
            "station_id": self.station_id,
            "transaction_id": self.transaction_id,
            "energy_wh": self.energy_wh,
            "duration_s": self.duration_s,
            "id_token": self.id_token,
            "id_token_type": self.id_token_type,
            "id_token_source": self.id_token_source,
            "stop_reason": self.stop_reason,
            "ended_at": self.ended_at,
        }
        if self.closed_by_csms is not None:
            payload["closed_by_csms"] = self.closed_by_csms
        event_type = EventType.SESSION_CORRECTED if self.corrected else EventType.SESSION_ENDED
        return _event(event_type, self.station_id, payload)

    @classmethod
    def parse(cls, envelope: Envelope) -> "SessionEnded | None":
        """A SessionEnded, or a SessionCorrected (``corrected``)."""
        corrected = envelope.event_type == EventType.SESSION_CORRECTED
        ids = _identity(
            envelope, EventType.SESSION_CORRECTED if corrected else EventType.SESSION_ENDED
        )
        if ids is None:
            return None
        p = envelope.payload
        return cls(
            session_id=ids[0],
            station_id=ids[1],
            transaction_id=ids[2],
            energy_wh=number(p, "energy_wh"),
            duration_s=number(p, "duration_s"),
            id_token=text(p, "id_token"),
            stop_reason=text(p, "stop_reason"),
            ended_at=moment(p, "ended_at") or envelope.occurred_at,
            closed_by_csms=text(p, "closed_by_csms"),
            corrected=corrected,
            id_token_type=text(p, "id_token_type"),
            id_token_source=text(p, "id_token_source"),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionOpen:
    """An open session as it stands (sessions.open.v1, key session_id): its start and its
    latest meter values in one record, so that the newest record per key is all of it."""

    started: SessionStarted
    updated: SessionUpdated | None = None

    def event(self) -> DomainEvent:
        u = self.updated
        payload = dict(self.started.event().payload) | {
            "energy_wh": None if u is None else u.energy_wh,
            "power_w": None if u is None else u.power_w,
            "current_a": None if u is None else u.current_a,
            "current_total_a": None if u is None else u.current_total_a,
            "soc_percent": None if u is None else u.soc_percent,
            "updated_at": None if u is None else u.at,
        }
        return DomainEvent(
            topic=Topic.SESSIONS_OPEN,
            event_type=EventType.SESSION_OPEN,
            key=self.started.session_id,
            payload=payload,
        )

    @classmethod
    def parse(cls, envelope: Envelope) -> "SessionOpen | None":
        if envelope.event_type != EventType.SESSION_OPEN:
            return None
        as_started = replace(envelope, event_type=EventType.SESSION_STARTED)
        started = SessionStarted.parse(as_started)
        if started is None:
            return None
        updated_at = envelope.payload.get("updated_at")
        updated = None
        if updated_at is not None:  # read as the SessionUpdated it folds in
            as_updated = replace(
                envelope,
                event_type=EventType.SESSION_UPDATED,
                payload={**envelope.payload, "at": updated_at},
            )
            updated = SessionUpdated.parse(as_updated)
        return cls(started=started, updated=updated)


@dataclass(frozen=True, slots=True, kw_only=True)
class AnomalyDetected:
    """Something a station told us that does not fit what we know: reported, never raised."""

    station_id: str
    reason: str  # an Anomaly: UnknownTransaction, ConnectorBusy, StartMismatch, ...
    detail: str
    action: str  # the OCPP action that showed it
    transaction_id: str | None
    at: datetime | None

    def event(self) -> DomainEvent:
        payload: dict[str, Any] = {
            "station_id": self.station_id,
            "reason": self.reason,
            "detail": self.detail,
            "action": self.action,
            "transaction_id": self.transaction_id,
            "at": self.at,
        }
        return _event(EventType.ANOMALY_DETECTED, self.station_id, payload)

    @classmethod
    def parse(cls, envelope: Envelope) -> "AnomalyDetected | None":
        p = envelope.payload
        reason = text(p, "reason")
        if envelope.event_type != EventType.ANOMALY_DETECTED or reason is None:
            return None
        return cls(
            station_id=text(p, "station_id") or envelope.key,
            reason=reason,
            detail=text(p, "detail") or "",
            action=text(p, "action") or "",
            transaction_id=_transaction_id(p),
            at=moment(p, "at") or envelope.occurred_at,
        )
