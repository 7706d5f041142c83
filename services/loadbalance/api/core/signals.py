"""What operators and energy managers tell a site through the API, read strictly (pure):
local generation measured now, a forecast per time slot, and a session's needs.

- ``POST /sites/{site_id}/generation`` ``{"generation_a": 12}``: PV behind the connection, A
  per phase, for ``valid_s`` seconds (300 unless given) -> GenerationMeasured.
- ``PUT /sites/{site_id}/forecast`` ``{"slots": [{"start", "end", "capacity_a"?,
  "generation_a"?, "price"?}]}`` -> ForecastPublished (replaces the last).
- ``PUT /sites/{site_id}/stations/{station_id}/needs`` ``{"evse_id"?: 1, "energy_wh": 20000,
  "departure_at": "..."}`` -> ChargingNeedsReported for the session open on that EVSE, as a
  2.0.1 EV would say it (NotifyEVChargingNeeds), for stations and EVs that cannot.
"""

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from contracts.payloads.charging_limits import ChargingNeedsReported
from contracts.payloads.sites import ForecastPublished, ForecastSlot, GenerationMeasured
from ocppj.timestamps import parse_zoned
from services.loadbalance.api.core import errors
from services.loadbalance.core.topology import MAX_CURRENT_A, Site

GENERATION_VALID_S = 300  # a measurement not renewed by then no longer counts
MAX_SLOTS = 7 * 24 * 4  # a week of quarter hours
MAX_ENERGY_WH = 1_000_000


def generation(site_id: str, body: Mapping[str, Any], now: datetime) -> GenerationMeasured:
    """Raises: InvalidSignal: what is wrong with the body."""
    _only(body, {"generation_a", "valid_s"})
    amps = _amps(body.get("generation_a"), "generation_a", required=True)
    assert amps is not None
    valid = body.get("valid_s", GENERATION_VALID_S)
    if isinstance(valid, bool) or not isinstance(valid, int) or not 1 <= valid <= 86_400:
        raise errors.InvalidSignal(f"valid_s: whole seconds from 1 to 86400, got {valid!r}")
    return GenerationMeasured(
        site_id=site_id, generation_a=amps, at=now, valid_until=now + timedelta(seconds=valid)
    )


def forecast(site_id: str, body: Mapping[str, Any]) -> ForecastPublished:
    """Raises: InvalidSignal: what is wrong with the body (the slot's index in it)."""
    _only(body, {"slots", "source"})
    rows = body.get("slots")
    if not isinstance(rows, list) or not rows or len(rows) > MAX_SLOTS:
        raise errors.InvalidSignal(f"slots: a list of 1 to {MAX_SLOTS} slots is required")
    slots: list[ForecastSlot] = []
    for n, row in enumerate(rows):
        if not isinstance(row, Mapping):
            raise errors.InvalidSignal(f"slots[{n}]: an object is required")
        _only(row, {"start", "end", "capacity_a", "generation_a", "price"}, f"slots[{n}].")
        start, end = _time(row, "start", f"slots[{n}]."), _time(row, "end", f"slots[{n}].")
        if end <= start:
            raise errors.InvalidSignal(f"slots[{n}]: end must be after start")
        if slots and start < slots[-1].end:
            raise errors.InvalidSignal(f"slots[{n}]: starts before slots[{n - 1}] ends")
        price = row.get("price")
        if price is not None and (isinstance(price, bool) or not isinstance(price, int | float)):
            raise errors.InvalidSignal(f"slots[{n}].price: a number, got {price!r}")
        slots.append(
            ForecastSlot(
                start=start,
                end=end,
                capacity_a=_amps(row.get("capacity_a"), f"slots[{n}].capacity_a"),
                generation_a=_amps(row.get("generation_a"), f"slots[{n}].generation_a"),
                price=None if price is None else float(price),
            )
        )
    source = body.get("source", "operator")
    if not isinstance(source, str) or not source:
        raise errors.InvalidSignal(f"source: a name, got {source!r}")
    return ForecastPublished(site_id=site_id, slots=tuple(slots), source=source)


def needs(
    site: Site, station_id: str, body: Mapping[str, Any], now: datetime
) -> ChargingNeedsReported:
    """Raises: StationNotInSite; InvalidSignal: what is wrong with the body."""
    spec = site.station(station_id)
    if spec is None:
        raise errors.StationNotInSite(f"station {station_id!r} is not in site {site.site_id!r}")
    _only(body, {"evse_id", "energy_wh", "departure_at"})
    evse = body.get("evse_id", 1)
    if isinstance(evse, bool) or not isinstance(evse, int) or not 1 <= evse <= spec.evses:
        raise errors.InvalidSignal(f"evse_id: one of the station's EVSEs, 1 to {spec.evses}")
    energy = body.get("energy_wh")
    if isinstance(energy, bool) or not isinstance(energy, int | float):
        raise errors.InvalidSignal(f"energy_wh: a number of Wh is required, got {energy!r}")
    if not 0 < energy <= MAX_ENERGY_WH:
        raise errors.InvalidSignal(f"energy_wh: {energy} is not between 0 and {MAX_ENERGY_WH}")
    departure = _time(body, "departure_at", "")
    if departure <= now:
        raise errors.InvalidSignal("departure_at: it has passed")
    return ChargingNeedsReported(
        station_id=station_id,
        evse_id=evse,
        transfer_mode="AC_three_phase" if len(spec.phases) == 3 else "AC_single_phase",
        energy_wh=float(energy),
        departure_at=departure,
        ev_min_a=None,
        ev_max_a=None,
        at=now,
    )


def _amps(value: object, name: str, *, required: bool = False) -> float | None:
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise errors.InvalidSignal(f"{name}: a number of amperes is required, got {value!r}")
    if not 0 <= value <= MAX_CURRENT_A:
        raise errors.InvalidSignal(f"{name}: {value} A is not between 0 and 10000")
    return float(value)


def _time(body: Mapping[str, Any], name: str, where: str) -> datetime:
    value = body.get(name)
    parsed = parse_zoned(value) if isinstance(value, str) else None
    if parsed is None:
        raise errors.InvalidSignal(
            f"{where}{name}: an RFC 3339 date-time with a zone, got {value!r}"
        )
    return parsed


def _only(body: Mapping[str, Any], known: set[str], where: str = "") -> None:
    unknown = sorted(set(body) - known)
    if unknown:
        raise errors.InvalidSignal(f"{where}unknown field(s) {unknown}")
