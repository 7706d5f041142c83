"""Sites and what they may draw: SiteDefined, CapacityChanged, GenerationMeasured,
ForecastPublished, LimitsAllocated (pure).

loadbalance.sites.v1 is the site registry: load balancing reads a site's document from it
(services/loadbalance/core/topology.py), billing which site a station belongs to (a site's
tariff, reports per site). A tombstone removes the site. grid.capacity.v1 carries a site's
signals from the grid operator or an energy management system: its capacity for a time, the
local generation (PV) measured now, and a forecast per time slot (capacity, generation, price
or CO2); loadbalance.limits.v1 every allocation load balancing made.
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
class GenerationMeasured:
    """GenerationMeasured on grid.capacity.v1 (key site_id): local generation (PV) behind the
    site's connection, A per phase, measured ``at``; it raises what the site's chargers may
    draw until ``valid_until`` (a measurement that is not renewed expires)."""

    site_id: str
    generation_a: float
    at: datetime
    valid_until: datetime

    def envelope(self) -> Envelope:
        return Envelope(
            event_type=EventType.GENERATION_MEASURED,
            schema_version=SCHEMA_VERSION,
            key=self.site_id,
            payload={
                "site_id": self.site_id,
                "generation_a": self.generation_a,
                "at": self.at,
                "valid_until": self.valid_until,
            },
        )

    @classmethod
    def parse(cls, envelope: Envelope) -> "GenerationMeasured | None":
        p = envelope.payload
        amps, at, until = number(p, "generation_a"), moment(p, "at"), moment(p, "valid_until")
        if envelope.event_type != EventType.GENERATION_MEASURED or amps is None or amps < 0:
            return None
        at = at or envelope.occurred_at
        return cls(
            site_id=text(p, "site_id") or envelope.key,
            generation_a=float(amps),
            at=at,
            valid_until=until or at,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class ForecastSlot:
    """One slot of a forecast: from ``start`` to ``end``, the site's capacity (A per phase;
    None: as it is), its local generation (A per phase; None: none), and a price (any unit in
    which less is better: EUR/kWh, g CO2/kWh; None: 0)."""

    start: datetime
    end: datetime
    capacity_a: float | None = None
    generation_a: float | None = None
    price: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ForecastPublished:
    """ForecastPublished on grid.capacity.v1 (key site_id): the site's slots from now on; a
    new forecast replaces the last."""

    site_id: str
    slots: tuple[ForecastSlot, ...]
    source: str = "operator"

    def envelope(self) -> Envelope:
        return Envelope(
            event_type=EventType.FORECAST_PUBLISHED,
            schema_version=SCHEMA_VERSION,
            key=self.site_id,
            payload={
                "site_id": self.site_id,
                "source": self.source,
                "slots": [
                    {
                        "start": s.start,
                        "end": s.end,
                        "capacity_a": s.capacity_a,
                        "generation_a": s.generation_a,
                        "price": s.price,
                    }
                    for s in self.slots
                ],
            },
        )

    @classmethod
    def parse(cls, envelope: Envelope) -> "ForecastPublished | None":
        """None for another event type, or slots that are not slots (each needs its start
        before its end)."""
        p, rows = envelope.payload, envelope.payload.get("slots")
        if envelope.event_type != EventType.FORECAST_PUBLISHED or not isinstance(rows, list):
            return None
        slots = []
        for row in rows:
            if not isinstance(row, Mapping):
                return None
            start, end = moment(row, "start"), moment(row, "end")
            if start is None or end is None or end <= start:
                return None
            capacity, generation = number(row, "capacity_a"), number(row, "generation_a")
            price = number(row, "price")
            slots.append(
                ForecastSlot(
                    start=start,
                    end=end,
                    capacity_a=None if capacity is None else float(capacity),
                    generation_a=None if generation is None else float(generation),
                    price=None if price is None else float(price),
                )
            )
        return cls(
            site_id=text(p, "site_id") or envelope.key,
            slots=tuple(sorted(slots, key=lambda s: s.start)),
            source=text(p, "source") or "operator",
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class LimitsAllocated:
    """LimitsAllocated on loadbalance.limits.v1 (key site_id): one allocation of a site."""

    site_id: str
    at: datetime
    capacity_a: float  # in force, local generation included
    limits: tuple[tuple[str, int, float], ...]  # (station_id, evse_id, A per phase)
    generation_a: float = 0.0  # the local generation (PV) measured, in ``capacity_a``

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
                "generation_a": self.generation_a,
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
            generation_a=float(number(p, "generation_a") or 0.0),
        )
