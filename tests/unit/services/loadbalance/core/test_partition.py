"""The load balancer's core driven by records as the worker feeds it: a site's stations boot,
charge, lose capacity and get it back; profiles go out decreases first (pure, no I/O)."""

from datetime import timedelta
from typing import Any

import msgpack
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.events import Outcome
from contracts.payloads.sessions import SessionEnded
from contracts.payloads.sites import SiteDefined
from contracts.payloads.stations import StationOnlineChanged
from services.loadbalance.core.drawn import RAMP_UP
from services.loadbalance.core.partition import Partition
from services.loadbalance.core.reconcile import COMMAND_TTL, RETRY_REFUSED_AFTER
from services.loadbalance.core.router import Router
from services.loadbalance.core.site_state import SiteState
from tests.unit.services.loadbalance.core.site_harness import (
    SITE,
    T0,
    Harness,
    Sent,
    by,
    fits,
    hours,
    needs,
    two_stations,
)


def test_every_station_gets_its_safe_default_at_boot() -> None:
    h = Harness({"capacity_a": 32, "phases": 3, "stations": ["CS-1", "CS-2"]})
    assert by(h.boot("CS-1")) == {("CS-1", "TxDefaultProfile"): 16.0}
    assert by(h.boot("CS-2")) == {("CS-2", "TxDefaultProfile"): 16.0}


def test_a_lone_session_gets_the_site_and_shares_it_when_another_starts() -> None:
    h = two_stations()
    assert by(h.start("CS-1")) == {("CS-1", "TxProfile"): 32.0}  # above its default of 16
    assert h.accept_all() == []
    h.tick()
    assert h.draws("CS-1", 31.5) == []
    shared = h.start("CS-2")  # CS-2 starts at its default: 16; CS-1 comes down to 16
    assert by(shared) == {("CS-1", "TxProfile"): 16.0}
    assert h.limits() == {("CS-1", 1): 16.0, ("CS-2", 1): 16.0}
    assert h.accept_all() == []


def test_what_an_ev_does_not_use_goes_to_the_other_and_comes_back() -> None:
    h = two_stations()
    h.start("CS-1")
    h.start("CS-2")
    h.accept_all()
    h.tick()
    lowered = h.draws("CS-2", 5.0)  # a car that takes 5 A of its 16: capped at 6 A
    assert by(lowered) == {("CS-2", "TxProfile"): 6.0}
    assert by(h.accept_all()) == {("CS-1", "TxProfile"): 26.0}
    h.tick(RAMP_UP.total_seconds())
    h.draws("CS-2", 5.9)  # ramping up to its cap: it gets its share back, CS-1 lowered first
    assert by(list(h.pending.values())) == {("CS-1", "TxProfile"): 16.0}
    assert by(h.accept_all()) == {("CS-2", "TxProfile"): 16.0}


def test_a_reading_from_before_a_limit_changed_does_not_cap_the_session() -> None:
    """Right after CS-2 was raised to 16 A its meter still says 6 A: that is the old limit, not
    what the car wants; only a reading RAMP_UP later counts."""
    h = two_stations()
    h.start("CS-1")
    h.start("CS-2")
    h.accept_all()
    h.tick()
    h.draws("CS-2", 5.0)
    h.accept_all()  # CS-2 capped at 6 A, CS-1 raised to 26 A
    h.tick(RAMP_UP.total_seconds())
    h.draws("CS-2", 5.9)
    h.accept_all()  # CS-1 lowered to 16 A ...
    assert h.limits()[("CS-2", 1)] == 16.0
    assert h.draws("CS-2", 6.0) == []  # ... CS-2's raise not answered yet: stale
    h.accept_all()  # CS-2 raised to 16 A
    h.tick()
    assert h.draws("CS-2", 6.0) == []  # stale: no new cap
    h.tick(RAMP_UP.total_seconds())
    assert by(h.draws("CS-2", 6.0)) == {("CS-2", "TxProfile"): 7.0}  # fresh: capped again


def test_a_capacity_drop_lowers_everything_first_and_raises_only_after_acceptance() -> None:
    h = two_stations()
    h.start("CS-1")
    h.start("CS-2")
    h.tick()
    dropped = h.capacity(16)
    assert by(dropped) == {
        ("CS-1", "TxDefaultProfile"): 8.0,
        ("CS-2", "TxDefaultProfile"): 8.0,
        ("CS-1", "TxProfile"): 8.0,
        ("CS-2", "TxProfile"): 8.0,
    }
    h.tick()
    assert h.capacity(32) == []  # the capacity is back, but the decreases are on their way
    first = list(h.pending.values())
    for command in first[:-1]:
        assert h.answer(command) == []  # one decrease still pending: no increase
    raised = h.answer(first[-1])
    assert by(raised) == {
        ("CS-1", "TxDefaultProfile"): 16.0,
        ("CS-2", "TxDefaultProfile"): 16.0,
        ("CS-1", "TxProfile"): 16.0,
        ("CS-2", "TxProfile"): 16.0,
    }


def test_a_station_that_refuses_counts_at_its_rating_until_it_is_asked_again() -> None:
    h = Harness({"capacity_a": 40, "phases": 3, "stations": ["CS-1", "CS-2"]})
    (d1,) = h.boot("CS-1")
    (d2,) = h.boot("CS-2")
    h.answer(d1)
    assert h.answer(d2, "Rejected") == []
    h.start("CS-1")
    assert h.limits()[("CS-2", 1)] == 32.0  # reserved at its rating
    assert h.limits()[("CS-1", 1)] == 8.0  # what is left
    h.tick(RETRY_REFUSED_AFTER.total_seconds())
    again = h.draws("CS-1", 7.9)  # any input later: CS-2 is asked again
    assert ("CS-2", "TxDefaultProfile") in by(again)


def test_a_station_that_does_not_answer_counts_at_its_rating() -> None:
    h = Harness({"capacity_a": 40, "phases": 3, "stations": ["CS-1", "CS-2"]})
    (d1,) = h.boot("CS-1")
    (d2,) = h.boot("CS-2")
    h.answer(d1)
    h.tick(COMMAND_TTL.total_seconds())
    h.answer(d2, status="", outcome=Outcome.TIMED_OUT)
    h.start("CS-1")
    assert h.limits()[("CS-2", 1)] == 32.0


def test_short_capacity_pauses_a_session_at_zero_instead_of_below_its_minimum() -> None:
    h = Harness({"capacity_a": 16, "phases": 3, "stations": ["CS-1", "CS-2", "CS-3"]})
    for s in ("CS-1", "CS-2", "CS-3"):
        h.boot(s)
    h.accept_all()
    for s in ("CS-1", "CS-2", "CS-3"):
        h.start(s)
        h.accept_all()
    assert sorted(h.limits().values()) == [0.0, 8.0, 8.0]


def test_an_offline_station_is_reserved_at_what_it_was_allowed() -> None:
    h = two_stations()
    h.start("CS-1")
    h.start("CS-2")
    h.capacity(20)
    h.accept_all()
    assert h.limits() == {("CS-1", 1): 10.0, ("CS-2", 1): 10.0}
    offline = StationOnlineChanged(
        station_id="CS-2", online=False, gateway=None, connection_id=None, at=h.now
    )
    h.station(offline.event())
    h.end("CS-1")
    h.start("CS-1")
    h.accept_all()
    assert h.limits() == {("CS-1", 1): 10.0, ("CS-2", 1): 10.0}  # CS-2 may still draw 10


def test_the_state_survives_its_changelog_record() -> None:
    h = two_stations()
    h.start("CS-1")
    h.capacity(20)
    writes = h.partition.changes()
    assert [key for key, _ in writes] == [SITE]
    restored = Partition(0)
    for key, value in writes:
        restored.restore(key, value)
    assert restored.sites == h.partition.sites
    value = writes[0][1]
    assert value is not None
    assert SiteState.from_dict(msgpack.unpackb(value, timestamp=3)) == h.partition.sites[SITE]


def test_events_of_stations_in_no_site_stop_at_the_router() -> None:
    router = Router(lambda s: None)
    ended = SessionEnded(
        session_id="X/1",
        station_id="X",
        transaction_id="1",
        energy_wh=1,
        duration_s=1,
        id_token=None,
        stop_reason=None,
        ended_at=T0,
    )
    assert router.handle(ended.event().envelope()) is None


ACTIONS = st.lists(
    st.one_of(
        st.tuples(st.just("start"), st.integers(0, 3)),
        st.tuples(st.just("end"), st.integers(0, 3)),
        st.tuples(st.just("draws"), st.integers(0, 3), st.floats(0, 32)),
        st.tuples(st.just("capacity"), st.integers(0, 80)),
        st.tuples(st.just("accept"), st.integers(0, 5)),
        st.tuples(st.just("needs"), st.integers(0, 3), st.integers(0, 60_000), st.integers(1, 6)),
        st.tuples(st.just("wait"), st.integers(1, 90)),
    ),
    max_size=40,
)
PRICES = st.lists(st.floats(0, 1), min_size=6, max_size=6)


@settings(max_examples=150, deadline=None)
@given(ACTIONS, PRICES)
def test_whenever_no_decrease_is_on_its_way_what_stations_may_draw_fits(
    actions: list[tuple[Any, ...]], prices: list[float]
) -> None:
    """What every charging point may draw (its accepted limit, one on its way, or its default;
    the period in force of a planned one) adds up to at most the capacity in force whenever no
    decrease is waiting for an answer; and an increase is never sent while a decrease is
    waiting. Sessions with needs and departures are planned over six hourly prices."""
    stations = ["CS-1", "CS-2", "CS-3", "CS-4"]
    h = Harness({"capacity_a": 64, "phases": 3, "stations": stations})
    for s in stations:
        h.boot(s)
    h.site(hours(h, prices).envelope())
    open_: set[str] = set()
    capacity = 64.0
    for action in actions:
        h.tick()
        name, *args = action
        station = stations[args[0]] if name in ("start", "end", "draws", "needs") else ""
        if name == "wait":  # the stations follow the periods they were sent by themselves
            h.tick(args[0] * 60)
            fits(h, capacity, now=h.now)
            continue
        if name == "start" and station not in open_:
            sent = h.start(station)
            open_.add(station)
        elif name == "end" and station in open_:
            sent = h.end(station)
            open_.discard(station)
        elif name == "draws" and station in open_:
            sent = h.draws(station, round(args[1], 1))
        elif name == "capacity":
            capacity = float(args[0])
            sent = h.capacity(capacity)
        elif name == "accept" and h.pending:
            pending = list(h.pending.values())
            sent = h.answer(pending[min(args[0], len(pending) - 1)])
        elif name == "needs" and station in open_:
            sent = needs(h, station, args[1], h.now + timedelta(hours=args[2]))
        else:
            continue
        state = h.partition.sites[SITE]
        waiting = {s.command_id: s for limit in state.limits.values() for s in limit.sent}
        if any(not waiting[c.command_id].decrease for c in sent):
            assert not state.lowering  # an increase goes out only when no decrease waits
        fits(h, capacity, now=h.now)


def test_a_busy_site_sends_whole_amperes_at_most_one_command_per_step() -> None:
    """60 sessions start one after another on a site for 16 A each: each start lowers every
    other session by a little; a station hears of it once per whole ampere, not each time."""
    stations = [f"CS-{n:02d}" for n in range(60)]
    h = Harness({"capacity_a": 960, "phases": 3, "stations": stations})
    for s in stations:
        h.boot(s)
    h.accept_all()
    tx: list[Sent] = []
    for s in stations:
        for command in [*h.start(s), *h.accept_all()]:
            if command.purpose == "TxProfile":
                tx.append(command)
    assert all(c.limit == int(c.limit) for c in tx)
    per_station = {s: sum(1 for c in tx if c.station_id == s) for s in stations}
    assert max(per_station.values()) <= 32 - 16 + 1  # from 32 A down to 16 A, one per ampere
    assert set(h.limits().values()) == {16.0}


def test_a_decrease_never_answered_is_given_up_and_its_station_reserved_at_its_rating() -> None:
    """Only meter values follow a decrease whose outcome never comes: two minutes after its
    deadline the station counts as refused (at its rating) and the others are lowered."""
    h = two_stations()
    h.start("CS-1")
    h.accept_all()
    h.tick()
    h.draws("CS-1", 31.5)
    h.start("CS-2")  # CS-1 to 16 A: never answered
    sent: list[Sent] = []
    for _ in range(3):
        h.tick(60)
        sent += h.draws("CS-2", 15.9)
    state = h.partition.sites[SITE]
    assert state.station("CS-1").refused_at is not None
    assert by(sent) == {("CS-2", "TxProfile"): 0.0}  # CS-1 may draw 32 A: nothing left


def test_a_session_on_an_evse_the_document_does_not_list_is_steered_too() -> None:
    """A 1.6 station listed by its id alone (one EVSE) charges on connector 2."""
    h = Harness({"capacity_a": 32, "phases": 3, "stations": ["CS-1", "CS-2"]})
    h.boot("CS-1")
    h.boot("CS-2")
    h.accept_all()
    h.start("CS-1", evse_id=2)
    h.start("CS-2")
    h.accept_all()
    assert h.limits() == {("CS-1", 1): 0.0, ("CS-1", 2): 16.0, ("CS-2", 1): 16.0}


def test_a_station_removed_while_its_decrease_waits_does_not_hold_up_the_increases() -> None:
    h = two_stations()
    h.start("CS-1")
    h.accept_all()
    h.start("CS-2")  # CS-1 lowered: waiting
    assert h.partition.sites[SITE].lowering == 1
    document = {"capacity_a": 32, "phases": 3, "stations": ["CS-2"]}
    h.site(SiteDefined(site_id=SITE, stations=("CS-2",), document=document).envelope())
    assert h.partition.sites[SITE].lowering == 0
