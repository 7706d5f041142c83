"""Session events in, CDRs out: what billing does with each record of sessions.v1 (pure).

SessionStarted freezes the tariff (the one assigned at the start stays for the whole
session), SessionUpdated adds a meter reading, SessionEnded prices the session and issues its
CDR, once: a SessionEnded read again finds the CDR issued and writes nothing. A
SessionCorrected (the station's own end after the CSMS closed the session) that changes the
end or the energy issues a credit CDR for the CDR in force and a new CDR; never a silent change.
"""

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from contracts.events import DomainEvent
from contracts.payloads.ocpp import Reply, ReplyError
from contracts.payloads.sessions import SessionEnded, SessionStarted, SessionUpdated
from services.billing.core import cdr
from services.billing.core.book import TariffBook, tariff_from_json
from services.billing.core.cdr import Party
from services.billing.core.pricing import Cost, Sample, price
from services.billing.core.state import Billed, Reading
from services.billing.core.tariff import (
    Dimension,
    PriceComponent,
    Tariff,
    TariffElement,
)

Message = SessionStarted | SessionUpdated | SessionEnded


@dataclass(frozen=True, slots=True, kw_only=True)
class Context:
    """What a handler may know besides the session: no clock, no I/O."""

    book: TariffBook
    party: Party
    time_zone: str  # for assignments without their own
    currency: str  # of the CDR of a session without any tariff
    now: datetime  # the record's occurred_at


@dataclass(frozen=True, slots=True)
class Step:
    state: Billed | None  # None: nothing to keep (a record we cannot place)
    events: list[DomainEvent] = field(default_factory=list)
    reply: Reply | ReplyError | None = None  # billing never answers a station


def handle(state: Billed | None, message: Message, ctx: Context) -> Step:
    b = state or _new(message, ctx)
    if isinstance(message, SessionStarted):
        return Step(_started(b, message))
    if isinstance(message, SessionUpdated):
        return Step(_updated(b, message))
    if message.corrected:
        return _corrected(b, message, ctx)
    if b.cdr is not None:
        return Step(b)  # read again: the CDR is out
    return _issue(_ended(b, message), ctx, correction=0)


def _new(message: Message, ctx: Context) -> Billed:
    """A session first seen: its tariff is the one assigned at its start."""
    if isinstance(message, SessionStarted) and message.started_at is not None:
        start = message.started_at
    elif isinstance(message, SessionUpdated) and message.at is not None:
        start = message.at
    else:
        start = ctx.now
    choice = ctx.book.choose(message.station_id, start)
    return Billed(
        session_id=message.session_id,
        station_id=message.station_id,
        transaction_id=message.transaction_id,
        tariff_json=choice.tariff_json,
        time_zone=choice.time_zone,
        tariff_note=choice.note,
    )


def _started(b: Billed, s: SessionStarted) -> Billed:
    b = replace(
        b,
        evse_id=s.evse_id,
        connector_id=s.connector_id,
        id_token=s.id_token or b.id_token,
        id_token_type=s.id_token_type or b.id_token_type,
        id_token_source=s.id_token_source or b.id_token_source,
        started_at=s.started_at,
    )
    if s.started_at is not None and not any(r.at == s.started_at for r in b.readings):
        state = charging(s.charging_state, Decimal(0))
        b = b.with_reading(Reading(s.started_at, Decimal(0), charging=state))
    return b


# 2.0.1 ChargingStateEnumType (1.6 statuses arrive in these words): the EV not taking power
# is parking (OCPI 2.2.1 errata: PARKING_TIME is time "the vehicle is not requesting power").
# The station or our load balancing holding power back (SuspendedEVSE) is not; neither is the
# time before the first energy (EVConnected at the start) nor without an EV (Idle).
_PARKED = frozenset({"SuspendedEV", "EVConnected"})


def charging(state: str | None, energy_wh: Decimal) -> bool | None:
    """Whether a session in ``charging_state`` is charging (not parked); None: not said."""
    if state is None:
        return None
    if state == "EVConnected" and not energy_wh:
        return True
    return state not in _PARKED


def _updated(b: Billed, u: SessionUpdated) -> Billed:
    if u.at is None or b.cdr is not None:
        return b  # nothing measured, or a late value of a billed session
    last = b.readings[-1].energy_wh if b.readings else Decimal(0)
    energy = last if u.energy_wh is None else _decimal(u.energy_wh)
    if u.energy_wh is None and u.charging_state is None:
        return b
    # OCPI's current restrictions are "summed over phases"
    measured = u.current_total_a if u.current_total_a is not None else u.current_a
    current = None if measured is None else _decimal(measured)
    return b.with_reading(Reading(u.at, energy, current, charging(u.charging_state, energy)))


def _ended(b: Billed, e: SessionEnded) -> Billed:
    """``b`` with what SessionEnded (or SessionCorrected) says; a token joined after the start
    comes with it."""
    b = replace(
        b,
        ended_at=e.ended_at,
        energy_wh=None if e.energy_wh is None else _decimal(e.energy_wh),
        stop_reason=e.stop_reason,
        duration_s=None if e.duration_s is None else _decimal(e.duration_s),
        id_token=e.id_token or b.id_token,
        id_token_type=e.id_token_type or b.id_token_type,
        id_token_source=e.id_token_source or b.id_token_source,
    )
    if e.ended_at is not None and b.energy_wh is not None:
        b = b.with_reading(Reading(e.ended_at, b.energy_wh))
    return b


def _corrected(b: Billed, e: SessionEnded, ctx: Context) -> Step:
    if b.cdr is None:  # the first end we see: an ordinary CDR
        return _issue(_ended(b, e), ctx, correction=b.corrections)
    energy = None if e.energy_wh is None else _decimal(e.energy_wh)
    if (e.ended_at, energy) == (b.ended_at, b.energy_wh):
        return Step(replace(b, corrections=b.corrections + 1))  # the same end: nothing to say
    credit = cdr.credit(b.cdr, issued_at=ctx.now)
    # the correction replaces the end: readings after the old end do not belong to the session
    kept = tuple(r for r in b.readings if b.ended_at is None or r.at != b.ended_at)
    corrected = _ended(replace(b, readings=kept, corrections=b.corrections + 1), e)
    step = _issue(corrected, ctx, correction=corrected.corrections)
    return Step(step.state, [cdr.issued(b, credit), *step.events])


def _issue(b: Billed, ctx: Context, *, correction: int) -> Step:
    end = b.ended_at or ctx.now
    b = replace(b, ended_at=end)
    cost = _price(b, ctx)
    issued = cdr.build(b, cost, party=ctx.party, issued_at=ctx.now, correction=correction)
    b = replace(b, cdr=issued)
    return Step(b, [cdr.issued(b, issued)])


def _price(b: Billed, ctx: Context) -> Cost:
    assert b.ended_at is not None
    tariff = tariff_from_json(b.tariff_json) if b.tariff_json else _nothing(ctx.currency)
    start = b.start or b.ended_at
    samples, parked = [], False
    for r in b.readings:  # a reading that does not say keeps the state before it
        parked = parked if r.charging is None else not r.charging
        samples.append(Sample(r.at, r.energy_wh, not parked, r.current_a))
    return price(
        tariff,
        zone=_zone(b.time_zone or ctx.time_zone),
        start=start,
        end=b.ended_at,
        samples=samples,
    )


def _nothing(currency: str) -> Tariff:
    """No tariff assigned: the session is free (the CDR says so in its remark)."""
    free = PriceComponent(Dimension.FLAT, Decimal(0), None, 0)
    return Tariff(
        country_code="ZZ",
        party_id="ZZZ",
        id="none",
        currency=currency,
        type=None,
        elements=(TariffElement((free,)),),
        last_updated=datetime.min.replace(tzinfo=UTC),
    )


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")  # an assignment's zone is checked when it is made


def _decimal(value: float | int) -> Decimal:
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
