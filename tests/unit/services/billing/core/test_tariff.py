"""Tariffs: OCPI Tariff objects read strictly; what we refuse says which field and why."""

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.billing.core.currencies import MINOR_UNITS, quantum
from services.billing.core.ocpi_json import dumps
from services.billing.core.tariff import (
    Dimension,
    InvalidTariff,
    Restrictions,
    parse_tariff,
)
from tests.unit.services.billing.core.tariffs import (
    COMPLEX,
    MAX_DURATION,
    STEP_SIZE,
    component,
    element,
    ocpi,
)

ENERGY = element(component("ENERGY", "0.25", vat="10"))


def test_an_ocpi_tariff_reads_with_every_field() -> None:
    t = parse_tariff(
        ocpi(
            *COMPLEX,
            id="complex-1",
            type="REGULAR",
            min_price={"excl_vat": Decimal("1"), "incl_vat": Decimal("1.2")},
            start_date_time="2026-12-01T00:00:00Z",
            tariff_alt_text=[{"language": "en", "text": "2.50 start, then by the hour"}],
        )
    )
    assert (t.id, t.currency, t.type, len(t.elements)) == ("complex-1", "EUR", "REGULAR", 6)
    time = t.elements[2].component(Dimension.TIME)
    assert time is not None
    assert (time.price, time.vat, time.step_size) == (Decimal("2.00"), Decimal("20.0"), 600)
    r = t.elements[2].restrictions
    assert r is not None
    assert (r.min_current, r.day_of_week) == (Decimal(32), frozenset(range(5)))
    assert not t.valid_at(datetime(2026, 11, 30, tzinfo=UTC))
    assert t.valid_at(datetime(2026, 12, 1, tzinfo=UTC))


def test_json_numbers_read_as_decimals_without_binary_rounding() -> None:
    body = json.dumps(ocpi(element({"type": "ENERGY", "price": 0.1, "step_size": 1})), default=str)
    t = parse_tariff(json.loads(body, parse_float=Decimal))
    assert t.elements[0].components[0].price == Decimal("0.1")
    floats = parse_tariff(json.loads(body))  # floats, read through their shortest repr
    assert floats.elements[0].components[0].price == Decimal("0.1")


BAD: list[tuple[str, dict[str, Any], str]] = [
    (
        "negative price",
        ocpi(element(component("ENERGY", "-0.25"))),
        "elements[0].price_components[0].price: must not be negative",
    ),
    ("unknown currency", ocpi(ENERGY, currency="EUX"), "currency: 'EUX' is not an ISO 4217"),
    ("no elements", ocpi(), "elements: needs at least 1"),
    (
        "no components",
        ocpi({"price_components": []}),
        "elements[0].price_components: needs at least 1",
    ),
    (
        "unknown dimension",
        ocpi(element({"type": "KWH", "price": 1, "step_size": 1})),
        "elements[0].price_components[0].type: must be one of ENERGY, FLAT, PARKING_TIME, TIME",
    ),
    (
        "price as a string",
        ocpi(element({"type": "ENERGY", "price": "0.25", "step_size": 1})),
        "elements[0].price_components[0].price: must be a number",
    ),
    (
        "a price beyond any float",
        ocpi(element({"type": "ENERGY", "price": Decimal("1e400"), "step_size": 1})),
        "elements[0].price_components[0].price: must be a finite number",
    ),
    (
        "no step_size",
        ocpi(element({"type": "ENERGY", "price": 1})),
        "elements[0].price_components[0].step_size: must be a whole number",
    ),
    (
        "a bad time of day",
        ocpi(element(component("ENERGY", "1"), start_time="24:00"), ENERGY),
        "elements[0].restrictions.start_time: must be a time of day HH:MM",
    ),
    (
        "a bad weekday",
        ocpi(element(component("ENERGY", "1"), day_of_week=["MON"]), ENERGY),
        "elements[0].restrictions.day_of_week[0]: must be one of",
    ),
    (
        "a negative max_kwh",
        ocpi(element(component("ENERGY", "1"), max_kwh=Decimal(-1)), ENERGY),
        "elements[0].restrictions.max_kwh: must not be negative",
    ),
    (
        "energy for a reservation",
        ocpi(element(component("ENERGY", "1"), reservation="RESERVATION"), ENERGY),
        "elements[0].price_components: a reservation is priced by FLAT or TIME",
    ),
    (
        "nothing at night",
        ocpi(element(component("ENERGY", "1"), start_time="06:00", end_time="22:00")),
        "elements: no element applies on MONDAY at 00:00 local time",
    ),
    (
        "nothing on Sunday",
        ocpi(
            element(
                component("ENERGY", "1"),
                day_of_week=["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY"],
            )
        ),
        "elements: no element applies on SUNDAY at 00:00",
    ),
    (
        "only for some sessions",
        ocpi(element(component("ENERGY", "1"), max_kwh=Decimal(10))),
        "elements: no element applies on MONDAY at 00:00",
    ),
    (
        "min above max",
        ocpi(ENERGY, min_price={"excl_vat": 5}, max_price={"excl_vat": 4}),
        "min_price: above max_price",
    ),
    ("not an object", [], "tariff: must be an object"),  # type: ignore[list-item]
    ("a long id", ocpi(ENERGY, id="x" * 37), "id: must be a string of 1 to 36 characters"),
    (
        "a bad last_updated",
        ocpi(ENERGY) | {"last_updated": "yesterday"},
        "last_updated: must be an RFC 3339 date-time",
    ),
]


@pytest.mark.parametrize(("body", "says"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_what_is_refused_says_which_field_and_why(body: Any, says: str) -> None:
    with pytest.raises(InvalidTariff) as refused:
        parse_tariff(body)
    assert str(refused.value).startswith(says)


@pytest.mark.parametrize("elements", [COMPLEX, STEP_SIZE, MAX_DURATION])
def test_time_windows_that_cover_the_week_are_accepted(elements: tuple[Any, ...]) -> None:
    assert parse_tariff(ocpi(*elements)).elements


@pytest.mark.parametrize(
    ("start", "end", "at", "holds"),
    [
        ("17:00", "00:00", "23:59", True),  # 00:00: until the end of the day
        ("17:00", None, "16:59", False),
        ("22:00", "06:00", "02:00", True),  # wraps past midnight
        ("22:00", "06:00", "06:00", False),  # end exclusive
        ("22:00", "06:00", "21:59", False),
        (None, "06:00", "00:00", True),  # from midnight
    ],
)
def test_time_of_day_windows(start: str | None, end: str | None, at: str, holds: bool) -> None:
    r = Restrictions(
        start_time=None if start is None else datetime.strptime(start, "%H:%M").time(),  # noqa: DTZ007
        end_time=None if end is None else datetime.strptime(end, "%H:%M").time(),  # noqa: DTZ007
    )
    local = datetime.fromisoformat(f"2026-11-23T{at}:00+01:00")
    assert r.clock_holds(local) is holds


@given(st.dictionaries(st.text(max_size=8), st.none() | st.integers() | st.text(), max_size=6))
def test_arbitrary_objects_are_refused_with_invalid_tariff_only(body: dict[str, Any]) -> None:
    with pytest.raises(InvalidTariff):
        parse_tariff(body)


def test_minor_units_of_currencies() -> None:
    assert (quantum("EUR"), quantum("JPY"), quantum("KWD")) == (
        Decimal("0.01"),
        Decimal("1"),
        Decimal("0.001"),
    )
    assert len(MINOR_UNITS) > 150
    assert all(len(code) == 3 and code.isupper() for code in MINOR_UNITS)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.text()
    | st.decimals(allow_nan=False, allow_infinity=False),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=20,
)


@given(json_values)
def test_ocpi_json_keeps_every_decimal(value: Any) -> None:
    assert json.loads(dumps(value), parse_float=Decimal) == value


def test_ocpi_json_refuses_what_json_cannot_hold() -> None:
    with pytest.raises(ValueError, match="not a JSON number"):
        dumps(Decimal("NaN"))
    with pytest.raises(TypeError):
        dumps({1, 2})
