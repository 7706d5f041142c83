"""OCPI Tariff objects and meter timelines for the pricing tests (tests).

The tariffs transcribe the figures of the OCPI 2.2.1 specification's examples
(examples/tariff_*.json, release-2.2.1-bugfixes); the file names are kept for reference.
"""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from services.billing.core.pricing import Cost, Sample, price
from services.billing.core.tariff import Tariff, parse_tariff

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
MONDAY = datetime(2026, 11, 23, tzinfo=AMSTERDAM)  # 00:00 local
SATURDAY = datetime(2026, 11, 28, tzinfo=AMSTERDAM)


def ocpi(*elements: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "country_code": "NL",
        "party_id": "CBS",
        "id": extra.pop("id", "T1"),
        "currency": extra.pop("currency", "EUR"),
        "elements": list(elements),
        "last_updated": "2026-11-01T00:00:00Z",
        **extra,
    }


def component(kind: str, price_: str, step: int = 1, vat: str | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {"type": kind, "price": Decimal(price_), "step_size": step}
    if vat is not None:
        found["vat"] = Decimal(vat)
    return found


def element(*components: dict[str, Any], **restrictions: Any) -> dict[str, Any]:
    found: dict[str, Any] = {"price_components": list(components)}
    if restrictions:
        found["restrictions"] = restrictions
    return found


def tariff(*elements: dict[str, Any], **extra: Any) -> Tariff:
    return parse_tariff(ocpi(*elements, **extra))


def timeline(
    start: datetime, *legs: tuple[float, float] | tuple[float, float, bool, float]
) -> tuple[datetime, list[Sample]]:
    """Samples of a session from ``start``: each leg is (minutes, kWh in it[, charging,
    current A]); returns the end and the samples (one at each leg's start, one at the end)."""
    at, energy = start, Decimal(0)
    samples: list[Sample] = []
    for leg in legs:
        minutes, kwh = leg[0], leg[1]
        charging = leg[2] if len(leg) > 2 else True
        current = Decimal(str(leg[3])) if len(leg) > 3 else None
        samples.append(Sample(at, energy, charging, current))
        at += timedelta(minutes=minutes)
        energy += Decimal(str(kwh)) * 1000
    samples.append(Sample(at, energy, samples[-1].charging, samples[-1].current_a))
    return at, samples


def cost_of(t: Tariff, start: datetime, *legs: Any, zone: ZoneInfo = AMSTERDAM) -> Cost:
    end, samples = timeline(start, *legs)
    return price(t, zone=zone, start=start.astimezone(UTC), end=end, samples=samples)


# --- the specification's examples ----------------------------------------------------------

SIMPLE_025KWH = (element(component("ENERGY", "0.25", vat="10.0")),)  # tariff_8
START_025KWH = (  # tariff_9
    element(component("FLAT", "0.50", vat="20.0"), component("ENERGY", "0.25", vat="10.0")),
)
PARKING_START = (  # tariff_10
    element(
        component("FLAT", "0.50", vat="20.0"),
        component("ENERGY", "0.25", vat="10.0"),
        component("PARKING_TIME", "2.00", 900, vat="20.0"),
    ),
)
SIMPLE_2HOUR = (element(component("TIME", "2.00", 60, vat="10.0")),)  # tariff_1
SIMPLE_3HOUR_5PARKING = (  # tariff_13
    element(
        component("TIME", "3.00", 60, vat="10.0"),
        component("PARKING_TIME", "5.00", 300, vat="20.0"),
    ),
)
ALT_TEXT = (element(component("TIME", "1.90", 300, vat="5.2")),)  # tariff_2
ALT_URL = (  # tariff_3
    element(component("FLAT", "0.50", vat="20.0"), component("ENERGY", "0.25", 100, vat="10.0")),
)
WEEKDAYS = ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY"]
COMPLEX = (  # tariff_4
    element(component("FLAT", "2.50", vat="15.0")),
    element(component("TIME", "1.00", 900, vat="20.0"), max_current=Decimal(32)),
    element(
        component("TIME", "2.00", 600, vat="20.0"), min_current=Decimal(32), day_of_week=WEEKDAYS
    ),
    element(
        component("TIME", "1.25", 600, vat="20.0"),
        min_current=Decimal(32),
        day_of_week=["SATURDAY", "SUNDAY"],
    ),
    element(
        component("PARKING_TIME", "5.00", 300, vat="10.0"),
        start_time="09:00",
        end_time="18:00",
        day_of_week=WEEKDAYS,
    ),
    element(
        component("PARKING_TIME", "6.00", 300, vat="10.0"),
        start_time="10:00",
        end_time="17:00",
        day_of_week=["SATURDAY"],
    ),
)
STEP_SIZE = (  # tariff_14 (no VAT)
    element(
        component("TIME", "1.20", 1800),
        component("PARKING_TIME", "1.00", 900),
        start_time="00:00",
        end_time="17:00",
    ),
    element(
        component("TIME", "2.40", 900),
        component("PARKING_TIME", "1.00", 900),
        start_time="17:00",
        end_time="20:00",
    ),
    element(component("TIME", "2.40", 900), start_time="20:00", end_time="00:00"),
)
MAX_POWER = (  # tariffrestriction_example_max_power
    element(component("ENERGY", "0.20", vat="20.0"), max_power=Decimal(16)),
    element(component("ENERGY", "0.35", vat="20.0"), max_power=Decimal(32)),
    element(component("ENERGY", "0.50", vat="20.0")),
)
MAX_DURATION = (  # tariffrestriction_example_max_duration
    element(component("ENERGY", "0.00", vat="20.0"), max_duration=1800),
    element(component("ENERGY", "0.25", vat="20.0"), max_duration=3600),
    element(component("ENERGY", "0.40", vat="20.0")),
)
FREE = (element(component("FLAT", "0.00", 0)),)  # tariff_5


# --- reservations (tariff_15 to tariff_18) --------------------------------------------------

CHARGING_START_ENERGY = element(
    component("FLAT", "0.50", vat="20.0"), component("ENERGY", "0.25", vat="10.0")
)
RESERVATION_5_PER_HOUR = (  # tariff_15
    element(component("TIME", "5.00", 60, vat="20.0"), reservation="RESERVATION"),
    CHARGING_START_ENERGY,
)
RESERVATION_FEE_5_PER_HOUR = (  # tariff_16
    element(
        component("FLAT", "2.00", vat="20.0"),
        component("TIME", "5.00", 300, vat="20.0"),
        reservation="RESERVATION",
    ),
    CHARGING_START_ENERGY,
)
RESERVATION_EXPIRE_FEE = (  # tariff_17
    element(component("FLAT", "4.00", vat="20.0"), reservation="RESERVATION_EXPIRES"),
    element(component("TIME", "2.00", 600, vat="20.0"), reservation="RESERVATION"),
    CHARGING_START_ENERGY,
)
RESERVATION_EXPIRE_TIME = (  # tariff_18
    element(component("TIME", "6.00", 600, vat="20.0"), reservation="RESERVATION_EXPIRES"),
    element(component("TIME", "3.00", 600, vat="20.0"), reservation="RESERVATION"),
    CHARGING_START_ENERGY,
)
