"""Remote starts: a remotely started session gets the token we sent, in either order."""

from typing import Any

import pytest

from contracts.events import EventType
from services.sessions.core.remote_start import MAX_PENDING, PENDING_FOR
from tests.unit.services.sessions.core.station import V16, V201, Station, at, kinds, ts
from tests.unit.services.sessions.core.test_transaction_events import ENDED, event

APP = {"idToken": "app-user-77", "type": "Central"}
REQUEST = {"idToken": APP, "remoteStartId": 41, "evseId": 1}
ACCEPTED = {"status": "Accepted"}


def booted(version: Any) -> Station:
    station = Station(version=version)
    station.boot()
    return station


def started(*, remote_start_id: int | None = 41, **extra: Any) -> dict[str, Any]:
    """TransactionEvent(Started) of a remote start: F01 sends remoteStartId, maybe no idToken."""
    info: dict[str, Any] = {"chargingState": "EVConnected"}
    if remote_start_id is not None:
        info["remoteStartId"] = remote_start_id
    return (
        event(
            "Started",
            0,
            10,
            info=info,
            evse={"id": 1, "connectorId": 1},
            triggerReason="RemoteStart",
        )
        | extra
    )


def test_201_answer_first_then_a_started_without_token_takes_the_requested_token() -> None:
    station = booted(V201)
    waiting = station.answer("RequestStartTransaction", REQUEST, ACCEPTED)
    assert waiting.events == []
    assert [r.remote_start_id for r in waiting.state.remote_starts] == [41]
    step = station.call("TransactionEvent", started())
    [session_started] = step.events
    assert session_started.event_type == EventType.SESSION_STARTED
    assert session_started.payload["id_token"] == "app-user-77"
    assert session_started.payload["id_token_type"] == "Central"
    assert session_started.payload["id_token_source"] == "RemoteStart"
    assert step.state.remote_starts == ()  # taken
    ended = station.call("TransactionEvent", ENDED)
    assert ended.events[-1].payload["id_token"] == "app-user-77"
    assert ended.events[-1].payload["id_token_source"] == "RemoteStart"


def test_201_started_first_then_the_answer_joins_and_writes_an_update() -> None:
    station = booted(V201)
    first = station.call("TransactionEvent", started())
    assert first.events[0].payload["id_token"] is None  # not known yet
    assert first.events[0].payload["id_token_source"] is None
    joined = station.answer("RequestStartTransaction", REQUEST, ACCEPTED)
    assert kinds(joined.events) == [EventType.SESSION_UPDATED]  # sessions.open.v1 follows it
    assert joined.state.remote_starts == ()  # nothing left waiting
    [t] = joined.state.transactions
    assert (t.id_token, t.id_token_type, t.id_token_source) == (
        "app-user-77",
        "Central",
        "RemoteStart",
    )
    ended = station.call("TransactionEvent", ENDED)
    assert ended.events[-1].payload["id_token"] == "app-user-77"


def test_201_the_responses_transaction_id_joins_a_transaction_that_already_ran() -> None:
    """F01: "transactionId: When a transaction was already started by the Charging Station
    before the RequestStartTransactionRequest was received, for example: cable plugged in
    first." """
    station = booted(V201)
    station.call("TransactionEvent", started(remote_start_id=None))
    joined = station.answer(
        "RequestStartTransaction", REQUEST, ACCEPTED | {"transactionId": "tx-1"}
    )
    [t] = joined.state.transactions
    assert (t.id_token, t.id_token_source) == ("app-user-77", "RemoteStart")


@pytest.mark.parametrize(
    ("token", "source", "anomalies"),
    [
        ({"idToken": "APP-USER-77", "type": "Central"}, "RemoteStart", []),  # case-insensitive
        ({"idToken": "04A2B3C4", "type": "ISO14443"}, "Station", ["RemoteStartMismatch"]),
    ],
)
def test_201_a_started_with_its_own_token_keeps_it_and_a_different_one_is_reported(
    token: dict[str, str], source: str, anomalies: list[str]
) -> None:
    station = booted(V201)
    station.answer("RequestStartTransaction", REQUEST, ACCEPTED)
    step = station.call("TransactionEvent", started(idToken=token))
    reasons = [e.payload["reason"] for e in step.events if e.event_type == "AnomalyDetected"]
    assert reasons == anomalies
    session_started = next(e for e in step.events if e.event_type == "SessionStarted")
    assert session_started.payload["id_token"] == token["idToken"]  # the station's, always
    assert session_started.payload["id_token_source"] == source
    assert step.state.remote_starts == ()


@pytest.mark.parametrize(
    ("response", "request_"),
    [
        ({"status": "Rejected"}, REQUEST),
        (None, REQUEST),  # a CALLERROR
        (ACCEPTED, {"remoteStartId": 41}),  # no token: nothing to join
    ],
)
def test_201_only_an_accepted_remote_start_with_a_token_waits(
    response: dict[str, Any] | None, request_: dict[str, Any]
) -> None:
    station = booted(V201)
    step = station.answer("RequestStartTransaction", request_, response)
    assert (step.state.remote_starts, step.events) == ((), [])
    later = station.call("TransactionEvent", started())
    assert later.events[0].payload["id_token"] is None


def test_a_remote_start_waits_at_most_pending_for() -> None:
    station = booted(V201)
    station.answer("RequestStartTransaction", REQUEST, ACCEPTED)
    station.tick(PENDING_FOR.total_seconds() + 1)
    step = station.call("TransactionEvent", started())
    assert step.events[0].payload["id_token"] is None
    assert step.state.remote_starts == ()  # dropped when looked at


def test_a_station_keeps_at_most_max_pending_remote_starts() -> None:
    station = booted(V201)
    for remote_start_id in range(MAX_PENDING + 3):
        request = REQUEST | {"remoteStartId": remote_start_id}
        step = station.answer("RequestStartTransaction", request, ACCEPTED)
    assert [r.remote_start_id for r in step.state.remote_starts] == list(range(3, MAX_PENDING + 3))


# --- 1.6: StartTransaction carries the idTag itself; it must be the remote start's


def start_16(station: Station, connector_id: int, id_tag: str, t: float = 20) -> Any:
    payload = {"connectorId": connector_id, "idTag": id_tag, "meterStart": 0, "timestamp": ts(t)}
    return station.call("StartTransaction", payload)


def test_16_a_start_with_the_remote_starts_idtag_is_the_remote_start() -> None:
    station = booted(V16)
    station.answer("RemoteStartTransaction", {"connectorId": 1, "idTag": "APP77"}, ACCEPTED)
    step = start_16(station, 1, "app77")
    [session_started] = step.events
    assert session_started.payload["id_token"] == "app77"  # what the station sent
    assert session_started.payload["id_token_source"] == "RemoteStart"
    assert step.state.remote_starts == ()


def test_16_a_start_on_the_remote_starts_connector_with_another_idtag_is_reported() -> None:
    station = booted(V16)
    station.answer("RemoteStartTransaction", {"connectorId": 1, "idTag": "APP77"}, ACCEPTED)
    step = start_16(station, 1, "CARD01")
    assert kinds(step.events) == [EventType.ANOMALY_DETECTED, EventType.SESSION_STARTED]
    assert step.events[0].payload["reason"] == "RemoteStartMismatch"
    assert "'CARD01'" in step.events[0].payload["detail"]
    assert step.events[1].payload["id_token_source"] == "Station"
    assert step.state.remote_starts == ()


def test_16_a_remote_start_for_any_connector_waits_through_another_drivers_start() -> None:
    station = booted(V16)
    station.answer("RemoteStartTransaction", {"idTag": "APP77"}, ACCEPTED)
    other = start_16(station, 2, "CARD01")
    assert kinds(other.events) == [EventType.SESSION_STARTED]  # not a mismatch: another driver
    assert other.events[0].payload["id_token_source"] == "Station"
    assert len(other.state.remote_starts) == 1
    mine = start_16(station, 1, "APP77", t=30)
    assert mine.events[0].payload["id_token_source"] == "RemoteStart"


def test_16_start_first_then_the_answer_marks_the_source() -> None:
    station = booted(V16)
    start_16(station, 1, "APP77")
    joined = station.answer(
        "RemoteStartTransaction", {"connectorId": 1, "idTag": "APP77"}, ACCEPTED
    )
    assert kinds(joined.events) == [EventType.SESSION_UPDATED]
    [t] = joined.state.transactions
    assert t.id_token_source == "RemoteStart"
    stopped = station.call(
        "StopTransaction", {"transactionId": 100, "meterStop": 500, "timestamp": ts(60)}
    )
    assert stopped.events[-1].payload["id_token_source"] == "RemoteStart"


def test_the_remote_start_survives_a_restart_of_the_worker() -> None:
    """Station._run round-trips every state through msgpack; here the waiting one matters."""
    station = booted(V201)
    station.answer("RequestStartTransaction", REQUEST, ACCEPTED)
    assert station.state is not None
    [waiting] = station.state.remote_starts
    assert (waiting.id_token, waiting.evse_id, waiting.at) == ("app-user-77", 1, at(0))
