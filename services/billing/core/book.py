"""The tariff book: billing.tariffs.v1 as data, and which tariff a session starts with (pure).

Assignments, most specific first: the station's own, else the default. An assignment lists
tariffs; the first that exists and is valid at the session's start (``start_date_time <= start
< end_date_time``) applies, so a price change is the next tariff with its start time, listed
ahead of time, as OCPI connectors list ``tariff_ids``. An assignment none of whose tariffs
applies falls back to the default; the session records why (``Choice.note``, the CDR's
remark).
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
    note: str | None = None  # why the station's own assignment was not used


@dataclass
class TariffBook:
    """Tariffs by id and assignments by key, as the topic holds them."""

    tariffs: dict[str, tuple[Tariff, str]] = field(default_factory=dict)  # id -> (tariff, json)
    assignments: dict[str, TariffAssigned] = field(default_factory=dict)

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

    def choose(self, station_id: str, at: datetime) -> Choice:
        """The tariff a session of ``station_id`` starting at ``at`` is priced with."""
        note = None
        own = self.assignments.get(assignment_key(Scope.STATION, station_id))
        if own is not None:
            found = self._valid(own, at)
            if found is not None:
                return found
            note = f"station tariffs {list(own.tariff_ids)} unknown or not valid at the start"
        default = self.assignments.get(assignment_key(Scope.DEFAULT))
        found = None if default is None else self._valid(default, at)
        if found is None:
            return Choice(None, None, None, note or "no tariff assigned")
        return Choice(found.tariff, found.tariff_json, found.time_zone, note)

    def _valid(self, assigned: TariffAssigned, at: datetime) -> Choice | None:
        """The first of the assignment's tariffs that exists and is valid at ``at``."""
        for tariff_id in assigned.tariff_ids:
            known = self.tariffs.get(tariff_id)
            if known is not None and known[0].valid_at(at):
                return Choice(known[0], known[1], assigned.time_zone)
        return None
