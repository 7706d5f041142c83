"""Schedules: the needs met by departure in the cheapest slots, within every slot's capacity."""

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from services.loadbalance.core.schedule import VOLTS, Need, Slot, periods, schedule

T0 = datetime(2026, 11, 26, 18, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def night(prices: list[float], capacity_a: float = 32.0) -> list[Slot]:
    return [Slot(T0 + n * HOUR, HOUR, capacity_a, p) for n, p in enumerate(prices)]


def test_the_energy_goes_into_the_cheapest_hours_before_departure() -> None:
    """22 kWh by 06:00 at 16 A on three phases (11 kW): two hours, the two cheapest."""
    slots = night([0.40, 0.35, 0.20, 0.10, 0.12, 0.30, 0.25, 0.15, 0.11, 0.50, 0.45, 0.40, 0.30])
    need = Need(point_id="EV", energy_wh=22_080, departure=T0 + 12 * HOUR, max_a=16)
    [plan] = schedule(slots, [need]).values()
    used = [n for n, a in enumerate(plan.limits_a) if a]
    assert used == [3, 8]  # 0.10 and 0.11; nothing after the departure (0.50 at 03:00 and on)
    assert plan.energy_wh >= need.energy_wh
    assert periods(slots, plan)[:3] == [
        {"start_s": 0, "limit": 0.0},
        {"start_s": 3 * 3600, "limit": 16.0},
        {"start_s": 4 * 3600, "limit": 0.0},
    ]


def test_the_first_to_leave_chooses_first_and_the_other_gets_the_rest() -> None:
    slots = night([0.1, 0.2, 0.3], capacity_a=16)
    early = Need(point_id="early", energy_wh=11_040, departure=T0 + 2 * HOUR, max_a=16)
    late = Need(point_id="late", energy_wh=11_040, departure=T0 + 3 * HOUR, max_a=16)
    plans = schedule(slots, [late, early])
    assert plans["early"].limits_a == (16.0, 0.0, 0.0)
    assert plans["late"].limits_a == (0.0, 16.0, 0.0)


def test_a_slot_too_small_for_the_minimum_is_skipped() -> None:
    slots = [Slot(T0, HOUR, 5.0, 0.01), Slot(T0 + HOUR, HOUR, 32.0, 0.5)]
    plan = schedule(slots, [Need(point_id="EV", energy_wh=1000, departure=T0 + 2 * HOUR)])["EV"]
    assert plan.limits_a == (0.0, 6.0)  # 1 kWh needs 1.45 A: the minimum, 6 A, in slot 2


@st.composite
def nights(draw: st.DrawFn) -> tuple[list[Slot], list[Need]]:
    count = draw(st.integers(1, 12))
    slots = [
        Slot(T0 + n * HOUR, HOUR, draw(st.sampled_from([0.0, 10.0, 32.0, 64.0])),
             draw(st.floats(0, 1)))
        for n in range(count)
    ]  # fmt: skip
    needs = [
        Need(
            point_id=f"ev{n}",
            energy_wh=draw(st.floats(0, 60_000)),
            departure=T0 + draw(st.integers(1, count)) * HOUR,
            phases=draw(st.sampled_from([1, 3])),
            max_a=draw(st.sampled_from([16.0, 32.0])),
        )
        for n in range(draw(st.integers(0, 5)))
    ]
    return slots, needs


@settings(max_examples=300, deadline=None)
@given(nights())
def test_capacity_minimums_and_departures_hold(night_: tuple[list[Slot], list[Need]]) -> None:
    slots, needs = night_
    plans = schedule(slots, needs)
    for n, slot in enumerate(slots):
        assert sum(p.limits_a[n] for p in plans.values()) <= slot.capacity_a + 1e-6
    for need in needs:
        for slot, amps in zip(slots, plans[need.point_id].limits_a, strict=True):
            assert amps == 0 or need.min_a <= amps <= need.max_a
            if amps:
                assert slot.start + slot.length <= need.departure


@settings(max_examples=300, deadline=None)
@given(nights())
def test_the_need_is_met_whenever_the_slots_could_carry_everyone_at_full_current(
    night_: tuple[list[Slot], list[Need]],
) -> None:
    """Feasible by construction: every slot holds every session at its maximum, and each
    session's slots before its departure hold its energy at its maximum."""
    slots, needs = night_
    roomy = [Slot(s.start, s.length, sum(n.max_a for n in needs), s.price) for s in slots]
    plans = schedule(roomy, needs)
    for need in needs:
        could = sum(
            need.max_a * need.phases * VOLTS * s.hours
            for s in roomy
            if s.start + s.length <= need.departure
        )
        if could >= need.energy_wh:
            assert plans[need.point_id].energy_wh >= need.energy_wh - 1e-6


@settings(max_examples=200, deadline=None)
@given(nights())
def test_alone_with_room_a_session_pays_no_more_than_in_any_other_slots(
    night_: tuple[list[Slot], list[Need]],
) -> None:
    """One session, room in every slot, whole slots at full current: it uses the cheapest
    slots before its departure (any other set as large costs at least as much)."""
    slots, needs = night_
    if not needs:
        return
    need = needs[0]
    roomy = [Slot(s.start, s.length, 64.0, s.price) for s in slots]
    plan = schedule(roomy, [need])[need.point_id]
    before = [i for i, s in enumerate(roomy) if s.start + s.length <= need.departure]
    used = [i for i in before if plan.limits_a[i]]
    cheapest = sorted(before, key=lambda i: (roomy[i].price, roomy[i].start))[: len(used)]
    assert sorted(roomy[i].price for i in used) == sorted(roomy[i].price for i in cheapest)
