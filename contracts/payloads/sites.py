"""SiteDefined on loadbalance.sites.v1: a site and the stations behind its grid connection (pure).

The site registry: load balancing reads a site's capacity from it, billing which site a station
belongs to (a site's tariff, reports per site). A record names the site's stations; a tombstone
removes the site. Fields this module does not know are kept by the topic and ignored here.
"""

from dataclasses import dataclass
from typing import Any

from contracts.envelope import Envelope
from contracts.errors import RecordRejected
from contracts.events import EventType
from contracts.fields import number, text

SCHEMA_VERSION = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class SiteDefined:
    """A site (key ``site_id``): its stations, and where it hangs in a hierarchy."""

    site_id: str
    stations: tuple[str, ...]
    capacity_a: float | None = None  # per phase
    parent_site_id: str | None = None

    def envelope(self) -> Envelope:
        payload: dict[str, Any] = {
            "site_id": self.site_id,
            "stations": list(self.stations),
            "capacity_a": self.capacity_a,
            "parent_site_id": self.parent_site_id,
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
        capacity = number(p, "capacity_a")
        return cls(
            site_id=site_id,
            stations=tuple(stations),
            capacity_a=None if capacity is None else float(capacity),
            parent_site_id=text(p, "parent_site_id"),
        )
