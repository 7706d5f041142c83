"""Each site's allocations over a recent window, read from loadbalance.limits.v1 (pure).

The API follows loadbalance.limits.v1 from ``keep`` ago: the newest allocation of a site is
its live allocation, the others its history (at most ``MAX_PER_SITE`` per site, the newest).
"""

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from contracts.envelope import Envelope
from contracts.payloads.sites import LimitsAllocated
from services.loadbalance.core.topology import Site

MAX_PER_SITE = 20_000  # a change a minute for two weeks


@dataclass
class History:
    """Allocations per site, oldest first."""

    keep: timedelta = timedelta(hours=24)
    sites: dict[str, deque[LimitsAllocated]] = field(default_factory=dict)

    def apply(self, envelope: Envelope | None) -> None:
        """One record of loadbalance.limits.v1; anything but a LimitsAllocated is ignored."""
        allocated = None if envelope is None else LimitsAllocated.parse(envelope)
        if allocated is None:
            return
        kept = self.sites.setdefault(allocated.site_id, deque(maxlen=MAX_PER_SITE))
        kept.append(allocated)
        while kept and kept[0].at < allocated.at - self.keep:
            kept.popleft()

    def latest(self, site_id: str) -> LimitsAllocated | None:
        kept = self.sites.get(site_id)
        return kept[-1] if kept else None

    def between(
        self, site_id: str, since: datetime | None, until: datetime | None
    ) -> list[LimitsAllocated]:
        return [
            a
            for a in self.sites.get(site_id, ())
            if (since is None or a.at >= since) and (until is None or a.at < until)
        ]


def drawn(allocated: LimitsAllocated, site: Site | None) -> float:
    """The allocated current on the most loaded phase of the connection (A): each limit on the
    phases of its station (all three when the site is not known)."""
    phases = {s.station_id: s.phases for s in site.stations} if site is not None else {}
    load = [0.0, 0.0, 0.0]
    for station_id, _, amps in allocated.limits:
        for phase in phases.get(station_id, (0, 1, 2)):
            load[phase] += amps
    return round(max(load), 1)


def as_json(allocated: LimitsAllocated, site: Site | None) -> dict[str, Any]:
    """An allocation as the API shows it: per station its EVSEs' limits."""
    stations: dict[str, list[dict[str, Any]]] = {}
    for station_id, evse_id, amps in allocated.limits:
        stations.setdefault(station_id, []).append({"evse_id": evse_id, "limit_a": amps})
    return {
        "site_id": allocated.site_id,
        "at": allocated.at,
        "capacity_a": allocated.capacity_a,
        "generation_a": allocated.generation_a,
        "allocated_a": drawn(allocated, site),
        "stations": [{"station_id": s, "evses": e} for s, e in stations.items()],
    }


def unallocated(site_id: str, site: Site) -> dict[str, Any]:
    """A site the load balancer has not allocated yet (no session, or no worker)."""
    return {
        "site_id": site_id,
        "at": None,
        "capacity_a": site.nodes[0].capacity_a,
        "generation_a": 0.0,
        "allocated_a": 0.0,
        "stations": [
            {
                "station_id": s.station_id,
                "evses": [{"evse_id": e, "limit_a": 0.0} for e in range(1, s.evses + 1)],
            }
            for s in site.stations
        ],
    }


def series(
    allocations: Iterable[LimitsAllocated], site: Site | None, *, until: datetime
) -> Mapping[str, list[Any]]:
    """The plot's series: times, capacity, local generation and allocated current, the last
    values held until ``until`` (an allocation holds until the next)."""
    rows = list(allocations)
    out: dict[str, list[Any]] = {
        "at": [a.at for a in rows],
        "capacity_a": [a.capacity_a for a in rows],
        "generation_a": [a.generation_a for a in rows],
        "allocated_a": [drawn(a, site) for a in rows],
    }
    if rows and until > rows[-1].at:
        for name, values in out.items():
            values.append(until if name == "at" else values[-1])
    return out
