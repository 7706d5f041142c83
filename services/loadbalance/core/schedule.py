"""Charging schedules: energy moved to cheap or green hours, each need met by departure (pure).

A site with a forecast (capacity per time slot, and a price or CO2 figure per slot) gets, per
session, a schedule of limits per slot rather than one limit now. Sessions are served earliest
departure first (the one with least time picks first); each takes the cheapest slots before its
departure, at its maximum current where the slot's capacity allows, less in the last slot it
needs, until its energy is there. A slot gets 0 or at least the session's minimum. A session
without a known departure or need is not scheduled here: it gets the live allocation.

Energy per slot: A per phase x phases x ``VOLTS`` x the slot's hours (230 V nominal, as the
2.0.1 errata has stations convert W to A).
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

VOLTS = 230.0


@dataclass(frozen=True, slots=True)
class Slot:
    """A stretch of time with the site's capacity (A per phase) and its price (any unit in
    which less is better: EUR/kWh, g CO2/kWh)."""

    start: datetime
    length: timedelta
    capacity_a: float
    price: float

    @property
    def hours(self) -> float:
        return self.length.total_seconds() / 3600


@dataclass(frozen=True, slots=True, kw_only=True)
class Need:
    """A session with the energy it needs by its departure."""

    point_id: str
    energy_wh: float
    departure: datetime
    phases: int = 3
    min_a: float = 6.0
    max_a: float = 32.0


@dataclass(frozen=True, slots=True)
class Plan:
    """Limits per slot (same order as the slots), and the energy they deliver."""

    limits_a: tuple[float, ...]
    energy_wh: float


def schedule(slots: Sequence[Slot], needs: Sequence[Need]) -> dict[str, Plan]:
    """A plan per need: within every slot's capacity, each limit 0 or between the need's
    minimum and maximum, the need's energy delivered when the slots before its departure can
    carry it, in the cheapest of them."""
    free = [s.capacity_a for s in slots]
    plans: dict[str, Plan] = {}
    for need in sorted(needs, key=lambda n: (n.departure, n.point_id)):
        limits = [0.0] * len(slots)
        wanted = need.energy_wh
        usable = [i for i, s in enumerate(slots) if s.start + s.length <= need.departure]
        for i in sorted(usable, key=lambda i: (slots[i].price, slots[i].start)):
            if wanted <= 0:
                break
            per_amp = need.phases * VOLTS * slots[i].hours  # Wh per A in this slot
            amps = min(need.max_a, free[i], math.ceil(wanted / per_amp * 10) / 10)
            amps = max(amps, need.min_a) if amps > 0 else 0.0
            if amps < need.min_a or amps > free[i] + 1e-9:
                continue  # the slot cannot carry the minimum
            limits[i] = amps
            free[i] -= amps
            wanted -= amps * per_amp
        delivered = sum(
            a * need.phases * VOLTS * s.hours for a, s in zip(limits, slots, strict=True)
        )
        plans[need.point_id] = Plan(tuple(limits), delivered)
    return plans


def periods(slots: Sequence[Slot], plan: Plan) -> list[dict[str, float | int]]:
    """The plan as SetChargingProfile periods from the first slot's start (``start_s``,
    ``limit``), neighbours with the same limit joined."""
    out: list[dict[str, float | int]] = []
    origin = slots[0].start if slots else None
    for slot, amps in zip(slots, plan.limits_a, strict=True):
        if out and out[-1]["limit"] == amps:
            continue
        assert origin is not None
        out.append({"start_s": int((slot.start - origin).total_seconds()), "limit": amps})
    return out
