"""Meter values of 1.6 and 2.0.1: readings in Wh, W, A and %, applied to a transaction (pure).

Per meterValue (one timestamp) and context: a value without a phase wins; otherwise power is
the sum and current the highest of phases L1-L3 (L1-N counts as L1); the total current is the
sum of the phases, else the value without a phase. Location is not
looked at. Unknown measurands, units we cannot convert and signed (1.6 SignedData) values are
skipped, never guessed.

The energy register only counts up: a transaction's register is the highest reading, so its
energy never decreases. A reading that contradicts that (below an earlier one, or above a later
one: a faulty meter, a meter reset, a bad value) leaves the register as it is and is reported
once per transaction (docs/sessions.md, "Meter values").
"""

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, NamedTuple

from ocppj.timestamps import parse_timestamp
from services.sessions.core.copying import replace
from services.sessions.core.state import Transaction

DEFAULT_MEASURAND = "Energy.Active.Import.Register"  # 1.6 and 2.0.1 SampledValue default
DEFAULT_CONTEXT = "Sample.Periodic"
BEGIN = "Transaction.Begin"
END = "Transaction.End"


class Quantity(StrEnum):
    ENERGY = "energy_wh"
    POWER = "power_w"
    CURRENT = "current_a"  # the highest phase: what a cable or a fuse sees
    CURRENT_TOTAL = "current_total_a"  # summed over phases: what OCPI tariffs restrict
    SOC = "soc_percent"


_MEASURANDS = {
    "Energy.Active.Import.Register": Quantity.ENERGY,
    "Power.Active.Import": Quantity.POWER,
    "Current.Import": Quantity.CURRENT,
    "SoC": Quantity.SOC,
}
# unit -> factor to our unit; the first entry is what an absent unit means for the measurand
# (1.6: 'Default = "Wh" if the (default) measurand is an "Energy" type').
_ONE = Decimal(1)
_UNITS: dict[Quantity, dict[str, Decimal]] = {
    Quantity.ENERGY: {"Wh": _ONE, "kWh": Decimal(1000)},
    Quantity.POWER: {"W": _ONE, "kW": Decimal(1000)},
    Quantity.CURRENT: {"A": _ONE},
    Quantity.SOC: {"Percent": _ONE},
}
_PHASES = {"L1": 1, "L2": 2, "L3": 3, "L1-N": 1, "L2-N": 2, "L3-N": 3}


@dataclass(frozen=True, slots=True)
class Reading:
    quantity: Quantity
    value: float
    at: datetime
    context: str


def decimal_of(value: object) -> Decimal | None:
    """A 1.6 decimal string or a 2.0.1 JSON number, if finite."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    try:
        number = Decimal(value if isinstance(value, str) else repr(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def scaled(number: Decimal, multiplier: int) -> float | None:
    """``number`` times ten to the ``multiplier`` as a finite float; None if it is none (an
    exponent the schema does not bound, "1E+999999999": a station's value, never a raise)."""
    try:
        value = float(number * Decimal(10) ** multiplier)
    except ArithmeticError:
        return None
    return value if math.isfinite(value) else None


def value_of(raw: object, factor: Decimal, multiplier: int) -> float | None:
    """A SampledValue's value times ``factor`` and ten to the ``multiplier``, in our unit, as a
    finite float; None if it is not a finite number."""
    if factor is _ONE and multiplier == 0:
        # Most values, and the same float either way: float() rounds the decimal digits once,
        # correctly, as float(Decimal()) does; about 2 µs less a value (docs/benchmarks.md).
        if not (type(raw) is str or type(raw) is float or type(raw) is int):  # bool is not one
            return None
        try:
            value = float(raw)
        except (ValueError, OverflowError):  # not a number; an int beyond a float's range
            return None
        return value if math.isfinite(value) else None
    number = decimal_of(raw)
    return None if number is None else scaled(number * factor, multiplier)


def _sample(sampled: Mapping[str, Any]) -> tuple[Quantity, str, str | None, float] | None:
    """(quantity, context, phase, value in our unit) of one SampledValue, or None."""
    measurand = sampled.get("measurand", DEFAULT_MEASURAND)
    quantity = _MEASURANDS.get(measurand) if isinstance(measurand, str) else None
    if quantity is None or sampled.get("format") == "SignedData":
        return None
    unit_of_measure = sampled.get("unitOfMeasure")  # 2.0.1
    if isinstance(unit_of_measure, Mapping):
        unit, multiplier = unit_of_measure.get("unit"), unit_of_measure.get("multiplier", 0)
    else:
        unit, multiplier = sampled.get("unit"), 0
    units = _UNITS[quantity]
    # 2.0.1 UnitOfMeasureType.unit defaults to "Wh" even for power: an absent unit is the
    # measurand's own unit.
    factor = units.get(unit) if isinstance(unit, str) else next(iter(units.values()))
    if factor is None or not isinstance(multiplier, int):
        return None
    value = value_of(sampled.get("value"), factor, multiplier)
    if value is None:
        return None
    context = sampled.get("context", DEFAULT_CONTEXT)
    phase = sampled.get("phase")
    return (
        quantity,
        context if isinstance(context, str) else DEFAULT_CONTEXT,
        phase if isinstance(phase, str) else None,
        value,
    )


def readings(meter_values: object) -> list[Reading]:
    """The readings of a list of MeterValue (1.6 and 2.0.1 alike), oldest first."""
    if not isinstance(meter_values, Sequence):
        return []
    out: list[Reading] = []
    for meter_value in meter_values:
        if not isinstance(meter_value, Mapping):
            continue
        at = parse_timestamp(meter_value.get("timestamp"))
        sampled_values = meter_value.get("sampledValue")
        if at is None or not isinstance(sampled_values, Sequence):
            continue
        whole: dict[tuple[Quantity, str], float] = {}
        phased: dict[tuple[Quantity, str], dict[int, float]] = {}
        for sampled in sampled_values:
            sample = _sample(sampled) if isinstance(sampled, Mapping) else None
            if sample is None:
                continue
            quantity, context, phase, value = sample
            if phase is None:
                whole.setdefault((quantity, context), value)
            elif phase in _PHASES and quantity in (Quantity.POWER, Quantity.CURRENT):
                phased.setdefault((quantity, context), {}).setdefault(_PHASES[phase], value)
        for (quantity, context), values in phased.items():
            if quantity is Quantity.CURRENT:
                whole.setdefault((Quantity.CURRENT_TOTAL, context), sum(values.values()))
            if (quantity, context) not in whole:
                total = sum if quantity is Quantity.POWER else max
                whole[quantity, context] = total(values.values())
        for (quantity, context), value in list(whole.items()):  # no phases: the value is it
            if quantity is Quantity.CURRENT:
                whole.setdefault((Quantity.CURRENT_TOTAL, context), value)
        out.extend(Reading(q, value, at, context) for (q, context), value in whole.items())
    return sorted(out, key=lambda r: r.at)


def _newer(at: datetime, known_at: datetime | None) -> bool:
    return known_at is None or at >= known_at


class Applied(NamedTuple):
    """What ``apply`` did."""

    transaction: Transaction
    changed: bool  # a latest value changed: worth a SessionUpdated
    backwards: str | None  # the first register reading that went backwards, described


def _backwards(known: Callable[[str], Any], r: Reading) -> str | None:
    """How energy reading ``r`` contradicts an earlier (in station time) or a later one of the
    transaction whose fields ``known`` reads; None if it does not. Compared with the highest
    reading, the latest reading's time, the earliest reading and the meter at the start: each
    contradiction found is a real one."""
    start, started_at = known("meter_start_wh"), known("started_at")
    if start is not None and r.value < start and (started_at is None or r.at >= started_at):
        return f"{_described(r)} is below the {start:g} Wh at the start"
    highest, latest_at = known("energy_register_wh"), known("energy_register_at")
    if highest is not None and latest_at is not None:
        if r.value < highest and r.at >= latest_at:
            return f"{_described(r)} is below the {highest:g} Wh read before"
        if r.value > highest and r.at < latest_at:
            return f"{_described(r)} is above the {highest:g} Wh read after it"
    first, first_at = known("first_register_wh"), known("first_register_at")
    if first is not None and first_at is not None and r.at > first_at and r.value < first:
        return f"{_described(r)} is below the {first:g} Wh read first"
    return None


def _described(r: Reading) -> str:
    return f"{r.value:g} Wh at {r.at.isoformat()}"


def apply(transaction: Transaction, new: Iterable[Reading]) -> Applied:
    """``transaction`` with ``new`` readings.

    Late readings (older than the latest of their quantity) never move the latest values
    back; they can still be the earliest register or the Transaction.Begin/End reading. The
    energy register takes the highest reading and the latest time.
    """
    changes: dict[str, Any] = {}  # one replace() at the end: a Transaction has 30 fields

    def known(name: str) -> Any:
        return changes[name] if name in changes else getattr(transaction, name)

    def latest(value_name: str, at_name: str, r: Reading) -> bool:
        """Take ``r`` as the latest value unless it is older; whether that changed it."""
        if not _newer(r.at, known(at_name)):
            return False
        changed = (r.value, r.at) != (known(value_name), known(at_name))
        changes[value_name], changes[at_name] = r.value, r.at
        return changed

    def register(r: Reading) -> bool:
        """The highest reading and the latest time; whether either changed."""
        highest, latest_at = known("energy_register_wh"), known("energy_register_at")
        value = r.value if highest is None else max(highest, r.value)
        at = r.at if latest_at is None else max(latest_at, r.at)
        changes["energy_register_wh"], changes["energy_register_at"] = value, at
        return (value, at) != (highest, latest_at)

    changed = False
    backwards: str | None = None
    for r in new:
        first_event_at = known("first_event_at")
        if first_event_at is None or r.at < first_event_at:
            changes["first_event_at"] = r.at
        if r.quantity is Quantity.ENERGY:
            if backwards is None and not known("meter_backwards"):
                backwards = _backwards(known, r)
            if r.context == BEGIN and known("meter_start_wh") is None:
                changes["meter_start_wh"] = r.value
            if r.context == END and known("meter_stop_wh") is None:
                changes["meter_stop_wh"] = r.value
            first_register_at = known("first_register_at")
            if first_register_at is None or r.at < first_register_at:
                changes["first_register_wh"], changes["first_register_at"] = r.value, r.at
            changed |= register(r)
        elif r.quantity is Quantity.POWER:
            changed |= latest("power_w", "power_at", r)
        elif r.quantity is Quantity.CURRENT:
            changed |= latest("current_a", "current_at", r)
        elif r.quantity is Quantity.CURRENT_TOTAL:
            changed |= latest("current_total_a", "current_total_at", r)
        else:
            changed |= latest("soc_percent", "soc_at", r)
    if backwards is not None:
        changes["meter_backwards"] = True
    return Applied(replace(transaction, **changes) if changes else transaction, changed, backwards)
