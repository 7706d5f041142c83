"""What a charging point may be drawing, and what its session wants (pure).

A point's limit is kept per key ``<station>/<evse>`` and its station's default per
``<station>/0`` (site_state.py). Until a station accepts a profile, either the old or the new
may be in force: ``bound`` is the larger. ``demand`` is what the allocation takes a session to
want: its rating, its EV's maximum, a limit someone else set, and what it measurably uses
(demand.py), from a reading taken after its limit last changed.
"""

from collections.abc import Mapping
from datetime import datetime, timedelta

from services.loadbalance.core.demand import max_current
from services.loadbalance.core.site_points import point_id
from services.loadbalance.core.site_state import OpenSession, SiteState
from services.loadbalance.core.topology import StationSpec

DEFAULT_EVSE = 0  # the key <station>/0 holds the station's default profile
# IEC 61851-1: an EV follows a new pilot current within 5 s; readings before that are stale.
RAMP_UP = timedelta(seconds=10)


def demand(state: SiteState, key: str) -> float | None:
    """What the session on point ``key`` may draw, as the allocation would see it (demand.py);
    None without a session there."""
    site, session = state.site(), state.sessions.get(key)
    spec = None if site is None or session is None else site.station(session.station_id)
    if spec is None or session is None:
        return None
    return max_current(
        spec.rated_a,
        min_a=spec.min_a,
        ev_max_a=lowest(most(state, session), state.plan_caps.get(key)),
        measured_a=fresh(state, key),
        limit_a=in_force(state, {spec.station_id: spec}, key),
    )


def lowest(*bounds: float | None) -> float | None:
    known = [b for b in bounds if b is not None]
    return min(known) if known else None


def most(state: SiteState, session: OpenSession) -> float | None:
    """The most the session's EV takes (its charging needs) or may take (a limit someone else
    set on its EVSE or station, K12: "respected"); None: only its rating bounds it."""
    return lowest(session.ev_max_a, state.external_limit(session.station_id, session.evse_id))


def fresh(state: SiteState, key: str) -> float | None:
    """The session's measured current, if measured after its limit last changed (and the EV
    had ``RAMP_UP`` to follow): a reading from before says nothing of what it would draw now,
    and would cap it below a limit it never had the chance to use."""
    session, limit = state.sessions[key], state.limits.get(key)
    if session.measured_at is None or (limit is not None and limit.sent):
        return None  # not measured, or a new limit is on its way
    changed_at = None if limit is None else limit.accepted_at
    if changed_at is not None and session.measured_at < changed_at + RAMP_UP:
        return None
    return session.measured_a


def default_bound(state: SiteState, spec: StationSpec) -> float:
    """What an EVSE of the station without a limit of its own may draw: its default, if
    accepted (or on its way, whichever is higher), else its rating."""
    default = state.limits.get(point_id(spec.station_id, DEFAULT_EVSE))
    return spec.rated_a if default is None else default.bound(spec.rated_a)


def bound(state: SiteState, spec: StationSpec, key: str, now: datetime | None = None) -> float:
    """What the point ``key`` of ``spec`` may be drawing, whatever we asked (at ``now``: by the
    periods it was sent)."""
    base = default_bound(state, spec)
    limit = state.limits.get(key)
    return base if limit is None or key not in state.sessions else limit.bound(base, now)


def asked(state: SiteState, key: str) -> float | None:
    limit = state.limits.get(key)
    return None if limit is None else limit.intent()


def in_force(state: SiteState, site_specs: Mapping[str, StationSpec], key: str) -> float:
    """What we last asked of ``key``, or what it draws without being asked."""
    intent = asked(state, key)
    if intent is not None:
        return intent
    station_id, evse = key.rsplit("/", 1)
    spec = site_specs[station_id]
    return spec.rated_a if int(evse) == DEFAULT_EVSE else default_bound(state, spec)
