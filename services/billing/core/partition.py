"""The sessions of one partition: records handled, and the changelog that restores them (pure).

``Partition`` is the billing core as the runtime's stateful worker drives it (runtime/batch.py
``Store``). Inputs: sessions.v1, stations.v1 and command-results.v1 (key station_id; the last
says how the price and cost messages billing sent ended); changelog: billing.state.v1, one
record per session (key session_id) after each batch that changed it, and
``station:<station_id>`` per station (its version, the price it was shown, until when it
refused cost messages). Once a session's CDR is out it is kept ``KEEP_ENDED`` of log time (a
late SessionCorrected can still credit it), then forgotten with a tombstone.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

import msgpack

from contracts.envelope import Envelope
from contracts.events import EventType
from contracts.payloads.authorizations import TokenAuthorized
from contracts.payloads.billing import PriceDisplayRefused
from contracts.payloads.commands import CommandCompleted
from contracts.payloads.reservations import ReservationEnded
from contracts.payloads.sessions import SessionEnded, SessionStarted, SessionUpdated
from contracts.payloads.stations import StationBooted, StationOnlineChanged, StationStatusChanged
from services.billing.core import station_costs
from services.billing.core.book import TariffBook
from services.billing.core.cdr import Party
from services.billing.core.handlers import Context, Message, Step, handle, zone_named
from services.billing.core.state import Billed
from services.billing.core.station_costs import Display
from services.billing.core.station_price import Station, announce, user_price

STATION_PREFIX = "station:"  # changelog key of a station's refusal (a session id has no colon)
KEEP_ENDED = timedelta(days=7)
SESSION_EVENTS = frozenset(
    {
        EventType.SESSION_STARTED,
        EventType.SESSION_UPDATED,
        EventType.SESSION_ENDED,
        EventType.SESSION_CORRECTED,
        EventType.RESERVATION_ENDED,
    }
)
SWEEP_EVERY = timedelta(hours=1)  # of log time


def _station_event(
    envelope: Envelope,
) -> StationBooted | StationOnlineChanged | StationStatusChanged | None:
    """The stations.v1 events that may change what a station is shown."""
    return (
        StationBooted.parse(envelope)
        or StationStatusChanged.parse(envelope)
        or StationOnlineChanged.parse(envelope)
    )


def parse(envelope: Envelope) -> Message | None:
    """The session events billing reads; None for anything else on sessions.v1."""
    return (
        SessionStarted.parse(envelope)
        or SessionUpdated.parse(envelope)
        or SessionEnded.parse(envelope)
        or ReservationEnded.parse(envelope)
    )


@dataclass
class Partition:
    """The billed sessions of one assigned partition."""

    partition: int
    book: TariffBook = field(default_factory=TariffBook)  # shared, read only
    party: Party = field(default_factory=Party)
    time_zone: str = "UTC"
    currency: str = "EUR"
    show: Display = field(default_factory=Display)  # the service's settings
    keep_ended: timedelta = KEEP_ENDED  # of log time, after a session's CDR
    sessions: dict[str, Billed] = field(default_factory=dict)
    stations: dict[str, Station] = field(default_factory=dict)
    swept: datetime | None = field(default=None, compare=False)
    _changed: dict[str, None] = field(default_factory=dict, compare=False)  # ordered set

    def handle(self, envelope: Envelope) -> Step | None:
        kind = envelope.event_type
        if kind in SESSION_EVENTS:  # most records: straight to the session
            return self._session(envelope)
        result = CommandCompleted.parse(envelope)
        if result is not None:
            return self._result(result, envelope.occurred_at)
        station_event = _station_event(envelope)
        if station_event is not None:
            return self._station(envelope.key, station_event, envelope.occurred_at)
        authorized = TokenAuthorized.parse(envelope)
        if authorized is not None:
            events = user_price(
                envelope.key,
                self.stations.get(envelope.key, Station()),
                authorized,
                book=self.book,
                zone=zone_named(self.time_zone),
                show=self.show,
            )
            return Step(None, events)
        return None

    def _session(self, envelope: Envelope) -> Step | None:
        message = parse(envelope)
        if message is None:
            return None
        known = self.stations.get(message.station_id)
        refused = known is not None and known.refused(envelope.occurred_at)
        context = Context(
            book=self.book,
            party=self.party,
            time_zone=self.time_zone,
            currency=self.currency,
            now=envelope.occurred_at,
            show=replace(self.show, refused=True) if refused else self.show,
        )
        key = message.session_id
        step = handle(self.sessions.get(key), message, context)
        if step.state is not None:
            self.sessions[key] = step.state
            self._changed[key] = None
        self._sweep(envelope.occurred_at)
        return step

    def _result(self, result: CommandCompleted, now: datetime) -> Step | None:
        """A cost message's outcome: a refusal is recorded; anything else is no news."""
        detail = station_costs.refusal(result)
        if detail is None:
            return None
        retry_at = now + station_costs.RETRY_REFUSED_AFTER
        known = self.stations.get(result.station_id, Station())
        self.stations[result.station_id] = replace(known, retry_at=retry_at)
        self._changed[STATION_PREFIX + result.station_id] = None
        refused = PriceDisplayRefused(
            station_id=result.station_id,
            action=result.action or "",
            outcome=result.outcome,
            detail=detail,
            retry_at=retry_at,
        )
        return Step(None, [refused.event()])

    def _station(
        self, station_id: str, event: StationBooted | StationOnlineChanged | StationStatusChanged,
        now: datetime,
    ) -> Step:  # fmt: skip
        """A station event: the station's price, announced when it booted or changed."""
        known = self.stations.get(station_id, Station())
        booted = isinstance(event, StationBooted)
        if isinstance(event, StationBooted):
            if event.boot_status != "Accepted":
                return Step(None)  # it takes no commands yet
            known = replace(known, ocpp_version=event.ocpp_version or known.ocpp_version)
        station, events = announce(
            station_id,
            known,
            book=self.book,
            now=now,
            zone=zone_named(self.time_zone),
            show=self.show,
            booted=booted,
        )
        if station != self.stations.get(station_id):
            self.stations[station_id] = station
            self._changed[STATION_PREFIX + station_id] = None
        return Step(None, events)

    def _sweep(self, now: datetime) -> None:
        """Forget sessions whose CDR went out more than ``keep_ended`` ago."""
        if self.swept is not None and now - self.swept < SWEEP_EVERY:
            return
        self.swept = now
        for key, b in list(self.sessions.items()):
            if b.cdr is not None and b.ended_at is not None and b.ended_at < now - self.keep_ended:
                del self.sessions[key]
                self._changed[key] = None

    def changes(self) -> Sequence[tuple[str, bytes | None]]:
        writes: list[tuple[str, bytes | None]] = []
        for key in self._changed:
            if key.startswith(STATION_PREFIX):
                station = self.stations.get(key.removeprefix(STATION_PREFIX))
                packed = (
                    None if station is None else msgpack.packb(station.to_dict(), datetime=True)
                )
                writes.append((key, packed))
                continue
            b = self.sessions.get(key)
            value = None if b is None else msgpack.packb(b.to_dict(), datetime=True)
            writes.append((key, value))
        self._changed = {}
        return writes

    def restore(self, key: str, value: bytes | None) -> None:
        """Raises: ValueError, TypeError, KeyError, AttributeError: an unreadable record."""
        if key.startswith(STATION_PREFIX):
            station_id = key.removeprefix(STATION_PREFIX)
            if value is None:
                self.stations.pop(station_id, None)
            else:
                self.stations[station_id] = Station.from_dict(msgpack.unpackb(value, timestamp=3))
        elif value is None:
            self.sessions.pop(key, None)
        else:
            self.sessions[key] = Billed.from_dict(msgpack.unpackb(value, timestamp=3))
