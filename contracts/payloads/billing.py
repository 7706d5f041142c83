"""Billing on our topics: tariffs and where they apply (billing.tariffs.v1), CDRs, costs (pure).

A tariff travels as the OCPI Tariff object's JSON text, so that its prices keep every decimal
(msgpack has no decimal type). Money in a CDR is decimal text (docs/events.md).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from contracts.envelope import Envelope
from contracts.errors import RecordRejected
from contracts.events import DomainEvent, EventType
from contracts.fields import moment, text
from contracts.topics import Topic

SCHEMA_VERSION = 1
TARIFF_PREFIX = "tariff:"
ASSIGNMENT_PREFIX = "assignment:"


class Scope(StrEnum):
    """What a tariff assignment covers; the most specific one that exists applies, in the
    order token group, station, site, default (docs/billing.md, "Which tariff a session gets")."""

    DEFAULT = "default"  # every station without its own
    STATION = "station"  # one station
    SITE = "site"  # the stations of a site (loadbalance.sites.v1)
    TOKEN_GROUP = "token_group"  # the drivers whose id token is in the group (a contract)


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
    target: str | None  # the station, site or token group id; None for Scope.DEFAULT
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
            raise RecordRejected("invalid assignment: only the default names no target")
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
    site_id: str | None = None  # the station's site when the session started
    token_group: str | None = None  # the id token's group when the session started

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
            cdr=cdr,
            session_id=session_id,
            station_id=station_id,
            transaction_id=transaction_id,
            site_id=text(p, "site_id"),
            token_group=text(p, "token_group"),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class CostQuoted:
    """CostQuoted on billing.costs.v1 (key station_id): a session's cost up to ``at`` as the
    billing core priced it (``final``: the cost of the ended session, the CDR's total). The
    sessions worker carries it to the station in its TransactionEventResponse (docs/billing.md,
    "Prices at the station"); driver apps may show it."""

    session_id: str
    station_id: str
    transaction_id: str
    currency: str
    excl_vat: str  # decimal text, rounded to the currency's minor unit
    incl_vat: str
    final: bool
    at: datetime
    tariff_id: str | None = None
    price_text: str | None = None  # the tariff as the driver reads it (DisplayText.text)
    language: str | None = None  # ISO 639-1 of price_text

    def event(self) -> DomainEvent:
        return DomainEvent(
            topic=Topic.BILLING_COSTS,
            event_type=EventType.COST_QUOTED,
            key=self.station_id,
            payload={
                "session_id": self.session_id,
                "station_id": self.station_id,
                "transaction_id": self.transaction_id,
                "currency": self.currency,
                "total_cost": {"excl_vat": self.excl_vat, "incl_vat": self.incl_vat},
                "final": self.final,
                "at": self.at,
                "tariff_id": self.tariff_id,
                "price_text": self.price_text,
                "language": self.language,
            },
        )

    @classmethod
    def parse(cls, envelope: Envelope) -> "CostQuoted | None":
        """A CostQuoted record; None for anything else or one without its ids or amounts."""
        if envelope.event_type != EventType.COST_QUOTED:
            return None
        p = envelope.payload
        total = p.get("total_cost")
        ids = (text(p, "session_id"), text(p, "station_id"), text(p, "transaction_id"))
        currency, at = text(p, "currency"), moment(p, "at")
        if not isinstance(total, Mapping) or not all(ids) or currency is None or at is None:
            return None
        excl, incl = text(total, "excl_vat"), text(total, "incl_vat")
        if excl is None or incl is None:
            return None
        return cls(
            session_id=str(ids[0]),
            station_id=str(ids[1]),
            transaction_id=str(ids[2]),
            currency=currency,
            excl_vat=excl,
            incl_vat=incl,
            final=p.get("final") is True,
            at=at,
            tariff_id=text(p, "tariff_id"),
            price_text=text(p, "price_text"),
            language=text(p, "language"),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class PriceDisplayRefused:
    """PriceDisplayRefused on billing.costs.v1 (key station_id): a station refused or does not
    support a cost message; billing sends it none until ``retry_at``."""

    station_id: str
    action: str  # the CALL refused: DataTransfer (costmsg), CostUpdated, SetDisplayMessage
    outcome: str  # the command's Outcome: Answered (with a status) or CallError
    detail: str  # the status or the CALLERROR code
    retry_at: datetime

    def event(self) -> DomainEvent:
        return DomainEvent(
            topic=Topic.BILLING_COSTS,
            event_type=EventType.PRICE_DISPLAY_REFUSED,
            key=self.station_id,
            payload={
                "station_id": self.station_id,
                "action": self.action,
                "outcome": self.outcome,
                "detail": self.detail,
                "retry_at": self.retry_at,
            },
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class PriceAnnounced:
    """PriceAnnounced on billing.costs.v1 (key station_id): the price a station shows before a
    session (its tariff in words, as of ``at``); sent again when it changes. The sessions worker
    puts it into 2.0.1 idTokenInfo.personalMessage for drivers without a contract (I01)."""

    station_id: str
    price_text: str
    language: str
    tariff_id: str | None
    at: datetime

    def event(self) -> DomainEvent:
        return DomainEvent(
            topic=Topic.BILLING_COSTS,
            event_type=EventType.PRICE_ANNOUNCED,
            key=self.station_id,
            payload={
                "station_id": self.station_id,
                "price_text": self.price_text,
                "language": self.language,
                "tariff_id": self.tariff_id,
                "at": self.at,
            },
        )

    @classmethod
    def parse(cls, envelope: Envelope) -> "PriceAnnounced | None":
        """A PriceAnnounced record; None for anything else or one without its text."""
        if envelope.event_type != EventType.PRICE_ANNOUNCED:
            return None
        p = envelope.payload
        station_id, price_text = text(p, "station_id") or envelope.key, text(p, "price_text")
        if price_text is None:
            return None
        return cls(
            station_id=station_id,
            price_text=price_text,
            language=text(p, "language") or "en",
            tariff_id=text(p, "tariff_id"),
            at=moment(p, "at") or envelope.occurred_at,
        )
