"""The sessions read model: open sessions and the most recent ended ones, from sessions.v1 (pure).

Memory is bounded: every open session is kept, ended sessions only for the last ``recent``
(the oldest ended one is dropped first). Records arrive in order per station (key station_id).
"""

from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from contracts.envelope import Envelope
from contracts.events import EventType
from contracts.fields import jsonable
from contracts.payloads.sessions import SessionEnded, SessionOpen, SessionStarted, SessionUpdated

_DEFAULT_RECENT = 10_000
_PARSERS: dict[str, Callable[[Envelope], SessionStarted | SessionUpdated | SessionEnded | None]] = {
    EventType.SESSION_STARTED: SessionStarted.parse,
    EventType.SESSION_UPDATED: SessionUpdated.parse,
    EventType.SESSION_ENDED: SessionEnded.parse,
    EventType.SESSION_CORRECTED: SessionEnded.parse,
}
_T = TypeVar("_T")


def _known(new: _T | None, old: _T | None) -> _T | None:
    """A measurement the record did not report keeps its last value."""
    return old if new is None else new


@dataclass(slots=True, kw_only=True)
class Session:
    """One charging session; fields a record has not told us yet are None."""

    session_id: str
    station_id: str
    transaction_id: str
    evse_id: int | None = None
    connector_id: int | None = None
    id_token: str | None = None
    id_token_type: str | None = None
    id_token_source: str | None = None  # a TokenSource
    meter_start_wh: float | None = None
    started_at: datetime | None = None
    energy_wh: float | None = None
    power_w: float | None = None
    current_a: float | None = None
    soc_percent: float | None = None
    updated_at: datetime | None = None
    ended_at: datetime | None = None
    duration_s: float | None = None
    stop_reason: str | None = None
    closed_by_csms: str | None = None  # why we closed it, if the station abandoned it
    corrected: bool = False  # the station's own end came later and replaced ours

    @property
    def open(self) -> bool:
        return self.ended_at is None

    @property
    def sort_time(self) -> datetime | None:
        """When it began, as far as we know: for ordering and the from/to filters."""
        return self.started_at or self.updated_at or self.ended_at

    def to_json(self) -> dict[str, Any]:
        """The session document (openapi.json: Session)."""
        return {
            "session_id": self.session_id,
            "station_id": self.station_id,
            "transaction_id": self.transaction_id,
            "status": "open" if self.open else "ended",
            "evse_id": self.evse_id,
            "connector_id": self.connector_id,
            "id_token": self.id_token,
            "id_token_type": self.id_token_type,
            "id_token_source": self.id_token_source,
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
            "closed_by_csms": self.closed_by_csms,
            "corrected": self.corrected,
        }


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
        """Apply one sessions.v1 (or sessions.open.v1) record; returns whether the view changed."""
        snapshot = SessionOpen.parse(envelope)
        if snapshot is not None:
            started = self.apply_record(snapshot.started)
            return (snapshot.updated is not None and self.apply_record(snapshot.updated)) or started
        parse = _PARSERS.get(envelope.event_type)
        record = None if parse is None else parse(envelope)
        return False if record is None else self.apply_record(record)

    def apply_record(self, record: SessionStarted | SessionUpdated | SessionEnded) -> bool:
        """Apply one parsed session event; returns whether the view changed."""
        if isinstance(record, SessionEnded) and record.corrected:
            return self._correct(record)
        if record.session_id in self._ended:
            return False  # a duplicate or late record of an ended session
        session = self._open.get(record.session_id)
        if session is None:
            # Updated/Ended without Started: its start fell out of retention; keep what we know.
            session = self._open[record.session_id] = Session(
                session_id=record.session_id,
                station_id=record.station_id,
                transaction_id=record.transaction_id,
            )
        match record:
            case SessionStarted():
                session.evse_id = record.evse_id
                session.connector_id = record.connector_id
                session.id_token = record.id_token
                session.id_token_type = record.id_token_type
                session.id_token_source = record.id_token_source
                session.meter_start_wh = record.meter_start_wh
                session.started_at = record.started_at
            case SessionUpdated():
                session.energy_wh = _known(record.energy_wh, session.energy_wh)
                session.power_w = _known(record.power_w, session.power_w)
                session.current_a = _known(record.current_a, session.current_a)
                session.soc_percent = _known(record.soc_percent, session.soc_percent)
                session.updated_at = record.at
            case SessionEnded():
                session.energy_wh = _known(record.energy_wh, session.energy_wh)
                session.duration_s = _known(record.duration_s, session.duration_s)
                if record.id_token is not None:  # a token joined after the start shows here
                    session.id_token = record.id_token
                    session.id_token_type = record.id_token_type
                    session.id_token_source = record.id_token_source
                session.stop_reason = record.stop_reason
                session.ended_at = record.ended_at
                session.closed_by_csms = record.closed_by_csms
                del self._open[record.session_id]
                self._ended[record.session_id] = session
                while len(self._ended) > self.recent:
                    self._ended.popitem(last=False)
        return True

    def _correct(self, record: SessionEnded) -> bool:
        """SessionCorrected: the station's own end replaces what our closure said."""
        session = self._ended.get(record.session_id) or self._open.get(record.session_id)
        if session is None or session.corrected:
            return False
        session.energy_wh = _known(record.energy_wh, session.energy_wh)
        session.duration_s = _known(record.duration_s, session.duration_s)
        session.stop_reason = record.stop_reason
        session.ended_at = record.ended_at
        session.closed_by_csms = record.closed_by_csms
        session.corrected = True
        return True

    def forget_open(self, session_id: str) -> bool:
        """A tombstone read from sessions.open.v1 at start: the session ended (sessions.v1 may
        also tell how; an ended session stays)."""
        return self._open.pop(session_id, None) is not None
