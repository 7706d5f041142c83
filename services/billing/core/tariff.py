"""OCPI 2.2.1 tariffs: the model, read strictly from an OCPI Tariff object (pure).

OCPI 2.2.1 mod_tariffs (release-2.2.1-bugfixes): a Tariff has ordered TariffElements; each has
PriceComponents (ENERGY per kWh, TIME and PARKING_TIME per hour, FLAT per session) and
optional TariffRestrictions, all ANDed, that switch the element on and off *during* a session.
Local times and dates are those of the station's time zone. How a session is priced is
pricing.py; docs/billing.md says what we decided where the specification is silent.
"""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from ocppj.timestamps import parse_timestamp
from services.billing.core.currencies import MINOR_UNITS

WEEKDAYS = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")
TARIFF_TYPES = frozenset(
    {"AD_HOC_PAYMENT", "PROFILE_CHEAP", "PROFILE_FAST", "PROFILE_GREEN", "REGULAR"}
)
RESERVATIONS = frozenset({"RESERVATION", "RESERVATION_EXPIRES"})
MIDNIGHT = time(0, 0)


class InvalidTariff(ValueError):
    """An OCPI Tariff (or part of one) we refuse; the message names the field."""


class Dimension(StrEnum):
    """OCPI TariffDimensionType."""

    ENERGY = "ENERGY"  # price per kWh, step_size in Wh
    FLAT = "FLAT"  # a fixed price per session
    PARKING_TIME = "PARKING_TIME"  # price per hour not charging, step_size in seconds
    TIME = "TIME"  # price per hour charging, step_size in seconds


@dataclass(frozen=True, slots=True)
class Price:
    """OCPI Price: excl. VAT, and incl. VAT when known."""

    excl_vat: Decimal
    incl_vat: Decimal | None = None


@dataclass(frozen=True, slots=True)
class PriceComponent:
    type: Dimension
    price: Decimal  # per unit, excl. VAT
    vat: Decimal | None  # percent; None: no VAT applies (not the same as 0)
    step_size: int  # Wh or s; 0 and 1: no rounding

    def incl_vat(self, amount: Decimal) -> Decimal:
        return amount if self.vat is None else amount * (1 + self.vat / 100)


@dataclass(frozen=True, slots=True, kw_only=True)
class Restrictions:
    """OCPI TariffRestrictions; every bound that is set must hold (lower bounds inclusive, upper
    bounds exclusive)."""

    start_time: time | None = None
    end_time: time | None = None
    start_date: date | None = None
    end_date: date | None = None
    min_kwh: Decimal | None = None
    max_kwh: Decimal | None = None
    min_current: Decimal | None = None  # A, summed over phases
    max_current: Decimal | None = None
    min_power: Decimal | None = None  # kW
    max_power: Decimal | None = None
    min_duration: int | None = None  # s since the session started
    max_duration: int | None = None
    day_of_week: frozenset[int] = frozenset()  # 0 = Monday; empty: every day
    reservation: str | None = None  # RESERVATION / RESERVATION_EXPIRES

    @property
    def clock_only(self) -> bool:
        """Whether only the time of day and the weekday restrict it (it then holds for every
        session at the times it holds)."""
        return (
            self.start_date is None
            and self.end_date is None
            and self.reservation is None
            and all(
                bound is None
                for bound in (
                    self.min_kwh,
                    self.max_kwh,
                    self.min_current,
                    self.max_current,
                    self.min_power,
                    self.max_power,
                    self.min_duration,
                    self.max_duration,
                )
            )
        )

    def clock_holds(self, local: datetime) -> bool:
        """Time of day and weekday, at the local time ``local``."""
        if self.day_of_week and local.weekday() not in self.day_of_week:
            return False
        start, end = self.start_time, self.end_time
        if start is None and end is None:
            return True
        now = local.time()
        start = start or MIDNIGHT
        if end is None or end == MIDNIGHT:  # "until the end of the day" (ocpi#466)
            return now >= start
        if end > start:
            return start <= now < end
        return now >= start or now < end  # the window wraps past midnight

    def dates_hold(self, local: datetime) -> bool:
        """``start_date <= local date < end_date``, where they are set."""
        day = local.date()
        return (self.start_date is None or day >= self.start_date) and (
            self.end_date is None or day < self.end_date
        )

    def holds(
        self,
        local: datetime,
        *,
        energy_kwh: Decimal,
        duration_s: Decimal,
        power_kw: Decimal | None,
        current_a: Decimal | None,
    ) -> bool:
        """Whether the element is on at local time ``local`` with the session's energy and
        duration so far and its power and current there. A power or current bound with the
        quantity unknown does not hold."""
        if self.reservation is not None or not self.clock_holds(local):
            return False
        if not self.dates_hold(local):
            return False
        return (
            _within(energy_kwh, self.min_kwh, self.max_kwh)
            and _within(duration_s, self.min_duration, self.max_duration)
            and _within(power_kw, self.min_power, self.max_power)
            and _within(current_a, self.min_current, self.max_current)
        )


def _within(value: Decimal | None, low: Decimal | int | None, high: Decimal | int | None) -> bool:
    if low is None and high is None:
        return True
    if value is None:
        return False
    return (low is None or value >= low) and (high is None or value < high)


@dataclass(frozen=True, slots=True)
class TariffElement:
    components: tuple[PriceComponent, ...]
    restrictions: Restrictions | None = None

    def component(self, dimension: Dimension) -> PriceComponent | None:
        return next((c for c in self.components if c.type is dimension), None)


@dataclass(frozen=True, slots=True, kw_only=True)
class Tariff:
    """An OCPI 2.2.1 Tariff, read; ``ocpi`` is the object as given (for CDRs and the API)."""

    country_code: str
    party_id: str
    id: str
    currency: str
    type: str | None
    elements: tuple[TariffElement, ...]
    min_price: Price | None = None
    max_price: Price | None = None
    start_date_time: datetime | None = None
    end_date_time: datetime | None = None
    last_updated: datetime
    ocpi: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def valid_at(self, at: datetime) -> bool:
        """``start_date_time <= at < end_date_time``, where they are set."""
        return (self.start_date_time is None or self.start_date_time <= at) and (
            self.end_date_time is None or at < self.end_date_time
        )


# --- reading an OCPI Tariff object --------------------------------------------------------------


def parse_tariff(obj: object) -> Tariff:
    """The tariff an OCPI 2.2.1 Tariff object describes.

    Raises:
        InvalidTariff: malformed, a negative price, an unknown currency, or restrictions that
            leave some time of some day without any element (the message says which).
    """
    o = _object(obj, "tariff")
    currency = _string(o, "currency", 3, 3)
    if currency not in MINOR_UNITS:
        raise InvalidTariff(f"currency: {currency!r} is not an ISO 4217 currency")
    tariff_type = _optional(o, "type", lambda v, p: _enum(v, p, TARIFF_TYPES))
    elements = _list(o, "elements", _element, at_least=1)
    tariff = Tariff(
        country_code=_string(o, "country_code", 2, 2),
        party_id=_string(o, "party_id", 3, 3),
        id=_string(o, "id", 1, 36),
        currency=currency,
        type=tariff_type,
        elements=tuple(elements),
        min_price=_optional(o, "min_price", _price),
        max_price=_optional(o, "max_price", _price),
        start_date_time=_optional(o, "start_date_time", _datetime),
        end_date_time=_optional(o, "end_date_time", _datetime),
        last_updated=_datetime(o.get("last_updated"), "last_updated"),
        ocpi=o,
    )
    if o.get("tariff_alt_text") is not None:
        _list(o, "tariff_alt_text", _display_text, at_least=0)
    gap = uncovered(tariff)
    if gap is not None:
        raise InvalidTariff(gap)
    if (
        tariff.min_price is not None
        and tariff.max_price is not None
        and tariff.min_price.excl_vat > tariff.max_price.excl_vat
    ):
        raise InvalidTariff("min_price: above max_price")
    return tariff


def uncovered(tariff: Tariff) -> str | None:
    """Where the elements leave a time without any price: every minute of every weekday must be
    covered by an element restricted by nothing but the time of day and the weekday (an element
    with a kWh, power, current, duration or date bound is off for some sessions)."""
    always = [
        e.restrictions
        for e in tariff.elements
        if e.restrictions is None or e.restrictions.clock_only
    ]
    if any(r is None for r in always):
        return None
    monday = datetime(2024, 1, 1, tzinfo=UTC)  # a Monday; the clock as a station's
    for minute in range(7 * 24 * 60):
        local = monday + timedelta(minutes=minute)
        if not any(r is not None and r.clock_holds(local) for r in always):
            weekday = WEEKDAYS[local.weekday()]
            return (
                f"elements: no element applies on {weekday} at {local:%H:%M} local time; "
                "end the list with an element that is always on"
            )
    return None


def _element(value: object, path: str) -> TariffElement:
    o = _object(value, path)
    components = _list(o, "price_components", _component, at_least=1, path=path)
    restrictions = _optional(o, "restrictions", _restrictions, path=path)
    if restrictions is not None and restrictions.reservation is not None:
        kinds = {c.type for c in components}
        if not kinds <= {Dimension.FLAT, Dimension.TIME}:
            raise InvalidTariff(f"{path}.price_components: a reservation is priced by FLAT or TIME")
    return TariffElement(tuple(components), restrictions)


def _component(value: object, path: str) -> PriceComponent:
    o = _object(value, path)
    dimension = Dimension(_enum(o.get("type"), f"{path}.type", frozenset(Dimension)))
    price = _number(o.get("price"), f"{path}.price")
    if price < 0:
        raise InvalidTariff(f"{path}.price: must not be negative")
    vat = _optional(o, "vat", _number, path=path)
    if vat is not None and vat < 0:
        raise InvalidTariff(f"{path}.vat: must not be negative")
    step_size = _whole(o.get("step_size"), f"{path}.step_size")
    return PriceComponent(dimension, price, vat, step_size)


def _restrictions(value: object, path: str) -> Restrictions:
    o = _object(value, path)

    def number(name: str) -> Decimal | None:
        found: Decimal | None = _optional(o, name, _number, path=path)
        if found is not None and found < 0:
            raise InvalidTariff(f"{path}.{name}: must not be negative")
        return found

    days = _optional(o, "day_of_week", lambda v, p: _list_of(v, p, _weekday), path=path)
    reservation = _optional(o, "reservation", lambda v, p: _enum(v, p, RESERVATIONS), path=path)
    return Restrictions(
        start_time=_optional(o, "start_time", _clock, path=path),
        end_time=_optional(o, "end_time", _clock, path=path),
        start_date=_optional(o, "start_date", _date, path=path),
        end_date=_optional(o, "end_date", _date, path=path),
        min_kwh=number("min_kwh"),
        max_kwh=number("max_kwh"),
        min_current=number("min_current"),
        max_current=number("max_current"),
        min_power=number("min_power"),
        max_power=number("max_power"),
        min_duration=_optional(o, "min_duration", _whole, path=path),
        max_duration=_optional(o, "max_duration", _whole, path=path),
        day_of_week=frozenset(days or ()),
        reservation=reservation,
    )


def _price(value: object, path: str) -> Price:
    o = _object(value, path)
    excl = _number(o.get("excl_vat"), f"{path}.excl_vat")
    incl = _optional(o, "incl_vat", _number, path=path)
    if excl < 0 or (incl is not None and incl < 0):
        raise InvalidTariff(f"{path}: must not be negative")
    return Price(excl, incl)


def _display_text(value: object, path: str) -> None:
    o = _object(value, path)
    _string(o, "language", 2, 2, path=path)
    _string(o, "text", 0, 512, path=path)


# --- field readers: each names the field it refuses ------------------------------------------


def _name(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _object(value: object, path: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise InvalidTariff(f"{path}: must be an object")
    return value


def _optional(o: Mapping[str, Any], name: str, read: Any, *, path: str = "") -> Any:
    value = o.get(name)
    return None if value is None else read(value, _name(path, name))


def _string(o: Mapping[str, Any], name: str, low: int, high: int, *, path: str = "") -> str:
    value = o.get(name)
    where = _name(path, name)
    if not isinstance(value, str) or not low <= len(value) <= high:
        raise InvalidTariff(f"{where}: must be a string of {low} to {high} characters")
    return value


def _enum(value: object, path: str, allowed: frozenset[str]) -> str:
    if value not in allowed:
        raise InvalidTariff(f"{path}: must be one of {', '.join(sorted(allowed))}")
    assert isinstance(value, str)
    return value


def _number(value: object, path: str) -> Decimal:
    """A JSON number (an API reads JSON with parse_float=Decimal: no binary rounding)."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise InvalidTariff(f"{path}: must be a number")
    try:
        number = value if isinstance(value, Decimal) else Decimal(repr(value))
    except InvalidOperation:
        raise InvalidTariff(f"{path}: must be a number") from None
    if not number.is_finite() or not math.isfinite(float(number)):  # 1e400 is no price
        raise InvalidTariff(f"{path}: must be a finite number")
    return number


def _whole(value: object, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidTariff(f"{path}: must be a whole number, 0 or more")
    return value


def _list(
    o: Mapping[str, Any], name: str, read: Any, *, at_least: int, path: str = ""
) -> list[Any]:
    where = _name(path, name)
    items = _list_of(o.get(name), where, read)
    if len(items) < at_least:
        raise InvalidTariff(f"{where}: needs at least {at_least}")
    return items


def _list_of(value: object, path: str, read: Any) -> list[Any]:
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise InvalidTariff(f"{path}: must be a list")
    return [read(item, f"{path}[{i}]") for i, item in enumerate(value)]


def _weekday(value: object, path: str) -> int:
    return WEEKDAYS.index(_enum(value, path, frozenset(WEEKDAYS)))


def _clock(value: object, path: str) -> time:
    """OCPI ``HH:MM``, 00:00 to 23:59."""
    if isinstance(value, str) and len(value) == 5 and value[2] == ":":
        try:
            return time(int(value[:2]), int(value[3:]))
        except ValueError:
            pass
    raise InvalidTariff(f"{path}: must be a time of day HH:MM")


def _date(value: object, path: str) -> date:
    if isinstance(value, str) and len(value) == 10:
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise InvalidTariff(f"{path}: must be a date YYYY-MM-DD")


def _datetime(value: object, path: str) -> datetime:
    parsed = parse_timestamp(value)
    if parsed is None:
        raise InvalidTariff(f"{path}: must be an RFC 3339 date-time")
    return parsed
