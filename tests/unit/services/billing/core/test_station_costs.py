"""Running and final costs: quotes of sessions, messages to the station (OCA note, I02)."""

import json
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import msgpack
import pytest

from contracts.envelope import Envelope
from contracts.events import DomainEvent, EventType, Outcome
from contracts.payloads.billing import CostQuoted
from contracts.payloads.commands import CommandCompleted
from contracts.payloads.sessions import SessionStarted
from contracts.topics import Topic
from ocppj.commands.translate import translate
from ocppj.versions import OcppVersion
from services.billing.core.display import COSTMSG, price_text, unit_prices
from services.billing.core.partition import Partition
from services.billing.core.station_costs import RETRY_REFUSED_AFTER, CostMessages, Display
from services.billing.core.tariff import parse_tariff
from tests.unit.services.billing.core.tariffs import component, element, ocpi
from tests.unit.services.billing.core.test_partition import (
    SESSION,
    STATION,
    TARIFF,
    at,
    book_with,
    ended,
    record,
    updated,
)

V16, V201 = str(OcppVersion.V16), str(OcppVersion.V201)


def started(version: str, transaction_id: str = "42", session_id: str = SESSION) -> Envelope:
    event = SessionStarted(
        session_id=session_id,
        station_id=STATION,
        transaction_id=transaction_id,
        evse_id=1,
        connector_id=1,
        id_token="TAG-1",
        meter_start_wh=1000.0,
        started_at=at(0),
        ocpp_version=version,
    ).event()
    return record(event, at(0))


def partition(show: Display | None = None) -> Partition:
    return Partition(0, book=book_with(TARIFF), time_zone="UTC", show=show or Display())


def run(p: Partition, *records: Envelope) -> list[DomainEvent]:
    out: list[DomainEvent] = []
    for envelope in records:
        step = p.handle(envelope)
        assert step is not None
        out += step.events
    return out


def quotes(events: list[DomainEvent]) -> list[CostQuoted]:
    found = []
    for event in events:
        if event.event_type == EventType.COST_QUOTED:
            assert (event.topic, event.key) == (Topic.BILLING_COSTS, STATION)
            quote = CostQuoted.parse(event.envelope())
            assert quote is not None
            found.append(quote)
    return found


def commands(events: list[DomainEvent]) -> list[dict[str, Any]]:
    return [
        e.payload
        for e in events
        if (e.topic, e.event_type) == (Topic.COMMANDS, EventType.OPERATOR_COMMAND)
    ]


def test_every_session_event_is_quoted_and_the_end_with_the_cdr_total() -> None:
    p = partition()
    events = run(p, started(V201), updated(10, 2000), updated(20, 5000), ended(30, 5000))
    q = quotes(events)
    # 1.00 start fee, then 0.30/kWh, all + 21 % VAT
    assert [(x.incl_vat, x.final) for x in q] == [
        ("1.21", False),
        ("1.94", False),
        ("3.03", False),
        ("3.03", True),
    ]
    cdr = next(e for e in events if e.event_type == EventType.CDR_ISSUED).payload["cdr"]
    assert cdr["total_cost"]["incl_vat"] == q[-1].incl_vat
    assert q[0].price_text == "0.36 EUR/kWh, 1.21 EUR per session, incl. VAT"
    assert q[0].tariff_id == "AC-1"
    assert q[0].transaction_id == "42"


def test_a_201_station_gets_cost_updated_at_most_once_per_interval() -> None:
    """Quotes, and with them the station's running cost, come at the start and then at most
    once per interval of the station's time (pricing is most of billing's work)."""
    p = partition(Display(interval=timedelta(minutes=15)))
    at_start = run(p, started(V201, "tx-9"))
    assert commands(at_start) == []  # nothing to say before the first meter value
    too_soon = run(p, updated(10, 1000))
    first = run(p, updated(20, 2000))
    again_too_soon = run(p, updated(30, 5000))
    later = run(p, updated(40, 6000))
    at_end = run(p, ended(50, 6000))
    assert quotes(too_soon) == []
    assert commands(too_soon) == []
    assert commands(again_too_soon) == []
    sent = commands(first) + commands(later)
    assert [c["command"] for c in sent] == ["CostUpdated", "CostUpdated"]
    assert sent[0]["arguments"] == {"total_cost": 1.94, "transaction_id": "tx-9"}
    assert [q.incl_vat for q in quotes(later)] == ["3.39"]
    assert commands(at_end) == []  # the final cost goes in the Ended response
    assert [(q.incl_vat, q.final) for q in quotes(at_end)] == [("3.39", True)]
    call = translate("CostUpdated", sent[0]["arguments"], OcppVersion.V201, command_id="c")
    assert call.payload == {"totalCost": 1.94, "transactionId": "tx-9"}
    assert sent[0]["command_id"] != sent[1]["command_id"]
    assert sent[0]["deadline"] == at(20) + timedelta(minutes=2)


def test_a_16_station_gets_the_oca_running_and_final_cost() -> None:
    p = partition()
    sent = commands(run(p, started(V16), updated(10, 2000), ended(30, 5000)))
    assert [(c["command"], c["arguments"]["message_id"]) for c in sent] == [
        ("DataTransfer", "RunningCost"),
        ("DataTransfer", "RunningCost"),
        ("DataTransfer", "FinalCost"),
    ]
    assert all(c["arguments"]["vendor_id"] == COSTMSG for c in sent)
    running = json.loads(sent[1]["arguments"]["data"], parse_float=Decimal)
    assert running == {
        "transactionId": 42,
        "timestamp": "2026-11-23T12:10:00.000Z",
        "meterValue": 3000,
        "cost": Decimal("1.94"),
        "state": "Charging",
        "chargingPrice": {
            "kWhPrice": Decimal("0.36"),
            "hourPrice": Decimal("0.00"),
            "flatFee": Decimal("1.21"),
        },
    }
    final = json.loads(sent[2]["arguments"]["data"], parse_float=Decimal)
    assert final == {
        "transactionId": 42,
        "cost": Decimal("3.03"),
        "priceText": "3.03 EUR for 5.000 kWh in 0 h 30 min, incl. VAT",
    }
    for c in sent:  # what the station gets is a valid 1.6 DataTransfer
        translate(c["command"], c["arguments"], OcppVersion.V16, command_id=c["command_id"])


@pytest.mark.parametrize(
    ("messages", "version", "expected"),
    [
        (CostMessages.V201, V16, 0),
        (CostMessages.V201, V201, 1),
        (CostMessages.NONE, V201, 0),
        (CostMessages.ALL, V16, 3),
    ],
)
def test_cost_messages_go_to_the_stations_the_setting_names(
    messages: CostMessages, version: str, expected: int
) -> None:
    p = partition(Display(messages=messages))
    events = run(p, started(version), updated(10, 2000), ended(30, 5000))
    assert len(commands(events)) == expected
    assert len(quotes(events)) == 3  # quotes whatever the setting


def refused(command_id: str, **fields: Any) -> Envelope:
    result = CommandCompleted(
        command_id=command_id, station_id=STATION, action="DataTransfer", **fields
    )
    return result.envelope(at=at(1))


def test_a_station_that_refuses_is_recorded_and_left_alone_until_the_retry() -> None:
    p = partition()
    [first] = commands(run(p, started(V16)))
    answer = refused(first["command_id"], outcome=Outcome.ANSWERED, status="UnknownVendorId")
    step = p.handle(answer)
    assert step is not None
    [event] = step.events
    assert (event.topic, event.event_type) == (Topic.BILLING_COSTS, EventType.PRICE_DISPLAY_REFUSED)
    assert event.payload["detail"] == "UnknownVendorId"
    assert event.payload["retry_at"] == at(1) + RETRY_REFUSED_AFTER
    assert commands(run(p, updated(10, 2000), ended(30, 5000))) == []
    # the refusal survives a restart
    restored = partition()
    for key, value in p.changes():
        restored.restore(key, value)
    assert restored.stations == p.stations
    # a day later the station is asked again (its firmware may have learnt it)
    later = replace(started(V16, "43", "CS-1/43"), occurred_at=at(1) + RETRY_REFUSED_AFTER)
    assert commands(run(restored, later))


@pytest.mark.parametrize(
    ("fields", "refusal"),
    [
        ({"outcome": Outcome.ANSWERED, "status": "Rejected"}, True),
        ({"outcome": Outcome.ANSWERED, "status": "Accepted"}, False),
        ({"outcome": Outcome.CALL_ERROR, "error": {"code": "NotImplemented"}}, True),
        ({"outcome": Outcome.CALL_ERROR, "error": {"code": "InternalError"}}, False),
        ({"outcome": Outcome.TIMED_OUT}, False),
        ({"outcome": Outcome.STATION_OFFLINE}, False),
        ({"outcome": Outcome.INVALID, "detail": "1.6 has no CostUpdated"}, True),
    ],
)
def test_what_counts_as_a_refusal(fields: dict[str, Any], refusal: bool) -> None:
    p = partition()
    step = p.handle(refused("billing-0123", **fields))
    assert (step is not None) == refusal


def test_outcomes_of_other_commands_are_not_billings_business() -> None:
    p = partition()
    assert p.handle(refused("api-1", outcome=Outcome.ANSWERED, status="Rejected")) is None


def test_handled_again_after_a_crash_the_commands_have_the_same_ids() -> None:
    records = [started(V16), updated(10, 2000), ended(30, 5000)]
    first = [c["command_id"] for c in commands(run(partition(), *records))]
    again = [c["command_id"] for c in commands(run(partition(), *records))]
    assert first == again
    assert len(set(first)) == 3


def test_the_changelog_keeps_what_was_told() -> None:
    p = partition()
    run(p, started(V16), updated(10, 2000))
    restored = partition()
    for key, value in p.changes():
        restored.restore(key, value)
    assert restored.sessions == p.sessions
    b = restored.sessions[SESSION]
    assert (b.cost_sent, b.messages_sent, b.ocpp_version) == ("1.94", 2, V16)
    assert msgpack.unpackb(msgpack.packb(b.to_dict(), datetime=True), timestamp=3)


def test_the_tariffs_own_text_comes_first_and_prices_are_those_of_a_new_session() -> None:
    zone = ZoneInfo("UTC")
    body = ocpi(
        element(component("ENERGY", "0.50", vat="20"), min_kwh=10),
        element(component("ENERGY", "0.25", vat="20"), component("PARKING_TIME", "6", vat="20")),
        id="T",
    )
    tariff = parse_tariff(body)
    assert price_text(tariff, at=at(0), zone=zone) == (
        "0.30 EUR/kWh, 7.20 EUR/h parking, incl. VAT",
        "en",
    )
    assert unit_prices(tariff, at=at(0), zone=zone).parking_hour == Decimal("7.20")
    texts = [{"language": "nl", "text": "€0,30/kWh"}, {"language": "en", "text": "EUR 0.30/kWh"}]
    named = parse_tariff({**body, "tariff_alt_text": texts})
    assert price_text(named, at=at(0), zone=zone) == ("EUR 0.30/kWh", "en")
    assert price_text(None, at=at(0), zone=zone) == ("Free charging", "en")
