"""The price of a session under an OCPI 2.2.1 tariff, exactly, in Decimal (pure).

OCPI 2.2.1 mod_tariffs, as the reference (docs/billing.md "How a session is priced"):

1. The session is cut into periods at every instant where the price could change: each meter
   sample, each restriction's time of day and local midnight, the instants a kWh or duration
   bound is crossed (energy is linear between samples).
2. Per period and per dimension, "the first element that has a component of that dimension
   and whose restrictions all hold" prices it; none: that dimension is free in that period.
   ENERGY is the energy of the period, TIME the time charging, PARKING_TIME the time not
   charging (the EV not taking power).
3. step_size: "the session total" of ENERGY is rounded up to the step of the last ENERGY
   component used, the amount added billed in the last ENERGY period at its price; likewise
   PARKING_TIME when parking was priced, else TIME ("only total parking time is rounded;
   charging TIME stays exact").
4. Cost = quantity x price per period, VAT per component; FLAT: each FLAT component that
   priced a period is billed once. min_price/max_price bound the total, excl and incl apart.

Money is rounded only in ``Cost.rounded`` (to the currency's minor unit, half up); every
other figure is exact.
"""

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from itertools import pairwise
from zoneinfo import ZoneInfo

from services.billing.core.currencies import quantum
from services.billing.core.tariff import MIDNIGHT, Dimension, Price, PriceComponent, Tariff

WH_PER_KWH = Decimal(1000)
S_PER_H = Decimal(3600)
_TIMED = (Dimension.TIME, Dimension.PARKING_TIME)


@dataclass(frozen=True, slots=True)
class Sample:
    """The meter at ``at``: energy since the session started, and until the next sample whether
    the EV takes power (else it is parked) and the current summed over its phases."""

    at: datetime
    energy_wh: Decimal
    charging: bool = True
    current_a: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Period:
    """An OCPI ChargingPeriod: from ``start`` to ``end``, one price per dimension throughout."""

    start: datetime
    end: datetime
    charging: bool
    energy_wh: Decimal
    seconds: Decimal
    elements: tuple[tuple[Dimension, int], ...]  # which element priced each dimension
    min_power_kw: Decimal | None = None
    max_power_kw: Decimal | None = None
    min_current_a: Decimal | None = None
    max_current_a: Decimal | None = None
    billed: tuple[tuple[Dimension, Decimal], ...] = ()  # quantities billed: Wh or s (+ steps)
    cost: tuple[tuple[Dimension, Price], ...] = ()  # exact, per dimension

    def element(self, dimension: Dimension) -> int | None:
        return dict(self.elements).get(dimension)


def _zero() -> Price:
    return Price(Decimal(0), Decimal(0))


@dataclass(frozen=True, slots=True, kw_only=True)
class Cost:
    """What a session costs under ``tariff_id``: exact figures, and the total ``rounded``."""

    tariff_id: str
    currency: str
    periods: tuple[Period, ...]
    energy_wh: Decimal
    charging_s: Decimal
    parking_s: Decimal
    energy: Price = field(default_factory=_zero)
    time: Price = field(default_factory=_zero)
    parking: Price = field(default_factory=_zero)
    fixed: Price = field(default_factory=_zero)
    reservation: Price = field(default_factory=_zero)  # reservation.py adds it
    reservation_s: Decimal = Decimal(0)  # the reservation's time as billed (its step)
    total: Price = field(default_factory=_zero)  # after min_price / max_price

    @property
    def rounded(self) -> Price:
        """``total`` to the currency's minor unit, half up (OCPI leaves money rounding to us)."""
        return Price(round_money(self.total.excl_vat, self.currency), _round_incl(self))


def _round_incl(cost: Cost) -> Decimal:
    assert cost.total.incl_vat is not None
    return round_money(cost.total.incl_vat, cost.currency)


def round_money(amount: Decimal, currency: str) -> Decimal:
    return amount.quantize(quantum(currency), rounding=ROUND_HALF_UP)


def price(
    tariff: Tariff, *, zone: ZoneInfo, start: datetime, end: datetime, samples: Iterable[Sample]
) -> Cost:
    """The cost of a session from ``start`` to ``end`` (aware datetimes) at a station in time
    zone ``zone``, with the meter ``samples`` (any order; energy counted from the start, so
    the first is normally 0). Energy between samples is linear; it never decreases."""
    points = _points(start, end, samples)
    points = _cut(tariff, zone, start, points)
    periods = [_period(tariff, zone, start, a, b) for a, b in pairwise(points)]
    merged = _merge(periods)
    return _costed(tariff, merged)


# --- 1. the instants: samples, then every cut -------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Point:
    at: datetime
    energy_wh: Decimal
    charging: bool
    current_a: Decimal | None


def _points(start: datetime, end: datetime, samples: Iterable[Sample]) -> list[_Point]:
    """The samples within the session in time order, energy never decreasing, one at the
    start (0 Wh unless sampled) and one at the end (the highest energy known)."""
    ordered = sorted(samples, key=lambda s: s.at)
    if end < start:
        end = start
    points: list[_Point] = []
    highest = Decimal(0)
    first = ordered[0] if ordered else Sample(start, Decimal(0))
    points.append(_Point(start, Decimal(0), first.charging, first.current_a))
    for s in ordered:
        highest = max(highest, s.energy_wh)
        if not start <= s.at <= end:
            continue
        point = _Point(s.at, highest, s.charging, s.current_a)
        if points[-1].at == s.at:
            points[-1] = point
        else:
            points.append(point)
    last = points[-1]
    if last.at < end or len(points) == 1:  # an empty session still has its one period
        points.append(_Point(end, highest, last.charging, last.current_a))
    else:
        points[-1] = replace(last, energy_wh=highest)
    return points


def _cut(tariff: Tariff, zone: ZoneInfo, start: datetime, points: list[_Point]) -> list[_Point]:
    """``points`` with a point added wherever an element could switch on or off."""
    end = points[-1].at
    clock_times = {MIDNIGHT}
    durations: set[int] = set()
    energies: set[Decimal] = set()
    for element in tariff.elements:
        r = element.restrictions
        if r is None:
            continue
        clock_times |= {t for t in (r.start_time, r.end_time) if t is not None}
        durations |= {d for d in (r.min_duration, r.max_duration) if d is not None}
        energies |= {e * WH_PER_KWH for e in (r.min_kwh, r.max_kwh) if e is not None}
    instants = {start + timedelta(seconds=d) for d in durations}
    first_day = start.astimezone(zone).date() - timedelta(days=1)
    last_day = end.astimezone(zone).date() + timedelta(days=1)
    for day in _days(first_day, last_day):
        instants |= {_local(day, t, zone) for t in clock_times}
    cut = list(points)
    for at in sorted(i for i in instants if start < i < end):
        cut = _insert_at(cut, at)
    for energy in sorted(energies):
        cut = _insert_energy(cut, energy)
    return cut


def _days(first: date, last: date) -> Iterable[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def _local(day: date, clock: time, zone: ZoneInfo) -> datetime:
    """``clock`` on ``day`` in ``zone``, as a UTC instant (a time skipped by DST: after it)."""
    naive = datetime.combine(day, clock)
    return naive.replace(tzinfo=zone).astimezone(ZoneInfo("UTC"))


def _insert_at(points: list[_Point], at: datetime) -> list[_Point]:
    for i in range(1, len(points)):
        a, b = points[i - 1], points[i]
        if a.at < at < b.at:
            share = _seconds(at - a.at) / _seconds(b.at - a.at)
            energy = a.energy_wh + (b.energy_wh - a.energy_wh) * share
            return [*points[:i], _Point(at, energy, a.charging, a.current_a), *points[i:]]
    return points


def _insert_energy(points: list[_Point], energy: Decimal) -> list[_Point]:
    """A point where the energy reaches ``energy`` exactly, if it does between two points."""
    for i in range(1, len(points)):
        a, b = points[i - 1], points[i]
        if a.energy_wh < energy < b.energy_wh:
            share = (energy - a.energy_wh) / (b.energy_wh - a.energy_wh)
            at = a.at + timedelta(seconds=float(_seconds(b.at - a.at) * share))
            at = min(max(at, a.at + timedelta(microseconds=1)), b.at - timedelta(microseconds=1))
            if not a.at < at < b.at:
                return points  # closer than a microsecond: no room for a period
            return [*points[:i], _Point(at, energy, a.charging, a.current_a), *points[i:]]
    return points


def _seconds(delta: timedelta) -> Decimal:
    return Decimal(delta.days * 86400 + delta.seconds) + Decimal(delta.microseconds) / 10**6


# --- 2. a period and the element of each dimension --------------------------------------------


def _period(tariff: Tariff, zone: ZoneInfo, start: datetime, a: _Point, b: _Point) -> Period:
    seconds = _seconds(b.at - a.at)
    energy = b.energy_wh - a.energy_wh
    power = energy / WH_PER_KWH / (seconds / S_PER_H) if seconds else None
    local = a.at.astimezone(zone)
    elements: list[tuple[Dimension, int]] = []
    for dimension in Dimension:
        for index, element in enumerate(tariff.elements):
            if element.component(dimension) is None:
                continue
            r = element.restrictions
            if r is None or r.holds(
                local,
                energy_kwh=a.energy_wh / WH_PER_KWH,
                duration_s=_seconds(a.at - start),
                power_kw=power,
                current_a=a.current_a,
            ):
                elements.append((dimension, index))
                break
    return Period(
        start=a.at,
        end=b.at,
        charging=a.charging,
        energy_wh=energy,
        seconds=seconds,
        elements=tuple(elements),
        min_power_kw=power,
        max_power_kw=power,
        min_current_a=a.current_a,
        max_current_a=a.current_a,
    )


def _merge(periods: Sequence[Period]) -> list[Period]:
    """Neighbours with the same elements and charging state as one period (fewer ChargingPeriods
    in a CDR; the totals are the same). A session with nothing in it keeps its first period:
    OCPI wants one, and its FLAT fee applies."""
    if not any(p.seconds or p.energy_wh for p in periods):
        return list(periods[:1])
    runs: list[list[Period]] = []
    for p in periods:
        if not p.seconds and not p.energy_wh:
            continue
        if runs and (runs[-1][0].elements, runs[-1][0].charging) == (p.elements, p.charging):
            runs[-1].append(p)
        else:
            runs.append([p])
    return [_joined(run) for run in runs]


def _joined(run: list[Period]) -> Period:
    """One period for a run of neighbours with the same elements."""
    first = run[0]
    if len(run) == 1:
        return first
    power = [x for p in run for x in (p.min_power_kw, p.max_power_kw) if x is not None]
    current = [x for p in run for x in (p.min_current_a, p.max_current_a) if x is not None]
    return replace(
        first,
        end=run[-1].end,
        energy_wh=sum((p.energy_wh for p in run), Decimal(0)),
        seconds=sum((p.seconds for p in run), Decimal(0)),
        min_power_kw=min(power, default=None),
        max_power_kw=max(power, default=None),
        min_current_a=min(current, default=None),
        max_current_a=max(current, default=None),
    )


# --- 3 and 4. quantities, steps, money ----------------------------------------------------------


def _volume(p: Period, dimension: Dimension) -> Decimal:
    """Wh for ENERGY, seconds for TIME and PARKING_TIME."""
    if dimension is Dimension.ENERGY:
        return p.energy_wh
    if dimension is Dimension.TIME:
        return p.seconds if p.charging else Decimal(0)
    return Decimal(0) if p.charging else p.seconds


def _costed(tariff: Tariff, periods: list[Period]) -> Cost:
    billed: list[dict[Dimension, Decimal]] = [
        {d: _volume(p, d) for d, _ in p.elements if d is not Dimension.FLAT} for p in periods
    ]
    parking_priced = any(Dimension.PARKING_TIME in b and b[Dimension.PARKING_TIME] for b in billed)
    rounded = (Dimension.ENERGY, Dimension.PARKING_TIME if parking_priced else Dimension.TIME)
    for dimension in rounded:
        used = [i for i, b in enumerate(billed) if b.get(dimension)]
        if not used:
            continue
        last = used[-1]
        component = _component(tariff, periods[last], dimension)
        total = sum((billed[i][dimension] for i in used), Decimal(0))
        billed[last][dimension] += step_up(total, component.step_size) - total
    totals = {d: [Decimal(0), Decimal(0)] for d in Dimension}
    flats: set[int] = set()
    costed: list[Period] = []
    for p, amounts in zip(periods, billed, strict=True):
        costs: list[tuple[Dimension, Price]] = []
        for dimension, index in p.elements:
            component = _component(tariff, p, dimension)
            if dimension is Dimension.FLAT:
                if index in flats:
                    continue
                flats.add(index)
                excl = component.price
            else:
                per_unit = WH_PER_KWH if dimension is Dimension.ENERGY else S_PER_H
                excl = amounts[dimension] * component.price / per_unit
            incl = component.incl_vat(excl)
            totals[dimension][0] += excl
            totals[dimension][1] += incl
            costs.append((dimension, Price(excl, incl)))
        costed.append(replace(p, billed=tuple(amounts.items()), cost=tuple(costs)))
    excl = sum((t[0] for t in totals.values()), Decimal(0))
    incl = sum((t[1] for t in totals.values()), Decimal(0))
    return Cost(
        tariff_id=tariff.id,
        currency=tariff.currency,
        periods=tuple(costed),
        energy_wh=sum((p.energy_wh for p in periods), Decimal(0)),
        charging_s=sum((_volume(p, Dimension.TIME) for p in periods), Decimal(0)),
        parking_s=sum((_volume(p, Dimension.PARKING_TIME) for p in periods), Decimal(0)),
        energy=Price(*totals[Dimension.ENERGY]),
        time=Price(*totals[Dimension.TIME]),
        parking=Price(*totals[Dimension.PARKING_TIME]),
        fixed=Price(*totals[Dimension.FLAT]),
        total=bounded(tariff, excl, incl),
    )


def _component(tariff: Tariff, p: Period, dimension: Dimension) -> PriceComponent:
    index = p.element(dimension)
    assert index is not None
    component = tariff.elements[index].component(dimension)
    assert component is not None
    return component


# A period's volume is a share of a reading (a division), so a sum of periods can land a hair
# above the reading itself (10274.000...001 Wh for 10274 Wh): that is not the next step.
STEP_PRECISION = Decimal("1e-12")  # of a step


def step_up(amount: Decimal, step: int) -> Decimal:
    """``amount`` rounded up to a multiple of ``step`` (Wh or s); a step of 0 leaves it."""
    if step <= 0:
        return amount
    steps = (amount / step).quantize(STEP_PRECISION, rounding=ROUND_HALF_EVEN)
    return Decimal(math.ceil(steps) * step)


def bounded(tariff: Tariff, excl: Decimal, incl: Decimal) -> Price:
    """min_price and max_price, "excl and incl independently"."""
    low, high = tariff.min_price, tariff.max_price
    if low is not None:
        excl = max(excl, low.excl_vat)
        incl = incl if low.incl_vat is None else max(incl, low.incl_vat)
    if high is not None:
        excl = min(excl, high.excl_vat)
        incl = incl if high.incl_vat is None else min(incl, high.incl_vat)
    return Price(excl, incl)
