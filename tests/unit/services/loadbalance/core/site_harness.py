"""A site's partition of the load balancer with the router in front, fed records as the worker
feeds them, with a clock and stations that answer: the unit tests' harness (pure, no I/O)."""

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from contracts.envelope import Envelope
from contracts.events import DomainEvent, EventType, Outcome
from contracts.payloads.charging_limits import (
    ChargingNeedsReported,
)
from contracts.payloads.commands import CommandCompleted
from contracts.payloads.sessions import SessionEnded, SessionStarted, SessionUpdated
from contracts.payloads.sites import (
    CapacityChanged,
    ForecastPublished,
    ForecastSlot,
    LimitsAllocated,
    SiteDefined,
)
from contracts.payloads.stations import StationBooted
from contracts.topics import Topic
from services.loadbalance.core.drawn import bound
from services.loadbalance.core.partition import Partition
from services.loadbalance.core.router import Router

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
    token_groups: dict[str, str] = field(default_factory=dict)  # id token -> group

    def __post_init__(self) -> None:
        self.router = Router(
            lambda s: SITE if s in self.stations() else None, self.token_groups.get
        )
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
            limit = args["limit"] if "limit" in args else args["periods"][0]["limit"]
            command = Sent(
                p["command_id"], p["station_id"], args["purpose"], args["evse_id"], limit
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

    def start(self, station_id: str, evse_id: int = 1, id_token: str = "TOK") -> list[Sent]:
        started = SessionStarted(
            session_id=f"{station_id}/tx-{evse_id}",
            station_id=station_id,
            transaction_id=f"tx-{evse_id}",
            evse_id=evse_id,
            connector_id=1,
            id_token=id_token,
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


def by(sent: list[Sent]) -> dict[tuple[str, str], float]:
    return {(c.station_id, c.purpose): c.limit for c in sent}


def two_stations() -> Harness:
    """The issue's smallest site, both stations booted, their defaults accepted."""
    h = Harness({"capacity_a": 32, "phases": 3, "stations": ["CS-1", "CS-2"]})
    h.boot("CS-1")
    h.boot("CS-2")
    assert h.accept_all() == []
    return h


def needs(h: Harness, station_id: str, energy_wh: float, departure: datetime) -> list[Sent]:
    needs = ChargingNeedsReported(
        station_id=station_id,
        evse_id=1,
        transfer_mode="AC_three_phase",
        energy_wh=energy_wh,
        departure_at=departure,
        ev_min_a=6,
        ev_max_a=32,
        at=h.now,
    )
    return h.station(needs.event())


def hours(h: Harness, prices: list[float]) -> ForecastPublished:
    return ForecastPublished(
        site_id=SITE,
        slots=tuple(
            ForecastSlot(
                start=h.now + timedelta(hours=n), end=h.now + timedelta(hours=n + 1), price=price
            )
            for n, price in enumerate(prices)
        ),
    )


def fits(h: Harness, capacity: float, *, now: datetime) -> None:
    """What the charging points may draw at ``now`` fits ``capacity``, unless a decrease is
    waiting or a station did not answer (it counts at its rating)."""
    state = h.partition.sites[SITE]
    site = state.site()
    assert site is not None
    refused = any(st.refused_at is not None for st in state.stations.values())
    if state.lowering or refused:
        return
    drawn = sum(
        bound(state, site.station(key.split("/")[0]) or site.stations[0], key, now)
        for key in state.sessions
    )
    assert drawn <= capacity + 1e-6
