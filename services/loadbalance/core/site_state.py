"""What the load balancer knows of one site: its document, capacity, stations, sessions and the
limits the stations were sent and accepted (pure; a changelog record per site).

A **limit** is kept per key ``<station>/<evse>`` (a session's TxProfile) and ``<station>/0``
(the station's safe default): the value the station last accepted, and the values sent and not
answered yet. What a station may be drawing (``bound``) is the larger of the two: until it
answers, either may be in force.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from typing import Any

from contracts.payloads.sites import ForecastSlot
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
    token_group: str | None = None  # its id token's group (a site may rank it)
    ev_max_a: float | None = None  # 2.0.1 NotifyEVChargingNeeds (AC, per phase)
    # The energy it needs by its departure (NotifyEVChargingNeeds, or the API): ``need_wh``
    # from the moment its session had delivered ``need_from_wh``
    need_wh: float | None = None
    need_from_wh: float = 0.0
    departure_at: datetime | None = None

    def remaining_wh(self) -> float | None:
        if self.need_wh is None:
            return None
        return max(0.0, self.need_wh - (self.energy_wh - self.need_from_wh))


# A session's later periods, as sent with its limit: (from when, A per phase)
Plan = tuple[tuple[datetime, float], ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Sent:
    """A SetChargingProfile on its way: its command id, value, and whether it lowers."""

    command_id: str
    limit_a: float
    decrease: bool
    at: datetime  # when it was sent (log time): an outcome that never comes ends it
    plan: "Plan" = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Limit:
    """A key's limit: what the station accepted last (None: never), and what is on its way."""

    accepted: float | None = None
    sent: tuple[Sent, ...] = ()
    accepted_at: datetime | None = None  # log time of the answer
    plan: "Plan" = ()  # the later periods it accepted with its limit

    def intended_plan(self) -> "Plan":
        """The later periods we last asked for."""
        return self.sent[-1].plan if self.sent else self.plan

    def intent(self) -> float | None:
        """The value we last asked for."""
        return self.sent[-1].limit_a if self.sent else self.accepted

    def bound(self, base: float, now: datetime | None = None) -> float:
        """What the station may be drawing (at ``now``, by the periods it was sent; without
        it, as first sent); ``base`` before it accepted anything."""
        accepted = base if self.accepted is None else at_time(self.accepted, self.plan, now)
        return max([accepted, *(at_time(s.limit_a, s.plan, now) for s in self.sent)])


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
    generation_a: float = 0.0  # local generation (PV) measured ...
    generation_until: datetime | None = None  # ... and until when it counts
    forecast: tuple[ForecastSlot, ...] = ()
    plans: Mapping[str, Plan] = field(default_factory=dict)  # planned sessions' later periods
    plan_caps: Mapping[str, float] = field(default_factory=dict)  # their plans' slot now
    next_boundary: datetime | None = None  # the next time a plan, forecast or window changes
    capacity_a: float | None = None  # the root's capacity in the last allocation
    lowering: int = 0  # decreases sent and not answered yet (increases wait for none)
    swept_at: datetime | None = None  # when commands were last checked for lost outcomes

    def site(self) -> Site | None:
        """The site its document describes; None before it is defined (or unreadable)."""
        return None if self.document is None else _parsed(self.site_id, self.document)

    def capacity(self, site: Site, now: datetime) -> float:
        """The root's capacity now: the grid's (``grid_capacity``) plus the local generation
        measured (it feeds the chargers without passing the connection)."""
        return self.grid_capacity(site, now) + self.generation(now)

    def generation(self, now: datetime) -> float:
        """The local generation measured that counts at ``now`` (0 once it expired)."""
        if self.generation_until is not None and now < self.generation_until:
            return self.generation_a
        return 0.0

    def grid_capacity(self, site: Site, at: datetime) -> float:
        """What the site may draw from the grid at ``at``: the newest window in force, else
        the document's; never above the document's (the connection's fuse)."""
        connection = site.nodes[0].capacity_a
        for window in reversed(self.windows):
            if window.covers(at):
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
            "windows": [_fields(w) for w in self.windows],
            "stations": {k: _fields(v) for k, v in self.stations.items()},
            "sessions": {k: _fields(v) for k, v in self.sessions.items()},
            "limits": {
                k: _fields(v) | {"sent": [_fields(s) for s in v.sent]}
                for k, v in self.limits.items()
            },
            "target": dict(self.target),
            "capacity_a": self.capacity_a,
            "lowering": self.lowering,
            "swept_at": self.swept_at,
            "demands": dict(self.demands),
            "external": dict(self.external),
            "generation_a": self.generation_a,
            "generation_until": self.generation_until,
            "forecast": [_fields(f) for f in self.forecast],
            "plans": {k: [list(p) for p in v] for k, v in self.plans.items()},
            "plan_caps": dict(self.plan_caps),
            "next_boundary": self.next_boundary,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "SiteState":
        """Raises: KeyError, TypeError, ValueError: not a record ``to_dict`` wrote."""
        return cls(
            site_id=d["site_id"],
            document=d["document"],
            windows=tuple(Window(**w) for w in d["windows"]),
            stations={k: StationState(**v) for k, v in d["stations"].items()},
            sessions={k: OpenSession(**v) for k, v in d["sessions"].items()},
            limits={
                k: Limit(
                    **(
                        v
                        | {
                            "sent": tuple(Sent(**_planned(s)) for s in v["sent"]),
                            "plan": _planned(v)["plan"],
                        }
                    )
                )
                for k, v in d["limits"].items()
            },
            target=dict(d["target"]),
            capacity_a=d["capacity_a"],
            lowering=int(d["lowering"]),
            swept_at=d["swept_at"],
            demands=dict(d["demands"]),
            external=dict(d["external"]),
            generation_a=float(d.get("generation_a", 0.0)),
            generation_until=d.get("generation_until"),
            forecast=tuple(ForecastSlot(**f) for f in d.get("forecast", ())),
            plans={k: _planned({"plan": v})["plan"] for k, v in d.get("plans", {}).items()},
            next_boundary=d.get("next_boundary"),
            plan_caps=dict(d.get("plan_caps", {})),
        )


def _planned(record: Mapping[str, Any]) -> dict[str, Any]:
    """A record with its plan back as a tuple of (datetime, float) pairs."""
    plan = tuple((at, float(amps)) for at, amps in record.get("plan", ()))
    return {**record, "plan": plan}


def _fields(obj: Any) -> dict[str, Any]:
    """A frozen dataclass's fields; a plan (a tuple of pairs) as lists."""
    out = {}
    for f in fields(obj):
        value = getattr(obj, f.name)
        out[f.name] = [list(p) for p in value] if f.name == "plan" else value
    return out


def at_time(first: float, plan: Plan, now: datetime | None) -> float:
    """A profile's limit at ``now``: its first, or the latest of its periods begun by then."""
    value = first
    for at, amps in plan:
        if now is not None and at <= now:
            value = amps
    return value


def _decreases(limit: Limit | None) -> int:
    return 0 if limit is None else sum(1 for s in limit.sent if s.decrease)
