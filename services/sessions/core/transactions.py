"""Authorize and the OCPP 1.6 transactions; ``settle`` writes each session event once (pure).

1.6: StartTransaction, StopTransaction, MeterValues. Both versions: Authorize.
"""

from contracts.events import DomainEvent
from contracts.fields import mapping, number, text, whole
from contracts.payloads.authorizations import TokenAuthorized
from contracts.payloads.ocpp import Reply, StationCall
from contracts.payloads.sessions import Anomaly, Closure, TokenSource
from ocppj.timestamps import parse_timestamp
from ocppj.versions import OcppVersion
from services.sessions.core import domain_events as de
from services.sessions.core import reservations
from services.sessions.core.abandoned import close_open, correct
from services.sessions.core.copying import replace
from services.sessions.core.costs import with_price
from services.sessions.core.meter import END, Quantity, Reading, apply, readings
from services.sessions.core.remote_start import join, mismatch_anomaly, take_on
from services.sessions.core.settling import save, settle
from services.sessions.core.state import StationState, Transaction
from services.sessions.core.station_data import meter_values_reported
from services.sessions.core.step import Context, Step, protocol_error
from services.sessions.core.tokens import id_tag_info, id_token_info

LOCAL = "Local"  # 1.6 Reason / 2.0.1 ReasonEnumType default: "stopped locally"


def unknown_transaction(call: StationCall, transaction_id: int | str) -> DomainEvent:
    return de.anomaly(
        call.station_id,
        Anomaly.UNKNOWN_TRANSACTION,
        f"{call.action} for transaction {transaction_id}, which this station never started",
        action=call.action,
        at=call.received_at,
        transaction_id=str(transaction_id),
    )


def authorize(state: StationState, call: StationCall, ctx: Context) -> Step:
    """1.6 Authorize -> idTagInfo; 2.0.1 C01 -> idTokenInfo, from the token store."""
    if call.ocpp_version is OcppVersion.V16:
        id_tag = text(call.payload, "idTag")
        if id_tag is None:
            return Step(state=state, reply=protocol_error(call, "idTag"))
        tag_info = id_tag_info(ctx.tokens, id_tag, ctx.now)
        authorized = _authorized(call, ctx, id_tag, None, tag_info["status"])
        return Step(state=state, reply=Reply({"idTagInfo": tag_info}), events=[authorized])
    id_token = mapping(call.payload, "idToken")
    value = None if id_token is None else text(id_token, "idToken")
    if id_token is None or value is None:
        return Step(state=state, reply=protocol_error(call, "idToken"))
    info = with_price(id_token_info(ctx.tokens, id_token, ctx.now), state)
    authorized = _authorized(call, ctx, value, text(id_token, "type"), info["status"])
    return Step(state=state, reply=Reply({"idTokenInfo": info}), events=[authorized])


def _authorized(
    call: StationCall, ctx: Context, id_token: str, token_type: str | None, status: str
) -> DomainEvent:
    """TokenAuthorized on sessions.v1: billing shows a 1.6 driver the price (SetUserPrice)."""
    token = ctx.tokens.get(id_token)
    return TokenAuthorized(
        station_id=call.station_id,
        id_token=id_token,
        id_token_type=token_type,
        status=status,
        group_id=None if token is None else token.group_id,
        ocpp_version=str(call.ocpp_version),
        at=call.received_at,
    ).event()


def start_transaction(state: StationState, call: StationCall, ctx: Context) -> Step:
    """1.6 StartTransaction. A resend (same connector and start time: the business key of
    design.md rule 2) gets the same transactionId and writes nothing. An unknown or blocked
    idTag still gets a transactionId (the response requires one), with its status: the
    station then stops the transaction (1.6 StopTransactionOnInvalidId)."""
    p = call.payload
    connector_id, id_tag = whole(p, "connectorId"), text(p, "idTag")
    meter_start, started_at = number(p, "meterStart"), parse_timestamp(p.get("timestamp"))
    meter_start_wh = None if meter_start is None else float(meter_start)
    if connector_id is None or id_tag is None or meter_start_wh is None or started_at is None:
        return Step(
            state=state, reply=protocol_error(call, "connectorId/idTag/meterStart/timestamp")
        )
    info = id_tag_info(ctx.tokens, id_tag, ctx.now)
    resent = next(
        (
            t
            for t in (*state.transactions, *state.ended)
            if isinstance(t.transaction_id, int)
            and t.evse_id == connector_id
            and t.started_at == started_at
        ),
        None,
    )
    if resent is not None:
        assert isinstance(resent.transaction_id, int)
        events = []
        if (resent.id_token, resent.meter_start_wh) != (id_tag, meter_start_wh):
            detail = (
                f"resent start of {resent.key} differs: idTag {id_tag!r}, meterStart "
                f"{meter_start_wh} (first: {resent.id_token!r}, {resent.meter_start_wh})"
            )
            events.append(
                de.anomaly(
                    call.station_id,
                    Anomaly.START_MISMATCH,
                    detail,
                    action=call.action,
                    at=call.received_at,
                    transaction_id=resent.key,
                )
            )
        reply = {"idTagInfo": info, "transactionId": resent.transaction_id}
        return Step(state=state, reply=Reply(reply), events=events)
    events = []
    busy = state.open_on(connector_id)
    if busy is not None:
        detail = f"connector {connector_id} starts a transaction while {busy.key} is open"
        events.append(
            de.anomaly(
                call.station_id,
                Anomaly.CONNECTOR_BUSY,
                detail,
                action=call.action,
                at=call.received_at,
                transaction_id=busy.key,
            )
        )
        # A connector holds one transaction: an older open one was abandoned (abandoned.py).
        state, closed = close_open(
            state,
            Closure.NEW_TRANSACTION,
            action=call.action,
            at=call.received_at,
            evse_id=connector_id,
            started_before=started_at,
        )
        events += closed
    t = Transaction(
        transaction_id=ctx.new_transaction_id,
        ocpp_version=str(call.ocpp_version),
        evse_id=connector_id,  # a 1.6 connector is an EVSE with one connector
        connector_id=1,
        id_token=id_tag,
        id_token_source=str(TokenSource.STATION),
        authorization_status=info["status"],
        reservation_id=whole(p, "reservationId"),
        started=True,
        started_at=started_at,
        meter_start_wh=meter_start_wh,
        first_event_at=started_at,
        first_register_wh=meter_start_wh,
        first_register_at=started_at,
        energy_register_wh=meter_start_wh,
        energy_register_at=started_at,
    )
    state, t = reservations.use(state, t)
    state, remote = take_on(state, connector_id, id_tag, at=call.received_at)
    if remote is not None:  # the start of a remote start: the same idTag, or reported
        t, mismatch = join(t, remote)
        events += mismatch_anomaly(
            call.station_id, t, mismatch, action=call.action, at=call.received_at
        )
    t, settled = settle(call.station_id, t)
    state, dropped = save(state, t, action=call.action, at=call.received_at)
    reply = {"idTagInfo": info, "transactionId": ctx.new_transaction_id}
    return Step(
        state=state, reply=Reply(reply), events=events + settled + dropped, used_transaction_id=True
    )


def stop_transaction(state: StationState, call: StationCall, ctx: Context) -> Step:
    """1.6 StopTransaction: energy = meterStop - meterStart, reason defaults to Local. A
    duplicate (already ended) is answered again and writes nothing."""
    p = call.payload
    transaction_id, meter_stop = whole(p, "transactionId"), number(p, "meterStop")
    meter_stop_wh = None if meter_stop is None else float(meter_stop)
    ended_at = parse_timestamp(p.get("timestamp"))
    if transaction_id is None or meter_stop_wh is None or ended_at is None:
        return Step(state=state, reply=protocol_error(call, "transactionId/meterStop/timestamp"))
    id_tag = text(p, "idTag")
    # 1.6: idTagInfo is optional "because a transaction may have been stopped without an
    # identifier"; given an idTag, we answer for it.
    reply = Reply({} if id_tag is None else {"idTagInfo": id_tag_info(ctx.tokens, id_tag, ctx.now)})
    t = state.transaction(transaction_id)
    if t is None:
        return Step(state=state, reply=reply, events=[unknown_transaction(call, transaction_id)])
    reason = text(p, "reason") or LOCAL
    if t.ended:  # a resend, or the station's own end of a transaction we closed
        t, corrected = correct(
            call.station_id,
            t,
            ended_at=ended_at,
            meter_stop_wh=meter_stop_wh,
            stop_reason=reason,
        )
        if corrected:
            state, _ = save(state, t, action=call.action, at=call.received_at)
        return Step(state=state, reply=reply, events=corrected)
    # meterStop is the register at the end: a reading like the others (it may go backwards).
    stop = Reading(Quantity.ENERGY, meter_stop_wh, ended_at, END)
    t, _, backwards = apply(t, [*readings(p.get("transactionData")), stop])
    t = replace(t, ended=True, ended_at=ended_at, meter_stop_wh=meter_stop_wh, stop_reason=reason)
    t, settled = settle(call.station_id, t)
    state, dropped = save(state, t, action=call.action, at=call.received_at)
    events = de.meter_backwards(call, t, backwards) + settled + dropped
    return Step(state=state, reply=reply, events=events)


def meter_values(state: StationState, call: StationCall, ctx: Context) -> Step:
    """1.6 MeterValues: with a transactionId for that transaction, without one for the open
    transaction on the connector, if any; else they are about no session, and are written as
    MeterValuesReported (station_data.py)."""
    p = call.payload
    transaction_id, connector_id = whole(p, "transactionId"), whole(p, "connectorId")
    reply = Reply({})
    if transaction_id is not None:
        t = state.transaction(transaction_id)
        if t is None:
            return Step(
                state=state, reply=reply, events=[unknown_transaction(call, transaction_id)]
            )
    else:
        t = state.open_on(connector_id)
    if t is None:  # not about a session: the main meter (connector 0), say
        reported = meter_values_reported(call, connector_id)
        return Step(state=state, reply=reply, events=[] if reported is None else [reported.event()])
    if t.end_announced:
        return Step(state=state, reply=reply)  # a late value of an ended one
    t, changed, backwards = apply(t, readings(p.get("meterValue")))
    if changed and not t.update_pending:
        t = replace(t, update_pending=True)
    t, settled = settle(call.station_id, t)
    state, dropped = save(state, t, action=call.action, at=call.received_at)
    events = de.meter_backwards(call, t, backwards) + settled + dropped
    return Step(state=state, reply=reply, events=events)
