"""The API's read models: presence (newest wins, stale disconnects), stations, sessions, tokens."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from contracts.envelope import Envelope
from contracts.events import EventType
from ocppj.versions import OcppVersion
from services.sessions.api.errors import InvalidToken
from services.sessions.api.presence import PresenceView
from services.sessions.api.sessions import SessionsView, session_id_of
from services.sessions.api.stations import StationsView
from services.sessions.api.tokens import Token, TokensView, check_id_token, parse_definition

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


def connected(
    connection_id: str,
    *,
    gateway: int = 3,
    boot: str = "b1",
    t: float = 0,
    version: str = "ocpp1.6",
) -> Envelope:
    return envelope(
        EventType.STATION_CONNECTED,
        "CS-1",
        t,
        station_id="CS-1",
        ocpp_version=version,
        connection_id=connection_id,
        gateway=gateway,
        gateway_boot=boot,
        connected_at=at(t),
        state="connected",
    )


def disconnected(
    connection_id: str, *, gateway: int = 3, boot: str = "b1", t: float = 0
) -> Envelope:
    return envelope(
        EventType.STATION_DISCONNECTED,
        "CS-1",
        t,
        station_id="CS-1",
        ocpp_version="ocpp1.6",
        connection_id=connection_id,
        gateway=gateway,
        gateway_boot=boot,
        connected_at=at(0),
        disconnected_at=at(t),
        reason="1000",
        state="disconnected",
    )


# -- presence -----------------------------------------------------------------------------------


def test_connect_and_disconnect() -> None:
    view = PresenceView()
    assert view.apply(connected("A"))
    entry = view.get("CS-1")
    assert entry is not None
    assert (entry.gateway, entry.connection_id, entry.ocpp_version) == (3, "A", OcppVersion.V16)
    assert view.online("CS-1")
    assert view.apply(disconnected("A", t=5))
    assert not view.online("CS-1")
    assert view.get("CS-1") is not None  # still known: its last connection is remembered


def test_a_late_disconnect_of_an_older_connection_is_ignored() -> None:
    view = PresenceView()
    view.apply(connected("A", gateway=3, t=0))
    view.apply(connected("B", gateway=5, boot="c1", t=10))
    assert not view.apply(disconnected("A", gateway=3, t=11))
    entry = view.get("CS-1")
    assert entry is not None
    assert (entry.gateway, entry.connection_id) == (5, "B")
    assert view.online("CS-1")


def test_the_newest_connection_wins() -> None:
    view = PresenceView()
    view.apply(connected("B", gateway=5, boot="c1", t=10))
    assert not view.apply(connected("A", gateway=3, t=0))  # an older socket's record
    entry = view.get("CS-1")
    assert entry is not None
    assert entry.connection_id == "B"
    view.apply(connected("B", gateway=5, boot="c1", t=20))  # re-assertion of the live one
    assert view.online("CS-1")


def test_a_reconnect_after_a_disconnect_applies() -> None:
    view = PresenceView()
    view.apply(connected("B", t=10))
    view.apply(disconnected("B", t=11))
    assert view.apply(connected("C", t=5))  # the current one is not connected: any connect wins
    assert view.online("CS-1")


def test_an_entry_of_an_older_gateway_boot_is_offline() -> None:
    view = PresenceView()
    view.apply(connected("A", gateway=3, boot="old", t=0))
    other = envelope(
        EventType.STATION_CONNECTED,
        "CS-2",
        60,
        station_id="CS-2",
        connection_id="Z",
        gateway=3,
        gateway_boot="new",
        connected_at=at(60),
    )
    view.apply(other)
    assert not view.online("CS-1")  # gateway 3 restarted: nobody holds CS-1's old socket
    assert view.online("CS-2")


def test_a_disconnect_for_an_unknown_station_records_it_offline() -> None:
    view = PresenceView()
    assert view.apply(disconnected("A", t=3))
    assert "CS-1" in view
    assert not view.online("CS-1")


def test_presence_records_without_routing_data_are_ignored() -> None:
    view = PresenceView()
    assert not view.apply(envelope(EventType.STATION_CONNECTED, "CS-1", station_id="CS-1"))
    assert not view.apply(envelope(EventType.CREDENTIAL_SET, "CS-1", connection_id="A", gateway=1))
    view.apply(connected("A"))
    view.remove("CS-1")
    assert "CS-1" not in view


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
        session_id=session_id_of(station_id, transaction_id),
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
        session_id=session_id_of(station_id, transaction_id),
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
    assert not view.apply(envelope(EventType.CREDENTIAL_SET, "D"))


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
    assert token.to_json()["expires_at"] == "2027-01-01T00:00:00.000Z"


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
