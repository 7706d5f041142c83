"""What the load balancer knows of one site: its document, capacity, stations, sessions and the
limits the stations were sent and accepted (pure; a changelog record per site).

A **limit** is kept per key ``<station>/<evse>`` (a session's TxProfile) and ``<station>/0``
(the station's safe default): the value the station last accepted, and the values sent and not
answered yet. What a station may be drawing (``bound``) is the larger of the two: until it
answers, either may be in force.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from services.loadbalance.core.topology import InvalidSite, Site, parse_site

_PARSED: dict[int, tuple[Mapping[str, Any], str, Site | None]] = {}  # id(document) -> ...
_PARSED_MAX = 4096


def _parsed(site_id: str, document: Mapping[str, Any]) -> Site | None:
    """``parse_site`` once per document object (documents are never changed in place): a
    site's state is read at every input, its document parsed only when it changes."""
    cached = _PARSED.get(id(document))
    if cached is not None and cached[0] is document and cached[1] == site_id:
        return cached[2]
    try:
        site: Site | None = parse_site(site_id, document)
    except InvalidSite:
        site = None
    if len(_PARSED) >= _PARSED_MAX:
        del _PARSED[next(iter(_PARSED))]
    _PARSED[id(document)] = (document, site_id, site)
    return site


@dataclass(frozen=True, slots=True, kw_only=True)
class Window:
    """A capacity from grid.capacity.v1: A per phase from ``valid_from`` until ``valid_until``."""

    limit_a: float
    valid_from: datetime
    valid_until: datetime | None = None
    source: str = "operator"

    def covers(self, now: datetime) -> bool:
        return self.valid_from <= now and (self.valid_until is None or now < self.valid_until)


@dataclass(frozen=True, slots=True, kw_only=True)
class StationState:
    """A station of the site as the load balancer sees it."""

    online: bool = True  # until it says otherwise: a station we never heard of is reserved anyway
    ocpp_version: str | None = None
    refused_at: datetime | None = None  # it refused or did not answer a profile: reserved
    booted_at: datetime | None = None  # the boot whose default profile we sent


@dataclass(frozen=True, slots=True, kw_only=True)
class OpenSession:
    """An open session on an EVSE (a 1.6 connector)."""

    session_id: str
    station_id: str
    evse_id: int
    transaction_id: str
    measured_a: float | None = None  # highest phase
    measured_at: datetime | None = None  # log time of the meter values that said so
    energy_wh: float = 0.0
    ev_max_a: float | None = None  # 2.0.1 NotifyEVChargingNeeds (AC, per phase)


@dataclass(frozen=True, slots=True, kw_only=True)
class Sent:
    """A SetChargingProfile on its way: its command id, value, and whether it lowers."""

    command_id: str
    limit_a: float
    decrease: bool
    at: datetime  # when it was sent (log time): an outcome that never comes ends it


@dataclass(frozen=True, slots=True, kw_only=True)
class Limit:
    """A key's limit: what the station accepted last (None: never), and what is on its way."""

    accepted: float | None = None
    sent: tuple[Sent, ...] = ()
    accepted_at: datetime | None = None  # log time of the answer

    def intent(self) -> float | None:
        """The value we last asked for."""
        return self.sent[-1].limit_a if self.sent else self.accepted

    def bound(self, base: float) -> float:
        """What the station may be drawing; ``base`` before it accepted anything."""
        accepted = base if self.accepted is None else self.accepted
        return max([accepted, *(s.limit_a for s in self.sent)])


@dataclass(frozen=True, slots=True, kw_only=True)
class SiteState:
    """One site (changelog key: its id)."""

    site_id: str
    document: Mapping[str, Any] | None = None
    windows: tuple[Window, ...] = ()  # newest last
    stations: Mapping[str, StationState] = field(default_factory=dict)
    sessions: Mapping[str, OpenSession] = field(default_factory=dict)  # by "<station>/<evse>"
    limits: Mapping[str, Limit] = field(default_factory=dict)  # by "<station>/<evse>"
    target: Mapping[str, float] = field(default_factory=dict)  # the last allocation
    demands: Mapping[str, float] = field(default_factory=dict)  # what it took sessions to want
    # Limits set by someone else (2.0.1 NotifyChargingLimit), A per phase, by
    # "<station>/<evse>/<source>" (EVSE 0: the whole station)
    external: Mapping[str, float] = field(default_factory=dict)
    capacity_a: float | None = None  # the root's capacity in the last allocation
    lowering: int = 0  # decreases sent and not answered yet (increases wait for none)
    swept_at: datetime | None = None  # when commands were last checked for lost outcomes

    def site(self) -> Site | None:
        """The site its document describes; None before it is defined (or unreadable)."""
        return None if self.document is None else _parsed(self.site_id, self.document)

    def capacity(self, site: Site, now: datetime) -> float:
        """The root's capacity now: the newest window in force, else the document's; never
        above the document's (the connection's fuse)."""
        connection = site.nodes[0].capacity_a
        for window in reversed(self.windows):
            if window.covers(now):
                return min(connection, window.limit_a)
        return connection

    def external_limit(self, station_id: str, evse_id: int) -> float | None:
        """The lowest limit someone else set on the EVSE (0: on the whole station, for all its
        EVSEs together); None: none."""
        prefix = f"{station_id}/{evse_id}/"
        found = [amps for key, amps in self.external.items() if key.startswith(prefix)]
        return min(found) if found else None

    def station(self, station_id: str) -> StationState:
        return self.stations.get(station_id, StationState())

    def with_station(self, station_id: str, state: StationState) -> "SiteState":
        return replace(self, stations={**self.stations, station_id: state})

    def with_limit(self, key: str, limit: Limit | None) -> "SiteState":
        """``key``'s limit replaced (None: forgotten, with what was on its way)."""
        limits = dict(self.limits)
        old = limits.pop(key, None)
        if limit is not None:
            limits[key] = limit
        lowering = self.lowering - _decreases(old) + _decreases(limit)
        return replace(self, limits=limits, lowering=lowering)

    def to_dict(self) -> dict[str, Any]:
        return {
            "site_id": self.site_id,
            "document": None if self.document is None else dict(self.document),
            "windows": [[w.limit_a, w.valid_from, w.valid_until, w.source] for w in self.windows],
            "stations": {
                k: [s.online, s.ocpp_version, s.refused_at, s.booted_at]
                for k, s in self.stations.items()
            },
            "sessions": {
                k: [
                    s.session_id,
                    s.station_id,
                    s.evse_id,
                    s.transaction_id,
                    s.measured_a,
                    s.energy_wh,
                    s.ev_max_a,
                    s.measured_at,
                ]
                for k, s in self.sessions.items()
            },
            "limits": {
                k: [
                    v.accepted,
                    [[s.command_id, s.limit_a, s.decrease, s.at] for s in v.sent],
                    v.accepted_at,
                ]
                for k, v in self.limits.items()
            },
            "target": dict(self.target),
            "demands": dict(self.demands),
            "external": dict(self.external),
            "capacity_a": self.capacity_a,
            "lowering": self.lowering,
            "swept_at": self.swept_at,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "SiteState":
        """Raises: KeyError, TypeError, ValueError: not a record ``to_dict`` wrote."""
        return cls(
            site_id=d["site_id"],
            document=d["document"],
            windows=tuple(
                Window(limit_a=a, valid_from=f, valid_until=u, source=s)
                for a, f, u, s in d["windows"]
            ),
            stations={
                k: StationState(online=o, ocpp_version=v, refused_at=r, booted_at=b)
                for k, (o, v, r, b) in d["stations"].items()
            },
            sessions={
                k: OpenSession(
                    session_id=s,
                    station_id=st,
                    evse_id=e,
                    transaction_id=t,
                    measured_a=m,
                    energy_wh=w,
                    ev_max_a=x,
                    measured_at=ma,
                )
                for k, (s, st, e, t, m, w, x, ma) in d["sessions"].items()
            },
            limits={
                k: Limit(
                    accepted=a,
                    sent=tuple(
                        Sent(command_id=c, limit_a=v, decrease=dec, at=at) for c, v, dec, at in sent
                    ),
                    accepted_at=aa,
                )
                for k, (a, sent, aa) in d["limits"].items()
            },
            target=dict(d["target"]),
            demands=dict(d["demands"]),
            external=dict(d["external"]),
            capacity_a=d["capacity_a"],
            lowering=int(d["lowering"]),
            swept_at=d["swept_at"],
        )


def _decreases(limit: Limit | None) -> int:
    return 0 if limit is None else sum(1 for s in limit.sent if s.decrease)
