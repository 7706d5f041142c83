"""The price of a reservation under an OCPI 2.2.1 tariff: used, expired or cancelled (pure).

mod_tariffs, TariffRestrictions.reservation: "A reservation starts when the reservation is made,
and ends when the driver starts charging on the reserved EVSE/Location, or when the reservation
expires. A reservation can only have FLAT and TIME TariffDimensions, where TIME is for the
duration of the reservation." RESERVATION elements price a reservation; RESERVATION_EXPIRES
elements "describe costs for a reservation that expires (i.e. driver does not start a charging
session before expiry_date)". The specification's examples 15 to 18 settle the rest:

- per dimension the first element that has it prices it: for an expired reservation first the
  RESERVATION_EXPIRES elements, then the RESERVATION ones (example 17: the expiry FLAT and the
  reservation's TIME; example 18: the expiry's TIME instead of the reservation's);
- reservation TIME is rounded up to its own component's step (example 16: 13 -> 15 minutes);
- a reservation's FLAT is billed besides the session's (example 16: both FLATs).

Other restrictions of a reservation element (time of day, weekday, dates) are judged at the
reservation's start. A cancelled reservation is priced like one that ended in a session, for
its time until the cancellation, without an expiry fee (docs/billing.md).
"""

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from services.billing.core.pricing import S_PER_H, Cost, bounded, step_up
from services.billing.core.tariff import Dimension, Price, PriceComponent, Tariff

RESERVATION, EXPIRES = "RESERVATION", "RESERVATION_EXPIRES"


@dataclass(frozen=True, slots=True)
class Reservation:
    """From ``start`` (made) to ``end`` (a session started, it expired or was cancelled)."""

    start: datetime
    end: datetime
    expired: bool = False


@dataclass(frozen=True, slots=True)
class ReservationCost:
    seconds: Decimal  # the reservation's duration
    billed_s: Decimal  # ... rounded up to its TIME step
    flat: Price
    time: Price

    @property
    def total(self) -> Price:
        assert self.flat.incl_vat is not None
        assert self.time.incl_vat is not None
        return Price(
            self.flat.excl_vat + self.time.excl_vat, self.flat.incl_vat + self.time.incl_vat
        )


def reservation_cost(tariff: Tariff, zone: ZoneInfo, r: Reservation) -> ReservationCost:
    """What reservation ``r`` costs under ``tariff``."""
    local = r.start.astimezone(zone)
    kinds = (EXPIRES, RESERVATION) if r.expired else (RESERVATION,)
    found: dict[Dimension, PriceComponent] = {}
    for kind in kinds:
        for element in tariff.elements:
            restrictions = element.restrictions
            if restrictions is None or restrictions.reservation != kind:
                continue
            if not restrictions.clock_holds(local) or not restrictions.dates_hold(local):
                continue
            for c in element.components:
                found.setdefault(c.type, c)
    seconds = Decimal(max((r.end - r.start).total_seconds(), 0.0))
    zero = Price(Decimal(0), Decimal(0))
    flat = found.get(Dimension.FLAT)
    time = found.get(Dimension.TIME)
    # a step of 1 s leaves the time as it is (pricing's step_up would round it to whole seconds)
    step = 0 if time is None or time.step_size <= 1 else time.step_size
    billed = step_up(seconds, step)
    return ReservationCost(
        seconds=seconds,
        billed_s=billed,
        flat=zero if flat is None else Price(flat.price, flat.incl_vat(flat.price)),
        time=zero if time is None else _priced(time, billed),
    )


def with_reservation(cost: Cost, tariff: Tariff, reserved: ReservationCost) -> Cost:
    """``cost`` (the charging session's, or an empty one) with the reservation added: its own
    figures, and min_price/max_price applied to the whole again."""
    parts = (cost.energy, cost.time, cost.parking, cost.fixed, reserved.total)
    excl = sum((p.excl_vat for p in parts), Decimal(0))
    incl = sum((p.incl_vat or Decimal(0) for p in parts), Decimal(0))
    return replace(
        cost,
        reservation=reserved.total,
        reservation_s=reserved.billed_s,
        total=bounded(tariff, excl, incl),
    )


def _priced(component: PriceComponent, seconds: Decimal) -> Price:
    excl = seconds * component.price / S_PER_H
    return Price(excl, component.incl_vat(excl))
