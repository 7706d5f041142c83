"""A site's sessions with a known need and departure, planned over its forecast (pure).

When a site has a forecast (grid.capacity.v1 ForecastPublished: per slot its capacity, local
generation and a price or CO2 figure) and a session knows the energy it needs and when it
leaves (2.0.1 NotifyEVChargingNeeds, or the API), the session gets a plan (schedule.py): the
cheapest slots before its departure, over the slots' whole capacity (a session with a need
comes before those without). In the live allocation the plan's slot now is what the session
wants, ahead of the unplanned sessions, which share what is left.

The station is sent the plan's later periods only as far as they do not rise above its limit
now (``capped``): it follows its plan down on its own (it stops at the end of the cheap hours,
or at its departure), and the load balancer raises it when a slot begins, after lowering the
others (decreases first). A station that would rise by itself at a slot's start could overload
the site while the unplanned sessions still hold what they were given.
"""

from datetime import datetime

from services.loadbalance.core.profiles import TX_VALID_FOR
from services.loadbalance.core.schedule import Need, Plan, Slot, schedule
from services.loadbalance.core.site_state import Plan as Later
from services.loadbalance.core.site_state import SiteState
from services.loadbalance.core.topology import Site

HORIZON = TX_VALID_FOR  # a plan reaches no further than the TxProfile that carries it


def slots(state: SiteState, site: Site, now: datetime) -> list[Slot]:
    """The forecast's slots from ``now`` to ``HORIZON``, the first cut at ``now``: a slot's
    capacity is its own (never above the connection's) or the grid's at its start, plus the
    generation forecast for it."""
    out = []
    connection = site.nodes[0].capacity_a
    for slot in state.forecast:
        start, end = max(slot.start, now), min(slot.end, now + HORIZON)
        if end <= start:
            continue
        grid = state.grid_capacity(site, start) if slot.capacity_a is None else slot.capacity_a
        capacity = min(grid, connection) + (slot.generation_a or 0.0)
        out.append(Slot(start, end - start, capacity, slot.price or 0.0))
    return out


def planned(state: SiteState, site: Site, now: datetime) -> tuple[list[Slot], dict[str, Plan]]:
    """The slots ahead and a plan per session with a need and a departure still ahead."""
    ahead = slots(state, site, now)
    needs = _needs(state, site, now) if ahead else []
    return ahead, schedule(ahead, needs) if needs else {}


def _needs(state: SiteState, site: Site, now: datetime) -> list[Need]:
    specs = {s.station_id: s for s in site.stations}
    needs = []
    for key, session in state.sessions.items():
        spec, remaining = specs.get(session.station_id), session.remaining_wh()
        if spec is None or remaining is None or remaining <= 0:
            continue
        if session.departure_at is None or session.departure_at <= now:
            continue
        ceiling = spec.rated_a if session.ev_max_a is None else min(spec.rated_a, session.ev_max_a)
        needs.append(
            Need(
                point_id=key,
                energy_wh=remaining,
                departure=session.departure_at,
                phases=len(spec.phases),
                min_a=spec.min_a,
                max_a=ceiling,
            )
        )
    return needs


def later(ahead: list[Slot], plan: Plan, horizon: datetime) -> Later:
    """The plan after its first slot, as (from when, A per phase), neighbours with the same
    limit joined, and 0 from the end of its last slot (its departure, or the forecast's end;
    not the ``horizon`` it was cut at: the next allocation sees further)."""
    out: list[tuple[datetime, float]] = []
    previous = plan.limits_a[0]
    for slot, amps in list(zip(ahead, plan.limits_a, strict=True))[1:]:
        if amps != previous:
            out.append((slot.start, amps))
            previous = amps
    end = ahead[-1].start + ahead[-1].length
    if previous != 0.0 and end < horizon:
        out.append((end, 0.0))
    return tuple(out)


def capped(plan: Later, limit_a: float) -> Later:
    """``plan`` never above ``limit_a``, neighbours with the same limit joined."""
    out: list[tuple[datetime, float]] = []
    previous = limit_a
    for at, amps in plan:
        amps = min(amps, limit_a)
        if amps != previous:
            out.append((at, amps))
            previous = amps
    return tuple(out)


def ahead_of(plan: Later, now: datetime) -> Later:
    """The periods of ``plan`` that start after ``now``."""
    return tuple((at, amps) for at, amps in plan if at > now)
