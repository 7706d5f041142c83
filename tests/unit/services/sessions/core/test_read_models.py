"""The read-model records: stations.latest.v1 keyed per fact, sessions.open.v1 per session."""

from dataclasses import replace
from datetime import UTC, datetime

from contracts.codec import decode, encode
from contracts.envelope import Envelope
from contracts.events import DomainEvent, EventType
from contracts.payloads.sessions import SessionOpen
from contracts.payloads.stations import latest
from contracts.topics import Topic
from services.sessions.core.read_models import with_read_models
from services.sessions.core.state import Transaction

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


def station_event(event_type: str, **payload: object) -> DomainEvent:
    return DomainEvent(
        topic=Topic.STATIONS,
        event_type=event_type,
        key="CS-1",
        payload={"station_id": "CS-1", **payload},
    )


def test_each_station_fact_has_its_own_key() -> None:
    booted = latest(station_event(EventType.STATION_BOOTED))
    online = latest(station_event(EventType.STATION_OFFLINE))
    status = latest(station_event(EventType.STATION_STATUS_CHANGED, evse_id=2, connector_id=1))
    main = latest(station_event(EventType.STATION_STATUS_CHANGED, evse_id=None, connector_id=0))
    assert [e.key for e in (booted, online, status, main) if e is not None] == [
        "CS-1/boot",
        "CS-1/online",
        "CS-1/connector/2/1",
        "CS-1/connector/0/0",
    ]
    assert all(e is not None and e.topic == Topic.STATIONS_LATEST for e in (booted, online))
    session = DomainEvent(
        topic=Topic.SESSIONS, event_type=EventType.SESSION_STARTED, key="CS-1", payload={}
    )
    assert latest(session) is None


def _session_event(event_type: str) -> DomainEvent:
    return DomainEvent(
        topic=Topic.SESSIONS,
        event_type=event_type,
        key="CS-1",
        payload={"station_id": "CS-1", "transaction_id": "7"},
    )


OPEN = Transaction(
    transaction_id=7,
    evse_id=1,
    connector_id=1,
    id_token="TAG",
    started=True,
    started_at=T0,
    meter_start_wh=1000.0,
    energy_register_wh=1800.0,
    energy_register_at=T0,
    announced=True,
)


def test_an_open_session_is_written_as_it_stands_once_per_step() -> None:
    events = [_session_event(EventType.SESSION_STARTED), _session_event(EventType.SESSION_UPDATED)]
    out = with_read_models(
        events, lambda station, tx: OPEN if (station, tx) == ("CS-1", "7") else None
    )
    assert out[:2] == events
    [snapshot] = out[2:]
    assert (snapshot.topic, snapshot.key, snapshot.tombstone) == (
        Topic.SESSIONS_OPEN,
        "CS-1/7",
        False,
    )
    written = Envelope(
        event_type=snapshot.event_type, schema_version=1, key=snapshot.key, payload=snapshot.payload
    )
    parsed = SessionOpen.parse(decode(encode(written)))
    assert parsed is not None
    assert (parsed.started.id_token, parsed.started.meter_start_wh) == ("TAG", 1000.0)
    assert parsed.updated is not None
    assert parsed.updated.energy_wh == 800.0


def test_an_ended_session_leaves_the_open_topic_with_a_tombstone() -> None:
    ended = replace(OPEN, ended=True, end_announced=True)
    events = [_session_event(EventType.SESSION_UPDATED), _session_event(EventType.SESSION_ENDED)]
    [*_, tombstone] = with_read_models(events, lambda *_: ended)
    assert (tombstone.topic, tombstone.key, tombstone.tombstone) == (
        Topic.SESSIONS_OPEN,
        "CS-1/7",
        True,
    )


def test_nothing_is_added_for_steps_without_events_or_unknown_transactions() -> None:
    assert with_read_models([], lambda *_: OPEN) == []
    events = [_session_event(EventType.SESSION_STARTED)]
    assert with_read_models(events, lambda *_: None) == events
