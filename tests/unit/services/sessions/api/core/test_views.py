"""The API's read models: presence (newest wins, stale disconnects), stations, sessions, tokens."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from contracts.envelope import Envelope
from contracts.events import EventType
from contracts.payloads.sessions import session_id
from contracts.payloads.tokens import Token
from ocppj.versions import OcppVersion
from services.sessions.api.core.errors import InvalidToken
from services.sessions.api.core.sessions import SessionsView
from services.sessions.api.core.stations import StationsView
from services.sessions.api.core.tokens import (
    TokensView,
    check_id_token,
    parse_definition,
    token_json,
)

T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def envelope(event_type: str, key: str, occurred_s: float = 0, **payload: Any) -> Envelope:
    return Envelope(
        event_type=event_type,
        schema_version=1,
        key=key,
        payload=payload,
        occurred_at=at(occurred_s),
    )


# -- stations -----------------------------------------------------------------------------------


def test_stations_boot_status_and_online() -> None:
    view = StationsView()
    boot = envelope(
        EventType.STATION_BOOTED,
        "CS-1",
        station_id="CS-1",
        vendor="V",
        model="M",
        serial_number="S",
        firmware_version="1.0",
        ocpp_version="2.0.1",
        boot_status="Accepted",
    )
    assert view.apply(boot)
    status = {"station_id": "CS-1", "evse_id": 1, "connector_id": 1, "error_code": None}
    view.apply(envelope(EventType.STATION_STATUS_CHANGED, "CS-1", 1, **status, status="Available"))
    view.apply(
        envelope(EventType.STATION_STATUS_CHANGED, "CS-1", 2, **status, status="Charging", at=at(2))
    )
    view.apply(
        envelope(
            EventType.STATION_STATUS_CHANGED,
            "CS-1",
            3,
            **{**status, "evse_id": 2},
            status="Faulted",
        )
    )
    assert not view.apply(envelope(EventType.STATION_STATUS_CHANGED, "CS-1", station_id="CS-1"))
    assert view.apply(envelope(EventType.STATION_OFFLINE, "CS-1", 4, station_id="CS-1", at=at(4)))
    record = view.get("CS-1")
    assert record is not None
    assert record.ocpp_version is OcppVersion.V201
    assert record.online is False
    document = record.to_json()
    assert document["boot"]["vendor"] == "V"
    assert [(c["evse_id"], c["status"]) for c in document["connectors"]] == [
        (1, "Charging"),
        (2, "Faulted"),
    ]
    assert document["connectors"][0]["at"] == "2026-11-25T08:00:02.000Z"
    assert not view.apply(envelope(EventType.SESSION_STARTED, "CS-1"))
    view.remove("CS-1")
    assert "CS-1" not in view


# -- sessions -----------------------------------------------------------------------------------


def started(transaction_id: str, t: float = 0, station_id: str = "CS-1") -> Envelope:
    return envelope(
        EventType.SESSION_STARTED,
        station_id,
        t,
        session_id=session_id(station_id, transaction_id),
        station_id=station_id,
        transaction_id=transaction_id,
        evse_id=1,
        connector_id=1,
        id_token="TAG",
        meter_start_wh=1000,
        started_at=at(t),
    )


def ended(transaction_id: str, t: float, station_id: str = "CS-1") -> Envelope:
    return envelope(
        EventType.SESSION_ENDED,
        station_id,
        t,
        session_id=session_id(station_id, transaction_id),
        station_id=station_id,
        transaction_id=transaction_id,
        energy_wh=5000,
        duration_s=t,
        id_token="TAG",
        stop_reason="Local",
        ended_at=at(t),
    )


def test_a_session_opens_updates_and_ends() -> None:
    view = SessionsView(recent=10)
    assert view.apply(started("7"))
    update = envelope(
        EventType.SESSION_UPDATED,
        "CS-1",
        60,
        session_id="CS-1/7",
        station_id="CS-1",
        transaction_id="7",
        energy_wh=1200,
        power_w=7400,
        current_a=32.0,
        soc_percent=None,
        at=at(60),
    )
    assert view.apply(update)
    session = view.get("CS-1/7")
    assert session is not None
    assert session.to_json()["status"] == "open"
    assert (session.energy_wh, session.power_w, session.soc_percent) == (1200, 7400, None)
    assert view.apply(ended("7", 120))
    document = session.to_json()
    assert document["status"] == "ended"
    assert document["energy_wh"] == 5000
    assert document["stop_reason"] == "Local"
    assert document["ended_at"] == "2026-11-25T08:02:00.000Z"
    assert not view.apply(started("7"))  # a duplicate of an ended session changes nothing
    assert not view.apply(update)
    assert view.open_count == 0


def test_a_token_joined_after_the_start_shows_from_the_end() -> None:
    """A remote start answered after its Started (docs/sessions.md, "Remote starts")."""
    view = SessionsView()
    no_token = replace(started("8"), payload={**started("8").payload, "id_token": None})
    view.apply(no_token)
    session = view.get("CS-1/8")
    assert session is not None
    assert session.to_json()["id_token"] is None
    end = ended("8", 60)
    joined = {"id_token": "APP-1", "id_token_type": "Central", "id_token_source": "RemoteStart"}
    view.apply(replace(end, payload={**end.payload, **joined}))
    document = session.to_json()
    assert (document["id_token"], document["id_token_type"], document["id_token_source"]) == (
        "APP-1",
        "Central",
        "RemoteStart",
    )


def test_ended_sessions_are_bounded_open_ones_are_not() -> None:
    view = SessionsView(recent=2)
    for n in range(5):
        view.apply(started(str(n), t=n))
    for n in range(4):
        view.apply(ended(str(n), t=10 + n))
    assert view.open_count == 1
    assert sorted(s.transaction_id for s in view) == ["2", "3", "4"]
    assert view.get("CS-1/0") is None


def test_a_session_seen_only_from_its_end_is_kept() -> None:
    view = SessionsView()
    assert view.apply(ended("9", 30))
    session = view.get("CS-1/9")
    assert session is not None
    assert session.started_at is None
    assert session.id_token == "TAG"
    assert session.sort_time == at(30)


def test_integer_transaction_ids_and_foreign_records() -> None:
    view = SessionsView()
    record = envelope(EventType.SESSION_STARTED, "CS-1", station_id="CS-1", transaction_id=12)
    assert view.apply(record)
    assert view.get("CS-1/12") is not None
    assert not view.apply(envelope(EventType.SESSION_STARTED, "CS-1", transaction_id=None))
    assert not view.apply(envelope(EventType.CDR_ISSUED, "CS-1", transaction_id="1"))
    assert not view.apply(envelope(EventType.CDR_ISSUED, "CS-1", transaction_id="12"))


# -- tokens -------------------------------------------------------------------------------------


def token_envelope(id_token: str, **payload: Any) -> Envelope:
    return envelope(EventType.TOKEN_DEFINED, id_token, id_token=id_token, **payload)


def test_tokens_are_defined_replaced_and_deleted() -> None:
    view = TokensView()
    assert view.apply(token_envelope("A", type="ISO14443", status="Accepted", expires_at=None))
    assert view.apply(
        token_envelope("A", type="ISO14443", status="Blocked", expires_at=at(9), group_id="G")
    )
    token = view.get("A")
    assert token is not None
    assert (token.status, token.expires_at, token.group_id) == ("Blocked", at(9), "G")
    assert view.type_of("A") == "ISO14443"
    assert view.type_of("B") is None
    view.remove("A")  # tombstone
    assert "A" not in view
    assert not view.apply(token_envelope("C", status="Accepted"))  # no type
    assert not view.apply(token_envelope("C", type="Local", status="Maybe"))
    assert not view.apply(token_envelope("C", type="Local", status="Accepted", expires_at="soon"))
    other_key = envelope(
        EventType.TOKEN_DEFINED, "C", id_token="D", type="Local", status="Accepted"
    )
    assert not view.apply(other_key)  # a tombstone of key C would not delete it
    assert "C" not in view
    assert "D" not in view
    assert not view.apply(envelope(EventType.CREDENTIAL_SET, "D"))
    # A refused record deletes the key's token, as the sessions worker does: both say Invalid.
    assert view.apply(token_envelope("E", type="Local", status="Accepted"))
    assert not view.apply(token_envelope("E", type="Local", status="Maybe"))
    assert "E" not in view


def test_a_token_definition_round_trips_as_an_envelope() -> None:
    token = parse_definition(
        "04A2B3C4",
        {"type": "ISO14443", "status": "Accepted", "expires_at": "2027-01-01T01:00:00+01:00"},
    )
    assert token == Token(
        id_token="04A2B3C4",
        type="ISO14443",
        status="Accepted",
        expires_at=datetime(2027, 1, 1, tzinfo=UTC),
        group_id=None,
    )
    view = TokensView()
    assert view.apply(token.envelope())
    assert view.get("04A2B3C4") == token
    assert token_json(token)["expires_at"] == "2027-01-01T00:00:00.000Z"


@pytest.mark.parametrize(
    ("id_token", "body", "message"),
    [
        ("A", [], "the body must be a JSON object"),
        ("A", {"status": "Accepted"}, "type is required"),
        ("A", {"type": "RFID", "status": "Accepted"}, "type must be one of"),
        ("A", {"type": "Local", "status": "Maybe"}, "status must be one of"),
        ("A", {"type": "Local", "status": "Accepted", "expires_at": "soon"}, "RFC 3339"),
        ("A", {"type": "Local", "status": "Accepted", "group_id": "G" * 37}, "at most 36"),
        ("A", {"type": "Local", "status": "Accepted", "colour": "red"}, "unknown field colour"),
        ("A", {"type": "Local", "status": "Accepted", "id_token": "B"}, "differs from"),
        ("has space", {"type": "Local", "status": "Accepted"}, "printable ASCII"),
        ("X" * 37, {"type": "Local", "status": "Accepted"}, "1-36"),
    ],
)
def test_invalid_token_definitions(id_token: str, body: object, message: str) -> None:
    with pytest.raises(InvalidToken) as refused:
        parse_definition(id_token, body)
    assert message in str(refused.value)


def test_check_id_token() -> None:
    assert check_id_token("04A2B3C4") == "04A2B3C4"
    with pytest.raises(InvalidToken):
        check_id_token("")


def test_a_closed_session_is_corrected_once_by_the_stations_own_end() -> None:
    view = SessionsView()
    view.apply(started("8"))
    closed = ended("8", 30)
    closed = replace(
        closed,
        payload={**closed.payload, "stop_reason": "ClosedByCsms", "closed_by_csms": "Rebooted"},
    )
    assert view.apply(closed)
    session = view.get("CS-1/8")
    assert session is not None
    assert (session.to_json()["closed_by_csms"], session.corrected) == ("Rebooted", False)
    own = ended("8", 45)
    correction = replace(
        own,
        event_type=EventType.SESSION_CORRECTED,
        payload={
            **own.payload,
            "energy_wh": 6100,
            "stop_reason": "PowerLoss",
            "closed_by_csms": "Rebooted",
        },
    )
    assert view.apply(correction)
    document = session.to_json()
    assert (document["energy_wh"], document["stop_reason"], document["corrected"]) == (
        6100,
        "PowerLoss",
        True,
    )
    assert document["ended_at"] == "2026-11-25T08:00:45.000Z"
    assert not view.apply(correction)  # once


def test_an_open_session_read_from_its_snapshot_and_forgotten_by_a_tombstone() -> None:
    view = SessionsView()
    snapshot = envelope(
        EventType.SESSION_OPEN,
        "CS-1/9",
        10,
        session_id="CS-1/9",
        station_id="CS-1",
        transaction_id="9",
        evse_id=1,
        connector_id=1,
        id_token="TAG",
        meter_start_wh=1000,
        started_at=at(0),
        energy_wh=700,
        power_w=None,
        current_a=None,
        soc_percent=None,
        updated_at=at(10),
    )
    assert view.apply(snapshot)
    session = view.get("CS-1/9")
    assert session is not None
    assert (session.id_token, session.energy_wh, session.open) == ("TAG", 700, True)
    assert view.forget_open("CS-1/9")
    assert view.get("CS-1/9") is None
    assert not view.forget_open("CS-1/9")
