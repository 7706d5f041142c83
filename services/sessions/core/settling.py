"""Session events written once each, in order, and transactions stored within bounds (pure)."""

from datetime import datetime

from contracts.events import DomainEvent
from contracts.payloads.sessions import Anomaly
from services.sessions.core import domain_events as de
from services.sessions.core.copying import replace
from services.sessions.core.state import StationState, Transaction


def settle(
    station_id: str, t: Transaction, *, force: bool = False
) -> tuple[Transaction, list[DomainEvent]]:
    """Writes what ``t`` now lets us state, in the order SessionStarted, SessionUpdated,
    SessionEnded, each at most once; nothing is written about a transaction before its start
    is known, unless ``force`` (its start will not come: announce it with estimates)."""
    starts = not t.announced and (t.started or force)
    announced = t.announced or starts
    updates = announced and t.update_pending and not t.end_announced
    ends = announced and t.ended and not t.end_announced
    if not (starts or updates or ends):
        return t, []
    # one copy (the events read none of these three flags)
    t = replace(
        t,
        announced=announced,
        update_pending=t.update_pending and not updates,
        end_announced=t.end_announced or ends,
    )
    events: list[DomainEvent] = []
    if starts:
        events.append(de.session_started(station_id, t))
    if updates:
        events.append(de.session_updated(station_id, t))
    if ends:
        events.append(de.session_ended(station_id, t))
    return t, events


def save(
    state: StationState, t: Transaction, *, action: str, at: datetime
) -> tuple[StationState, list[DomainEvent]]:
    """``state`` with ``t`` stored, and an anomaly if an old open transaction had to go."""
    state, dropped = state.store(t)
    if dropped is None:
        return state, []
    detail = f"more than the open transactions a station may have; dropped {dropped.key}"
    return state, [
        de.anomaly(
            state.station_id,
            Anomaly.TRANSACTION_DROPPED,
            detail,
            action=action,
            at=at,
            transaction_id=dropped.key,
        )
    ]
