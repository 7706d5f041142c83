"""The tariff book: billing.tariffs.v1 as data, and which tariff a session starts with (pure).

Assignments, most specific first: the session's token group (a driver's contract), the
station's own, the station's site (loadbalance.sites.v1), the default. An assignment lists
tariffs; the first that exists and is valid at the session's start (``start_date_time <= start
< end_date_time``) applies, so a price change is the next tariff with its start time, listed
ahead of time, as OCPI connectors list ``tariff_ids``. An assignment none of whose tariffs
applies falls through to the next; the session records why (``Choice.note``, the CDR's
remark). Token groups come from the token store (sessions.tokens.v1).
"""

import json
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import lru_cache

from contracts.envelope import Envelope
from contracts.errors import RecordRejected
from contracts.payloads.billing import (
    ASSIGNMENT_PREFIX,
    TARIFF_PREFIX,
    Scope,
    TariffAssigned,
    TariffDefined,
    assignment_key,
)
from contracts.payloads.sites import SiteDefined
from contracts.payloads.tokens import Token
from contracts.topics import Topic
from services.billing.core.tariff import InvalidTariff, Tariff, parse_tariff


@lru_cache(maxsize=1024)
def tariff_from_json(text: str) -> Tariff:
    """The tariff of an OCPI Tariff object's JSON text (cached: a session's frozen tariff is
    read again when it is priced).

    Raises:
        InvalidTariff: not JSON, or not a tariff we accept.
    """
    try:
        obj = json.loads(text, parse_float=Decimal)
    except ValueError as exc:
        raise InvalidTariff(f"not JSON: {exc}") from None
    return parse_tariff(obj)


@dataclass(frozen=True, slots=True)
class Choice:
    """The tariff a session starts with (None: none assigned), its zone, and any fallback."""

    tariff: Tariff | None
    tariff_json: str | None
    time_zone: str | None  # of the assignment that chose it; None: the service's default
    note: str | None = None  # why a more specific assignment was not used
    site_id: str | None = None  # the station's site, when it has one
    token_group: str | None = None  # the id token's group, when it has one


@dataclass
class TariffBook:
    """Tariffs by id and assignments by key, as the topic holds them."""

    tariffs: dict[str, tuple[Tariff, str]] = field(default_factory=dict)  # id -> (tariff, json)
    assignments: dict[str, TariffAssigned] = field(default_factory=dict)
    sites: dict[str, tuple[str, ...]] = field(default_factory=dict)  # site -> its stations
    site_of: dict[str, str] = field(default_factory=dict)  # station -> site
    groups: dict[str, str] = field(default_factory=dict)  # id token -> its group

    def apply_record(self, topic: str, key: str, envelope: Envelope | None) -> None:
        """One record of any topic the book follows: billing.tariffs.v1, loadbalance.sites.v1
        or sessions.tokens.v1.

        Raises:
            RecordRejected: a record we cannot use.
        """
        if topic == Topic.SITES:
            self.apply_site(key, envelope)
        elif topic == Topic.TOKENS:
            self.apply_token(key, envelope)
        else:
            self.apply(key, envelope)

    def forget(self, topic: str, key: str) -> None:
        """What the record under ``key`` said no longer applies (it could not be read)."""
        if topic == Topic.TARIFFS:
            self.tariffs.pop(key.removeprefix(TARIFF_PREFIX), None)
            self.assignments.pop(key, None)
        else:
            self.apply_record(topic, key, None)

    def apply_site(self, key: str, envelope: Envelope | None) -> None:
        """One record of loadbalance.sites.v1 (None: a tombstone).

        Raises:
            RecordRejected: a record we cannot use (the site is then forgotten).
        """
        for station_id in self.sites.pop(key, ()):
            if self.site_of.get(station_id) == key:
                del self.site_of[station_id]
        if envelope is None:
            return
        site = SiteDefined.parse(envelope)
        if site.site_id != key:
            raise RecordRejected(f"site {site.site_id!r} under the key {key!r}")
        self.sites[key] = site.stations
        for station_id in site.stations:
            self.site_of[station_id] = key

    def apply_token(self, key: str, envelope: Envelope | None) -> None:
        """One record of sessions.tokens.v1: the token's group, if it has one.

        Raises:
            RecordRejected: a record we cannot use (the token then has no group).
        """
        self.groups.pop(key, None)
        if envelope is not None:
            group = Token.parse(envelope).group_id
            if group is not None:
                self.groups[key] = group

    def apply(self, key: str, envelope: Envelope | None) -> None:
        """One record of billing.tariffs.v1 (None: a tombstone).

        Raises:
            RecordRejected: a record we cannot use (the key then means nothing).
        """
        if key.startswith(TARIFF_PREFIX):
            tariff_id = key[len(TARIFF_PREFIX) :]
            if envelope is None:
                self.tariffs.pop(tariff_id, None)
                return
            self.tariffs.pop(tariff_id, None)
            defined = TariffDefined.parse(envelope)
            try:
                tariff = tariff_from_json(defined.ocpi_json)
            except InvalidTariff as exc:
                raise RecordRejected(f"tariff {tariff_id}: {exc}") from None
            if tariff.id != tariff_id:
                raise RecordRejected(f"tariff {tariff_id}: the object's id is {tariff.id!r}")
            self.tariffs[tariff_id] = (tariff, defined.ocpi_json)
        elif key.startswith(ASSIGNMENT_PREFIX):
            self.assignments.pop(key, None)
            if envelope is not None:
                self.assignments[key] = TariffAssigned.parse(envelope)
        else:
            raise RecordRejected(f"unknown key {key!r} on the tariff topic")

    def choose(self, station_id: str, at: datetime, id_token: str | None = None) -> Choice:
        """The tariff a session of ``station_id`` (and ``id_token``) starting at ``at`` is
        priced with: the first assignment of the token's group, the station, its site and the
        default that has a tariff valid at ``at``."""
        site_id = self.site_of.get(station_id)
        group = None if id_token is None else self.groups.get(id_token)
        notes: list[str] = []
        for scope, target in (
            (Scope.TOKEN_GROUP, group),
            (Scope.STATION, station_id),
            (Scope.SITE, site_id),
            (Scope.DEFAULT, None),
        ):
            if target is None and scope is not Scope.DEFAULT:
                continue
            assigned = self.assignments.get(assignment_key(scope, target))
            if assigned is None:
                continue
            found = self._valid(assigned, at)
            if found is not None:
                note = "; ".join(notes) or None
                return Choice(
                    found.tariff, found.tariff_json, found.time_zone, note, site_id, group
                )
            ids = list(assigned.tariff_ids)
            notes.append(f"{scope} tariffs {ids} unknown or not valid at the start")
        return Choice(None, None, None, "; ".join(notes) or "no tariff assigned", site_id, group)

    def _valid(self, assigned: TariffAssigned, at: datetime) -> Choice | None:
        """The first of the assignment's tariffs that exists and is valid at ``at``."""
        for tariff_id in assigned.tariff_ids:
            known = self.tariffs.get(tariff_id)
            if known is not None and known[0].valid_at(at):
                return Choice(known[0], known[1], assigned.time_zone)
        return None
