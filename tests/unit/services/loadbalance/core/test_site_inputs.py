"""The load balancer and what others tell it: limits someone else set (2.0.1 K12/K13), an EV's
needs (K15), forecasts with prices; plans sent as periods (pure, no I/O)."""

from collections.abc import Sequence
from datetime import timedelta

from contracts.payloads.charging_limits import (
    ChargingLimitCleared,
    ChargingLimitSet,
    ChargingNeedsReported,
)
from contracts.payloads.sites import ForecastPublished, ForecastSlot, GenerationMeasured
from contracts.topics import Topic
from tests.unit.services.loadbalance.core.site_harness import (
    SITE,
    Harness,
    Sent,
    by,
    fits,
    hours,
    needs,
    two_stations,
)


def _external(h: Harness, station_id: str, evse_id: int, amps: float | None) -> list[Sent]:
    if amps is None:
        cleared = ChargingLimitCleared(
            station_id=station_id, evse_id=evse_id, source="EMS", at=h.now
        )
        return h.station(cleared.event())
    limit = ChargingLimitSet(
        station_id=station_id,
        evse_id=evse_id,
        source="EMS",
        grid_critical=False,
        limit_a=amps,
        at=h.now,
    )
    return h.station(limit.event())


def test_a_limit_someone_else_set_is_respected_and_what_it_leaves_goes_to_the_others() -> None:
    """K12: a local energy manager holds CS-1 at 10 A; CS-2 gets the rest, and its share back
    once the limit is cleared (K13)."""
    h = two_stations()
    h.start("CS-1")
    h.start("CS-2")
    h.accept_all()
    lowered = _external(h, "CS-1", 1, 10.0)
    assert by(lowered) == {("CS-1", "TxProfile"): 10.0}
    assert by(h.accept_all()) == {("CS-2", "TxProfile"): 22.0}
    assert h.limits() == {("CS-1", 1): 10.0, ("CS-2", 1): 22.0}
    h.tick()
    _external(h, "CS-1", 1, None)
    assert h.limits() == {("CS-1", 1): 16.0, ("CS-2", 1): 16.0}


def test_a_limit_on_a_whole_station_holds_its_evses_together() -> None:
    """On EVSE 0 the limit is the station's total: its two sessions share it."""
    h = Harness({"capacity_a": 64, "stations": [{"station_id": "CS-1", "evses": 2}, "CS-2"]})
    for s in ("CS-1", "CS-2"):
        h.boot(s)
    h.accept_all()
    h.start("CS-1", 1)
    h.start("CS-1", 2)
    h.start("CS-2")
    h.accept_all()
    _external(h, "CS-1", 0, 20.0)
    h.accept_all()
    limits = h.limits()
    assert limits[("CS-1", 1)] + limits[("CS-1", 2)] <= 20.0
    assert limits[("CS-2", 1)] == 32.0  # its rating: the site has room


def test_an_evs_own_maximum_from_its_charging_needs_caps_its_session() -> None:
    h = two_stations()
    h.start("CS-1")
    h.start("CS-2")
    h.accept_all()
    needs = ChargingNeedsReported(
        station_id="CS-2",
        evse_id=1,
        transfer_mode="AC_three_phase",
        energy_wh=20000,
        departure_at=None,
        ev_min_a=6,
        ev_max_a=10,
        at=h.now,
    )
    h.station(needs.event())
    assert h.limits() == {("CS-1", 1): 22.0, ("CS-2", 1): 10.0}


def test_a_session_with_a_departure_charges_in_the_cheap_hours_of_the_forecast() -> None:
    """Four hours ahead, the last two cheap: the EV needs 20 kWh (an hour at 29 A on three
    phases) by the fourth. It waits at 0 A and is raised when the cheap hour begins; the
    profile it gets then ends the charge at the hour's end by itself."""
    h = Harness({"capacity_a": 32, "stations": ["CS-1"]})
    h.boot("CS-1")
    h.accept_all()
    start = h.now
    h.site(hours(h, [0.40, 0.40, 0.10, 0.10]).envelope())
    h.start("CS-1")
    h.accept_all()
    (paused,) = needs(h, "CS-1", 20_000, start + timedelta(hours=4))
    assert (paused.purpose, paused.limit) == ("TxProfile", 0.0)  # expensive now
    assert h.partition.sites[SITE].limits["CS-1/1"].sent[-1].plan == ()  # never above 0 A
    h.accept_all()
    h.tick(3600)
    assert h.draws("CS-1", 0.0) == []  # still expensive
    h.tick(3600)  # the cheap hour: raised, and told to stop at its end
    (raised,) = h.draws("CS-1", 0.0)
    assert raised.limit == 27.0  # 19 kWh left: the meter says 1 kWh went in already
    plan = h.partition.sites[SITE].limits["CS-1/1"].sent[-1].plan
    assert plan == ((start + timedelta(hours=3), 0.0),)
    h.accept_all()
    h.tick(3600 + 1)  # the station stopped by itself; the load balancer knows it
    h.draws("CS-1", 0.0)
    assert h.partition.sites[SITE].limits["CS-1/1"].accepted == 0.0


def test_a_session_with_a_plan_comes_before_those_without() -> None:
    """CS-1's EV must have 20 kWh in two hours, the first cheaper: it gets 29 A now; CS-2,
    without a departure, shares nothing with it and takes what is left."""
    h = two_stations()
    h.site(hours(h, [0.10, 0.40]).envelope())
    h.start("CS-1")
    h.start("CS-2")
    h.accept_all()
    needs(h, "CS-1", 20_000, h.now + timedelta(hours=2))
    h.accept_all()
    h.accept_all()
    assert h.limits() == {("CS-1", 1): 29.0, ("CS-2", 1): 0.0}  # 3 A left: below a minimum


def test_a_plan_sent_as_periods_is_a_tx_profile_with_start_offsets() -> None:
    h = Harness({"capacity_a": 32, "stations": ["CS-1"]})
    h.boot("CS-1")
    h.accept_all()
    h.site(hours(h, [0.10, 0.40]).envelope())
    h.start("CS-1")
    h.accept_all()
    needs = ChargingNeedsReported(
        station_id="CS-1",
        evse_id=1,
        transfer_mode="AC_three_phase",
        energy_wh=30_000,
        departure_at=h.now + timedelta(hours=2),
        ev_min_a=6,
        ev_max_a=32,
        at=h.now,
    )
    routed = h.router.handle(needs.event().envelope(occurred_at=h.now))
    assert routed is not None
    handled = h.partition.handle(routed.events[0].envelope(occurred_at=h.now))
    assert handled is not None
    event = next(e for e in handled.events if e.topic == Topic.COMMANDS)
    arguments = event.payload["arguments"]
    assert "limit" not in arguments
    assert arguments["periods"] == [  # the cheap hour at 32 A, the rest after it, then 0
        {"start_s": 0, "limit": 32.0},
        {"start_s": 3600 + 60, "limit": 11.5},  # the profile starts a minute ago
        {"start_s": 2 * 3600 + 60, "limit": 0.0},
    ]


def test_a_planned_station_does_not_rise_by_itself_over_what_the_others_hold() -> None:
    """CS-1 plans its charge for the cheap second hour while CS-2 (no plan) holds the whole
    site now; when the hour begins, CS-1 rises only once the load balancer lowered CS-2."""
    h = two_stations()
    h.site(hours(h, [0.40, 0.10, 0.40]).envelope())
    h.start("CS-1")
    h.start("CS-2")
    h.accept_all()
    needs(h, "CS-1", 10_000, h.now + timedelta(hours=3))
    while h.pending:
        h.accept_all()
    assert h.limits() == {("CS-1", 1): 0.0, ("CS-2", 1): 32.0}
    h.tick(3600 + 1)
    fits(h, 32.0, now=h.now)  # the stations alone, before any input: still 0 + 32
    raised = h.draws("CS-2", 31.0)
    assert by(raised) == {("CS-2", "TxProfile"): 17.0}  # CS-2 lowered first ...
    assert by(h.accept_all()) == {("CS-1", "TxProfile"): 14.0}  # ... then CS-1 raised


def test_a_sites_token_group_goes_first_when_capacity_is_short() -> None:
    """The site ranks its fleet's cards first: on 16 A, the fleet's session charges and the
    public one waits, whichever started first."""
    h = Harness(
        {"capacity_a": 16, "token_groups": {"FLEET": 1}, "stations": ["CS-1", "CS-2"]},
        token_groups={"FLEET-CARD-7": "FLEET"},
    )
    for s in ("CS-1", "CS-2"):
        h.boot(s)
    h.accept_all()
    h.start("CS-1", id_token="PUBLIC-CARD")
    h.accept_all()
    h.start("CS-2", id_token="FLEET-CARD-7")
    h.accept_all()
    assert h.limits() == {("CS-1", 1): 0.0, ("CS-2", 1): 16.0}


def test_measured_generation_does_not_raise_the_safe_default() -> None:
    """PV expires; a default has no end: a station cut off from us must not keep a share of
    sunshine that is gone."""
    h = two_stations()
    sunny = GenerationMeasured(
        site_id=SITE, generation_a=32.0, at=h.now, valid_until=h.now + timedelta(minutes=5)
    )
    sent = h.site(sunny.envelope())
    assert all(c.purpose != "TxDefaultProfile" for c in sent)


def test_a_replan_that_raises_now_and_lowers_later_sends_its_lower_half_first() -> None:
    """CS-1's new plan rises now (16 -> 32 A) but drops later: with CS-2 to be lowered to make
    room, CS-1 is first sent nothing above what it had, at any time; its raise follows."""
    h = two_stations()
    top = h.now.replace(minute=0, second=0)

    def forecast(rows: Sequence[tuple[float | None, float]]) -> ForecastPublished:
        return ForecastPublished(
            site_id=SITE,
            slots=tuple(
                ForecastSlot(
                    start=top + timedelta(hours=n),
                    end=top + timedelta(hours=n + 1),
                    capacity_a=capacity,
                    price=price,
                )
                for n, (capacity, price) in enumerate(rows)
            ),
        )

    h.site(forecast([(16, 1), (None, 5), (None, 5), (None, 2), (None, 5), (None, 5)]).envelope())
    h.start("CS-1")
    h.start("CS-2")
    h.accept_all()
    needs(h, "CS-1", 30_000, h.now + timedelta(hours=6))
    while h.pending:
        h.accept_all()
    h.tick()
    first = h.site(forecast([(None, 1), (None, 1.5)] + [(None, 5)] * 4).envelope())
    assert by(first)[("CS-1", "TxProfile")] <= 16.0  # its limit now before: never above it
    assert all(s.decrease for limit in h.partition.sites[SITE].limits.values() for s in limit.sent)
    fits(h, 32.0, now=h.now)
