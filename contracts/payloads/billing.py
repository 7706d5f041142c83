"""Billing on our topics: tariffs and where they apply (billing.tariffs.v1), CDRs (pure).

A tariff travels as the OCPI Tariff object's JSON text, so that its prices keep every decimal
(msgpack has no decimal type). Money in a CDR is decimal text (docs/events.md).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from contracts.envelope import Envelope
from contracts.errors import RecordRejected
from contracts.events import EventType

SCHEMA_VERSION = 1
TARIFF_PREFIX = "tariff:"
ASSIGNMENT_PREFIX = "assignment:"


class Scope(StrEnum):
    """What a tariff assignment covers; the most specific one that exists applies."""

    DEFAULT = "default"  # every station without its own
    STATION = "station"  # one station


def tariff_key(tariff_id: str) -> str:
    return TARIFF_PREFIX + tariff_id


def assignment_key(scope: Scope, target: str | None = None) -> str:
    return ASSIGNMENT_PREFIX + (scope if target is None else f"{scope}:{target}")


@dataclass(frozen=True, slots=True, kw_only=True)
class TariffDefined:
    """An OCPI 2.2.1 Tariff, as JSON text (key ``tariff:<tariff_id>``; a tombstone deletes)."""

    tariff_id: str
    ocpi_json: str

    def envelope(self) -> Envelope:
        return Envelope(
            event_type=EventType.TARIFF_DEFINED,
            schema_version=SCHEMA_VERSION,
            key=tariff_key(self.tariff_id),
            payload={"tariff_id": self.tariff_id, "ocpi": self.ocpi_json},
        )

    @classmethod
    def parse(cls, envelope: Envelope) -> "TariffDefined":
        """Raises: RecordRejected: another event type, a field missing, a key that is not the
        tariff's (a tombstone of the key would not delete it)."""
        p = envelope.payload
        tariff_id, ocpi_json = p.get("tariff_id"), p.get("ocpi")
        if envelope.event_type != EventType.TARIFF_DEFINED:
            raise RecordRejected(f"not a {EventType.TARIFF_DEFINED}: {envelope.event_type}")
        if not isinstance(tariff_id, str) or not isinstance(ocpi_json, str):
            raise RecordRejected("invalid tariff record: tariff_id and ocpi must be strings")
        if envelope.key != tariff_key(tariff_id):
            raise RecordRejected("invalid tariff record: the key is not tariff:<tariff_id>")
        return cls(tariff_id=tariff_id, ocpi_json=ocpi_json)


@dataclass(frozen=True, slots=True, kw_only=True)
class TariffAssigned:
    """Which tariffs apply to a scope (the first valid at a session's start: a price change is
    the next tariff with its start_date_time), and the time zone of their times of day."""

    scope: Scope
    target: str | None  # the station id for Scope.STATION
    tariff_ids: tuple[str, ...]
    time_zone: str | None = None  # IANA name; None: the billing service's default

    @property
    def key(self) -> str:
        return assignment_key(self.scope, self.target)

    def envelope(self) -> Envelope:
        return Envelope(
            event_type=EventType.TARIFF_ASSIGNED,
            schema_version=SCHEMA_VERSION,
            key=self.key,
            payload={
                "scope": str(self.scope),
                "target": self.target,
                "tariff_ids": list(self.tariff_ids),
                "time_zone": self.time_zone,
            },
        )

    @classmethod
    def parse(cls, envelope: Envelope) -> "TariffAssigned":
        """Raises: RecordRejected: another event type, a field missing or mistyped, a key that
        is not the assignment's."""
        if envelope.event_type != EventType.TARIFF_ASSIGNED:
            raise RecordRejected(f"not a {EventType.TARIFF_ASSIGNED}: {envelope.event_type}")
        p = envelope.payload
        scope, target = p.get("scope"), p.get("target")
        tariff_ids, time_zone = p.get("tariff_ids"), p.get("time_zone")
        if (
            scope not in set(Scope)
            or not isinstance(tariff_ids, list)
            or not tariff_ids
            or not all(isinstance(t, str) for t in tariff_ids)
        ):
            raise RecordRejected("invalid assignment: scope or tariff_ids")
        if (scope == Scope.DEFAULT) != (target is None) or not isinstance(target, str | None):
            raise RecordRejected("invalid assignment: a station assignment names its station")
        if time_zone is not None and not isinstance(time_zone, str):
            raise RecordRejected("invalid assignment: time_zone must be a string")
        assigned = cls(
            scope=Scope(scope), target=target, tariff_ids=tuple(tariff_ids), time_zone=time_zone
        )
        if envelope.key != assigned.key:
            raise RecordRejected("invalid assignment: the key is not the assignment's")
        return assigned


@dataclass(frozen=True, slots=True, kw_only=True)
class CdrIssued:
    """CdrIssued on billing.cdrs.v1 (key station_id): an OCPI 2.2.1 CDR and our ids."""

    cdr: Mapping[str, Any]  # the OCPI CDR (money and quantities as decimal text)
    session_id: str
    station_id: str
    transaction_id: str

    @property
    def cdr_id(self) -> str:
        return str(self.cdr["id"])

    @property
    def credit(self) -> bool:
        return self.cdr.get("credit") is True

    @classmethod
    def parse(cls, envelope: Envelope) -> "CdrIssued | None":
        """A CdrIssued record; None for anything else or a CDR without an id."""
        p = envelope.payload
        cdr = p.get("cdr")
        ids = (p.get("session_id"), p.get("station_id"), p.get("transaction_id"))
        if envelope.event_type != EventType.CDR_ISSUED or not isinstance(cdr, Mapping):
            return None
        if not all(isinstance(i, str) for i in ids) or not isinstance(cdr.get("id"), str):
            return None
        session_id, station_id, transaction_id = (str(i) for i in ids)
        return cls(
            cdr=cdr, session_id=session_id, station_id=station_id, transaction_id=transaction_id
        )
