"""Billing's cost in the TransactionEventResponse: carried here, never computed (pure).

Billing prices every session event and writes CostQuoted to billing.costs.v1, which this
worker reads beside the station's messages (co-partitioned by station id). The newest quote
of a 2.0.1 transaction goes into the next TransactionEventResponse (docs/billing.md, "Prices at
the station"):

- I02: ``totalCost`` on Updated, the running cost incl. taxes (as of the last priced value);
- I06: ``updatedPersonalMessage``, the tariff as text, once;
- I03: ``totalCost`` on Ended, the final cost. It exists only after billing read our
  SessionEnded, so the Ended response of a transaction billing has quoted waits for it, at most
  ``Policy.final_cost_wait_s`` of log time (judged at each GatewayAlive); past that it goes
  without, and the station shows its TotalCostFallbackMessage (I04). "A free session needs
  totalCost 0.00; omitting the field does not mean free" (I03.FR.04): 0 is sent as 0.

Before a session, I01: the station's price in words (billing's PriceAnnounced) goes into the
2.0.1 ``idTokenInfo.personalMessage`` of an accepted id token without a group; a token with a
group may have a contract price of its own, which billing tells with the session's quote.

1.6 has no cost in its responses; billing sends the OCA costmsg DataTransfer itself.
"""

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from contracts.headers import correlation_id
from contracts.payloads.billing import CostQuoted, PriceAnnounced
from contracts.payloads.ocpp import DeferredReply, StationCall
from services.sessions.core.copying import replace
from services.sessions.core.state import StationState, Transaction
from services.sessions.core.step import Step
from services.sessions.core.waiting import Held

MAX_HELD = 4  # replies waiting per station (a station has one CALL in flight per connection)


def quoted(state: StationState, quote: CostQuoted) -> Step:
    """Keep billing's newest cost on its 2.0.1 transaction; a final cost sends the Ended
    response that waited for it."""
    t = _transaction(state, quote.transaction_id)
    if t is None or (t.cost_final and not quote.final):
        return Step(state=state)  # 1.6, unknown, or a running quote after the final one
    t = replace(
        t,
        cost=quote.incl_vat,
        cost_final=quote.final,
        price_text=quote.price_text,
        price_language=quote.language,
    )
    state = _replaced(state, t)
    held = next((h for h in state.held if h.transaction_id == t.key), None)
    if held is None or not quote.final:
        return Step(state=state)
    payload = {**held.reply.payload, "totalCost": _number(quote.incl_vat)}
    state = replace(state, held=tuple(h for h in state.held if h is not held))
    return Step(state=state, deferred=(replace(held.reply, payload=payload),))


def announced(state: StationState, price: PriceAnnounced) -> Step:
    """Keep the station's price before a session."""
    if (state.price_text, state.price_language) == (price.price_text, price.language):
        return Step(state=state)
    return Step(state=replace(state, price_text=price.price_text, price_language=price.language))


def with_price(info: dict[str, Any], state: StationState) -> dict[str, Any]:
    """An idTokenInfo with the station's price as its personalMessage (I01), for an accepted
    token without a group."""
    if state.price_text is None or info.get("status") != "Accepted" or "groupIdToken" in info:
        return info
    message: dict[str, Any] = {"format": "UTF8", "content": state.price_text[:512]}
    if state.price_language:
        message["language"] = state.price_language[:8]
    return {**info, "personalMessage": message}


def response(
    t: Transaction, event_type: str, payload: dict[str, Any]
) -> tuple[dict[str, Any], Transaction]:
    """``payload`` with what billing last said of ``t``: the running cost on Updated, the
    final cost on Ended, the tariff text the first time there is one."""
    if t.cost is not None and (event_type == "Updated" or (event_type == "Ended" and t.cost_final)):
        payload = {**payload, "totalCost": _number(t.cost)}
    if t.price_text and not t.price_text_sent and event_type == "Updated":
        message: dict[str, Any] = {"format": "UTF8", "content": t.price_text[:512]}
        if t.price_language:
            message["language"] = t.price_language[:8]
        payload = {**payload, "updatedPersonalMessage": message}
        t = replace(t, price_text_sent=True)
    return payload, t


def must_wait(t: Transaction, call: StationCall, wait_s: float) -> bool:
    """Whether the Ended response of ``t`` waits for billing's final cost: billing has quoted
    the transaction (so it is running and prices this station), but not its end yet."""
    return bool(wait_s) and t.cost is not None and not t.cost_final and call.gateway is not None


def hold(
    state: StationState, t: Transaction, call: StationCall, payload: dict[str, Any], wait_s: float
) -> StationState:
    """``state`` with the response to ``call`` waiting for the final cost of ``t``."""
    assert call.gateway is not None
    reply = DeferredReply(
        station_id=call.station_id,
        action=call.action,
        gateway=call.gateway,
        correlation_id=correlation_id(call.connection_id, call.unique_id),
        payload=payload,
    )
    held = Held(
        transaction_id=t.key, reply=reply, until=call.received_at + timedelta(seconds=wait_s)
    )
    return replace(state, held=(*state.held, held)[-MAX_HELD:])


def overdue(state: StationState, now: datetime) -> tuple[StationState, tuple[DeferredReply, ...]]:
    """The responses whose final cost did not come in time, sent without it (I04)."""
    late = tuple(h for h in state.held if h.until <= now)
    if not late:
        return state, ()
    kept = tuple(h for h in state.held if h.until > now)
    return replace(state, held=kept), tuple(h.reply for h in late)


def _replaced(state: StationState, t: Transaction) -> StationState:
    """``state`` with ``t`` where the transaction of its id was (a quote does not make a
    transaction the newest, as a station message does)."""
    same = t.transaction_id
    if any(o.transaction_id == same for o in state.transactions):
        return replace(
            state,
            transactions=tuple(t if o.transaction_id == same else o for o in state.transactions),
        )
    return replace(state, ended=tuple(t if o.transaction_id == same else o for o in state.ended))


def _transaction(state: StationState, transaction_id: str) -> Transaction | None:
    return next(
        (
            t
            for t in (*state.transactions, *state.ended)
            if isinstance(t.transaction_id, str) and t.transaction_id == transaction_id
        ),
        None,
    )


def _number(amount: str) -> float | int:
    """A decimal amount as the JSON number the station reads (billing rounded it already)."""
    value = Decimal(amount)
    return int(value) if value == value.to_integral_value() else float(value)
