"""A site document read strictly: its capacity, nested groups and stations, or what is wrong (pure).

The smallest document that must work is ``{"capacity_a": 32, "phases": 3, "stations":
["CS-1", "CS-2"]}``: stations at their rated defaults. The whole shape (docs/loadbalance.md):

    {"capacity_a": 63, "phases": 3,
     "groups": [{"group_id": "feeder-1", "capacity_a": 32, "parent": null}],
     "stations": ["CS-1",
                  {"station_id": "CS-2", "group": "feeder-1", "rated_a": 16, "phases": 1,
                   "phase": 2, "min_a": 6, "priority": 1, "evses": 2}]}

``phase`` (1, 2 or 3) is the grid phase a 1-phase station is wired to; without it a 1-phase
station counts on all three. ``priority``: higher first (fleet before public).
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from services.loadbalance.core.allocation import PHASES, Node

VOLTS = 230.0  # nominal: kW to A per phase, as the 2.0.1 errata has stations convert
DEFAULT_RATED_A = 32.0
DEFAULT_MIN_A = 6.0  # IEC 61851: the least a pilot signal may offer
DEFAULT_PHASES = 3
MAX_CURRENT_A = 10_000.0  # per phase; a larger figure is a typo, not a site


class InvalidSite(ValueError):
    """A site document we refuse; the message names the field and what is wrong."""


@dataclass(frozen=True, slots=True, kw_only=True)
class StationSpec:
    """A station of a site: where it hangs, what each of its EVSEs may draw, its priority."""

    station_id: str
    node: str  # the group it hangs under, or the site
    rated_a: float = DEFAULT_RATED_A  # per EVSE, per phase
    min_a: float = DEFAULT_MIN_A
    phases: frozenset[int] = frozenset(PHASES)
    priority: int = 0
    evses: int = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class Site:
    site_id: str
    nodes: tuple[Node, ...]  # the site first (its capacity), then its groups
    stations: tuple[StationSpec, ...]
    # A session whose id token is in one of these token groups has at least this priority
    # (a fleet's cards before the public's): (group id, priority) pairs
    token_groups: tuple[tuple[str, int], ...] = ()

    def group_priority(self, token_group: str | None) -> int | None:
        return next((p for g, p in self.token_groups if g == token_group), None)

    def station(self, station_id: str) -> StationSpec | None:
        return next((s for s in self.stations if s.station_id == station_id), None)


def parse_site(site_id: str, document: object) -> Site:
    """The site ``document`` describes.

    Raises:
        InvalidSite: a negative or absurd capacity, a group whose parent does not exist or
            that forms a cycle, a station listed twice, a minimum above the rated current,
            an unknown field.
    """
    d = _object(document, "site")
    _only(d, {"capacity_a", "capacity_kw", "phases", "groups", "stations", "token_groups"}, "site")
    phases = d.get("phases", DEFAULT_PHASES)
    if phases not in (1, 3):
        raise InvalidSite(f"phases: 1 or 3, got {phases!r}")
    nodes = [Node(site_id, _capacity(d, "", phases))]
    for n, raw in enumerate(_list(d.get("groups", []), "groups")):
        nodes.append(_group(raw, f"groups[{n}]", site_id, phases))
    ids = [node.node_id for node in nodes]
    if len(set(ids)) != len(ids):
        raise InvalidSite(f"groups: a group_id is used twice, or is the site's id: {ids}")
    _acyclic(nodes)
    stations: list[StationSpec] = []
    for n, raw in enumerate(_list(d.get("stations"), "stations")):
        stations.append(_station(raw, f"stations[{n}]", site_id, set(ids)))
    seen = [s.station_id for s in stations]
    twice = sorted({s for s in seen if seen.count(s) > 1})
    if twice:
        raise InvalidSite(f"stations: listed twice: {twice}")
    token_groups = _object(d.get("token_groups", {}), "token_groups")
    priorities = tuple(
        (str(group), _whole(p, f"token_groups.{group}", low=0, high=1000))
        for group, p in sorted(token_groups.items())
    )
    return Site(
        site_id=site_id, nodes=tuple(nodes), stations=tuple(stations), token_groups=priorities
    )


def elsewhere(site: Site, sites: Mapping[str, Site]) -> str | None:
    """Why ``site`` cannot be stored beside ``sites`` (a station is in another site), or None."""
    for other in sites.values():
        if other.site_id == site.site_id:
            continue
        shared = sorted(
            {s.station_id for s in site.stations} & {s.station_id for s in other.stations}
        )
        if shared:
            return f"stations {shared} are in site {other.site_id!r} already"
    return None


def _group(raw: object, path: str, site_id: str, phases: int) -> Node:
    g = _object(raw, path)
    _only(g, {"group_id", "capacity_a", "capacity_kw", "parent"}, path)
    group_id = g.get("group_id")
    if not isinstance(group_id, str) or not group_id:
        raise InvalidSite(f"{path}.group_id: a non-empty string is required")
    parent = g.get("parent")
    if parent is not None and not isinstance(parent, str):
        raise InvalidSite(f"{path}.parent: a group_id, or null for the site")
    return Node(group_id, _capacity(g, f"{path}.", phases), parent or site_id)


def _capacity(o: Mapping[str, Any], path: str, phases: int) -> float:
    """``capacity_a`` (A per phase) or ``capacity_kw`` (the site's phases at the nominal
    ``VOLTS``: A per phase = kW x 1000 / (230 V x phases)), the lower of the two if both."""
    if "capacity_a" not in o and "capacity_kw" not in o:
        raise InvalidSite(f"{path}capacity_a: a number of amperes (or capacity_kw) is required")
    found = []
    if "capacity_a" in o:
        found.append(_amps(o["capacity_a"], f"{path}capacity_a"))
    if "capacity_kw" in o:
        kw = o["capacity_kw"]
        if isinstance(kw, bool) or not isinstance(kw, int | float) or kw < 0:
            raise InvalidSite(f"{path}capacity_kw: a number of kW >= 0 is required, got {kw!r}")
        amps = math.floor(kw * 1000 / (VOLTS * phases) * 10) / 10
        found.append(_amps(amps, f"{path}capacity_kw (as A per phase)"))
    return min(found)


def _acyclic(nodes: list[Node]) -> None:
    tree = {n.node_id: n for n in nodes}
    for node in nodes:
        seen: list[str] = []
        current: str | None = node.node_id
        while current is not None:
            if current not in tree:
                raise InvalidSite(f"groups: {seen[-1]!r} has parent {current!r}, which is no group")
            if current in seen:
                raise InvalidSite(f"groups: {' -> '.join([*seen, current])} is a cycle")
            seen.append(current)
            current = tree[current].parent


def _station(raw: object, path: str, site_id: str, nodes: set[str]) -> StationSpec:
    if isinstance(raw, str) and raw:
        return StationSpec(station_id=raw, node=site_id)
    s = _object(raw, path)
    fields = {"station_id", "group", "rated_a", "min_a", "phases", "phase", "priority", "evses"}
    _only(s, fields, path)
    station_id = s.get("station_id")
    if not isinstance(station_id, str) or not station_id:
        raise InvalidSite(f"{path}.station_id: a non-empty string is required")
    group = s.get("group") or site_id
    if group not in nodes:
        raise InvalidSite(f"{path}.group: no group {group!r} in this site")
    rated = _amps(s.get("rated_a", DEFAULT_RATED_A), f"{path}.rated_a")
    minimum = _amps(s.get("min_a", DEFAULT_MIN_A), f"{path}.min_a")
    if not 0 < minimum <= rated:
        raise InvalidSite(
            f"{path}.min_a: {minimum} A must be above 0 and at most rated_a {rated} A"
        )
    count = s.get("phases", DEFAULT_PHASES)
    if count not in (1, 3):
        raise InvalidSite(f"{path}.phases: 1 or 3, got {count!r}")
    phase = s.get("phase")
    if phase is not None and (count != 1 or phase not in (1, 2, 3)):
        raise InvalidSite(f"{path}.phase: 1, 2 or 3, and only for a 1-phase station")
    phases = frozenset({phase - 1}) if phase is not None else frozenset(PHASES)
    return StationSpec(
        station_id=station_id,
        node=group,
        rated_a=rated,
        min_a=minimum,
        phases=phases,
        priority=_whole(s.get("priority", 0), f"{path}.priority", low=-9, high=9),
        evses=_whole(s.get("evses", 1), f"{path}.evses", low=1, high=64),
    )


def _amps(value: object, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidSite(f"{path}: a number of amperes is required, got {value!r}")
    if not 0 <= value <= MAX_CURRENT_A:
        raise InvalidSite(f"{path}: {value} A is not between 0 and {MAX_CURRENT_A:g}")
    return float(value)


def _whole(value: object, path: str, *, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidSite(f"{path}: a whole number from {low} to {high}, got {value!r}")
    return value


def _object(value: object, path: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise InvalidSite(f"{path}: an object is required")
    return value


def _list(value: object, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise InvalidSite(f"{path}: a list is required")
    return value


def _only(o: Mapping[str, Any], known: set[str], path: str) -> None:
    unknown = sorted(set(o) - known)
    if unknown:
        raise InvalidSite(f"{path}: unknown field(s) {unknown}; known: {sorted(known)}")
