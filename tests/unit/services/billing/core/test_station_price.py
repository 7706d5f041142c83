"""The price a station shows before a session: announced at boot and when it changes."""

from typing import Any

import msgpack

from contracts.envelope import Envelope
from contracts.events import DomainEvent, EventType, Outcome
from contracts.payloads.authorizations import TokenAuthorized
from contracts.payloads.billing import PriceAnnounced, Scope
from contracts.payloads.commands import CommandCompleted
from contracts.payloads.stations import StationBooted, StationStatusChanged
from contracts.payloads.tokens import Token
from contracts.topics import Topic
from ocppj.commands.translate import translate
from ocppj.versions import OcppVersion
from services.billing.core.partition import Partition
from services.billing.core.station_costs import CostMessages, Display
from services.billing.rebuild import REPLAY
from tests.unit.services.billing.core.tariffs import component, element, ocpi
from tests.unit.services.billing.core.test_book import assign
from tests.unit.services.billing.core.test_partition import STATION, TARIFF, at, book_with, define

V16, V201 = str(OcppVersion.V16), str(OcppVersion.V201)


def booted(version: str, minutes: float = 0, status: str = "Accepted") -> Envelope:
    event = StationBooted(
        station_id=STATION,
        vendor="V",
        model="M",
        serial_number=None,
        firmware_version=None,
        ocpp_version=version,
        boot_status=status,
    ).event()
    return event.envelope(occurred_at=at(minutes))


def status(minutes: float) -> Envelope:
    event = StationStatusChanged(
        station_id=STATION, evse_id=1, connector_id=1, status="Available", error_code=None,
        at=at(minutes),
    ).event()  # fmt: skip
    return event.envelope(occurred_at=at(minutes))


def partition(show: Display | None = None) -> Partition:
    return Partition(0, book=book_with(TARIFF), time_zone="UTC", show=show or Display())


def run(p: Partition, envelope: Envelope) -> list[DomainEvent]:
    step = p.handle(envelope)
    assert step is not None
    return step.events


def announced(events: list[DomainEvent]) -> list[PriceAnnounced]:
    found = []
    for e in events:
        if e.event_type == EventType.PRICE_ANNOUNCED:
            assert (e.topic, e.key) == (Topic.BILLING_COSTS, STATION)
            parsed = PriceAnnounced.parse(e.envelope())
            assert parsed is not None
            found.append(parsed)
    return found


def commands(events: list[DomainEvent]) -> list[dict[str, Any]]:
    return [e.payload for e in events if e.topic == Topic.COMMANDS]


def test_a_201_station_is_shown_its_price_when_it_boots() -> None:
    events = run(partition(), booted(V201))
    [price] = announced(events)
    assert price.price_text == "0.36 EUR/kWh, 1.21 EUR per session, incl. VAT"
    assert price.tariff_id == TARIFF["id"]
    [command] = commands(events)
    assert command["command"] == "SetDisplayMessage"
    call = translate(command["command"], command["arguments"], OcppVersion.V201, command_id="c")
    assert call.payload["message"]["message"]["content"] == price.price_text
    assert call.payload["message"]["id"] == 1  # the same id: a new price replaces the old


def test_a_16_station_gets_the_oca_default_price() -> None:
    [command] = commands(run(partition(), booted(V16)))
    assert command["command"] == "ChangeConfiguration"
    assert command["arguments"]["key"] == "DefaultPrice"
    assert command["arguments"]["value"] == (
        '{"priceText":"0.36 EUR/kWh, 1.21 EUR per session, incl. VAT"}'
    )
    translate(command["command"], command["arguments"], OcppVersion.V16, command_id="c")


def test_the_price_is_announced_again_only_when_it_changes() -> None:
    p = partition()
    run(p, booted(V201))
    assert run(p, status(5)) == []  # the same price: nothing to say
    dearer = ocpi(element(component("ENERGY", "0.50", vat="21")), id="DEARER")
    define(p.book, dearer)
    assign(p.book, Scope.DEFAULT, None, "DEARER")
    events = run(p, status(10))
    [price] = announced(events)
    assert price.price_text == "0.61 EUR/kWh, incl. VAT"
    [first, second] = [c["command_id"] for c in commands(run(p, booted(V201, 20)))] + [
        c["command_id"] for c in commands(events)
    ]
    assert first != second  # every message its own id
    restored = partition()
    for key, value in p.changes():
        restored.restore(key, value)
    assert restored.stations == p.stations
    assert msgpack.unpackb(msgpack.packb(p.stations[STATION].to_dict(), datetime=True))


def test_no_price_for_a_station_not_accepted_a_refusing_one_or_a_replay() -> None:
    assert run(partition(), booted(V201, status="Pending")) == []
    assert run(Partition(0, book=book_with(TARIFF), show=REPLAY), booted(V201)) == []
    quiet = run(partition(Display(messages=CostMessages.NONE)), booted(V201))
    assert len(announced(quiet)) == 1
    assert commands(quiet) == []
    p = partition()
    [command] = commands(run(p, booted(V201)))
    result = CommandCompleted(
        command_id=command["command_id"], station_id=STATION, action="SetDisplayMessage",
        outcome=Outcome.ANSWERED, status="NotSupportedMessageFormat",
    )  # fmt: skip
    refusal = run(p, result.envelope(at=at(1)))
    assert [e.event_type for e in refusal] == [EventType.PRICE_DISPLAY_REFUSED]
    again = run(p, booted(V201, 2))
    assert len(announced(again)) == 1
    assert commands(again) == []
    later = run(p, booted(V201, 2 + 24 * 60))  # a day after the refusal
    assert len(commands(later)) == 1


def authorized(version: str, status: str = "Accepted", token: str = "TAG-1") -> Envelope:
    event = TokenAuthorized(
        station_id=STATION, id_token=token, id_token_type=None, status=status, group_id=None,
        ocpp_version=version, at=at(3),
    ).event()  # fmt: skip
    return event.envelope(occurred_at=at(3))


def test_an_authorized_16_driver_is_told_their_price() -> None:
    """The OCA note: Authorize.req/conf, then SetUserPrice for that idToken; a fleet card's
    contract price when its group has one."""
    p = partition()
    [command] = commands(run(p, authorized(V16)))
    assert command["arguments"]["message_id"] == "SetUserPrice"
    data = command["arguments"]["data"]
    assert data == '{"idToken":"TAG-1","priceText":"0.36 EUR/kWh, 1.21 EUR per session, incl. VAT"}'
    translate(command["command"], command["arguments"], OcppVersion.V16, command_id="c")
    define(p.book, ocpi(element(component("ENERGY", "0.20", vat="21")), id="FLEET"))
    assign(p.book, Scope.TOKEN_GROUP, "FLEET-1", "FLEET")
    p.book.apply_token(
        "CARD-F",
        Token(id_token="CARD-F", type="ISO14443", status="Accepted", group_id="FLEET-1").envelope(),
    )
    [fleet] = commands(run(p, authorized(V16, token="CARD-F")))
    assert "0.24 EUR/kWh" in fleet["arguments"]["data"]
    assert commands(run(p, authorized(V16, status="Invalid"))) == []
    assert commands(run(p, authorized(V201))) == []  # 2.0.1: personalMessage (sessions)
