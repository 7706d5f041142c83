"""The sessions read model: open sessions and the most recent ended ones, from sessions.v1 (pure).

Memory is bounded: every open session is kept, ended sessions only for the last ``recent``
(the oldest ended one is dropped first). Records arrive in order per station (key station_id).
"""

from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from contracts.envelope import Envelope
from contracts.events import EventType
from contracts.fields import jsonable, moment, number, text, whole

_DEFAULT_RECENT = 10_000


def session_id_of(station_id: str, transaction_id: str) -> str:
    """The contract's session id (docs/events.md): ``{station_id}/{transaction_id}``."""
    return f"{station_id}/{transaction_id}"


@dataclass(slots=True, kw_only=True)
class Session:
    """One charging session; fields a record has not told us yet are None."""

    session_id: str
    station_id: str
    transaction_id: str
    evse_id: int | None = None
    connector_id: int | None = None
    id_token: str | None = None
    meter_start_wh: int | float | None = None
    started_at: datetime | None = None
    energy_wh: int | float | None = None
    power_w: int | float | None = None
    current_a: int | float | None = None
    soc_percent: int | float | None = None
    updated_at: datetime | None = None
    ended_at: datetime | None = None
    duration_s: int | float | None = None
    stop_reason: str | None = None

    @property
    def open(self) -> bool:
        return self.ended_at is None

    @property
    def sort_time(self) -> datetime | None:
        """When it began, as far as we know: for ordering and the from/to filters."""
        return self.started_at or self.updated_at or self.ended_at

    def to_json(self) -> dict[str, Any]:
        return {
            "session_id": self.session_id,
            "station_id": self.station_id,
            "transaction_id": self.transaction_id,
            "status": "open" if self.open else "ended",
            "evse_id": self.evse_id,
            "connector_id": self.connector_id,
            "id_token": self.id_token,
            "meter_start_wh": self.meter_start_wh,
            "started_at": jsonable(self.started_at),
            "energy_wh": self.energy_wh,
            "power_w": self.power_w,
            "current_a": self.current_a,
            "soc_percent": self.soc_percent,
            "updated_at": jsonable(self.updated_at),
            "ended_at": jsonable(self.ended_at),
            "duration_s": self.duration_s,
            "stop_reason": self.stop_reason,
        }


def _update(session: Session, p: Any, name: str) -> None:
    value = number(p, name)
    if value is not None:
        setattr(session, name, value)


class SessionsView:
    """Open sessions plus the last ``recent`` ended ones."""

    def __init__(self, recent: int = _DEFAULT_RECENT) -> None:
        self.recent = recent
        self._open: dict[str, Session] = {}
        self._ended: OrderedDict[str, Session] = OrderedDict()

    def __len__(self) -> int:
        return len(self._open) + len(self._ended)

    @property
    def open_count(self) -> int:
        return len(self._open)

    def get(self, session_id: str) -> Session | None:
        return self._open.get(session_id) or self._ended.get(session_id)

    def __iter__(self) -> Iterator[Session]:
        yield from self._open.values()
        yield from self._ended.values()

    def apply(self, envelope: Envelope) -> bool:
        """Apply one sessions.v1 record; returns whether the view changed."""
        p = envelope.payload
        station_id = text(p, "station_id") or envelope.key
        raw_tid = p.get("transaction_id")
        if isinstance(raw_tid, bool) or not isinstance(raw_tid, str | int):
            return False
        transaction_id = str(raw_tid)
        session_id = text(p, "session_id") or session_id_of(station_id, transaction_id)
        if session_id in self._ended:
            return False  # a duplicate or a late record of an ended session
        session = self._open.get(session_id)
        if session is None:
            if envelope.event_type not in (
                EventType.SESSION_STARTED,
                EventType.SESSION_UPDATED,
                EventType.SESSION_ENDED,
            ):
                return False
            # Updated/Ended without Started: its start fell out of retention; keep what we know.
            session = Session(
                session_id=session_id, station_id=station_id, transaction_id=transaction_id
            )
            self._open[session_id] = session
        if envelope.event_type == EventType.SESSION_STARTED:
            session.evse_id = whole(p, "evse_id")
            session.connector_id = whole(p, "connector_id")
            session.id_token = text(p, "id_token")
            session.meter_start_wh = number(p, "meter_start_wh")
            session.started_at = moment(p, "started_at") or envelope.occurred_at
        elif envelope.event_type == EventType.SESSION_UPDATED:
            for name in ("energy_wh", "power_w", "current_a", "soc_percent"):
                _update(session, p, name)
            session.updated_at = moment(p, "at") or envelope.occurred_at
        elif envelope.event_type == EventType.SESSION_ENDED:
            for name in ("energy_wh", "duration_s"):
                _update(session, p, name)
            session.id_token = session.id_token or text(p, "id_token")
            session.stop_reason = text(p, "stop_reason")
            session.ended_at = moment(p, "ended_at") or envelope.occurred_at
            del self._open[session_id]
            self._ended[session_id] = session
            while len(self._ended) > self.recent:
                self._ended.popitem(last=False)
        else:
            return False
        return True
