"""The sites of loadbalance.sites.v1, as given and as read, and capacity requests (pure)."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from contracts.envelope import Envelope
from contracts.errors import RecordRejected
from contracts.payloads.sites import CapacityChanged, SiteDefined
from ocppj.timestamps import parse_zoned
from services.loadbalance.api.core import errors
from services.loadbalance.core import topology
from services.loadbalance.core.topology import Site, parse_site

SOURCES = frozenset({"operator", "DSO", "EMS"})


@dataclass
class Registry:
    """Every site: its document as given and the site read from it."""

    documents: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    sites: dict[str, Site] = field(default_factory=dict)

    def apply(self, key: str, envelope: Envelope | None) -> None:
        """One record of loadbalance.sites.v1 (None: a tombstone).

        Raises:
            RecordRejected: a record whose document we cannot read (the site is forgotten).
        """
        self.documents.pop(key, None)
        self.sites.pop(key, None)
        if envelope is None:
            return
        defined = SiteDefined.parse(envelope)
        if defined.site_id != key or defined.document is None:
            raise RecordRejected(f"site {key!r}: no site document under its key")
        try:
            site = parse_site(key, defined.document)
        except topology.InvalidSite as exc:
            raise RecordRejected(f"site {key!r}: {exc}") from None
        self.documents[key], self.sites[key] = defined.document, site

    def defined(self, site_id: str, document: object) -> SiteDefined:
        """The record that stores ``document`` as site ``site_id``.

        Raises:
            InvalidSite: the document is refused; StationInAnotherSite: a station of it is in
                another site already.
        """
        try:
            site = parse_site(site_id, document)
        except topology.InvalidSite as exc:
            raise errors.InvalidSite(str(exc)) from None
        conflict = topology.elsewhere(site, self.sites)
        if conflict is not None:
            raise errors.StationInAnotherSite(conflict)
        assert isinstance(document, Mapping)
        root = site.nodes[0]
        return SiteDefined(
            site_id=site_id,
            stations=tuple(s.station_id for s in site.stations),
            capacity_a=root.capacity_a,
            document=dict(document),
        )


def capacity(site_id: str, body: Mapping[str, Any], now: datetime) -> CapacityChanged:
    """``{"limit_a": 16}`` (from now until changed), with ``valid_from``, ``valid_until`` and
    ``source`` optional.

    Raises:
        InvalidCapacity: what is wrong with the body.
    """
    unknown = sorted(set(body) - {"limit_a", "valid_from", "valid_until", "source"})
    if unknown:
        raise errors.InvalidCapacity(f"unknown field(s) {unknown}")
    limit = body.get("limit_a")
    if isinstance(limit, bool) or not isinstance(limit, int | float):
        raise errors.InvalidCapacity(f"limit_a: a number of amperes is required, got {limit!r}")
    if not 0 <= limit <= topology.MAX_CURRENT_A:
        raise errors.InvalidCapacity(f"limit_a: {limit} A is not between 0 and 10000")
    valid_from, valid_until = _time(body, "valid_from") or now, _time(body, "valid_until")
    if valid_until is not None and valid_until <= valid_from:
        raise errors.InvalidCapacity("valid_until must be after valid_from")
    source = body.get("source", "operator")
    if source not in SOURCES:
        raise errors.InvalidCapacity(f"source: one of {sorted(SOURCES)}, got {source!r}")
    return CapacityChanged(
        site_id=site_id,
        limit_a=float(limit),
        valid_from=valid_from,
        valid_until=valid_until,
        source=str(source),
    )


def _time(body: Mapping[str, Any], name: str) -> datetime | None:
    value = body.get(name)
    if value is None:
        return None
    parsed = parse_zoned(value) if isinstance(value, str) else None
    if parsed is None:
        raise errors.InvalidCapacity(f"{name}: an RFC 3339 date-time with a zone, got {value!r}")
    return parsed
