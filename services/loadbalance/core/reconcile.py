"""From a site's state to its allocation and the profiles that carry it, decreases first (pure).

After every input the site is allocated again (allocation.py) from its capacity now and its
points (site_points.py); what changed goes to the stations as SetChargingProfile commands:

- a session's limit as a TxProfile on its EVSE, the station's safe default as its
  TxDefaultProfile (profiles.py), at boot, when it comes online and whenever the capacity
  changes it;
- **decreases first**: a value below what the station may be drawing goes out at once;
  increases go only when no decrease of the site is on its way, so that every sum stays within
  both the old and the new capacity while limits change (transition.py, issue 12);
- a session's limit is sent rounded down to a whole ampere (``stepped``), and an increase
  smaller than ``MIN_RAISE_A`` waits: no command for a tenth of an ampere; a decrease never
  waits;
- a station that refused a profile or did not answer is reserved at its rating until it
  accepts one: it is asked again ``RETRY_REFUSED_AFTER`` later, or when it boots;
- an offline station is reserved at what it may draw: its sessions' last limits, its default
  on idle EVSEs; it is sent nothing.

Every new allocation is a LimitsAllocated on loadbalance.limits.v1.
"""

import math
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from contracts.events import DomainEvent
from contracts.payloads.commands import OperatorCommand
from contracts.payloads.sites import LimitsAllocated
from services.loadbalance.core.allocation import Node, allocate
from services.loadbalance.core.boundaries import next_boundary, roll
from services.loadbalance.core.drawn import DEFAULT_EVSE, bound, fresh, in_force, lowest, most
from services.loadbalance.core.planning import HORIZON, ahead_of, capped, later, planned
from services.loadbalance.core.profiles import (
    TX_VALID_FOR,
    default_profile,
    safe_limits,
    tx_profile,
)
from services.loadbalance.core.site_points import Charging, evse_counts, point_id, points
from services.loadbalance.core.site_state import (
    Limit,
    OpenSession,
    Sent,
    SiteState,
    StationState,
    at_time,
)
from services.loadbalance.core.site_state import Plan as Later
from services.loadbalance.core.topology import Site, StationSpec

COMMAND_PREFIX = "loadbalance:"  # the ids of our commands; their outcomes come back to us
COMMAND_NAMESPACE = uuid.UUID("6c4f3f38-43c5-4b7e-9d0c-3f3d1c1ab5e2")
COMMAND_TTL = timedelta(seconds=60)  # a station that has not answered by then is refused
LOST_AFTER = COMMAND_TTL + timedelta(seconds=60)  # an outcome not back by then never comes
RETRY_REFUSED_AFTER = timedelta(minutes=10)
REFRESH_AFTER = TX_VALID_FOR - timedelta(hours=1)  # a TxProfile is sent again after this
PLANNED_FIRST = 1_000  # a session with a plan comes before every priority class without one
MIN_RAISE_A = 1.0
STEP_A = 1.0  # a session's limit is sent in whole steps (``stepped``)
SWEEP_EVERY = timedelta(seconds=10)


@dataclass(frozen=True, slots=True)
class Want:
    """A limit a key should have: a station's default (``session`` None) or a session's."""

    spec: StationSpec
    limit_a: float
    session: OpenSession | None = None
    later: Later = ()  # a planned session's later periods


def reconcile(
    state: SiteState, *, now: datetime, cause: str, reallocate: bool = True
) -> tuple[SiteState, list[DomainEvent]]:
    """The site allocated again (unless ``reallocate`` is False: nothing it depends on
    changed), and the profiles that carry it; the new state and its events (LimitsAllocated,
    commands). ``cause`` (the input's event id) makes the command ids the same when an input
    is handled again."""
    site = state.site()
    if site is None:
        return state, []
    refusals = {k: s.refused_at for k, s in state.stations.items()}
    state = roll(_retry(_forget_lost(state, now), now), now)
    if refusals != {k: s.refused_at for k, s in state.stations.items()}:
        reallocate = True  # a station became refused, or is asked again: it counts otherwise
    capacity = state.capacity(site, now)
    live = _live(state, site, capacity)
    reserved = _reserved(state, live, now)
    events: list[DomainEvent] = []
    if reallocate:
        ahead, plans = planned(state, site, now) if state.forecast else ([], {})
        covered = bool(ahead) and ahead[0].start <= now
        caps = {key: plan.limits_a[0] for key, plan in plans.items()} if covered else {}
        if caps != state.plan_caps:
            state = replace(state, plan_caps=caps)
        charging = [
            replace(p, priority=p.priority + PLANNED_FIRST) if p.point_id in caps else p
            for p in points(live, _charging(state, live), reserved=reserved)
        ]
        target = allocate(live.nodes, charging, previous=state.target)
        horizon = now + HORIZON
        later_periods = {key: later(ahead, plan, horizon) for key, plan in plans.items()}
        if later_periods != state.plans:
            state = replace(state, plans=later_periods)
        demands = {p.point_id: p.max_a for p in charging if p.controllable and p.wants}
        if demands != state.demands:
            state = replace(state, demands=demands)
        if target != state.target or capacity != state.capacity_a:
            allocated = LimitsAllocated(
                site_id=state.site_id,
                at=now,
                capacity_a=capacity,
                limits=tuple(_row(k, v) for k, v in sorted(target.items())),
                generation_a=state.generation(now),
            )
            events.append(allocated.event())
            state = replace(state, target=target, capacity_a=capacity)
    # The safe default holds while the CSMS is out of reach: measured generation, which
    # expires, is not in it
    grid_only = _live(state, site, state.grid_capacity(site, now))
    wants = _wants(state, live, grid_only, reserved, now)
    state, sent = _send(state, wants, now=now, cause=cause)
    upcoming = next_boundary(state, now, lost_after=LOST_AFTER, refresh_after=REFRESH_AFTER)
    return replace(state, next_boundary=upcoming), events + sent


def _live(state: SiteState, site: Site, capacity: float) -> Site:
    """The site as it stands: the root at the capacity in force, and a station whose total
    someone else limited (K12, on EVSE 0) under a node of its own with that capacity."""
    nodes = [replace(site.nodes[0], capacity_a=capacity), *site.nodes[1:]]
    stations = []
    for spec in site.stations:
        limit = state.external_limit(spec.station_id, DEFAULT_EVSE) if state.external else None
        if limit is not None:
            node = Node(f"{spec.station_id}#external", limit, parent=spec.node)
            nodes.append(node)
            spec = replace(spec, node=node.node_id)
        stations.append(spec)
    return replace(site, nodes=tuple(nodes), stations=tuple(stations))


def _row(key: str, limit_a: float) -> tuple[str, int, float]:
    station_id, evse = key.rsplit("/", 1)
    return station_id, int(evse), limit_a


def _charging(state: SiteState, site: Site) -> list[Charging]:
    """The open sessions of steered points, with the limit they are under now, planned ones
    capped at their plan's slot now (``plan_caps``)."""
    specs = {s.station_id: s for s in site.stations}
    return [
        Charging(
            station_id=s.station_id,
            evse_id=s.evse_id,
            measured_a=fresh(state, key),
            limit_a=in_force(state, specs, key),
            ev_max_a=lowest(most(state, s), state.plan_caps.get(key)),
            energy_wh=s.energy_wh,
            token_group=s.token_group,
        )
        for key, s in state.sessions.items()
        if s.station_id in specs
    ]


def _ask_again(station: StationState, now: datetime) -> bool:
    """Whether a station that refused did so ``RETRY_REFUSED_AFTER`` ago or more."""
    return station.refused_at is not None and now - station.refused_at >= RETRY_REFUSED_AFTER


def retry_due(state: SiteState, now: datetime) -> bool:
    """Whether a station that refused is to be asked again."""
    return any(_ask_again(s, now) for s in state.stations.values())


def _retry(state: SiteState, now: datetime) -> SiteState:
    """The stations whose refusal is old enough are steered again (and asked again)."""
    for station_id, station in state.stations.items():
        if _ask_again(station, now):
            state = state.with_station(station_id, replace(station, refused_at=None))
    return state


def _refused(state: SiteState, station_id: str, now: datetime) -> bool:
    station = state.station(station_id)
    return station.refused_at is not None and not _ask_again(station, now)


def _reserved(state: SiteState, site: Site, now: datetime) -> dict[str, float]:
    """The points we cannot steer and what each may draw."""
    reserved: dict[str, float] = {}
    counted = evse_counts(site, [(s.station_id, s.evse_id) for s in state.sessions.values()])
    for spec in site.stations:
        refused = _refused(state, spec.station_id, now)
        online = state.station(spec.station_id).online
        for evse in range(1, counted[spec.station_id] + 1):
            key = point_id(spec.station_id, evse)
            if refused:
                reserved[key] = spec.rated_a
            elif not online:
                reserved[key] = min(spec.rated_a, bound(state, spec, key))
    return reserved


def _wants(
    state: SiteState, site: Site, grid_only: Site, reserved: Mapping[str, float], now: datetime
) -> dict[str, Want]:
    """The limit every key we steer should have: the defaults of the online stations we heard
    of (their share of ``grid_only``), the sessions' limits."""
    wants: dict[str, Want] = {}
    safe = safe_limits(grid_only)
    specs = {s.station_id: s for s in site.stations}
    for spec in site.stations:
        station = state.stations.get(spec.station_id)
        if station is None or not station.online or _refused(state, spec.station_id, now):
            continue
        wants[point_id(spec.station_id, DEFAULT_EVSE)] = Want(spec, safe[spec.station_id])
    for key, session in state.sessions.items():
        of = specs.get(session.station_id)
        if of is None or key in reserved or key not in state.target:
            continue
        limit = stepped(state.target[key], of.min_a)
        planned_later = capped(ahead_of(state.plans.get(key, ()), now), limit)
        wants[key] = Want(of, limit, session, planned_later)
    return wants


def stepped(limit_a: float, min_a: float) -> float:
    """A session's limit as sent: rounded down to whole ``STEP_A`` (never below its minimum):
    the many small decreases of a busy site (every session that starts lowers all the others
    by a little) become one command per step instead of one each."""
    if limit_a < min_a:
        return limit_a  # 0: paused
    return max(min_a, round(math.floor(limit_a / STEP_A + 1e-9) * STEP_A, 1))


def _send(
    state: SiteState, wants: Mapping[str, Want], *, now: datetime, cause: str
) -> tuple[SiteState, list[DomainEvent]]:
    """Decreases now; increases once no decrease is on its way. A change that lowers some
    period and raises another goes as its lower half first (the pointwise minimum of the old
    and the new), its raise with the increases."""
    site = state.site()
    assert site is not None
    specs = {s.station_id: s for s in site.stations}
    commands: list[DomainEvent] = []
    for key, want in wants.items():
        current = in_force(state, specs, key)
        if _lowers(state, specs, key, want, now):
            first = want if want.limit_a <= current else _lower_half(state, key, want, now)
            state, command = _command(state, key, first, True, now, f"{cause}/{len(commands)}")
            commands.append(command)
        elif _stale(state, key, want, now):  # the same limit, before its profile expires
            state, command = _command(state, key, want, False, now, f"{cause}/{len(commands)}")
            commands.append(command)
    if state.lowering:
        return state, commands
    for key, want in wants.items():
        current = in_force(state, specs, key)
        limit = state.limits.get(key)
        replanned = want.later != (ahead_of(limit.intended_plan(), now) if limit else ())
        if want.limit_a >= current + MIN_RAISE_A or (replanned and want.limit_a >= current):
            state, command = _command(state, key, want, False, now, f"{cause}/{len(commands)}")
            commands.append(command)
    return state, commands


def _lower_half(state: SiteState, key: str, want: Want, now: datetime) -> Want:
    """``want`` no higher, at any time, than what ``key`` was asked before."""
    limit = state.limits.get(key)
    old_first = want.limit_a if limit is None else (limit.intent() or want.limit_a)
    old = ahead_of(limit.intended_plan(), now) if limit is not None else ()
    first = min(want.limit_a, old_first)
    changes = sorted({at for at, _ in (*old, *want.later)})
    periods: list[tuple[datetime, float]] = []
    previous = first
    for t in changes:
        amps = min(at_time(want.limit_a, want.later, t), at_time(old_first, old, t))
        if amps != previous:
            periods.append((t, amps))
            previous = amps
    return replace(want, limit_a=first, later=tuple(periods))


def _stale(state: SiteState, key: str, want: Want, now: datetime) -> bool:
    """A session's profile that will expire (``TX_VALID_FOR``) before the next allocation is
    likely: it is sent again, unchanged, a while before."""
    limit = state.limits.get(key)
    if want.session is None or limit is None or limit.sent or limit.accepted_at is None:
        return False
    return now - limit.accepted_at >= REFRESH_AFTER


def _lowers(
    state: SiteState, specs: Mapping[str, StationSpec], key: str, want: Want, now: datetime
) -> bool:
    """Whether ``want`` is below what ``key`` has now, or at any later time of its plan."""
    current = in_force(state, specs, key)
    if want.limit_a < current:
        return True
    limit = state.limits.get(key)
    old = ahead_of(limit.intended_plan(), now) if limit is not None else ()
    if not want.later and not old:
        return False
    changes = sorted({at for at, _ in (*old, *want.later)})
    return any(at_time(want.limit_a, want.later, t) < at_time(current, old, t) for t in changes)


def _command(
    state: SiteState, key: str, want: Want, decrease: bool, now: datetime, name: str
) -> tuple[SiteState, DomainEvent]:
    """SetChargingProfile for ``want``, its id derived from ``name``; noted as on its way."""
    command_id = COMMAND_PREFIX + uuid.uuid5(COMMAND_NAMESPACE, name).hex
    limit = state.limits.get(key, Limit())
    sent = Sent(
        command_id=command_id,
        limit_a=want.limit_a,
        decrease=decrease,
        at=now,
        plan=want.later,
    )
    state = state.with_limit(key, replace(limit, sent=(*limit.sent, sent)))
    if want.session is None:
        site = state.site()
        assert site is not None
        arguments = default_profile(site, want.spec, now=now, limit_a=want.limit_a)
    else:
        arguments = tx_profile(
            evse_id=want.session.evse_id,
            transaction_id=want.session.transaction_id,
            limit_a=want.limit_a,
            now=now,
            later=want.later,
        )
    command = OperatorCommand(
        command_id=command_id,
        station_id=want.spec.station_id,
        command="SetChargingProfile",
        arguments=arguments,
        deadline=now + COMMAND_TTL,
    )
    return state, command.event()


def _forget_lost(state: SiteState, now: datetime) -> SiteState:
    """Commands whose outcome should have come long ago: their station counts as refused.
    Looked for at most every ``SWEEP_EVERY`` of log time."""
    if state.swept_at is not None and now - state.swept_at < SWEEP_EVERY:
        return state
    state = replace(state, swept_at=now)
    for key, limit in state.limits.items():
        lost = [s for s in limit.sent if now - s.at >= LOST_AFTER]
        if lost:
            station_id = key.rsplit("/", 1)[0]
            kept = tuple(s for s in limit.sent if s not in lost)
            state = state.with_limit(key, replace(limit, sent=kept))
            station = replace(state.station(station_id), refused_at=now)
            state = state.with_station(station_id, station)
    return state
