"""Pricing: the OCPI 2.2.1 examples as worked examples, the step_size vectors, properties."""

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.billing.core.pricing import Sample, price
from services.billing.core.tariff import Dimension, Price
from tests.unit.services.billing.core.tariffs import (
    ALT_TEXT,
    ALT_URL,
    AMSTERDAM,
    COMPLEX,
    FREE,
    MAX_DURATION,
    MAX_POWER,
    MONDAY,
    PARKING_START,
    SATURDAY,
    SIMPLE_025KWH,
    SIMPLE_2HOUR,
    SIMPLE_3HOUR_5PARKING,
    START_025KWH,
    STEP_SIZE,
    component,
    cost_of,
    element,
    tariff,
)

D = Decimal
NOON = MONDAY + timedelta(hours=12)


def h(hours: float, minutes: float = 0) -> timedelta:
    return timedelta(hours=hours, minutes=minutes)


# (elements, tariff extras, start, legs, excl, incl): the figures of OCPI 2.2.1 mod_tariffs and
# its examples; 10b and 11c as recomputed (the printed prose has arithmetic slips, ocpi#546).
EXAMPLES: list[tuple[str, tuple[Any, ...], dict[str, Any], Any, list[Any], str, str | None]] = [
    ("1 tariff_8 20 kWh", SIMPLE_025KWH, {}, NOON, [(60, 20)], "5.00", "5.50"),
    ("2 tariff_9 start fee", START_025KWH, {}, NOON, [(60, 20)], "5.50", "6.10"),
    (
        "3 tariff_12 min_price, 20 kWh",
        SIMPLE_025KWH,
        {"min_price": {"excl_vat": D("0.50"), "incl_vat": D("0.55")}},
        NOON,
        [(60, 20)],
        "5.00",
        "5.50",
    ),
    (
        "3 tariff_12 min_price, 1 kWh",
        SIMPLE_025KWH,
        {"min_price": {"excl_vat": D("0.50"), "incl_vat": D("0.55")}},
        NOON,
        [(10, 1)],
        "0.50",
        "0.55",
    ),
    (
        "4 tariff_10 parking 40 -> 45 min",
        PARKING_START,
        {},
        NOON,
        [(60, 20), (40, 0, False)],
        "7.00",
        "7.90",
    ),
    (
        "5 tariff_6 max_price, 50 kWh",
        START_025KWH,
        {"max_price": {"excl_vat": D("10.00"), "incl_vat": D("11.00")}},
        NOON,
        [(120, 50)],
        "10.00",
        "11.00",
    ),
    (
        "5 tariff_6 max_price, 30 kWh",
        START_025KWH,
        {"max_price": {"excl_vat": D("10.00"), "incl_vat": D("11.00")}},
        NOON,
        [(90, 30)],
        "8.00",
        "8.85",
    ),
    ("6 tariff_1 2.5 h", SIMPLE_2HOUR, {}, NOON, [(150, 20)], "5.00", "5.50"),
    (
        "6 tariff_1 idle time is free",
        SIMPLE_2HOUR,
        {},
        NOON,
        [(150, 20), (30, 0, False)],
        "5.00",
        "5.50",
    ),
    (
        "7 tariff_13 150 min + 42 -> 45 parked",
        SIMPLE_3HOUR_5PARKING,
        {},
        NOON,
        [(150, 20), (42, 0, False)],
        "11.25",
        "12.75",
    ),
    ("8 tariff_2 2.5 h", ALT_TEXT, {}, NOON, [(150, 20)], "4.75", "4.997"),
    ("9 tariff_3 20.45 -> 20.5 kWh", ALT_URL, {}, NOON, [(60, 20.45)], "5.625", "6.2375"),
    (
        "10a tariff_4 Monday",
        COMPLEX,
        {},
        MONDAY + h(9, 30),
        [(165, 10, True, 16), (42, 0, False, 0)],
        "9.00",
        "10.30",
    ),
    (
        "10b tariff_4 Saturday",
        COMPLEX,
        {},
        SATURDAY + h(13, 30),
        [(114, 60, True, 43), (71, 0, False, 0)],
        "12.375",
        "13.975",
    ),
    (
        "11a tariff_14 16:55, 10 min charging, 2 parked",
        STEP_SIZE,
        {},
        MONDAY + h(16, 55),
        [(10, 2), (2, 0, False)],
        "0.55",
        None,
    ),
    (
        "11b tariff_14 16:35, 35 min charging",
        STEP_SIZE,
        {},
        MONDAY + h(16, 35),
        [(35, 5)],
        "1.30",
        None,
    ),
    (
        "11c tariff_14 19:40, 12 min charging, 20 parked",
        STEP_SIZE,
        {},
        MONDAY + h(19, 40),
        [(12, 2), (20, 0, False)],
        "0.73",
        None,
    ),
    (
        "12 max_power: 1 kWh @6 kW, 40 @48 kW, 0.5 @4 kW",
        MAX_POWER,
        {},
        NOON,
        [(10, 1), (50, 40), (7.5, 0.5)],
        "20.30",
        None,
    ),
    (
        "13 max_duration: 5 kWh in 30 min, 1.2 kWh in 10",
        MAX_DURATION,
        {},
        NOON,
        [(30, 5), (10, 1.2)],
        "0.30",
        None,
    ),
    ("18 tariff_5 free", FREE, {}, NOON, [(300, 80), (60, 0, False)], "0.00", "0.00"),
]


@pytest.mark.parametrize(
    ("elements", "extra", "start", "legs", "excl", "incl"),
    [example[1:] for example in EXAMPLES],
    ids=[example[0] for example in EXAMPLES],
)
def test_the_specifications_examples(
    elements: tuple[Any, ...],
    extra: dict[str, Any],
    start: Any,
    legs: list[Any],
    excl: str,
    incl: str | None,
) -> None:
    cost = cost_of(tariff(*elements, **extra), start, *legs)
    assert cost.total.excl_vat == D(excl)
    if incl is not None:
        assert cost.total.incl_vat == D(incl)


def test_a_total_is_rounded_once_half_up_to_the_currencys_cents() -> None:
    """tariff_3: 5.625 / 6.2375 excl/incl, shown as 5.63 / 6.24."""
    cost = cost_of(tariff(*ALT_URL), NOON, (60, 20.45))
    assert cost.rounded == Price(D("5.63"), D("6.24"))
    assert cost.energy.excl_vat == D("5.125")  # billed 20.5 kWh: the step of 100 Wh


def test_yen_have_no_cents() -> None:
    cost = cost_of(tariff(*SIMPLE_025KWH, currency="JPY"), NOON, (60, 20.45))
    assert cost.rounded.excl_vat == D("5")


# --- step_size: the reference's vectors a-f ------------------------------------------------


def test_a_energy_steps_once_per_session_priced_in_the_last_period() -> None:
    """a: 0.20/kWh before 17:00, 0.27 after, both step 500; 4.3 + 1.1 kWh -> 4.3 @0.20 + 1.2
    @0.27."""
    t = tariff(
        element(component("ENERGY", "0.20", 500), start_time="00:00", end_time="17:00"),
        element(component("ENERGY", "0.27", 500), start_time="17:00", end_time="00:00"),
    )
    cost = cost_of(t, MONDAY + h(16), (60, 4.3), (60, 1.1))
    assert cost.total.excl_vat == D("1.184")
    [before, after] = cost.periods
    assert dict(before.billed)[Dimension.ENERGY] == D(4300)
    assert dict(after.billed)[Dimension.ENERGY] == D(1200)


def test_b_time_steps_once_not_per_element() -> None:
    """b: 5/h before 17:00, 7/h after, step 600; 6 + 22 min -> 6 @5 + 24 @7."""
    t = tariff(
        element(component("TIME", "5", 600), start_time="00:00", end_time="17:00"),
        element(component("TIME", "7", 600), start_time="17:00", end_time="00:00"),
    )
    cost = cost_of(t, MONDAY + h(16, 54), (28, 3))
    assert cost.total.excl_vat == D("3.30")


@pytest.mark.parametrize(
    ("time_step", "parking_step", "charging", "parked", "time_cost", "parking_cost"),
    [
        (600, 600, 21, 16, "0.35", D(2) / 3),  # c: 20 min parked
        (300, 300, 21, 7, "0.35", D(1) / 3),  # d: not 25 min charging; 10 min parked
    ],
)
def test_c_d_with_priced_parking_only_parking_steps(
    time_step: int,
    parking_step: int,
    charging: int,
    parked: int,
    time_cost: str,
    parking_cost: Decimal,
) -> None:
    t = tariff(
        element(component("TIME", "1", time_step), component("PARKING_TIME", "2", parking_step))
    )
    cost = cost_of(t, NOON, (charging, 3), (parked, 0, False))
    assert cost.time.excl_vat == D(time_cost)
    assert cost.parking.excl_vat == parking_cost


@pytest.mark.parametrize(
    ("step", "excl"), [(0, "0.0288"), (1, "0.029"), (25, "0.03125"), (500, "0.125")]
)
def test_e_energy_step_sizes(step: int, excl: str) -> None:
    """e: 115.2 Wh at 0.25/kWh; step 0 bills exactly."""
    cost = cost_of(tariff(element(component("ENERGY", "0.25", step))), NOON, (10, 0.1152))
    assert cost.total.excl_vat == D(excl)


def test_f_the_step_goes_to_the_last_period_at_its_price() -> None:
    """f (ocpi#494): 2/kWh below 20 A, 5 from 20 A, step 10 kWh; 3 @10 A, 3 @40 A, 3 @10 A
    -> 3x2 + 3x5 + 4x2 = 29."""
    t = tariff(
        element(component("ENERGY", "2", 10000), max_current=D(20)),
        element(component("ENERGY", "5", 10000)),
    )
    cost = cost_of(t, NOON, (30, 3, True, 10), (30, 3, True, 40), (30, 3, True, 10))
    assert cost.total.excl_vat == D(29)
    assert [dict(p.billed)[Dimension.ENERGY] for p in cost.periods] == [3000, 3000, 4000]


def test_a_flat_fee_is_billed_once_however_many_periods_it_prices() -> None:
    t = tariff(
        element(
            component("FLAT", "1.00"),
            component("ENERGY", "0.20"),
            start_time="00:00",
            end_time="17:00",
        ),
        element(
            component("FLAT", "1.00"),
            component("ENERGY", "0.30"),
            start_time="17:00",
            end_time="00:00",
        ),
    )
    cost = cost_of(t, MONDAY + h(16), (30, 1), (60, 1), (30, 1))
    assert cost.fixed.excl_vat == D("2.00")  # two FLAT components, each once
    assert cost.energy.excl_vat == D("0.20") * D("1.5") + D("0.30") * D("1.5")


def test_a_time_window_follows_the_stations_time_zone_across_dst() -> None:
    """Europe/Amsterdam leaves summer time on 2026-10-25: 17:00 local is 16:00 UTC then."""
    t = tariff(
        element(component("ENERGY", "0.20"), start_time="00:00", end_time="17:00"),
        element(component("ENERGY", "0.50"), start_time="17:00", end_time="00:00"),
    )
    start = MONDAY.replace(month=10, day=26) + h(16)  # Monday after the change
    cost = cost_of(t, start, (120, 2))  # 16:00-18:00 local, 1 kWh an hour
    assert cost.total.excl_vat == D("0.70")


def test_the_periods_are_ocpi_charging_periods() -> None:
    cost = cost_of(tariff(*SIMPLE_3HOUR_5PARKING), NOON, (150, 20), (42, 0, False))
    [charging, parked] = cost.periods
    assert (charging.start, charging.end, parked.end) == (
        NOON,
        NOON + h(2, 30),
        NOON + h(3, 12),
    )
    assert (charging.charging, parked.charging) == (True, False)
    assert (charging.energy_wh, parked.seconds) == (D(20000), D(42 * 60))
    assert charging.max_power_kw == D(8)  # 20 kWh in 2.5 h


# --- properties ---------------------------------------------------------------------------

legs = st.lists(
    st.tuples(
        st.integers(1, 240),  # minutes
        st.decimals(0, 50, places=3, allow_nan=False, allow_infinity=False),  # kWh
        st.booleans(),  # charging
        st.decimals(0, 96, places=1, allow_nan=False, allow_infinity=False),  # A
    ),
    min_size=1,
    max_size=6,
)
starts = st.integers(0, 7 * 24 * 60 - 1).map(lambda minute: MONDAY + timedelta(minutes=minute))
SPEC_TARIFFS = [
    SIMPLE_025KWH,
    START_025KWH,
    PARKING_START,
    SIMPLE_2HOUR,
    SIMPLE_3HOUR_5PARKING,
    ALT_TEXT,
    ALT_URL,
    COMPLEX,
    STEP_SIZE,
    MAX_POWER,
    MAX_DURATION,
    FREE,
]


def _no_steps(elements: tuple[dict[str, Any], ...]) -> tuple[dict[str, Any], ...]:
    return tuple(
        e | {"price_components": [c | {"step_size": 0} for c in e["price_components"]]}
        for e in elements
    )


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(SPEC_TARIFFS), starts, legs, st.data())
def test_splitting_a_session_anywhere_gives_the_same_total(
    elements: tuple[Any, ...], start: Any, session: list[Any], data: st.DataObject
) -> None:
    """A sample added between two others, on the line between them, changes nothing: how often
    a station reports does not change what a driver pays."""
    t = tariff(*elements)
    cost = cost_of(t, start, *session)
    end, samples = _samples(start, session)
    index = data.draw(st.integers(1, len(samples) - 1))
    a, b = samples[index - 1], samples[index]
    share = data.draw(st.fractions(0, 1))
    seconds = int((b.at - a.at).total_seconds() * share)
    at = a.at + timedelta(seconds=seconds)
    energy = a.energy_wh + (b.energy_wh - a.energy_wh) * D(seconds) / D(
        int((b.at - a.at).total_seconds())
    )
    split = [*samples[:index], Sample(at, energy, a.charging, a.current_a), *samples[index:]]
    again = price(t, zone=AMSTERDAM, start=start, end=end, samples=split)
    assert _close(again.total, cost.total)


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(SPEC_TARIFFS), starts, legs, st.integers(1, 120), st.decimals(0, 20, places=2)
)
def test_cost_never_decreases_when_energy_or_time_grows(
    elements: tuple[Any, ...], start: Any, session: list[Any], minutes: int, kwh: Decimal
) -> None:
    """Without step sizes: a step bills its remainder at the price of the last period, so with
    steps a session that ends in a cheaper period can cost less (see the next test)."""
    t = tariff(*_no_steps(elements))
    before = cost_of(t, start, *session)
    last = session[-1]
    longer = cost_of(t, start, *session, (minutes, kwh, last[2], last[3]))
    assert longer.total.excl_vat >= before.total.excl_vat
    assert longer.total.incl_vat is not None
    assert before.total.incl_vat is not None
    assert longer.total.incl_vat >= before.total.incl_vat


@settings(max_examples=100, deadline=None)
@given(
    starts,
    legs,
    st.integers(1, 120),
    st.decimals(0, 20, places=2),
    st.sampled_from([1, 100, 500, 10000]),
)
def test_with_one_price_per_dimension_steps_never_lower_the_cost(
    start: Any, session: list[Any], minutes: int, kwh: Decimal, step: int
) -> None:
    t = tariff(
        element(
            component("FLAT", "1"),
            component("ENERGY", "0.3", step),
            component("TIME", "1.5", step),
            component("PARKING_TIME", "4", step),
        )
    )
    before = cost_of(t, start, *session)
    last = session[-1]
    longer = cost_of(t, start, *session, (minutes, kwh, last[2], last[3]))
    assert longer.total.excl_vat >= before.total.excl_vat


def test_ocpis_step_rule_can_lower_the_cost_of_a_longer_session() -> None:
    """Documented (docs/billing.md): the rounding remainder is billed at the last period's
    price, so ending in a cheaper period lowers it. OCPI's rule, kept."""
    t = tariff(
        element(component("ENERGY", "5", 10000), min_current=D(20)),
        element(component("ENERGY", "2", 10000)),
    )
    short = cost_of(t, NOON, (60, 9, True, 32))
    longer = cost_of(t, NOON, (60, 9, True, 32), (5, 0.1, True, 10))
    assert (short.total.excl_vat, longer.total.excl_vat) == (D(50), D(47))  # 45 + 1.0 x 2


def _samples(start: Any, session: list[Any]) -> tuple[Any, list[Sample]]:
    from tests.unit.services.billing.core.tariffs import timeline

    return timeline(start, *session)


def _close(a: Price, b: Price) -> bool:
    """Equal up to Decimal's 28 significant digits (a period's share is a division)."""
    assert a.incl_vat is not None
    assert b.incl_vat is not None
    tolerance = D("1e-18")
    return abs(a.excl_vat - b.excl_vat) < tolerance and abs(a.incl_vat - b.incl_vat) < tolerance


def test_an_empty_session_has_one_period_and_pays_its_flat_fee() -> None:
    t = tariff(*START_025KWH)
    cost = price(t, zone=AMSTERDAM, start=NOON, end=NOON, samples=[])
    assert len(cost.periods) == 1
    assert cost.total.excl_vat == D("0.50")


def test_a_sum_of_shares_a_hair_above_a_whole_step_is_not_the_next_step() -> None:
    """Found by the splitting property: 10,274 Wh cut by duration restrictions into shares
    whose sum carried 1e-23 Wh too much, and a step of 1 Wh billed one Wh more."""
    elements = (
        element(component("ENERGY", "0.00", vat="20.0"), max_duration=1800),
        element(component("ENERGY", "0.25", vat="20.0"), max_duration=3600),
        element(component("ENERGY", "0.40", vat="20.0")),
    )
    t = tariff(*elements)
    session = [(205, D("0.935"), False, D("0.0")), (1, D("9.339"), False, D("0.0"))]
    whole = cost_of(t, MONDAY, *session)
    end, samples = _samples(MONDAY, session)
    a, b = samples[1], samples[2]
    middle = Sample(
        a.at + timedelta(seconds=30), (a.energy_wh + b.energy_wh) / 2, False, a.current_a
    )
    split = price(t, zone=AMSTERDAM, start=MONDAY, end=end, samples=[*samples[:2], middle, b])
    assert split.total == whole.total
    assert sum(dict(p.billed)[Dimension.ENERGY] for p in split.periods) == D("10274.000")
