"""The load balancer's core driven by records as the worker feeds it: a site's stations boot,
charge, lose capacity and get it back; profiles go out decreases first (pure, no I/O)."""

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import msgpack
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.envelope import Envelope
from contracts.events import DomainEvent, EventType, Outcome
from contracts.payloads.charging_limits import (
    ChargingLimitCleared,
    ChargingLimitSet,
    ChargingNeedsReported,
)
from contracts.payloads.commands import CommandCompleted
from contracts.payloads.sessions import SessionEnded, SessionStarted, SessionUpdated
from contracts.payloads.sites import CapacityChanged, LimitsAllocated, SiteDefined
from contracts.payloads.stations import StationBooted, StationOnlineChanged
from contracts.topics import Topic
from services.loadbalance.core.partition import Partition
from services.loadbalance.core.reconcile import (
    COMMAND_TTL,
    RAMP_UP,
    RETRY_REFUSED_AFTER,
    bound,
)
from services.loadbalance.core.router import Router
from services.loadbalance.core.site_state import SiteState

T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
SITE = "DEPOT"


@dataclass(frozen=True)
class Sent:
    command_id: str
    station_id: str
    purpose: str
    evse_id: int
    limit: float


@dataclass
class Harness:
    """A site's partition with the router in front, and a clock."""

    document: dict[str, Any]
    partition: Partition = field(default_factory=lambda: Partition(0))
    now: datetime = T0
    allocations: list[LimitsAllocated] = field(default_factory=list)
    pending: dict[str, Sent] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.router = Router(lambda s: SITE if s in self.stations() else None)
        defined = SiteDefined(site_id=SITE, stations=tuple(self.stations()), document=self.document)
        self.site(defined.envelope())

    def stations(self) -> list[str]:
        return [s if isinstance(s, str) else s["station_id"] for s in self.document["stations"]]

    def tick(self, seconds: float = 1.0) -> None:
        self.now += timedelta(seconds=seconds)

    def site(self, envelope: Envelope) -> list[Sent]:
        """A record of a site-keyed topic (sites, capacity)."""
        return self._feed(replace(envelope, occurred_at=self.now))

    def station(self, event: DomainEvent) -> list[Sent]:
        """A station event, through the router."""
        envelope = event.envelope(occurred_at=self.now)
        routed = self.router.handle(envelope)
        if routed is None:
            return []
        return self._feed(routed.events[0].envelope(occurred_at=self.now))

    def _feed(self, envelope: Envelope) -> list[Sent]:
        handled = self.partition.handle(envelope)
        assert handled is not None
        sent = []
        for event in handled.events:
            out = event.envelope(occurred_at=self.now)
            if event.topic == Topic.LIMITS:
                allocated = LimitsAllocated.parse(out)
                assert allocated is not None
                self.allocations.append(allocated)
                continue
            assert event.topic == Topic.COMMANDS
            assert event.event_type == EventType.OPERATOR_COMMAND
            p = event.payload
            assert p["command"] == "SetChargingProfile"
            args = p["arguments"]
            command = Sent(
                p["command_id"], p["station_id"], args["purpose"], args["evse_id"], args["limit"]
            )
            self.pending[command.command_id] = command
            sent.append(command)
        return sent

    def answer(self, command: Sent, status: str = "Accepted", **outcome: Any) -> list[Sent]:
        del self.pending[command.command_id]
        result = CommandCompleted(
            command_id=command.command_id,
            station_id=command.station_id,
            action="SetChargingProfile",
            outcome=outcome.get("outcome", Outcome.ANSWERED),
            status=status,
        )
        envelope = result.envelope(at=self.now)
        routed = self.router.handle(envelope)
        assert routed is not None
        return self._feed(routed.events[0].envelope(occurred_at=self.now))

    def accept_all(self) -> list[Sent]:
        """Accept what is pending, oldest first; what that sends in turn."""
        more: list[Sent] = []
        for command in list(self.pending.values()):
            more += self.answer(command)
        return more

    def boot(self, station_id: str) -> list[Sent]:
        booted = StationBooted(
            station_id=station_id,
            vendor="V",
            model="M",
            serial_number=None,
            firmware_version=None,
            ocpp_version="ocpp2.0.1",
            boot_status="Accepted",
        )
        return self.station(booted.event())

    def start(self, station_id: str, evse_id: int = 1) -> list[Sent]:
        started = SessionStarted(
            session_id=f"{station_id}/tx-{evse_id}",
            station_id=station_id,
            transaction_id=f"tx-{evse_id}",
            evse_id=evse_id,
            connector_id=1,
            id_token="TOK",
            meter_start_wh=0,
            started_at=self.now,
        )
        return self.station(started.event())

    def draws(self, station_id: str, amps: float, evse_id: int = 1) -> list[Sent]:
        updated = SessionUpdated(
            session_id=f"{station_id}/tx-{evse_id}",
            station_id=station_id,
            transaction_id=f"tx-{evse_id}",
            energy_wh=1000,
            power_w=None,
            current_a=amps,
            soc_percent=None,
            at=self.now,
        )
        return self.station(updated.event())

    def end(self, station_id: str, evse_id: int = 1) -> list[Sent]:
        ended = SessionEnded(
            session_id=f"{station_id}/tx-{evse_id}",
            station_id=station_id,
            transaction_id=f"tx-{evse_id}",
            energy_wh=1000,
            duration_s=60,
            id_token="TOK",
            stop_reason="Local",
            ended_at=self.now,
        )
        return self.station(ended.event())

    def capacity(self, amps: float) -> list[Sent]:
        changed = CapacityChanged(site_id=SITE, limit_a=amps, valid_from=self.now)
        return self.site(changed.envelope())

    def limits(self) -> dict[tuple[str, int], float]:
        latest = self.allocations[-1]
        return {(s, e): a for s, e, a in latest.limits}


def _by(sent: list[Sent]) -> dict[tuple[str, str], float]:
    return {(c.station_id, c.purpose): c.limit for c in sent}


def _two_stations() -> Harness:
    """The issue's smallest site, both stations booted, their defaults accepted."""
    h = Harness({"capacity_a": 32, "phases": 3, "stations": ["CS-1", "CS-2"]})
    h.boot("CS-1")
    h.boot("CS-2")
    assert h.accept_all() == []
    return h


def test_every_station_gets_its_safe_default_at_boot() -> None:
    h = Harness({"capacity_a": 32, "phases": 3, "stations": ["CS-1", "CS-2"]})
    assert _by(h.boot("CS-1")) == {("CS-1", "TxDefaultProfile"): 16.0}
    assert _by(h.boot("CS-2")) == {("CS-2", "TxDefaultProfile"): 16.0}


def test_a_lone_session_gets_the_site_and_shares_it_when_another_starts() -> None:
    h = _two_stations()
    assert _by(h.start("CS-1")) == {("CS-1", "TxProfile"): 32.0}  # above its default of 16
    assert h.accept_all() == []
    h.tick()
    assert h.draws("CS-1", 31.5) == []
    shared = h.start("CS-2")  # CS-2 starts at its default: 16; CS-1 comes down to 16
    assert _by(shared) == {("CS-1", "TxProfile"): 16.0}
    assert h.limits() == {("CS-1", 1): 16.0, ("CS-2", 1): 16.0}
    assert h.accept_all() == []


def test_what_an_ev_does_not_use_goes_to_the_other_and_comes_back() -> None:
    h = _two_stations()
    h.start("CS-1")
    h.start("CS-2")
    h.accept_all()
    h.tick()
    lowered = h.draws("CS-2", 5.0)  # a car that takes 5 A of its 16: capped at 6 A
    assert _by(lowered) == {("CS-2", "TxProfile"): 6.0}
    assert _by(h.accept_all()) == {("CS-1", "TxProfile"): 26.0}
    h.tick(RAMP_UP.total_seconds())
    h.draws("CS-2", 5.9)  # ramping up to its cap: it gets its share back, CS-1 lowered first
    assert _by(list(h.pending.values())) == {("CS-1", "TxProfile"): 16.0}
    assert _by(h.accept_all()) == {("CS-2", "TxProfile"): 16.0}


def test_a_reading_from_before_a_limit_changed_does_not_cap_the_session() -> None:
    """Right after CS-2 was raised to 16 A its meter still says 6 A: that is the old limit, not
    what the car wants; only a reading RAMP_UP later counts."""
    h = _two_stations()
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
    assert _by(h.draws("CS-2", 6.0)) == {("CS-2", "TxProfile"): 7.0}  # fresh: capped again


def test_a_capacity_drop_lowers_everything_first_and_raises_only_after_acceptance() -> None:
    h = _two_stations()
    h.start("CS-1")
    h.start("CS-2")
    h.tick()
    dropped = h.capacity(16)
    assert _by(dropped) == {
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
    assert _by(raised) == {
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
    assert ("CS-2", "TxDefaultProfile") in _by(again)


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
    h = _two_stations()
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
    h = _two_stations()
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
    ),
    max_size=40,
)


@settings(max_examples=150, deadline=None)
@given(ACTIONS)
def test_whenever_no_decrease_is_on_its_way_what_stations_may_draw_fits(
    actions: list[tuple[Any, ...]],
) -> None:
    """What every charging point may draw (its accepted limit, one on its way, or its default)
    adds up to at most the capacity in force whenever no decrease is waiting for an answer;
    and an increase is never sent while a decrease is waiting."""
    stations = ["CS-1", "CS-2", "CS-3", "CS-4"]
    h = Harness({"capacity_a": 64, "phases": 3, "stations": stations})
    for s in stations:
        h.boot(s)
    open_: set[str] = set()
    capacity = 64.0
    for action in actions:
        h.tick()
        name, *args = action
        station = stations[args[0]] if name in ("start", "end", "draws") else ""
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
        else:
            continue
        state = h.partition.sites[SITE]
        site = state.site()
        assert site is not None
        waiting = {s.command_id: s for limit in state.limits.values() for s in limit.sent}
        lowering = any(s.decrease for s in waiting.values())
        if any(not waiting[c.command_id].decrease for c in sent):
            assert not lowering  # an increase goes out only when no decrease waits
        if not lowering:
            drawn = sum(
                bound(state, site.station(key.split("/")[0]) or site.stations[0], key)
                for key in state.sessions
            )
            assert drawn <= capacity + 1e-6


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
    h = _two_stations()
    h.start("CS-1")
    h.start("CS-2")
    h.accept_all()
    lowered = _external(h, "CS-1", 1, 10.0)
    assert _by(lowered) == {("CS-1", "TxProfile"): 10.0}
    assert _by(h.accept_all()) == {("CS-2", "TxProfile"): 22.0}
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
    h = _two_stations()
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
