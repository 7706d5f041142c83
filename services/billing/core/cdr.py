"""OCPI 2.2.1 CDRs from a priced session, and the credit CDR that cancels one (pure).

mod_cdrs: a CDR is immutable; "to correct a sent CDR: send a credit CDR with a new id,
credit: true, credit_reference_id = the original id, all data of the original, and negative
amounts", then a corrected CDR with yet another id. Money is decimal text rounded to the
currency's minor unit; quantities (kWh, hours) decimal text with 4 decimals, as OCPI numbers
carry. Times are datetimes.
"""

import copy
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from contracts.events import DomainEvent, EventType
from contracts.payloads.sessions import TokenSource
from contracts.topics import Topic
from services.billing.core.pricing import S_PER_H, WH_PER_KWH, Cost, Period, round_money
from services.billing.core.state import Billed
from services.billing.core.tariff import Price

CDR_NAMESPACE = uuid.UUID("6f0c1a52-7c1e-4a8e-9a55-2b1f3c0d4e11")  # ids: uuid5(namespace, …)
QUANTITY = Decimal("0.0001")
# OCPP 2.0.1 IdTokenEnumType -> OCPI TokenType
_TOKEN_TYPES = {
    "ISO14443": "RFID",
    "ISO15693": "RFID",
    "Central": "APP_USER",
    "eMAID": "APP_USER",
    "MacAddress": "OTHER",
    "KeyCode": "OTHER",
    "Local": "OTHER",
    "NoAuthorization": "AD_HOC_USER",
}


@dataclass(frozen=True, slots=True)
class Party:
    """The CPO that issues the CDRs (OCPI country_code and party_id)."""

    country_code: str = "NL"
    party_id: str = "CBS"


def cdr_id(session_id: str, correction: int = 0) -> str:
    """A CDR's id: the same for the same session and correction (36 characters, OCPI
    CiString(36)), so a CDR written again after a crash is the same CDR."""
    return str(uuid.uuid5(CDR_NAMESPACE, f"{session_id}#{correction}"))


def build(
    b: Billed,
    cost: Cost,
    *,
    party: Party,
    issued_at: datetime,
    correction: int = 0,
) -> dict[str, Any]:
    """The OCPI CDR of session ``b`` priced as ``cost``."""
    assert b.ended_at is not None
    start = b.reserved_at or b.start or b.ended_at  # "reservation start if reserved"
    money = _money(cost.currency)
    remark = "; ".join(text for text in (b.stop_reason, b.tariff_note) if text)
    cdr: dict[str, Any] = {
        "country_code": party.country_code,
        "party_id": party.party_id,
        "id": cdr_id(b.session_id, correction),
        "start_date_time": start,
        "end_date_time": b.ended_at,
        "session_id": b.session_id,
        "cdr_token": _token(b, party),
        "auth_method": "COMMAND"
        if b.id_token_source == TokenSource.REMOTE_START
        else "AUTH_REQUEST",
        "cdr_location": {
            "id": b.station_id,
            "evse_uid": f"{b.station_id}*{b.evse_id if b.evse_id is not None else 1}",
            "evse_id": f"{b.station_id}*{b.evse_id if b.evse_id is not None else 1}",
            "connector_id": str(b.connector_id if b.connector_id is not None else 1),
        },
        "currency": cost.currency,
        "tariffs": [] if b.tariff_json is None else [json.loads(b.tariff_json)],
        "charging_periods": _reserved(b, cost)
        + [_period(p, cost.tariff_id if b.tariff_json else None) for p in cost.periods],
        "total_cost": money(cost.rounded),
        "total_fixed_cost": money(cost.fixed),
        "total_energy": _quantity(cost.energy_wh / WH_PER_KWH),
        "total_energy_cost": money(cost.energy),
        "total_time": _quantity((cost.charging_s + cost.parking_s) / S_PER_H),
        "total_time_cost": money(cost.time),
        "total_parking_time": _quantity(cost.parking_s / S_PER_H),
        "total_parking_cost": money(cost.parking),
        "last_updated": issued_at,
    }
    if b.reserved_at is not None:
        cdr["total_reservation_cost"] = money(cost.reservation)
    if remark:
        cdr["remark"] = remark[:255]
    return cdr


def _reserved(b: Billed, cost: Cost) -> list[dict[str, Any]]:
    """The reservation's ChargingPeriod (RESERVATION_TIME, hours as billed), first."""
    if b.reserved_at is None:
        return []
    period: dict[str, Any] = {
        "start_date_time": b.reserved_at,
        "dimensions": [
            {"type": "RESERVATION_TIME", "volume": _quantity(cost.reservation_s / S_PER_H)}
        ],
    }
    if b.tariff_json is not None:
        period["tariff_id"] = cost.tariff_id
    return [period]


def credit(original: Mapping[str, Any], *, issued_at: datetime) -> dict[str, Any]:
    """The credit CDR that cancels ``original``: its data, negative amounts, a new id."""
    credited = copy.deepcopy(dict(original))
    credited.update(
        {
            "id": f"{original['id']}-C",
            "credit": True,
            "credit_reference_id": original["id"],
            "last_updated": issued_at,
        }
    )
    for name in (
        "total_cost",
        "total_fixed_cost",
        "total_energy_cost",
        "total_time_cost",
        "total_parking_cost",
    ):
        price = credited.get(name)
        if isinstance(price, dict):
            credited[name] = {k: str(-Decimal(v)) for k, v in price.items()}
    return credited


def issued(b: Billed, cdr: Mapping[str, Any]) -> DomainEvent:
    """CdrIssued on billing.cdrs.v1, keyed by station id."""
    return DomainEvent(
        topic=Topic.CDRS,
        event_type=EventType.CDR_ISSUED,
        key=b.station_id,
        payload={
            "cdr": dict(cdr),
            "session_id": b.session_id,
            "station_id": b.station_id,
            "transaction_id": b.transaction_id,
            "site_id": b.site_id,
            "token_group": b.token_group,
        },
    )


def _token(b: Billed, party: Party) -> dict[str, Any]:
    uid = b.id_token or "UNKNOWN"
    if b.id_token_type is not None:
        token_type = _TOKEN_TYPES.get(b.id_token_type, "OTHER")
    else:  # 1.6 has no token types: a card, unless our remote start sent it
        token_type = "APP_USER" if b.id_token_source == TokenSource.REMOTE_START else "RFID"
    return {
        "country_code": party.country_code,
        "party_id": party.party_id,
        "uid": uid[:36],
        "type": token_type,
        "contract_id": uid[:36],
    }


def _period(p: Period, tariff_id: str | None) -> dict[str, Any]:
    dimensions = [
        {"type": "ENERGY", "volume": _quantity(p.energy_wh / WH_PER_KWH)},
        {
            "type": "TIME" if p.charging else "PARKING_TIME",
            "volume": _quantity(p.seconds / S_PER_H),
        },
    ]
    for name, value in (
        ("MAX_POWER", p.max_power_kw),
        ("MIN_POWER", p.min_power_kw),
        ("MAX_CURRENT", p.max_current_a),
        ("MIN_CURRENT", p.min_current_a),
    ):
        if value is not None:
            dimensions.append({"type": name, "volume": _quantity(value)})
    period: dict[str, Any] = {"start_date_time": p.start, "dimensions": dimensions}
    if tariff_id is not None:
        period["tariff_id"] = tariff_id
    return period


def _quantity(value: Decimal) -> str:
    return str(value.quantize(QUANTITY))


def _money(currency: str) -> Any:
    def money(price: Price) -> dict[str, str]:
        incl = price.excl_vat if price.incl_vat is None else price.incl_vat
        return {
            "excl_vat": str(round_money(price.excl_vat, currency)),
            "incl_vat": str(round_money(incl, currency)),
        }

    return money
