"""A site's charging points as the allocation sees them, from its document and its sessions (pure).

Every EVSE of every station of the site is a point under the station's node, with the
station's phases, minimum and priority (or the priority of its session's token group, if the
site gives that group a higher one). An EVSE with an open session wants current, capped by
what its EV uses (demand.py); one without wants none. An EVSE we cannot steer is **reserved**
at what it may draw without asking us, session or not: its rating when its station refused our
profile or did not answer, its last limit or the station's default when it is offline.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from services.loadbalance.core.allocation import Point
from services.loadbalance.core.demand import max_current
from services.loadbalance.core.topology import Site


@dataclass(frozen=True, slots=True, kw_only=True)
class Charging:
    """An open session on an EVSE: what it draws, what we allowed, what it has had."""

    station_id: str
    evse_id: int
    measured_a: float | None = None  # the highest phase's current, last measured
    limit_a: float | None = None  # the limit it has now
    ev_max_a: float | None = None  # the EV's maximum (2.0.1 charging needs), if known
    energy_wh: float = 0.0
    token_group: str | None = None  # the group of the id token that started it


def point_id(station_id: str, evse_id: int) -> str:
    return f"{station_id}/{evse_id}"


def points(
    site: Site, charging: Iterable[Charging], *, reserved: Mapping[str, float] | None = None
) -> list[Point]:
    """The points of ``site``: one per EVSE of each station, in the site's order; ``reserved``
    maps the point ids we cannot steer to what they may draw (A per phase)."""
    held = reserved or {}
    open_ = {point_id(c.station_id, c.evse_id): c for c in charging}
    found: list[Point] = []
    counted = evse_counts(site, [(c.station_id, c.evse_id) for c in open_.values()])
    for station in site.stations:
        for evse in range(1, counted[station.station_id] + 1):
            key = point_id(station.station_id, evse)
            session = open_.get(key)
            reserve = held.get(key)
            maximum = station.rated_a if reserve is None else reserve
            if session is not None and reserve is None:
                maximum = max_current(
                    station.rated_a,
                    min_a=station.min_a,
                    ev_max_a=session.ev_max_a,
                    measured_a=session.measured_a,
                    limit_a=session.limit_a,
                )
            found.append(
                Point(
                    point_id=key,
                    node=station.node,
                    phases=station.phases,
                    min_a=station.min_a,
                    max_a=maximum,
                    wants=reserve is not None or session is not None,
                    controllable=reserve is None,
                    priority=_priority(site, station.priority, session),
                    energy_wh=0.0 if session is None else session.energy_wh,
                )
            )
    return found


def _priority(site: Site, station_priority: int, session: Charging | None) -> int:
    """The station's priority, or its session's token group's if that is higher."""
    group = None if session is None else site.group_priority(session.token_group)
    return station_priority if group is None else max(station_priority, group)


def evse_counts(site: Site, sessions: Iterable[tuple[str, int]]) -> dict[str, int]:
    """Each station's EVSEs: as many as its document says, or up to the highest EVSE a session
    runs on (a 1.6 station listed by its id alone may have a second connector): a session on
    an EVSE the document does not list is steered like the others, never left uncounted."""
    counted = {s.station_id: s.evses for s in site.stations}
    for station_id, evse in sessions:
        if station_id in counted and evse > counted[station_id]:
            counted[station_id] = evse
    return counted
