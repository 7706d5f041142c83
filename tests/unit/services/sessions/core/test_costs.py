"""Billing's cost in the 2.0.1 TransactionEventResponse (I02, I03, I06), waiting included."""

import msgpack

from contracts.headers import correlation_id
from contracts.payloads.billing import CostQuoted, PriceAnnounced
from contracts.payloads.ocpp import Reply
from contracts.payloads.presence import GatewayAlive
from contracts.payloads.tokens import Token
from services.sessions.core.handlers import handle
from services.sessions.core.messages import parse
from services.sessions.core.partition import Partition
from services.sessions.core.policy import Policy
from tests.unit.services.sessions.core.station import STATION_ID, V16, V201, Station, at
from tests.unit.services.sessions.core.test_transaction_events import (
    ENDED,
    STARTED,
    TOKEN,
    TOKENS,
    UPDATED,
)

UPDATED_AGAIN = {**UPDATED, "seqNo": 2, "meterValue": UPDATED["meterValue"]}


def started() -> Station:
    station = Station(version=V201, tokens=dict(TOKENS))
    station.boot()
    station.call("TransactionEvent", STARTED)
    return station


def test_updated_responses_carry_the_running_cost_and_the_tariff_text_once() -> None:
    station = started()
    plain = station.call("TransactionEvent", UPDATED)
    assert plain.reply == Reply({})  # billing has said nothing yet
    station.quote("tx-1", "1.25")
    first = station.call("TransactionEvent", UPDATED_AGAIN)
    assert first.reply == Reply(
        {
            "totalCost": 1.25,
            "updatedPersonalMessage": {
                "format": "UTF8",
                "language": "en",
                "content": "0.30 EUR/kWh, incl. VAT",
            },
        }
    )
    station.quote("tx-1", "2.50")
    second = station.call("TransactionEvent", {**UPDATED, "seqNo": 3})
    assert second.reply == Reply({"totalCost": 2.5})


def test_the_ended_response_waits_for_the_final_cost_and_goes_to_the_waiting_gateway() -> None:
    station = started()
    station.quote("tx-1", "1.25")
    ended = station.call("TransactionEvent", ENDED)
    assert ended.reply is None
    assert [e.event_type for e in ended.events if e.event_type == "SessionEnded"]
    final = station.quote("tx-1", "6.66", final=True)
    [deferred] = final.deferred
    assert deferred.payload == {"totalCost": 6.66}
    assert (deferred.gateway, deferred.action) == (3, "TransactionEvent")
    assert deferred.correlation_id == correlation_id("conn-1", "u1")
    assert station.state is not None
    assert station.state.held == ()


def test_a_free_session_says_zero_not_nothing() -> None:
    """I03.FR.04: omitting totalCost does not mean free."""
    station = started()
    station.quote("tx-1", "0.00")
    station.call("TransactionEvent", ENDED)
    [deferred] = station.quote("tx-1", "0.00", final=True).deferred
    assert deferred.payload == {"totalCost": 0}


def test_a_transaction_billing_never_quoted_is_answered_at_once() -> None:
    station = started()
    ended = station.call("TransactionEvent", ENDED)
    assert ended.reply == Reply({})


def test_without_waiting_the_ended_response_goes_at_once() -> None:
    station = Station(version=V201, tokens=dict(TOKENS), policy=Policy(final_cost_wait_s=0))
    station.boot()
    station.call("TransactionEvent", STARTED)
    station.quote("tx-1", "1.25")
    assert station.call("TransactionEvent", ENDED).reply == Reply({})


def test_a_final_cost_read_before_the_ended_is_answered_at_once() -> None:
    """After a restart the worker may read billing's final quote before the Ended it
    answers (the quote's topic is another input); the Ended then needs no wait."""
    station = started()
    station.quote("tx-1", "6.66", final=True)
    assert station.call("TransactionEvent", ENDED).reply == Reply({"totalCost": 6.66})


def test_a_running_quote_after_the_final_one_changes_nothing() -> None:
    station = started()
    station.quote("tx-1", "6.66", final=True)
    station.quote("tx-1", "1.00")
    assert station.call("TransactionEvent", ENDED).reply == Reply({"totalCost": 6.66})


def test_a_repeated_ended_is_answered_with_the_final_cost() -> None:
    station = started()
    station.quote("tx-1", "1.25")
    station.call("TransactionEvent", ENDED)
    station.quote("tx-1", "6.66", final=True)
    assert station.call("TransactionEvent", ENDED).reply == Reply({"totalCost": 6.66})


def test_a_16_quote_changes_nothing() -> None:
    station = Station(version=V16)
    station.boot()
    before = station.state
    step = station.quote("100", "1.00")
    assert step.state is before
    assert step.deferred == ()


def _partition_with_held(wait_s: int = 5) -> Partition:
    partition = Partition(0, policy=Policy(final_cost_wait_s=wait_s), tokens=dict(TOKENS))
    station = started()
    station.quote("tx-1", "1.25")
    station.call("TransactionEvent", ENDED)
    assert station.state is not None
    assert station.state.held
    partition.restore(STATION_ID, msgpack.packb(station.state.to_dict(), datetime=True))
    return partition


def alive(seconds: float) -> GatewayAlive:
    return GatewayAlive(gateway=3, boot="b1", at=at(seconds), lease_s=15.0)


def test_past_its_wait_a_held_response_goes_without_the_cost_at_a_gateway_heartbeat() -> None:
    """I04: the station then shows its TotalCostFallbackMessage."""
    partition = _partition_with_held()
    assert STATION_ID in partition.holding  # the index is restored with the changelog
    early = partition.handle(alive(1).envelope())
    assert early is not None
    assert early.deferred == ()
    late = partition.handle(alive(3600).envelope())
    assert late is not None
    [deferred] = late.deferred
    assert deferred.payload == {}
    assert partition.states[STATION_ID].held == ()
    assert not partition.holding
    [(_, value)] = [c for c in partition.changes() if c[0] == STATION_ID]
    assert value is not None
    assert msgpack.unpackb(value, timestamp=3)["held"] == []


def test_a_quote_for_a_station_the_partition_does_not_hold_makes_no_station() -> None:
    partition = Partition(0)
    quote = CostQuoted(
        session_id="CS-UNKNOWN/tx",
        station_id="CS-UNKNOWN",
        transaction_id="tx",
        currency="EUR",
        excl_vat="1.00",
        incl_vat="1.00",
        final=True,
        at=at(1),
    )
    assert partition.handle(quote.event().envelope()) is None
    assert partition.states == {}
    assert partition.changes() == []


def announce(station: Station, text: str) -> None:
    price = PriceAnnounced(
        station_id=station.station_id, price_text=text, language="en", tariff_id="T", at=at(0)
    )
    message = parse(price.event().envelope())
    assert isinstance(message, PriceAnnounced)
    step = handle(station.state, message, station.context())
    station.state = step.state


def test_an_accepted_token_without_a_group_is_shown_the_station_price() -> None:
    """I01: the price before the session, in AuthorizeResponse and the Started response."""
    tokens = {
        **TOKENS,
        "FLEET-CARD": Token(id_token="FLEET-CARD", type="ISO14443", status="Accepted",
                            group_id="FLEET-1"),
    }  # fmt: skip
    station = Station(version=V201, tokens=tokens)
    station.boot()
    assert station.call("Authorize", {"idToken": TOKEN}).reply == Reply(
        {"idTokenInfo": {"status": "Accepted"}}
    )
    announce(station, "0.36 EUR/kWh, incl. VAT")
    shown = {"format": "UTF8", "language": "en", "content": "0.36 EUR/kWh, incl. VAT"}
    authorized = station.call("Authorize", {"idToken": TOKEN})
    assert authorized.reply == Reply(
        {"idTokenInfo": {"status": "Accepted", "personalMessage": shown}}
    )
    started = station.call("TransactionEvent", STARTED)
    assert isinstance(started.reply, Reply)
    assert started.reply.payload["idTokenInfo"]["personalMessage"] == shown
    fleet = station.call("Authorize", {"idToken": {"idToken": "FLEET-CARD", "type": "ISO14443"}})
    assert isinstance(fleet.reply, Reply)
    assert "personalMessage" not in fleet.reply.payload["idTokenInfo"]  # its contract's price
    unknown = station.call("Authorize", {"idToken": {"idToken": "NOPE", "type": "ISO14443"}})
    assert unknown.reply == Reply({"idTokenInfo": {"status": "Invalid"}})


def test_a_held_response_survives_a_restart_and_goes_out_with_the_final_cost() -> None:
    """The worker died after writing the station's state with the held response: the
    restored partition sends it when billing's final quote comes."""
    partition = _partition_with_held()
    quote = CostQuoted(
        session_id=f"{STATION_ID}/tx-1",
        station_id=STATION_ID,
        transaction_id="tx-1",
        currency="EUR",
        excl_vat="5.50",
        incl_vat="6.66",
        final=True,
        at=at(100),
    )
    step = partition.handle(quote.event().envelope(occurred_at=at(100)))
    assert step is not None
    [deferred] = step.deferred
    assert (deferred.payload, deferred.gateway) == ({"totalCost": 6.66}, 3)
    assert partition.holding == set()
