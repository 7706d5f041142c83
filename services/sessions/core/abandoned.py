"""Transactions the station abandoned: closed by us, corrected if its own end comes (pure).

Policy (docs/sessions.md, "Abandoned transactions"), both versions: an open transaction is
closed when another transaction starts on its connector (1.6) or EVSE (2.0.1) after it began,
when the station sends BootNotification (it rebooted, and OCPP stations end their transactions
on a reboot), and after ``Policy.abandon_after_s`` without any message about it. The session
ends with the last meter reading and time we knew, ``stop_reason`` ClosedByCsms and
``closed_by_csms`` saying why. If the station's own end (1.6 StopTransaction, 2.0.1
TransactionEvent Ended) arrives later it is accepted and written once as SessionCorrected;
never a second SessionEnded.
"""

from datetime import datetime, timedelta

from contracts.events import DomainEvent
from contracts.payloads.sessions import CLOSED_BY_CSMS, Closure
from services.sessions.core import domain_events as de
from services.sessions.core.copying import replace
from services.sessions.core.settling import save, settle
from services.sessions.core.state import StationState, Transaction


def last_known(t: Transaction) -> datetime | None:
    """The latest time anything told us about ``t``."""
    times = [
        at
        for at in (
            t.started_at,
            t.first_event_at,
            t.energy_register_at,
            t.power_at,
            t.current_at,
            t.soc_at,
        )
        if at is not None
    ]
    return max(times, default=None)


def close_open(
    state: StationState,
    closure: Closure,
    *,
    action: str,
    at: datetime,
    evse_id: int | None = None,
    started_before: datetime | None = None,
    quiet_before: datetime | None = None,
) -> tuple[StationState, list[DomainEvent]]:
    """Close the open transactions (on ``evse_id``, begun before ``started_before``, last heard
    of before ``quiet_before``, where given)."""
    events: list[DomainEvent] = []
    for t in state.transactions:
        if t.ended or (evse_id is not None and t.evse_id != evse_id):
            continue
        if quiet_before is not None and (last_known(t) or quiet_before) >= quiet_before:
            continue
        start = t.start_time
        if started_before is not None and (start is None or start >= started_before):
            continue
        closed = replace(
            t,
            ended=True,
            ended_at=last_known(t) or at,
            stop_reason=CLOSED_BY_CSMS,
            closed_by_csms=str(closure),
        )
        closed, settled = settle(state.station_id, closed, force=True)
        state, dropped = save(state, closed, action=action, at=at)
        events += settled + dropped
    return state, events


def correct(
    station_id: str,
    t: Transaction,
    *,
    ended_at: datetime,
    meter_stop_wh: float | None,
    stop_reason: str,
) -> tuple[Transaction, list[DomainEvent]]:
    """The station's own end of a transaction we closed: SessionCorrected, once."""
    if t.closed_by_csms is None or t.corrected:
        return t, []
    t = replace(
        t,
        ended_at=ended_at,
        meter_stop_wh=meter_stop_wh if meter_stop_wh is not None else t.energy_register_wh,
        stop_reason=stop_reason,
        corrected=True,
    )
    return t, [de.session_ended(station_id, t)]


def silent(state: StationState, *, now: datetime, after: timedelta) -> bool:
    """Whether the station said nothing for ``after`` while it has an open transaction."""
    quiet_since = now - after
    return any(not t.ended for t in state.transactions) and (
        state.last_seen is None or state.last_seen < quiet_since
    )
