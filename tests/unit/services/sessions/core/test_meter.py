"""Meter values: 1.6 strings and 2.0.1 numbers, units, phases, late readings."""

import re
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.sessions.core.meter import (
    Quantity,
    Reading,
    apply,
    decimal_of,
    readings,
    scaled,
    value_of,
)
from services.sessions.core.state import Transaction
from tests.unit.services.sessions.core.station import at, ts

E, P, C, S = Quantity.ENERGY, Quantity.POWER, Quantity.CURRENT, Quantity.SOC
PERIODIC = "Sample.Periodic"


def one(*sampled: dict[str, Any], t: float = 0) -> list[dict[str, Any]]:
    return [{"timestamp": ts(t), "sampledValue": list(sampled)}]


@pytest.mark.parametrize(
    ("sampled", "quantity", "value"),
    [
        ({"value": "1234.5"}, E, 1234.5),  # 1.6 defaults: the energy register in Wh
        ({"value": "12.345", "unit": "kWh"}, E, 12345.0),
        ({"value": 12.345, "unitOfMeasure": {"unit": "kWh"}}, E, 12345.0),
        ({"value": 12345, "unitOfMeasure": {"unit": "Wh", "multiplier": 3}}, E, 12345000.0),
        ({"value": 7, "measurand": "Power.Active.Import"}, P, 7.0),  # absent unit: W
        ({"value": 7, "measurand": "Power.Active.Import", "unitOfMeasure": {}}, P, 7.0),
        ({"value": "7.2", "measurand": "Power.Active.Import", "unit": "kW"}, P, 7200.0),
        (
            {"value": 160, "measurand": "Current.Import", "unitOfMeasure": {"multiplier": -1}},
            C,
            16.0,
        ),
        ({"value": "55", "measurand": "SoC", "unit": "Percent"}, S, 55.0),
    ],
)
def test_units(sampled: dict[str, Any], quantity: Quantity, value: float) -> None:
    expected = {Reading(quantity, value, at(0), PERIODIC)}
    if quantity is C:  # without phases, the current is also the total
        expected.add(Reading(Quantity.CURRENT_TOTAL, value, at(0), PERIODIC))
    assert set(readings(one(sampled))) == expected


@pytest.mark.parametrize(
    "sampled",
    [
        {"value": "1", "measurand": "Voltage"},
        {"value": "1", "measurand": 5},
        {"value": "1", "unit": "varh"},
        {
            "value": "1",
            "measurand": "Power.Active.Import",
            "unit": "Wh",
        },  # 2.0.1 default unit, 1.6 style
        {"value": "CAFEBABE", "format": "SignedData"},
        {"value": "x"},
        {"value": "NaN"},
        {"value": True},
        {"value": None},
        {"value": 1, "unitOfMeasure": {"multiplier": 1.5}},
        {"value": "1e400"},
        {"value": "1e308", "unit": "kWh"},  # finite as a decimal, too large as a float
    ],
)
def test_what_cannot_be_read_is_skipped(sampled: dict[str, Any]) -> None:
    assert readings(one(sampled)) == []


def _exactly(raw: object) -> float | None:
    """The value through Decimal, as every value went before the fast path for Wh, W, A, %."""
    number = decimal_of(raw)
    return None if number is None else scaled(number, 0)


_TRICKY = [
    "1234.5",
    " 12 ",
    "+7",
    "-0",
    "1_000",
    "1e5",
    "1E-5",
    ".5",
    "5.",
    "0.1",
    "١٢٣",
    "\xa01",
    "1e308",
    "1e309",
    "1e-400",
    "NaN",
    "-inf",
    "Infinity",
    "sNaN",
    "",
    "x",
    "0x10",
    "1,5",
    "9007199254740993",
    "0.30000000000000004",
    10**400,
    -(10**400),
    2**53 + 1,
    0,
    1.5,
    float("inf"),
    float("nan"),
    True,
    None,
    [1],
    Decimal(1),
]


@pytest.mark.parametrize("raw", _TRICKY)
def test_the_fast_path_gives_the_exact_paths_value(raw: object) -> None:
    assert value_of(raw, Decimal(1), 0) == _exactly(raw)
    number = decimal_of(raw)  # and a multiplier still goes through Decimal
    assert value_of(raw, Decimal(1), 1) == (None if number is None else scaled(number, 1))


@given(
    st.one_of(
        st.floats(),
        st.integers(),
        st.text(max_size=12),
        st.decimals().map(str),
        st.floats().map(repr),
    )
)
def test_the_fast_path_gives_the_exact_paths_value_for_any_value(raw: object) -> None:
    assert value_of(raw, Decimal(1), 0) == _exactly(raw)


@pytest.mark.parametrize(
    "meter_values",
    [
        None,
        "x",
        ["x"],
        [{"timestamp": "later", "sampledValue": [{"value": "1"}]}],
        [{"timestamp": ts(0), "sampledValue": "1"}],
        [{"timestamp": ts(0), "sampledValue": ["1"]}],
    ],
)
def test_malformed_meter_values_give_nothing(meter_values: object) -> None:
    assert readings(meter_values) == []


def test_phases_power_sums_current_takes_the_highest_and_energy_needs_the_total() -> None:
    got = readings(
        one(
            {"value": "10", "measurand": "Current.Import", "phase": "L1"},
            {"value": "12", "measurand": "Current.Import", "phase": "L2"},
            {"value": "11", "measurand": "Current.Import", "phase": "L3"},
            {"value": "2", "measurand": "Current.Import", "phase": "N"},
            {"value": "1000", "measurand": "Power.Active.Import", "phase": "L1-N"},
            {"value": "1500", "measurand": "Power.Active.Import", "phase": "L2-N"},
            {"value": "900", "phase": "L1"},
        )
    )
    assert set(got) == {
        Reading(C, 12.0, at(0), PERIODIC),  # the highest phase
        Reading(Quantity.CURRENT_TOTAL, 33.0, at(0), PERIODIC),  # L1 + L2 + L3, not N
        Reading(P, 2500.0, at(0), PERIODIC),
    }


def test_a_value_without_phase_wins_and_contexts_stay_apart() -> None:
    got = readings(
        one(
            {"value": "16", "measurand": "Current.Import", "phase": "L1"},
            {"value": "15", "measurand": "Current.Import"},
            {"value": "100", "context": "Transaction.Begin"},
            {"value": "100", "context": 7},
        )
    )
    assert set(got) == {
        Reading(C, 15.0, at(0), PERIODIC),
        Reading(Quantity.CURRENT_TOTAL, 16.0, at(0), PERIODIC),  # the phases, where reported
        Reading(E, 100.0, at(0), "Transaction.Begin"),
        Reading(E, 100.0, at(0), PERIODIC),
    }


def test_readings_come_oldest_first() -> None:
    meter_values = one({"value": "2"}, t=60) + one({"value": "1"}, t=0)
    assert [r.value for r in readings(meter_values)] == [1.0, 2.0]


def test_apply_keeps_the_latest_and_the_earliest_and_begin_and_end() -> None:
    t = Transaction(transaction_id="t")
    t, changed, backwards = apply(
        t,
        [
            Reading(E, 200.0, at(60), PERIODIC),
            Reading(E, 100.0, at(0), "Transaction.Begin"),
            Reading(E, 900.0, at(600), "Transaction.End"),
            Reading(E, 150.0, at(30), PERIODIC),
        ],
    )
    assert changed
    assert backwards is None  # out of order, but every reading fits the others
    assert (t.meter_start_wh, t.meter_stop_wh) == (100.0, 900.0)
    assert (t.first_register_wh, t.first_register_at, t.first_event_at) == (100.0, at(0), at(0))
    assert (t.energy_register_wh, t.energy_register_at) == (900.0, at(600))


@pytest.mark.parametrize(
    ("quantity", "value_field", "at_field"),
    [(P, "power_w", "power_at"), (C, "current_a", "current_at"), (S, "soc_percent", "soc_at")],
)
def test_apply_never_moves_a_latest_value_back(
    quantity: Quantity, value_field: str, at_field: str
) -> None:
    t, changed, _ = apply(Transaction(transaction_id=1), [Reading(quantity, 5.0, at(60), PERIODIC)])
    assert changed
    late, changed, _ = apply(t, [Reading(quantity, 4.0, at(30), PERIODIC)])
    assert not changed
    assert (getattr(late, value_field), getattr(late, at_field)) == (5.0, at(60))
    _same, changed, _ = apply(t, [Reading(quantity, 5.0, at(60), PERIODIC)])
    assert not changed
    newer, changed, _ = apply(t, [Reading(quantity, 6.0, at(90), PERIODIC)])
    assert changed
    assert getattr(newer, value_field) == 6.0


def _register(*readings_: tuple[float, float]) -> list[Reading]:
    return [Reading(E, wh, at(seconds), PERIODIC) for seconds, wh in readings_]


def test_the_register_is_the_highest_reading_and_the_latest_time() -> None:
    t, changed, backwards = apply(Transaction(transaction_id=1), _register((0, 100), (60, 300)))
    assert (t.energy_register_wh, t.energy_register_at, backwards) == (300.0, at(60), None)
    same, changed, _ = apply(t, _register((90, 300)))  # idle: same energy, newer time
    assert changed
    assert (same.energy_register_wh, same.energy_register_at) == (300.0, at(90))
    late, changed, backwards = apply(same, _register((30, 200)))  # late and in order
    assert not changed
    assert (late, backwards) == (same, None)


@pytest.mark.parametrize(
    ("then", "says"),
    [
        ((120, 250), "250 Wh at .* is below the 300 Wh read before"),  # a newer reading is lower
        ((60, 250), "250 Wh at .* is below the 300 Wh read before"),  # same time, lower
        ((30, 400), "400 Wh at .* is above the 300 Wh read after it"),  # a late one is higher
        ((30, 50), "50 Wh at .* is below the 100 Wh read first"),  # late and below the first
    ],
)
def test_a_register_reading_that_goes_backwards_is_reported_and_changes_nothing(
    then: tuple[float, float], says: str
) -> None:
    t, _, _ = apply(Transaction(transaction_id=1), _register((0, 100), (60, 300)))
    after, _, backwards = apply(t, _register(then))
    assert backwards is not None
    assert re.fullmatch(says, backwards)
    assert after.meter_backwards
    assert after.energy_register_wh == max(300.0, then[1])  # never below the highest
    energy = after.energy_wh(after.stop_wh)  # the start is the earliest reading
    assert energy is not None
    assert energy >= 0


def test_backwards_is_reported_once_per_transaction() -> None:
    t, _, first = apply(Transaction(transaction_id=1), _register((0, 100), (60, 300), (90, 0)))
    assert first is not None
    assert first.startswith("0 Wh")
    t, _, again = apply(t, _register((120, 10), (180, 20)))
    assert again is None
    assert (t.energy_register_wh, t.energy_register_at) == (300.0, at(180))


def test_a_reading_below_the_meter_at_the_start_is_backwards_and_energy_is_never_negative() -> None:
    t = Transaction(transaction_id=1, meter_start_wh=1000.0, started_at=at(0))
    t, _, backwards = apply(t, [Reading(E, 400.0, at(60), "Transaction.End")])
    assert backwards is not None
    assert "below the 1000 Wh at the start" in backwards
    assert t.meter_stop_wh == 400.0  # what the station said, kept
    assert t.stop_wh == 400.0  # the highest reading (no other register reading here)
    assert t.energy_wh(t.stop_wh) == 0.0


@given(st.lists(st.tuples(st.integers(0, 3600), st.integers(0, 10**6)), min_size=1, max_size=20))
def test_energy_never_decreases_and_never_goes_negative(
    values: list[tuple[int, int]],
) -> None:
    """Whatever the meter says, in whatever order and batches: the session's energy only
    grows, and it is the highest reading minus the start."""
    t = Transaction(transaction_id=1, meter_start_wh=float(values[0][1]), started_at=at(0))
    energies: list[float] = []
    for seconds, wh in values:
        t, _, _ = apply(t, [Reading(E, float(wh), at(seconds), PERIODIC)])
        energy = t.energy_wh(t.stop_wh)
        assert energy is not None
        assert energy >= 0
        energies.append(energy)
    assert energies == sorted(energies)
    assert energies[-1] == max(max(wh for _, wh in values) - values[0][1], 0)
