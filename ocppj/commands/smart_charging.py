"""Translations of the smart charging commands, for 1.6 and 2.x (pure).

OCPP 1.6 Smart Charging profile and 2.0.1 functional block K. ``purpose`` is neutral:
``StationMaxProfile`` is 1.6 ChargePointMaxProfile and 2.0.1 ChargingStationMaxProfile (either
name is taken too). Limits are A per phase or W in total (``unit``), one decimal ("limit:
multipleOf 0.1"; a finer figure is rounded down so a limit never grows). The CSMS never sends
ChargingStationExternalConstraints (K01.FR.22).
"""

import math
from typing import Any

from ocppj.commands.arguments import Arguments, InvalidCommand
from ocppj.commands.context import Context, Translation

STATION_MAX = "StationMaxProfile"
PURPOSES = {
    "TxProfile": ("TxProfile", "TxProfile"),
    "TxDefaultProfile": ("TxDefaultProfile", "TxDefaultProfile"),
    STATION_MAX: ("ChargePointMaxProfile", "ChargingStationMaxProfile"),
    "ChargePointMaxProfile": ("ChargePointMaxProfile", "ChargingStationMaxProfile"),
    "ChargingStationMaxProfile": ("ChargePointMaxProfile", "ChargingStationMaxProfile"),
}
KINDS = frozenset({"Absolute", "Relative", "Recurring"})


def _purpose(a: Arguments, ctx: Context, *, required: bool) -> str | None:
    name = (
        a.choice("purpose", PURPOSES) if required else a.choice("purpose", PURPOSES, required=False)
    )
    if name is None:
        return None
    v16, v2 = PURPOSES[name]
    return v16 if ctx.v16 else v2


def _limit(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise InvalidCommand(f"SetChargingProfile: {what} must be a number >= 0, got {value!r}")
    return math.floor(float(value) * 10 + 1e-9) / 10


def _periods(a: Arguments) -> list[dict[str, Any]]:
    """``periods`` [{start_s, limit, number_phases?}], or the one period of ``limit``."""
    if a.has("limit"):
        single = {"start_s": 0, "limit": a.anything("limit")}
        phases = a.integer("number_phases", required=False, minimum=1)
        items = [single | ({} if phases is None else {"number_phases": phases})]
        a.ignore("periods")
    else:
        items = [dict(p) for p in a.objects("periods")]
        a.ignore("number_phases")
    periods: list[dict[str, Any]] = []
    for n, item in enumerate(items):
        p = Arguments(f"SetChargingProfile: periods[{n}]", item, InvalidCommand)
        period: dict[str, Any] = {
            "startPeriod": p.integer("start_s", minimum=0),
            "limit": _limit(p.anything("limit"), f"periods[{n}].limit"),
        }
        phases = p.integer("number_phases", required=False, minimum=1)
        if phases is not None:
            period["numberPhases"] = phases
        p.done()
        periods.append(period)
    if periods[0]["startPeriod"] != 0:
        raise a.fail("the first period must start at 0 s")
    starts = [p["startPeriod"] for p in periods]
    if starts != sorted(set(starts)):
        raise a.fail("periods must start in increasing order (K01.FR.35)")
    return periods


def set_charging_profile(a: Arguments, ctx: Context) -> tuple[str, dict[str, Any]]:
    purpose = _purpose(a, ctx, required=True)
    evse_id = a.integer("evse_id", minimum=0)
    if purpose == "TxProfile" and evse_id == 0:
        raise a.fail("a TxProfile is for an EVSE (evse_id >= 1)")
    if purpose in ("ChargePointMaxProfile", "ChargingStationMaxProfile") and evse_id != 0:
        raise a.fail("a StationMaxProfile is for the whole station (evse_id 0)")
    kind = a.choice("kind", KINDS, required=False) or "Absolute"
    schedule: dict[str, Any] = {
        "chargingRateUnit": a.choice("unit", {"A", "W"}, required=False) or "A"
    }
    start_at = a.timestamp("start_at", required=False)
    if kind == "Relative" and start_at is not None:
        raise a.fail("a Relative profile has no start_at (K01.FR.41)")
    if kind != "Relative" and start_at is None and not ctx.v16:
        raise a.fail(f"an {kind} profile needs start_at (K01.FR.40)")
    if start_at is not None:
        schedule["startSchedule"] = start_at
    duration = a.integer("duration_s", required=False, minimum=1)
    if duration is not None:
        schedule["duration"] = duration
    schedule["chargingSchedulePeriod"] = _periods(a)
    minimum = a.anything("min_rate")
    if minimum is not None:
        schedule["minChargingRate"] = _limit(minimum, "min_rate")
    profile: dict[str, Any] = {
        "stackLevel": a.integer("stack_level", required=False, minimum=0) or 0,
        "chargingProfilePurpose": purpose,
        "chargingProfileKind": kind,
    }
    recurrency = a.choice("recurrency", {"Daily", "Weekly"}, required=False)
    if (recurrency is None) != (kind != "Recurring"):
        raise a.fail("recurrency (Daily, Weekly) goes with kind Recurring, and only with it")
    if recurrency is not None:
        profile["recurrencyKind"] = recurrency
    for name, field in (("valid_from", "validFrom"), ("valid_to", "validTo")):
        moment = a.timestamp(name, required=False)
        if moment is not None:
            profile[field] = moment
    transaction = a.anything("transaction_id")
    if purpose == "TxProfile" and transaction is None and not ctx.v16:
        raise a.fail("a 2.0.1 TxProfile names its transaction_id (K01.FR.03)")
    if purpose != "TxProfile" and transaction is not None:
        raise a.fail("only a TxProfile names a transaction_id")
    profile_id = a.integer("profile_id", minimum=1)
    if ctx.v16:
        if transaction is not None:
            profile["transactionId"] = _int_id(a, transaction)
        body = {"chargingProfileId": profile_id, **profile, "chargingSchedule": schedule}
        return "SetChargingProfile", {"connectorId": evse_id, "csChargingProfiles": body}
    if transaction is not None:
        profile["transactionId"] = str(transaction)
    body = {"id": profile_id, **profile, "chargingSchedule": [{"id": profile_id, **schedule}]}
    return "SetChargingProfile", {"evseId": evse_id, "chargingProfile": body}


def clear_charging_profile(a: Arguments, ctx: Context) -> tuple[str, dict[str, Any]]:
    profile_id = a.integer("profile_id", required=False, minimum=1)
    evse_id = a.integer("evse_id", required=False, minimum=0)
    purpose = _purpose(a, ctx, required=False)
    stack_level = a.integer("stack_level", required=False, minimum=0)
    if ctx.v16:
        payload: dict[str, Any] = {}
        for name, value in (
            ("id", profile_id),
            ("connectorId", evse_id),
            ("chargingProfilePurpose", purpose),
            ("stackLevel", stack_level),
        ):
            if value is not None:
                payload[name] = value
        return "ClearChargingProfile", payload
    criteria = {
        k: v
        for k, v in (
            ("evseId", evse_id),
            ("chargingProfilePurpose", purpose),
            ("stackLevel", stack_level),
        )
        if v is not None
    }
    payload = {} if profile_id is None else {"chargingProfileId": profile_id}
    if criteria:
        payload["chargingProfileCriteria"] = criteria
    return "ClearChargingProfile", payload


def get_composite_schedule(a: Arguments, ctx: Context) -> tuple[str, dict[str, Any]]:
    evse_id = a.integer("evse_id", minimum=0)
    duration = a.integer("duration_s", minimum=1)
    unit = a.choice("unit", {"A", "W"}, required=False)
    payload: dict[str, Any] = {
        "connectorId" if ctx.v16 else "evseId": evse_id,
        "duration": duration,
    }
    if unit is not None:
        payload["chargingRateUnit"] = unit
    return "GetCompositeSchedule", payload


def get_charging_profiles(a: Arguments, ctx: Context) -> tuple[str, dict[str, Any]]:
    """K09; the station answers with ReportChargingProfiles."""
    ctx.only_2(a, "GetCompositeSchedule")
    criteria: dict[str, Any] = {}
    purpose = _purpose(a, ctx, required=False)
    if purpose is not None:
        criteria["chargingProfilePurpose"] = purpose
    stack_level = a.integer("stack_level", required=False, minimum=0)
    if stack_level is not None:
        criteria["stackLevel"] = stack_level
    ids = a.anything("profile_ids")
    if ids is not None:
        if not isinstance(ids, list) or not all(
            isinstance(i, int) and not isinstance(i, bool) for i in ids
        ):
            raise a.fail(f"profile_ids must be a list of integers, got {ids!r}")
        criteria["chargingProfileId"] = ids
    request_id = a.integer("request_id", required=False, minimum=0)
    payload: dict[str, Any] = {
        "requestId": ctx.request_id if request_id is None else request_id,
        "chargingProfile": criteria,
    }
    evse_id = a.integer("evse_id", required=False, minimum=0)
    if evse_id is not None:
        payload["evseId"] = evse_id
    return "GetChargingProfiles", payload


def _int_id(a: Arguments, value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isdecimal():
        return int(value)
    raise a.fail(f"OCPP 1.6 transaction ids are integers, got {value!r}")


TRANSLATIONS: dict[str, Translation] = {
    "SetChargingProfile": set_charging_profile,
    "ClearChargingProfile": clear_charging_profile,
    "GetCompositeSchedule": get_composite_schedule,
    "GetChargingProfiles": get_charging_profiles,
}
