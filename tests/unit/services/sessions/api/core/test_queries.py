"""services.sessions.api.core.queries: filters, paging and strict query strings over the views."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from contracts.envelope import Envelope
from contracts.events import EventType
from contracts.http_api import Query
from contracts.payloads.presence import PresenceView
from services.sessions.api.core.errors import InvalidRequest
from services.sessions.api.core.queries import (
    list_sessions,
    list_stations,
    list_tokens,
    station_document,
)
from services.sessions.api.core.sessions import SessionsView
from services.sessions.api.core.stations import StationsView
from services.sessions.api.core.tokens import TokensView, parse_definition

T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


def record(event_type: str, key: str, t: float = 0, **payload: Any) -> Envelope:
    return Envelope(
        event_type=event_type,
        schema_version=1,
        key=key,
        payload=payload,
        occurred_at=T0 + timedelta(seconds=t),
    )


@pytest.fixture
def fleet() -> tuple[PresenceView, StationsView]:
    presence, stations = PresenceView(), StationsView()
    for n, station_id in enumerate(("CS-1", "CS-2", "CS-3")):
        presence.apply(
            record(
                EventType.STATION_CONNECTED,
                station_id,
                station_id=station_id,
                connection_id=f"c{n}",
                gateway=1,
                gateway_boot="b",
                ocpp_version="ocpp2.0.1",
                connected_at=T0,
            )
        )
    presence.apply(
        record(
            EventType.STATION_DISCONNECTED,
            "CS-2",
            1,
            station_id="CS-2",
            connection_id="c1",
            gateway=1,
            gateway_boot="b",
        )
    )
    stations.apply(
        record(EventType.STATION_BOOTED, "CS-9", station_id="CS-9", ocpp_version="ocpp1.6")
    )
    return presence, stations


def test_stations_are_listed_filtered_and_paged(fleet: tuple[PresenceView, StationsView]) -> None:
    presence, stations = fleet
    everything = list_stations(Query({}), presence, stations)
    assert [s["station_id"] for s in everything["items"]] == ["CS-1", "CS-2", "CS-3", "CS-9"]
    assert everything["total"] == 4
    online = list_stations(Query({"online": "true"}), presence, stations)
    assert [s["station_id"] for s in online["items"]] == ["CS-1", "CS-3"]
    page = list_stations(
        Query({"online": "false", "limit": "1", "offset": "1"}), presence, stations
    )
    assert [s["station_id"] for s in page["items"]] == ["CS-9"]
    assert (page["total"], page["limit"], page["offset"]) == (2, 1, 1)


def test_a_station_document_merges_presence_and_boot(
    fleet: tuple[PresenceView, StationsView],
) -> None:
    presence, stations = fleet
    booted_only = station_document("CS-9", presence, stations)
    assert booted_only is not None
    assert booted_only["online"] is False
    assert booted_only["ocpp_version"] == "ocpp1.6"
    assert booted_only["presence"] is None
    connected = station_document("CS-1", presence, stations)
    assert connected is not None
    assert connected["presence"]["gateway"] == 1
    assert connected["boot"] is None
    assert connected["connectors"] == []
    assert station_document("CS-404", presence, stations) is None


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"online": "yes"}, "online must be true or false"),
        ({"limit": "0"}, "limit must be an integer from 1 to 1000"),
        ({"limit": "ten"}, "limit must be an integer"),
        ({"offset": "-1"}, "offset must be an integer from 0"),
        ({"colour": "red"}, "unknown query parameter colour; expected limit, offset, online"),
    ],
)
def test_bad_station_queries(
    fleet: tuple[PresenceView, StationsView], query: dict[str, str], message: str
) -> None:
    with pytest.raises(InvalidRequest) as refused:
        list_stations(Query(query), *fleet)
    assert message in str(refused.value)


@pytest.fixture
def sessions() -> SessionsView:
    view = SessionsView()
    for n, (station_id, token) in enumerate((("CS-1", "A"), ("CS-1", "B"), ("CS-2", "A"))):
        view.apply(
            record(
                EventType.SESSION_STARTED,
                station_id,
                n * 60,
                station_id=station_id,
                transaction_id=str(n),
                id_token=token,
                started_at=T0 + timedelta(minutes=n),
            )
        )
    view.apply(record(EventType.SESSION_ENDED, "CS-1", 500, station_id="CS-1", transaction_id="0"))
    return view


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, ["CS-2/2", "CS-1/1", "CS-1/0"]),  # newest first
        ({"station_id": "CS-1"}, ["CS-1/1", "CS-1/0"]),
        ({"id_token": "A"}, ["CS-2/2", "CS-1/0"]),
        ({"status": "open"}, ["CS-2/2", "CS-1/1"]),
        ({"status": "ended"}, ["CS-1/0"]),
        ({"from": "2026-11-25T08:01:00Z"}, ["CS-2/2", "CS-1/1"]),
        ({"to": "2026-11-25T09:01:00+01:00"}, ["CS-1/0"]),
        ({"limit": "1", "offset": "2"}, ["CS-1/0"]),
    ],
)
def test_sessions_are_filtered(
    sessions: SessionsView, query: dict[str, str], expected: list[str]
) -> None:
    answer = list_sessions(Query(query), sessions)
    assert [s["session_id"] for s in answer["items"]] == expected


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"status": "closed"}, "status must be one of ended, open"),
        ({"from": "2026-11-25T08:01:00"}, "from must be an RFC 3339 date-time with a zone"),
        ({"station_id": ""}, "station_id must not be empty"),
    ],
)
def test_bad_session_queries(sessions: SessionsView, query: dict[str, str], message: str) -> None:
    with pytest.raises(InvalidRequest) as refused:
        list_sessions(Query(query), sessions)
    assert message in str(refused.value)


def test_tokens_are_filtered() -> None:
    view = TokensView()
    for id_token, status, group in (
        ("A", "Accepted", "G"),
        ("B", "Blocked", "G"),
        ("C", "Accepted", None),
    ):
        body = {"type": "ISO14443", "status": status, "group_id": group}
        view.apply(parse_definition(id_token, body).envelope())
    assert [t["id_token"] for t in list_tokens(Query({}), view)["items"]] == ["A", "B", "C"]
    accepted = list_tokens(Query({"status": "Accepted"}), view)["items"]
    assert [t["id_token"] for t in accepted] == ["A", "C"]
    grouped = list_tokens(Query({"group_id": "G", "status": "Blocked"}), view)["items"]
    assert [t["id_token"] for t in grouped] == ["B"]
    with pytest.raises(InvalidRequest):
        list_tokens(Query({"status": "Lost"}), view)
