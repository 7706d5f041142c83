"""2.0.1 K12, K13, K15: limits set by someone else and what an EV needs, passed on (pure).

The sessions service answers these CALLs and writes what they say as version-neutral events;
load balancing respects the limits and uses the needs (docs/loadbalance.md).

- NotifyChargingLimit (K12): "The CSMS SHALL respond with NotifyChargingLimitResponse" (empty)
  -> ChargingLimitSet on stations.v1, the limit of the schedule's first period in A per phase
  (a W limit over 230 V and its phases, 3 when not given).
- ClearedChargingLimit (K13) -> ChargingLimitCleared.
- NotifyEVChargingNeeds (K15) -> ChargingNeedsReported on sessions.v1, answered Rejected: "the
  CSMS will not provide a charging profile based on these needs" (K15 ``Rejected``); the load
  balancer does send a session's limit, but not an ISO 15118 schedule built on the EV's needs.
"""

from collections.abc import Mapping
from typing import Any

from contracts.fields import mapping, moment, number, text, whole
from contracts.payloads.charging_limits import (
    ChargingLimitCleared,
    ChargingLimitSet,
    ChargingNeedsReported,
    EvChargingScheduleReported,
)
from contracts.payloads.ocpp import Reply, StationCall
from services.sessions.core.state import StationState
from services.sessions.core.step import Context, Step

NOMINAL_V = 230.0  # the 2.0.1 errata: W to A over the nominal voltage


def notify_charging_limit(state: StationState, call: StationCall, ctx: Context) -> Step:
    p = call.payload
    limit = p.get("chargingLimit")
    source = text(limit, "chargingLimitSource") if isinstance(limit, Mapping) else None
    if source is None:
        return Step(state=state, reply=Reply({}))  # the schema checked it; nothing to say
    critical = limit.get("isGridCritical") if isinstance(limit, Mapping) else None
    schedules = p.get("chargingSchedule")
    first = schedules[0] if isinstance(schedules, list) and schedules else None
    event = ChargingLimitSet(
        station_id=call.station_id,
        evse_id=whole(p, "evseId") or 0,
        source=source,
        grid_critical=critical if isinstance(critical, bool) else None,
        limit_a=_amps(first) if isinstance(first, Mapping) else None,
        at=call.received_at,
    )
    return Step(state=state, reply=Reply({}), events=[event.event()])


def cleared_charging_limit(state: StationState, call: StationCall, ctx: Context) -> Step:
    source = text(call.payload, "chargingLimitSource")
    if source is None:
        return Step(state=state, reply=Reply({}))
    event = ChargingLimitCleared(
        station_id=call.station_id,
        evse_id=whole(call.payload, "evseId") or 0,
        source=source,
        at=call.received_at,
    )
    return Step(state=state, reply=Reply({}), events=[event.event()])


def notify_ev_charging_needs(state: StationState, call: StationCall, ctx: Context) -> Step:
    p = call.payload
    needs = p.get("chargingNeeds")
    evse = whole(p, "evseId")
    if not isinstance(needs, Mapping) or evse is None:
        return Step(state=state, reply=Reply({"status": "Rejected"}))
    ac, dc = needs.get("acChargingParameters"), needs.get("dcChargingParameters")
    parameters: Mapping[str, Any] = {}
    if isinstance(ac, Mapping):
        parameters = ac
    elif isinstance(dc, Mapping):
        parameters = dc
    event = ChargingNeedsReported(
        station_id=call.station_id,
        evse_id=evse,
        transfer_mode=text(needs, "requestedEnergyTransfer") or "",
        energy_wh=number(parameters, "energyAmount"),
        departure_at=moment(needs, "departureTime"),
        ev_min_a=number(parameters, "evMinCurrent") if isinstance(ac, Mapping) else None,
        ev_max_a=number(parameters, "evMaxCurrent"),
        at=call.received_at,
    )
    return Step(state=state, reply=Reply({"status": "Rejected"}), events=[event.event()])


def notify_ev_charging_schedule(state: StationState, call: StationCall, ctx: Context) -> Step:
    """K17: answered Accepted (we do not renegotiate); the EV's schedule written as
    EvChargingScheduleReported for whoever plans with it."""
    p = call.payload
    evse, schedule = whole(p, "evseId"), mapping(p, "chargingSchedule")
    reply = Reply({"status": "Accepted"})
    if evse is None or schedule is None:
        return Step(state=state, reply=reply)
    event = EvChargingScheduleReported(
        station_id=call.station_id,
        evse_id=evse,
        time_base=moment(p, "timeBase"),
        schedule=schedule,
        at=call.received_at,
    )
    return Step(state=state, reply=reply, events=[event.event()])


def _amps(schedule: Mapping[str, Any]) -> float | None:
    """The first period's limit in A per phase."""
    periods = schedule.get("chargingSchedulePeriod")
    period = periods[0] if isinstance(periods, list) and periods else None
    if not isinstance(period, Mapping):
        return None
    limit = number(period, "limit")
    if limit is None:
        return None
    if schedule.get("chargingRateUnit") == "W":
        phases = whole(period, "numberPhases") or 3
        return round(float(limit) / (NOMINAL_V * phases), 1)
    return float(limit)
