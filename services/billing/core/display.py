"""What the driver is shown: the tariff as text, unit prices, running and final cost (pure).

The texts and the cost messages of the OCA application note "OCPP & California Pricing
Requirements" (1.6: DataTransfer, vendorId ``org.openchargealliance.costmsg``) and of OCPP
2.0.1 functional block I (Tariff and cost): "the CSMS computes all costs"; the station only
shows them. Amounts go to the station incl. VAT, rounded to the currency's minor unit
("send values already rounded"). docs/billing.md, "Prices at the station".
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from services.billing.core.currencies import quantum
from services.billing.core.pricing import WH_PER_KWH, Cost, round_money
from services.billing.core.tariff import Dimension, PriceComponent, Tariff

COSTMSG = "org.openchargealliance.costmsg"  # the note's DataTransfer vendorId
MAX_TEXT = 512  # 2.0.1 MessageContentType.content; the note's priceText has no limit
_UNITS = {
    Dimension.ENERGY: "kWh",
    Dimension.TIME: "h",
    Dimension.PARKING_TIME: "h parking",
}


@dataclass(frozen=True, slots=True)
class UnitPrices:
    """The prices a session starting now pays per unit, incl. VAT (None: that unit is free)."""

    currency: str
    kwh: Decimal | None = None
    hour: Decimal | None = None
    parking_hour: Decimal | None = None
    flat: Decimal | None = None

    def charging_price(self) -> dict[str, Decimal]:
        """The note's ChargingPrice: ``kWhPrice``, ``hourPrice``, ``flatFee`` (0 when free)."""
        zero = Decimal(0).quantize(quantum(self.currency))
        return {
            "kWhPrice": self.kwh or zero,
            "hourPrice": self.hour or zero,
            "flatFee": self.flat or zero,
        }


def unit_prices(tariff: Tariff, *, at: datetime, zone: ZoneInfo) -> UnitPrices:
    """Per dimension, the component of the first element that holds for a session starting at
    ``at`` (OCPI 2.2.1 mod_tariffs: "the first TariffElement whose restrictions apply"), with
    its VAT; the energy price per kWh and the time prices per hour."""
    local = at.astimezone(zone)
    found: dict[Dimension, PriceComponent] = {}
    for element in tariff.elements:
        r = element.restrictions
        if r is not None and not r.holds(
            local, energy_kwh=Decimal(0), duration_s=Decimal(0), power_kw=None, current_a=None
        ):
            continue
        for c in element.components:
            found.setdefault(c.type, c)

    def per_unit(dimension: Dimension) -> Decimal | None:
        c = found.get(dimension)
        if c is None or not c.price:
            return None
        # OCPI prices ENERGY per kWh, TIME and PARKING_TIME per hour, FLAT per session
        return round_money(c.incl_vat(c.price), tariff.currency)

    return UnitPrices(
        currency=tariff.currency,
        kwh=per_unit(Dimension.ENERGY),
        hour=per_unit(Dimension.TIME),
        parking_hour=per_unit(Dimension.PARKING_TIME),
        flat=per_unit(Dimension.FLAT),
    )


def price_text(tariff: Tariff | None, *, at: datetime, zone: ZoneInfo) -> tuple[str, str]:
    """(text, ISO 639-1 language): the tariff's own ``tariff_alt_text`` (English first), else
    its unit prices in words: "0.35 EUR/kWh, 2.00 EUR/h parking, 1.00 EUR per session, incl.
    VAT"."""
    if tariff is None:
        return "Free charging", "en"
    texts = [t for t in tariff.ocpi.get("tariff_alt_text") or () if isinstance(t, dict)]
    texts.sort(key=lambda t: t.get("language") != "en")
    if texts and isinstance(texts[0].get("text"), str):
        return str(texts[0]["text"])[:MAX_TEXT], str(texts[0].get("language") or "en")
    prices = unit_prices(tariff, at=at, zone=zone)
    parts = [
        f"{amount} {tariff.currency}/{_UNITS[dimension]}"
        for dimension, amount in (
            (Dimension.ENERGY, prices.kwh),
            (Dimension.TIME, prices.hour),
            (Dimension.PARKING_TIME, prices.parking_hour),
        )
        if amount is not None
    ]
    if prices.flat is not None:
        parts.append(f"{prices.flat} {tariff.currency} per session")
    if not parts:
        return "Free charging", "en"
    return (", ".join(parts) + ", incl. VAT")[:MAX_TEXT], "en"


def summary(cost: Cost) -> str:
    """The FinalCost ``priceText``: "6.66 EUR for 12.345 kWh in 1 h 05 min, incl. VAT"."""
    total = cost.rounded.incl_vat
    kwh = (cost.energy_wh / WH_PER_KWH).quantize(Decimal("0.001"))
    minutes = int((cost.charging_s + cost.parking_s) / 60)
    return (
        f"{total} {cost.currency} for {kwh} kWh in {minutes // 60} h {minutes % 60:02d} min, "
        "incl. VAT"
    )


def running_cost(
    *,
    transaction_id: int,
    at: datetime,
    meter_wh: Decimal,
    cost: Decimal,
    charging: bool,
    prices: UnitPrices,
) -> dict[str, Any]:
    """The note's RunningCost ``data`` (1.6): the cost up to the meter value at ``at``, and the
    unit prices the station extrapolates with until the next one ("state" picks them)."""
    data: dict[str, Any] = {
        "transactionId": transaction_id,
        "timestamp": at,
        "meterValue": int(meter_wh),
        "cost": cost,
        "state": "Charging" if charging else "Idle",
        "chargingPrice": prices.charging_price(),
    }
    if prices.parking_hour is not None:
        data["idlePrice"] = {"idleHourPrice": prices.parking_hour}
    return data


def final_cost(*, transaction_id: int, cost: Cost) -> dict[str, Any]:
    """The note's FinalCost ``data`` (1.6): the session's cost incl. VAT and its summary."""
    return {
        "transactionId": transaction_id,
        "cost": cost.rounded.incl_vat,
        "priceText": summary(cost),
    }
