"""Sites and their capacity: SiteDefined, CapacityChanged, LimitsAllocated (pure).

loadbalance.sites.v1 is the site registry: load balancing reads a site's document from it
(services/loadbalance/core/topology.py), billing which site a station belongs to (a site's
tariff, reports per site). A tombstone removes the site. grid.capacity.v1 carries a site's
capacity from the grid operator or an energy management system for a time; loadbalance.limits.v1
every allocation load balancing made.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from contracts.envelope import Envelope
from contracts.errors import RecordRejected
from contracts.events import DomainEvent, EventType
from contracts.fields import moment, number, text, whole
from contracts.topics import Topic

SCHEMA_VERSION = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class SiteDefined:
    """A site (key ``site_id``): its stations, and where it hangs in a hierarchy."""

    site_id: str
    stations: tuple[str, ...]
    capacity_a: float | None = None  # per phase
    parent_site_id: str | None = None
    document: Mapping[str, Any] | None = None  # the site document as the API took it

    def envelope(self) -> Envelope:
        payload: dict[str, Any] = {
            "site_id": self.site_id,
            "stations": list(self.stations),
            "capacity_a": self.capacity_a,
            "parent_site_id": self.parent_site_id,
            "document": None if self.document is None else dict(self.document),
        }
        return Envelope(
            event_type=EventType.SITE_DEFINED,
            schema_version=SCHEMA_VERSION,
            key=self.site_id,
            payload=payload,
        )

    @classmethod
    def parse(cls, envelope: Envelope) -> "SiteDefined":
        """Raises: RecordRejected: another event type, a key that is not the site's, or
        stations that are not a list of station ids."""
        if envelope.event_type != EventType.SITE_DEFINED:
            raise RecordRejected(f"not a {EventType.SITE_DEFINED}: {envelope.event_type}")
        p = envelope.payload
        site_id, stations = text(p, "site_id"), p.get("stations", [])
        if site_id is None or site_id != envelope.key:
            raise RecordRejected("invalid site: site_id must be the record key")
        if not isinstance(stations, list) or not all(isinstance(s, str) for s in stations):
            raise RecordRejected("invalid site: stations must be a list of station ids")
        capacity, document = number(p, "capacity_a"), p.get("document")
        return cls(
            site_id=site_id,
            stations=tuple(stations),
            capacity_a=None if capacity is None else float(capacity),
            parent_site_id=text(p, "parent_site_id"),
            document=document if isinstance(document, Mapping) else None,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class CapacityChanged:
    """CapacityChanged on grid.capacity.v1 (key site_id): what the site may draw, A per phase,
    from ``valid_from`` until ``valid_until`` (None: until changed)."""

    site_id: str
    limit_a: float
    valid_from: datetime
    valid_until: datetime | None = None
    source: str = "operator"  # operator, DSO, EMS

    def envelope(self) -> Envelope:
        return Envelope(
            event_type=EventType.CAPACITY_CHANGED,
            schema_version=SCHEMA_VERSION,
            key=self.site_id,
            payload={
                "site_id": self.site_id,
                "limit_a": self.limit_a,
                "valid_from": self.valid_from,
                "valid_until": self.valid_until,
                "source": self.source,
            },
        )

    @classmethod
    def parse(cls, envelope: Envelope) -> "CapacityChanged | None":
        """A CapacityChanged; None for anything else or one without a usable limit."""
        p = envelope.payload
        limit = number(p, "limit_a")
        if envelope.event_type != EventType.CAPACITY_CHANGED or limit is None or limit < 0:
            return None
        return cls(
            site_id=text(p, "site_id") or envelope.key,
            limit_a=float(limit),
            valid_from=moment(p, "valid_from") or envelope.occurred_at,
            valid_until=moment(p, "valid_until"),
            source=text(p, "source") or "operator",
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class LimitsAllocated:
    """LimitsAllocated on loadbalance.limits.v1 (key site_id): one allocation of a site."""

    site_id: str
    at: datetime
    capacity_a: float
    limits: tuple[tuple[str, int, float], ...]  # (station_id, evse_id, A per phase)

    def event(self) -> DomainEvent:
        """The record for loadbalance.limits.v1, for the worker to write."""
        envelope = self.envelope()
        return DomainEvent(
            topic=Topic.LIMITS,
            event_type=envelope.event_type,
            key=self.site_id,
            payload=dict(envelope.payload),
        )

    def envelope(self) -> Envelope:
        return Envelope(
            event_type=EventType.LIMITS_ALLOCATED,
            schema_version=SCHEMA_VERSION,
            key=self.site_id,
            payload={
                "site_id": self.site_id,
                "at": self.at,
                "capacity_a": self.capacity_a,
                "limits": [
                    {"station_id": s, "evse_id": e, "limit_a": a} for s, e, a in self.limits
                ],
            },
        )

    @classmethod
    def parse(cls, envelope: Envelope) -> "LimitsAllocated | None":
        p = envelope.payload
        at, capacity, rows = moment(p, "at"), number(p, "capacity_a"), p.get("limits")
        if envelope.event_type != EventType.LIMITS_ALLOCATED or at is None or capacity is None:
            return None
        if not isinstance(rows, list):
            return None
        limits = []
        for row in rows:
            if not isinstance(row, Mapping):
                return None
            station, evse, amps = (
                text(row, "station_id"),
                whole(row, "evse_id"),
                number(row, "limit_a"),
            )
            if station is None or evse is None or amps is None:
                return None
            limits.append((station, evse, float(amps)))
        return cls(
            site_id=text(p, "site_id") or envelope.key,
            at=at,
            capacity_a=float(capacity),
            limits=tuple(limits),
        )
