"""The read-model topics derived from a step's events: stations.latest.v1, sessions.open.v1 (pure).

stations.v1 and sessions.v1 are logs (30 days); a read model that started from them would take
longer to start the more history there is, and lose a station idle longer than the retention.
So the worker also writes two compacted topics (docs/sessions.md, "Read models"):

- stations.latest.v1: each stations.v1 event again, keyed by the fact it states
  (``contracts.payloads.stations.latest``): the newest boot, presence and connector statuses;
- sessions.open.v1: for every session event of an open session, the session as it stands
  (SessionOpen, key session_id); a tombstone when it ends.
"""

from collections.abc import Callable

from contracts.events import DomainEvent, EventType
from contracts.payloads.stations import latest
from contracts.topics import Topic
from services.sessions.core import domain_events as de
from services.sessions.core.state import Transaction

# (station_id, transaction_id) -> the transaction as the step left it, if the state has it
Lookup = Callable[[str, str], Transaction | None]

_OPEN_EVENTS = frozenset({EventType.SESSION_STARTED, EventType.SESSION_UPDATED})


def with_read_models(events: list[DomainEvent], transaction: Lookup) -> list[DomainEvent]:
    """``events`` with the read-model records after them (the last one per session)."""
    if not events:
        return events
    out = list(events)
    sessions: dict[tuple[str, str], bool] = {}  # (station, transaction) -> still open
    for event in events:
        copy = latest(event)
        if copy is not None:
            out.append(copy)
        elif event.topic == Topic.SESSIONS and event.event_type in _OPEN_EVENTS:
            sessions.setdefault(_ids(event), True)
        elif event.event_type == EventType.SESSION_ENDED:
            sessions[_ids(event)] = False
    for (station_id, transaction_id), still_open in sessions.items():
        t = transaction(station_id, transaction_id)
        if t is None:
            continue
        if still_open and not t.end_announced:
            out.append(de.session_open(station_id, t))
        else:
            out.append(de.session_closed(station_id, t))
    return out


def _ids(event: DomainEvent) -> tuple[str, str]:
    return str(event.payload.get("station_id") or event.key), str(event.payload["transaction_id"])
