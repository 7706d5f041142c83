"""When a site changes by itself: the periods of the plans sent, forecast slots, capacity
windows, a generation measurement that expires (pure).

Stations follow their profiles' periods on their own; ``roll`` brings what the load balancer
knows of them up to ``now``, and ``next_boundary`` is when that is due next, so that a site is
allocated again at its first input after it (``boundary_passed``).
"""

from dataclasses import replace
from datetime import datetime, timedelta

from services.loadbalance.core.planning import ahead_of
from services.loadbalance.core.site_state import SiteState, at_time


def roll(state: SiteState, now: datetime) -> SiteState:
    """The periods of the plans sent that began by ``now`` are the limits now: a station
    follows its profile's periods by itself."""
    if state.next_boundary is None or now < state.next_boundary:
        return state
    for key, limit in state.limits.items():
        if any(at <= now for at, _ in limit.plan) or any(
            at <= now for s in limit.sent for at, _ in s.plan
        ):
            accepted = (
                limit.accepted
                if limit.accepted is None
                else at_time(limit.accepted, limit.plan, now)
            )
            sent = tuple(
                replace(s, limit_a=at_time(s.limit_a, s.plan, now), plan=ahead_of(s.plan, now))
                for s in limit.sent
            )
            rolled = replace(limit, accepted=accepted, plan=ahead_of(limit.plan, now), sent=sent)
            state = state.with_limit(key, rolled)
    return state


def next_boundary(
    state: SiteState, now: datetime, *, lost_after: timedelta, refresh_after: timedelta
) -> datetime | None:
    """The next time something the allocation reads changes by itself: a period of a plan
    sent, a forecast slot, a capacity window, the end of a generation measurement, an outcome
    overdue, a session's profile to send again before it expires."""
    times = [at for limit in state.limits.values() for at, _ in limit.plan]
    times += [at for limit in state.limits.values() for s in limit.sent for at, _ in s.plan]
    times += [t for slot in state.forecast for t in (slot.start, slot.end)]
    times += [w.valid_from for w in state.windows]
    times += [w.valid_until for w in state.windows if w.valid_until is not None]
    if state.generation_until is not None:
        times.append(state.generation_until)
    # an outcome that should have come by then (reconcile.LOST_AFTER), a profile to refresh
    times += [s.at + lost_after for limit in state.limits.values() for s in limit.sent]
    times += [
        limit.accepted_at + refresh_after
        for key, limit in state.limits.items()
        if limit.accepted_at is not None and key in state.sessions
    ]
    later_ones = [t for t in times if t > now]
    return min(later_ones) if later_ones else None


def boundary_passed(state: SiteState, now: datetime) -> bool:
    """Whether something the allocation reads changed by itself since the last allocation."""
    return state.next_boundary is not None and now >= state.next_boundary
