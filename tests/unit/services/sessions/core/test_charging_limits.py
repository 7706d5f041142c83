"""2.0.1 K12, K13, K15: what a station says of limits set by others and of an EV's needs is
answered and passed on as events (pure)."""

from datetime import UTC, datetime, timedelta

from contracts.events import EventType
from contracts.payloads.charging_limits import (
    ChargingLimitCleared,
    ChargingLimitSet,
    ChargingNeedsReported,
    EvChargingScheduleReported,
)
from contracts.payloads.ocpp import Reply
from contracts.topics import Topic
from tests.unit.services.sessions.core.station import V201, Station


def _booted() -> Station:
    station = Station(version=V201)
    station.boot()
    return station


def test_a_limit_set_by_an_energy_manager_becomes_charging_limit_set_in_amperes() -> None:
    station = _booted()
    step = station.call(
        "NotifyChargingLimit",
        {
            "evseId": 1,
            "chargingLimit": {"chargingLimitSource": "EMS", "isGridCritical": True},
            "chargingSchedule": [
                {
                    "id": 1,
                    "chargingRateUnit": "W",
                    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 6900}],
                }
            ],
        },
    )
    assert step.reply == Reply({})
    (event,) = step.events
    assert (event.topic, event.event_type) == (Topic.STATIONS, EventType.CHARGING_LIMIT_SET)
    limit = ChargingLimitSet.parse(event.envelope())
    assert limit is not None
    assert (limit.evse_id, limit.source, limit.grid_critical, limit.limit_a) == (
        1,
        "EMS",
        True,
        10.0,
    )


def test_a_limit_without_a_schedule_or_evse_is_on_the_station_and_its_value_unknown() -> None:
    station = _booted()
    step = station.call("NotifyChargingLimit", {"chargingLimit": {"chargingLimitSource": "SO"}})
    limit = ChargingLimitSet.parse(step.events[0].envelope())
    assert limit is not None
    assert (limit.evse_id, limit.limit_a, limit.grid_critical) == (0, None, None)


def test_a_cleared_limit_becomes_charging_limit_cleared() -> None:
    station = _booted()
    step = station.call("ClearedChargingLimit", {"chargingLimitSource": "EMS", "evseId": 2})
    assert step.reply == Reply({})
    cleared = ChargingLimitCleared.parse(step.events[0].envelope())
    assert cleared is not None
    assert (cleared.evse_id, cleared.source) == (2, "EMS")


def test_an_evs_needs_are_passed_on_and_answered_rejected() -> None:
    station = _booted()
    departure = station.now + timedelta(hours=8)
    step = station.call(
        "NotifyEVChargingNeeds",
        {
            "evseId": 1,
            "chargingNeeds": {
                "requestedEnergyTransfer": "AC_three_phase",
                "departureTime": departure.isoformat(),
                "acChargingParameters": {
                    "energyAmount": 30000,
                    "evMinCurrent": 6,
                    "evMaxCurrent": 16,
                    "evMaxVoltage": 400,
                },
            },
        },
    )
    assert step.reply == Reply({"status": "Rejected"})  # no ISO 15118 schedule from us
    (event,) = step.events
    assert (event.topic, event.event_type) == (Topic.SESSIONS, EventType.CHARGING_NEEDS_REPORTED)
    needs = ChargingNeedsReported.parse(event.envelope())
    assert needs is not None
    assert (needs.evse_id, needs.energy_wh, needs.ev_min_a, needs.ev_max_a) == (1, 30000, 6, 16)
    assert needs.departure_at == departure


def test_the_evs_charging_schedule_is_written_as_sent() -> None:
    station = Station(version=V201)
    station.boot()
    schedule = {
        "id": 1,
        "chargingRateUnit": "W",
        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 11000.0}],
    }
    payload = {"timeBase": "2026-11-27T10:00:00Z", "evseId": 2, "chargingSchedule": schedule}
    step = station.call("NotifyEVChargingSchedule", payload)
    assert step.reply == Reply({"status": "Accepted"})
    (event,) = step.events
    reported = EvChargingScheduleReported.parse(event.envelope())
    assert reported is not None
    assert (reported.evse_id, reported.schedule) == (2, schedule)
    assert reported.time_base == datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
