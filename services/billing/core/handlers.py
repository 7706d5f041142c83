"""Session events in, costs and CDRs out: billing's handling of sessions.v1 (pure).

SessionStarted freezes the tariff (the one assigned at the start stays for the whole
session), SessionUpdated adds a meter reading, SessionEnded prices the session and issues its
CDR, once: a SessionEnded read again finds the CDR issued and writes nothing. A
SessionCorrected (the station's own end after the CSMS closed the session) that changes the
end or the energy issues a credit CDR for the CDR in force and a new CDR; never a silent change.
Each of them also quotes the cost so far, and tells the station when due (station_costs.py).
"""

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from contracts.events import DomainEvent
from contracts.payloads.ocpp import DeferredReply, Reply, ReplyError
from contracts.payloads.reservations import ReservationEnd, ReservationEnded
from contracts.payloads.sessions import SessionEnded, SessionStarted, SessionUpdated
from services.billing.core import cdr, station_costs
from services.billing.core.book import TariffBook, tariff_from_json
from services.billing.core.cdr import Party
from services.billing.core.pricing import Cost, Sample, price
from services.billing.core.reservation import Reservation, reservation_cost, with_reservation
from services.billing.core.state import Billed, Reading
from services.billing.core.station_costs import Display
from services.billing.core.tariff import (
    Dimension,
    PriceComponent,
    Tariff,
    TariffElement,
)

Message = SessionStarted | SessionUpdated | SessionEnded | ReservationEnded


@dataclass(frozen=True, slots=True, kw_only=True)
class Context:
    """What a handler may know besides the session: no clock, no I/O."""

    book: TariffBook
    party: Party
    time_zone: str  # for assignments without their own
    currency: str  # of the CDR of a session without any tariff
    now: datetime  # the record's occurred_at
    show: Display = field(default_factory=Display)  # cost messages to this station


@dataclass(frozen=True, slots=True)
class Step:
    state: Billed | None  # None: nothing to keep (a record we cannot place)
    events: list[DomainEvent] = field(default_factory=list)
    reply: Reply | ReplyError | None = None  # billing never answers a station
    deferred: tuple[DeferredReply, ...] = ()


def handle(state: Billed | None, message: Message, ctx: Context) -> Step:
    b = state or _new(message, ctx)
    if isinstance(message, SessionStarted):
        return _running(_started(b, message), ctx, at=message.started_at)
    if isinstance(message, SessionUpdated):
        updated = _updated(b, message)
        return Step(b) if updated is b else _running(updated, ctx, at=message.at)
    if isinstance(message, ReservationEnded):
        return _reservation_ended(b, message, ctx)
    if message.corrected:
        return _corrected(b, message, ctx)
    if b.cdr is not None:
        return Step(b)  # read again: the CDR is out
    return _issue(_ended(b, message), ctx, correction=0)


def _running(b: Billed, ctx: Context, *, at: datetime | None) -> Step:
    """``b`` priced up to ``at`` when a quote is due (at the start, then at most once per
    ``show.interval`` of the station's time: pricing is most of billing's work), and the
    station's running cost when due."""
    start = b.start
    if at is None or b.cdr is not None or start is None or not ctx.show.quotes:
        return Step(b)
    if b.quoted_at is not None and at - b.quoted_at < ctx.show.interval:
        return Step(b)
    tariff, zone = _tariff(b, ctx), zone_named(b.time_zone or ctx.time_zone)
    cost = _price(b, ctx, end=max(at, start))
    b = replace(b, quoted_at=at)
    events = [station_costs.quoted(b, cost, tariff, final=False, at=at, zone=zone)]
    b, told = station_costs.running(b, cost, tariff, at=at, zone=zone, now=ctx.now, show=ctx.show)
    return Step(b, events + told)


def _new(message: Message, ctx: Context) -> Billed:
    """A session first seen: its tariff is the one assigned at its start."""
    if isinstance(message, ReservationEnded):
        start = message.reserved_at
    elif isinstance(message, SessionStarted) and message.started_at is not None:
        start = message.started_at
    elif isinstance(message, SessionUpdated) and message.at is not None:
        start = message.at
    else:
        start = ctx.now
    token = None if isinstance(message, SessionUpdated) else message.id_token
    choice = ctx.book.choose(message.station_id, start, token)
    transaction_id = "" if isinstance(message, ReservationEnded) else message.transaction_id
    return Billed(
        session_id=message.session_id,
        station_id=message.station_id,
        transaction_id=transaction_id,
        tariff_json=choice.tariff_json,
        time_zone=choice.time_zone,
        tariff_note=choice.note,
        site_id=choice.site_id,
        token_group=choice.token_group,
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
        ocpp_version=s.ocpp_version or b.ocpp_version,
        reserved_at=s.reserved_at or b.reserved_at,
        meter_start_wh=None if s.meter_start_wh is None else _decimal(s.meter_start_wh),
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
    """The CDR of ended session ``b``, its final quote, and for 1.6 its FinalCost."""
    end = b.ended_at or ctx.now
    b = replace(b, ended_at=end)
    cost = _price(b, ctx, end=end)
    issued = cdr.build(b, cost, party=ctx.party, issued_at=ctx.now, correction=correction)
    b = replace(b, cdr=issued)
    if not ctx.show.quotes:
        return Step(b, [cdr.issued(b, issued)])
    zone = zone_named(b.time_zone or ctx.time_zone)
    quote = station_costs.quoted(b, cost, _tariff(b, ctx), final=True, at=end, zone=zone)
    told: list[DomainEvent] = []
    if not correction:  # the station was told the end's cost already
        b, told = station_costs.final(b, cost, now=ctx.now, show=ctx.show)
    return Step(b, [cdr.issued(b, issued), quote, *told])


def _tariff(b: Billed, ctx: Context) -> Tariff | None:
    return tariff_from_json(b.tariff_json) if b.tariff_json else None


def _reservation_ended(b: Billed, e: ReservationEnded, ctx: Context) -> Step:
    """A reservation that never became a session: a CDR of the reservation alone."""
    if b.cdr is not None:
        return Step(b)  # read again
    b = replace(
        b,
        reserved_at=e.reserved_at,
        reservation_expired=e.reason == ReservationEnd.EXPIRED,
        ended_at=e.ended_at,
        evse_id=e.evse_id,
        id_token=e.id_token or b.id_token,
        stop_reason=f"Reservation{e.reason}",
    )
    return _issue(b, ctx, correction=0)


def _price(b: Billed, ctx: Context, *, end: datetime) -> Cost:
    """The cost of ``b`` from its start up to ``end``, with the reservation it used."""
    tariff = _tariff(b, ctx) or _nothing(ctx.currency)
    if b.reserved_at is None:
        return _charging(b, ctx, tariff, end=end)
    zone = zone_named(b.time_zone or ctx.time_zone)
    if b.reservation_only:
        until, charged = end, Cost(
            tariff_id=tariff.id, currency=tariff.currency, periods=(), energy_wh=Decimal(0),
            charging_s=Decimal(0), parking_s=Decimal(0),
        )  # fmt: skip
    else:
        until, charged = b.start or end, _charging(b, ctx, tariff, end=end)
    made = Reservation(b.reserved_at, until, expired=b.reservation_expired)
    return with_reservation(charged, tariff, reservation_cost(tariff, zone, made))


def _charging(b: Billed, ctx: Context, tariff: Tariff, *, end: datetime) -> Cost:
    """The charging session's own cost from its start up to ``end``."""
    start = b.start or end
    samples, parked = [], False
    for r in b.readings:  # a reading that does not say keeps the state before it
        if r.at > end:
            break
        parked = parked if r.charging is None else not r.charging
        samples.append(Sample(r.at, r.energy_wh, not parked, r.current_a))
    return price(
        tariff,
        zone=zone_named(b.time_zone or ctx.time_zone),
        start=start,
        end=end,
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


def zone_named(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")  # an assignment's zone is checked when it is made


def _decimal(value: float | int) -> Decimal:
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
