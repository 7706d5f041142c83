"""Reservations priced: the OCPI 2.2.1 examples 15 to 18, used and expired."""

from datetime import timedelta
from decimal import Decimal as D
from typing import Any

import pytest

from services.billing.core.pricing import Cost
from services.billing.core.reservation import Reservation, reservation_cost, with_reservation
from tests.unit.services.billing.core.tariffs import (
    AMSTERDAM,
    MONDAY,
    RESERVATION_5_PER_HOUR,
    RESERVATION_EXPIRE_FEE,
    RESERVATION_EXPIRE_TIME,
    RESERVATION_FEE_5_PER_HOUR,
    cost_of,
    tariff,
)

NOON = MONDAY + timedelta(hours=12)


def used(elements: tuple[Any, ...], minutes: int) -> Cost:
    """Booked at noon, charging ``minutes`` later: 20 kWh in an hour."""
    t = tariff(*elements)
    start = NOON + timedelta(minutes=minutes)
    session = cost_of(t, start, (60, 20))
    r = reservation_cost(t, AMSTERDAM, Reservation(NOON, start))
    return with_reservation(session, t, r)


def expired(elements: tuple[Any, ...], minutes: int) -> Cost:
    t = tariff(*elements)
    nothing = Cost(tariff_id=t.id, currency=t.currency, periods=(), energy_wh=D(0),
                   charging_s=D(0), parking_s=D(0))  # fmt: skip
    end = NOON + timedelta(minutes=minutes)
    return with_reservation(
        nothing, t, reservation_cost(t, AMSTERDAM, Reservation(NOON, end, True))
    )


@pytest.mark.parametrize(
    ("elements", "minutes", "excl", "incl", "reserved_min"),
    [
        (RESERVATION_5_PER_HOUR, 15, "6.75", "7.60", 15),  # tariff_15
        (RESERVATION_FEE_5_PER_HOUR, 13, "8.75", "10.00", 15),  # tariff_16: both FLATs
        (RESERVATION_EXPIRE_FEE, 22, "6.50", "7.30", 30),  # tariff_17: no expiry fee
        (RESERVATION_EXPIRE_TIME, 22, "7.00", "7.90", 30),  # tariff_18
    ],
)
def test_the_specifications_used_reservations(
    elements: tuple[Any, ...], minutes: int, excl: str, incl: str, reserved_min: int
) -> None:
    cost = used(elements, minutes)
    assert cost.rounded.excl_vat == D(excl)
    assert cost.rounded.incl_vat == D(incl)
    assert cost.reservation_s == reserved_min * 60


@pytest.mark.parametrize(
    ("elements", "minutes", "excl", "incl"),
    [
        (RESERVATION_EXPIRE_FEE, 60, "6.00", "7.20"),  # tariff_17: fee + reserved time
        (RESERVATION_EXPIRE_TIME, 90, "9.00", "10.80"),  # tariff_18: the expiry's time price
    ],
)
def test_the_specifications_expired_reservations(
    elements: tuple[Any, ...], minutes: int, excl: str, incl: str
) -> None:
    cost = expired(elements, minutes)
    assert (cost.rounded.excl_vat, cost.rounded.incl_vat) == (D(excl), D(incl))


def test_a_tariff_without_reservation_elements_makes_a_reservation_free() -> None:
    plain = (RESERVATION_5_PER_HOUR[1],)
    assert used(plain, 30).reservation.excl_vat == 0
    assert expired(plain, 30).rounded.excl_vat == 0


def test_a_used_reservation_pays_no_expiry_fee_and_an_expired_one_its_whole_time() -> None:
    assert used(RESERVATION_EXPIRE_FEE, 60).rounded.excl_vat == D("7.50")  # 2.00 + 0.50 + 5.00
    assert expired(RESERVATION_EXPIRE_FEE, 61).reservation_s == 70 * 60  # steps of 10 minutes
