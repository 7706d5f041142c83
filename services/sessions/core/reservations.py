"""Reservations the stations accepted: joined to the session that uses one, or ended (pure).

1.6 ReserveNow ``{connectorId, expiryDate, idTag, reservationId}``, 2.0.1 ReserveNow ``{id,
expiryDateTime, idToken, evseId?}``. The station's accepted answer (OcppCallResult, with the
request) makes a reservation, kept in ``StationState.reservations`` (at most ``MAX_KEPT``). A
reservation ends one of three ways:

- **used**: a transaction names it (1.6 StartTransaction.reservationId, 2.0.1
  TransactionEvent.reservationId); its SessionStarted carries ``reservation_id`` and
  ``reserved_at``, and billing prices the reservation with the session;
- **cancelled**: CancelReservation accepted, or 2.0.1 ReservationStatusUpdate ``Removed``;
- **expired**: 2.0.1 ReservationStatusUpdate ``Expired``, or its expiry passed on the
  partition's clock (the gateways' heartbeats; 1.6 stations say nothing).

Cancelled and expired reservations are written as ReservationEnded (sessions.v1): billing issues
a CDR for the reservation alone (OCPI: "a reservation that never became a session").
"""

from datetime import datetime

from contracts.events import DomainEvent
from contracts.fields import mapping, text, whole
from contracts.payloads.ocpp import Reply, StationAnswer, StationCall
from contracts.payloads.reservations import ReservationEnd, ReservationEnded
from ocppj.timestamps import parse_timestamp
from services.sessions.core.copying import replace
from services.sessions.core.state import StationState, Transaction
from services.sessions.core.step import Context, Step, protocol_error
from services.sessions.core.waiting import Reservation

RESERVE_NOW, CANCEL_RESERVATION = "ReserveNow", "CancelReservation"
ACTIONS = frozenset({RESERVE_NOW, CANCEL_RESERVATION})
MAX_KEPT = 16  # accepted reservations a station may have open


def answered(state: StationState, answer: StationAnswer) -> Step:
    """The station accepted a ReserveNow (a reservation begins) or a CancelReservation (one
    ends); anything else changes nothing."""
    response = answer.response
    if response is None or text(response, "status") != "Accepted":
        return Step(state=state)
    request = answer.request
    if answer.action == CANCEL_RESERVATION:
        return _end(state, whole(request, "reservationId"), ReservationEnd.CANCELLED, answer.at)
    reservation_id = whole(request, "reservationId")
    if reservation_id is None:  # 2.0.1 calls it id
        reservation_id = whole(request, "id")
    if reservation_id is None:
        return Step(state=state)
    token = mapping(request, "idToken")
    made = Reservation(
        reservation_id=reservation_id,
        id_token=text(request, "idTag") or (None if token is None else text(token, "idToken")),
        evse_id=whole(request, "connectorId")
        if "connectorId" in request
        else whole(request, "evseId"),
        made_at=answer.at,
        expires_at=parse_timestamp(request.get("expiryDate") or request.get("expiryDateTime")),
    )
    others = tuple(r for r in state.reservations if r.reservation_id != reservation_id)
    return Step(state=replace(state, reservations=(*others, made)[-MAX_KEPT:]))


def status_update(state: StationState, call: StationCall, ctx: Context) -> Step:
    """2.0.1 H05 ReservationStatusUpdate: ``Expired`` or ``Removed`` (cancelled at the
    station); answered with an empty response either way."""
    reservation_id = whole(call.payload, "reservationId")
    status = text(call.payload, "reservationUpdateStatus")
    if reservation_id is None or status not in ("Expired", "Removed"):
        return Step(
            state=state, reply=protocol_error(call, "reservationId/reservationUpdateStatus")
        )
    reason = ReservationEnd.EXPIRED if status == "Expired" else ReservationEnd.CANCELLED
    step = _end(state, reservation_id, reason, call.received_at)
    return replace(step, reply=Reply({}))


def use(state: StationState, t: Transaction) -> tuple[StationState, Transaction]:
    """A transaction that names a reservation of this station uses it up."""
    if t.reservation_id is None or t.reserved_at is not None:
        return state, t
    found = next((r for r in state.reservations if r.reservation_id == t.reservation_id), None)
    if found is None:
        return state, t
    kept = tuple(r for r in state.reservations if r is not found)
    return replace(state, reservations=kept), replace(t, reserved_at=found.made_at)


def expire(state: StationState, now: datetime) -> tuple[StationState, list[DomainEvent]]:
    """The reservations whose expiry has passed by ``now``, ended."""
    events: list[DomainEvent] = []
    for r in state.reservations:
        if r.expires_at is not None and r.expires_at <= now:
            step = _end(state, r.reservation_id, ReservationEnd.EXPIRED, r.expires_at)
            state, events = step.state, events + step.events
    return state, events


def _end(state: StationState, reservation_id: int | None, reason: str, at: datetime) -> Step:
    found = next((r for r in state.reservations if r.reservation_id == reservation_id), None)
    if found is None:
        return Step(state=state)  # used already, ended already, or never ours
    ended = ReservationEnded(
        station_id=state.station_id,
        reservation_id=found.reservation_id,
        id_token=found.id_token,
        evse_id=found.evse_id,
        reserved_at=found.made_at,
        ended_at=max(at, found.made_at),
        reason=reason,
    )
    kept = tuple(r for r in state.reservations if r is not found)
    return Step(state=replace(state, reservations=kept), events=[ended.event()])
