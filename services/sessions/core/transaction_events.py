"""OCPP 2.0.1 transactions: TransactionEvent Started/Updated/Ended, arriving in any order (pure).

Messages of one transaction may arrive late and out of order (queued while offline, E04,
or retried): the first one seen creates the transaction, the station's timestamps count,
never the arrival. seqNo (business key: station, transactionId, seqNo) tells duplicates,
which are answered again and write nothing; gaps are tolerated and remain visible in
``Transaction.seq_nos``. Session events are written once each, in order, as soon as the start
is known (see ``transactions.settle``): an Ended that comes before its Started is held until
the Started arrives, or until a later transaction starts without it (then it is announced
with estimates and an AnomalyDetected StartMissing).
"""

from datetime import datetime
from typing import Any

from contracts.events import DomainEvent
from contracts.fields import mapping, text, whole
from contracts.payloads.ocpp import Reply, StationCall
from contracts.payloads.sessions import Anomaly, Closure, TokenSource
from ocppj.timestamps import parse_timestamp, rfc3339
from services.sessions.core import costs, reservations
from services.sessions.core import domain_events as de
from services.sessions.core.abandoned import close_open, correct
from services.sessions.core.copying import replace
from services.sessions.core.meter import Quantity, apply, readings
from services.sessions.core.remote_start import join, mismatch_anomaly, same_token, take_by_id
from services.sessions.core.settling import save, settle
from services.sessions.core.state import (
    StationState,
    Transaction,
    seq_add,
    seq_seen,
    with_charging_state,
)
from services.sessions.core.step import Context, Step, protocol_error
from services.sessions.core.tokens import id_token_info
from services.sessions.core.transactions import LOCAL

STARTED, UPDATED, ENDED = "Started", "Updated", "Ended"


def transaction_event(state: StationState, call: StationCall, ctx: Context) -> Step:
    p = call.payload
    event_type, seq_no = text(p, "eventType"), whole(p, "seqNo")
    at = parse_timestamp(p.get("timestamp"))
    info = mapping(p, "transactionInfo") or {}
    transaction_id = text(info, "transactionId")
    if event_type not in (STARTED, UPDATED, ENDED) or seq_no is None or at is None:
        return Step(state=state, reply=protocol_error(call, "eventType/seqNo/timestamp"))
    if not transaction_id:
        return Step(state=state, reply=protocol_error(call, "transactionInfo.transactionId"))
    id_token = mapping(p, "idToken")
    # idTokenInfo answers for the request's idToken, so it comes exactly when one is sent.
    payload = (
        {}
        if id_token is None
        else {"idTokenInfo": costs.with_price(id_token_info(ctx.tokens, id_token, ctx.now), state)}
    )
    reply = Reply(payload)
    known = state.transaction(transaction_id)
    if known is not None and seq_seen(known.seq_nos, seq_no):
        again, _ = costs.response(known, event_type, reply.payload)
        return Step(state=state, reply=Reply(again))  # a duplicate: answered again, unchanged
    if (
        known is not None
        and known.end_announced
        and event_type == UPDATED
        and (known.closed_by_csms is None or known.corrected)
    ):
        # Seen: the station's periodic meter timer racing its stop. The totals stand; operators
        # see the faulty firmware (issue 15). After our own closure it is no news: the station
        # did not know.
        late = replace(known, seq_nos=seq_add(known.seq_nos, seq_no))
        state, _ = save(state, late, action=call.action, at=call.received_at)
        detail = f"{event_type} (seqNo {seq_no}, {rfc3339(at)}) after the transaction ended"
        return Step(
            state=state,
            reply=reply,
            events=[de.transaction_anomaly(call, late, Anomaly.AFTER_END, detail)],
        )
    events: list[DomainEvent] = []
    evse = mapping(p, "evse")
    if known is None and event_type == STARTED:
        state, events = _release_orphans(state, call, at)
        evse_id = None if evse is None else whole(evse, "id")
        if evse_id is not None:  # an EVSE holds one transaction: an older open one was abandoned
            state, closed = close_open(
                state,
                Closure.NEW_TRANSACTION,
                action=call.action,
                at=call.received_at,
                evse_id=evse_id,
                started_before=at,
            )
            events += closed
    t = known or Transaction(transaction_id=transaction_id, ocpp_version=str(call.ocpp_version))
    remote_start_id, charging_state = whole(info, "remoteStartId"), text(info, "chargingState")
    reservation_id = whole(p, "reservationId")
    # one copy for what every event may set (a Transaction has 30 fields)
    changes: dict[str, Any] = {
        "seq_nos": seq_add(t.seq_nos, seq_no),
        "first_event_at": at if t.first_event_at is None else min(t.first_event_at, at),
        "remote_start_id": t.remote_start_id if remote_start_id is None else remote_start_id,
        "reservation_id": t.reservation_id if reservation_id is None else reservation_id,
    }
    if evse is not None and whole(evse, "id") is not None:
        connector_id = whole(evse, "connectorId")
        changes["evse_id"] = whole(evse, "id")
        changes["connector_id"] = t.connector_id if connector_id is None else connector_id
    if id_token is not None:
        value = text(id_token, "idToken")
        from_remote = t.id_token_source == TokenSource.REMOTE_START and (
            t.id_token is not None and value is not None and same_token(t.id_token, value)
        )
        changes["id_token"] = value
        changes["id_token_type"] = text(id_token, "type")
        changes["id_token_source"] = str(
            TokenSource.REMOTE_START if from_remote else TokenSource.STATION
        )
        changes["authorization_status"] = payload["idTokenInfo"]["status"]
    t = replace(t, **changes)
    state, t = reservations.use(state, t)
    t, state_changed = with_charging_state(t, charging_state, at)
    if t.remote_start_id is not None and t.id_token_source != TokenSource.REMOTE_START:
        state, start = take_by_id(state, t.remote_start_id, at=call.received_at)
        if start is not None:
            t, mismatch = join(t, start)
            events += mismatch_anomaly(
                call.station_id, t, mismatch, action=call.action, at=call.received_at
            )
    new = readings(p.get("meterValue"))
    t, changed, backwards = apply(t, new)
    events += de.meter_backwards(call, t, backwards)
    energy = [r.value for r in new if r.quantity is Quantity.ENERGY]
    if event_type == STARTED and not t.started:
        if t.announced:  # already announced with estimates: those events stand
            events.append(
                de.transaction_anomaly(
                    call,
                    t,
                    Anomaly.LATE_START,
                    "Started after the transaction was announced without it",
                )
            )
        # The first energy reading of Started is the meter at the start, whatever its context.
        meter_start_wh = (
            t.meter_start_wh if t.meter_start_wh is not None else next(iter(energy), None)
        )
        t = replace(t, started=True, started_at=at, meter_start_wh=meter_start_wh)
    elif event_type == ENDED and t.closed_by_csms is not None:
        t, corrected = correct(
            call.station_id,
            t,
            ended_at=at,
            meter_stop_wh=next(reversed(energy), None),
            stop_reason=text(info, "stoppedReason") or LOCAL,
        )
        events += corrected
    elif event_type == ENDED and not t.ended:
        # 2.0.1 TransactionType: stoppedReason may be omitted only when the reason is Local.
        meter_stop_wh = (
            t.meter_stop_wh if t.meter_stop_wh is not None else next(reversed(energy), None)
        )
        t = replace(
            t,
            ended=True,
            ended_at=at,
            stop_reason=text(info, "stoppedReason") or LOCAL,
            meter_stop_wh=meter_stop_wh,
        )
    if event_type == UPDATED and (changed or state_changed) and not t.end_announced:
        t = replace(t, update_pending=True)  # a Started's state goes with SessionStarted
    t, settled = settle(call.station_id, t)
    answer, t = costs.response(t, event_type, reply.payload)
    state, dropped = save(state, t, action=call.action, at=call.received_at)
    events += settled + dropped
    wait_s = ctx.policy.final_cost_wait_s
    if event_type == ENDED and costs.must_wait(t, call, wait_s):
        return Step(state=costs.hold(state, t, call, answer, wait_s), events=events)
    return Step(state=state, reply=Reply(answer), events=events)


def _release_orphans(
    state: StationState, call: StationCall, started_at: datetime
) -> tuple[StationState, list[DomainEvent]]:
    """A new transaction starts after others ended without their Started: the station has
    moved on and will not send those Started any more; announce them with estimates."""
    events: list[DomainEvent] = []
    for t in state.transactions:
        if not t.ended or t.announced or t.ended_at is None or t.ended_at > started_at:
            continue
        events.append(
            de.transaction_anomaly(call, t, Anomaly.START_MISSING, "ended without a Started")
        )
        released, settled = settle(call.station_id, t, force=True)
        state, dropped = save(state, released, action=call.action, at=call.received_at)
        events += settled + dropped
    return state, events
