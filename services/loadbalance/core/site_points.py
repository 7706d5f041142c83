"""A site's charging points as the allocation sees them, from its document and its sessions (pure).

Every EVSE of every station of the site is a point under the station's node, with the
station's phases, minimum and priority. An EVSE with an open session wants current, capped by
what its EV uses (demand.py); one without wants none. Every EVSE of a station we cannot control
(it rejected our profile or did not answer, or it is offline) is reserved at its rating, session
or not: it may start charging at any moment without asking us.
"""

from collections.abc import Collection, Iterable
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


def point_id(station_id: str, evse_id: int) -> str:
    return f"{station_id}/{evse_id}"


def points(
    site: Site, charging: Iterable[Charging], *, uncontrolled: Collection[str] = ()
) -> list[Point]:
    """The points of ``site``: one per EVSE of each station, in the site's order."""
    open_ = {point_id(c.station_id, c.evse_id): c for c in charging}
    found: list[Point] = []
    for station in site.stations:
        for evse in range(1, station.evses + 1):
            key = point_id(station.station_id, evse)
            session = open_.get(key)
            reserved = station.station_id in uncontrolled
            maximum = station.rated_a
            if session is not None and not reserved:
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
                    wants=reserved or session is not None,
                    controllable=not reserved,
                    priority=station.priority,
                    energy_wh=0.0 if session is None else session.energy_wh,
                )
            )
    return found
