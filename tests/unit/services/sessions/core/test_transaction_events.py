"""OCPP 2.0.1 sessions: TransactionEvent Started/Updated/Ended, in order and out of order."""

from dataclasses import replace
from typing import Any

import pytest

from contracts.events import DomainEvent, EventType
from contracts.payloads.ocpp import Reply, ReplyError
from contracts.payloads.tokens import Token
from contracts.topics import Topic
from tests.unit.services.sessions.core.station import STATION_ID, V201, Station, at, kinds, ts

TOKEN = {"idToken": "04A2B3C4D5", "type": "ISO14443"}
TOKENS = {"04A2B3C4D5": Token(id_token="04A2B3C4D5", type="ISO14443", status="Accepted")}
SESSION = {"session_id": f"{STATION_ID}/tx-1", "station_id": STATION_ID, "transaction_id": "tx-1"}


def booted() -> Station:
    station = Station(version=V201, tokens=dict(TOKENS))
    station.boot()
    return station


def energy(t: float, wh: float, context: str = "Sample.Periodic", **extra: Any) -> dict[str, Any]:
    sample = {"value": wh, "context": context, "measurand": "Energy.Active.Import.Register"}
    return {"timestamp": ts(t), "sampledValue": [sample | extra]}


def event(
    event_type: str,
    seq_no: int,
    t: float,
    *,
    transaction_id: str = "tx-1",
    meter: list[dict[str, Any]] | None = None,
    info: dict[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "eventType": event_type,
        "timestamp": ts(t),
        "triggerReason": "MeterValuePeriodic",
        "seqNo": seq_no,
        "transactionInfo": {"transactionId": transaction_id} | (info or {}),
    }
    if meter is not None:
        payload["meterValue"] = meter
    return payload | extra


STARTED = event(
    "Started",
    0,
    10,
    meter=[energy(10, 1000, "Transaction.Begin")],
    info={"chargingState": "EVConnected", "remoteStartId": 7},
    evse={"id": 1, "connectorId": 1},
    idToken=TOKEN,
    triggerReason="Authorized",
    reservationId=3,
)
UPDATED = event(
    "Updated",
    1,
    70,
    meter=[
        {
            "timestamp": ts(70),
            "sampledValue": [
                {"value": 2, "unitOfMeasure": {"unit": "kWh"}},
                {"value": 11, "measurand": "Power.Active.Import", "unitOfMeasure": {"unit": "kW"}},
                {"value": 160, "measurand": "Current.Import", "unitOfMeasure": {"multiplier": -1}},
                {"value": 55, "measurand": "SoC"},
            ],
        }
    ],
    info={"chargingState": "Charging"},
)
ENDED = event(
    "Ended",
    2,
    610,
    meter=[energy(610, 3500, "Transaction.End")],
    info={"stoppedReason": "EVDisconnected"},
    triggerReason="EVCommunicationLost",
)
STARTED_EVENT = DomainEvent(
    topic=Topic.SESSIONS,
    event_type=EventType.SESSION_STARTED,
    key=STATION_ID,
    payload=SESSION
    | {
        "ocpp_version": "ocpp2.0.1",
        "reservation_id": 3,  # none of ours: no reserved_at
        "reserved_at": None,
        "evse_id": 1,
        "connector_id": 1,
        "id_token": "04A2B3C4D5",
        "id_token_type": "ISO14443",
        "id_token_source": "Station",
        "charging_state": "EVConnected",
        "meter_start_wh": 1000.0,
        "started_at": at(10),
    },
)
UPDATED_EVENT = DomainEvent(
    topic=Topic.SESSIONS,
    event_type=EventType.SESSION_UPDATED,
    key=STATION_ID,
    payload=SESSION
    | {
        "evse_id": 1,
        "connector_id": 1,
        "energy_wh": 1000.0,
        "power_w": 11000.0,
        "current_a": 16.0,
        "current_total_a": 16.0,
        "soc_percent": 55.0,
        "charging_state": "Charging",
        "at": at(70),
    },
)
ENDED_EVENT = DomainEvent(
    topic=Topic.SESSIONS,
    event_type=EventType.SESSION_ENDED,
    key=STATION_ID,
    payload=SESSION
    | {
        "energy_wh": 2500.0,
        "duration_s": 600.0,
        "id_token": "04A2B3C4D5",
        "id_token_type": "ISO14443",
        "id_token_source": "Station",
        "stop_reason": "EVDisconnected",
        "ended_at": at(610),
    },
)


def offline(payload: dict[str, Any]) -> dict[str, Any]:
    return payload | {"offline": True}


def test_a_whole_201_session() -> None:
    station = booted()
    status = station.call(
        "StatusNotification",
        {"timestamp": ts(5), "connectorStatus": "Occupied", "evseId": 1, "connectorId": 1},
    )
    assert status.events[0].payload == {
        "station_id": STATION_ID,
        "evse_id": 1,
        "connector_id": 1,
        "status": "Occupied",
        "error_code": None,
        "at": at(5),
    }
    started = station.call("TransactionEvent", STARTED)
    assert started.reply == Reply({"idTokenInfo": {"status": "Accepted"}})
    assert started.events == [STARTED_EVENT]
    assert not started.used_transaction_id
    updated = station.call("TransactionEvent", UPDATED)
    assert updated.reply == Reply({})
    assert updated.events == [UPDATED_EVENT]
    ended = station.call("TransactionEvent", ENDED)
    assert ended.reply == Reply({})
    assert ended.events == [ENDED_EVENT]
    assert ended.state.transactions == ()
    (transaction,) = ended.state.ended
    assert transaction.remote_start_id == 7
    assert transaction.reservation_id == 3
    assert transaction.charging_state == "Charging"
    assert transaction.seq_nos == ((0, 2),)


@pytest.mark.parametrize("payload", [STARTED, UPDATED, ENDED])
def test_a_repeated_seq_no_is_answered_again_and_writes_nothing(payload: dict[str, Any]) -> None:
    station = booted()
    for message in (STARTED, UPDATED, ENDED):
        station.call("TransactionEvent", message)
    again = station.call("TransactionEvent", payload)
    assert again.reply == Reply(
        {"idTokenInfo": {"status": "Accepted"}} if "idToken" in payload else {}
    )
    assert again.events == []
    assert again.state == station.state


def test_out_of_order_offline_events_give_one_of_each_in_order_with_the_stations_times() -> None:
    station = booted()
    ended = station.call("TransactionEvent", offline(ENDED))
    updated = station.call("TransactionEvent", offline(UPDATED))
    assert ended.events == updated.events == []  # the start is unknown: nothing to state yet
    assert ended.reply == updated.reply == Reply({})
    station.tick(3600)  # arrival times do not count
    started = station.call("TransactionEvent", offline(STARTED))
    updated_late = DomainEvent(
        topic=Topic.SESSIONS,
        event_type=EventType.SESSION_UPDATED,
        key=STATION_ID,
        # the latest values: energy from the Transaction.End reading, the rest from Updated
        payload=UPDATED_EVENT.payload | {"energy_wh": 2500.0, "at": at(610)},
    )
    # SessionStarted carries the charging state known when it is written (Updated's, later)
    started_late = replace(
        STARTED_EVENT, payload=STARTED_EVENT.payload | {"charging_state": "Charging"}
    )
    assert started.events == [started_late, updated_late, ENDED_EVENT]
    assert station.events[1:] == started.events  # after StationBooted
    assert started.state.transactions == ()


def test_updated_before_started_is_written_after_the_start() -> None:
    station = booted()
    assert station.call("TransactionEvent", offline(UPDATED)).events == []
    started = station.call("TransactionEvent", offline(STARTED))
    started_late = replace(
        STARTED_EVENT, payload=STARTED_EVENT.payload | {"charging_state": "Charging"}
    )
    assert started.events == [started_late, UPDATED_EVENT]
    ended = station.call("TransactionEvent", ENDED)
    assert ended.events == [ENDED_EVENT]


def test_ended_before_started_without_updates() -> None:
    station = booted()
    station.call("TransactionEvent", offline(ENDED))
    started = station.call("TransactionEvent", offline(STARTED))
    assert started.events == [STARTED_EVENT, ENDED_EVENT]


def test_gaps_in_seq_no_are_tolerated_and_kept() -> None:
    station = booted()
    station.call("TransactionEvent", STARTED)
    ended = station.call("TransactionEvent", ENDED | {"seqNo": 5})
    assert ended.events == [ENDED_EVENT]
    assert ended.state.ended[0].seq_nos == ((0, 0), (5, 5))


def test_an_ended_transaction_whose_start_never_comes_is_released_by_the_next_start() -> None:
    station = booted()
    station.call("TransactionEvent", offline(ENDED))
    nxt = station.call(
        "TransactionEvent",
        event("Started", 0, 700, transaction_id="tx-2", meter=[energy(700, 3500)]),
    )
    assert kinds(nxt.events) == [
        EventType.ANOMALY_DETECTED,
        EventType.SESSION_STARTED,
        EventType.SESSION_ENDED,
        EventType.SESSION_STARTED,
    ]
    assert nxt.events[0].payload["reason"] == "StartMissing"
    # estimates: the earliest reading (the Transaction.End one) is all there is
    assert nxt.events[1].payload["started_at"] == at(610)
    assert nxt.events[2].payload["energy_wh"] == 0.0
    assert nxt.events[3].payload["transaction_id"] == "tx-2"
    assert nxt.events[3].payload["meter_start_wh"] == 3500.0
    late = station.call("TransactionEvent", offline(STARTED))
    assert kinds(late.events) == [EventType.ANOMALY_DETECTED]
    assert late.events[0].payload["reason"] == "LateStart"


def test_a_start_older_than_a_pending_end_does_not_release_it() -> None:
    station = booted()
    station.call("TransactionEvent", offline(ENDED))
    other = station.call("TransactionEvent", event("Started", 0, 300, transaction_id="tx-2"))
    assert kinds(other.events) == [EventType.SESSION_STARTED]
    started = station.call("TransactionEvent", offline(STARTED))
    assert started.events == [STARTED_EVENT, ENDED_EVENT]


def test_a_started_without_meter_values_takes_the_first_reading_as_the_start() -> None:
    station = booted()
    started = station.call("TransactionEvent", event("Started", 0, 10))
    assert started.events[0].payload["meter_start_wh"] is None
    assert started.events[0].payload["id_token"] is None
    first = station.call("TransactionEvent", event("Updated", 1, 70, meter=[energy(70, 5000)]))
    assert first.events[0].payload["energy_wh"] == 0.0
    ended = station.call("TransactionEvent", event("Ended", 2, 130, meter=[energy(130, 6000)]))
    assert ended.events[0].payload["energy_wh"] == 1000.0
    assert ended.events[0].payload["stop_reason"] == "Local"  # stoppedReason omitted: Local


def test_the_id_token_can_come_after_the_start() -> None:
    station = booted()
    station.call("TransactionEvent", event("Started", 0, 10))
    authorized = station.call(
        "TransactionEvent", event("Updated", 1, 20, idToken=TOKEN, triggerReason="Authorized")
    )
    assert authorized.reply == Reply({"idTokenInfo": {"status": "Accepted"}})
    assert authorized.events == []  # no new readings
    ended = station.call("TransactionEvent", event("Ended", 2, 30))
    assert ended.events[0].payload["id_token"] == "04A2B3C4D5"
    assert ended.events[0].payload["energy_wh"] is None  # no reading at all


def test_unknown_and_no_authorization_tokens() -> None:
    station = booted()
    unknown = station.call(
        "TransactionEvent", STARTED | {"idToken": {"idToken": "nobody", "type": "ISO14443"}}
    )
    assert unknown.reply == Reply({"idTokenInfo": {"status": "Invalid"}})
    assert unknown.state.transactions[0].authorization_status == "Invalid"
    free = station.call(
        "TransactionEvent",
        event(
            "Started",
            0,
            10,
            transaction_id="tx-2",
            idToken={"idToken": "", "type": "NoAuthorization"},
        ),
    )
    assert free.reply == Reply({"idTokenInfo": {"status": "Accepted"}})


def test_an_evse_without_connector_keeps_the_known_connector() -> None:
    station = booted()
    station.call("TransactionEvent", STARTED)
    step = station.call("TransactionEvent", UPDATED | {"evse": {"id": 1}})
    assert (step.state.transactions[0].evse_id, step.state.transactions[0].connector_id) == (1, 1)


def test_a_second_started_with_a_new_seq_no_starts_nothing_new() -> None:
    station = booted()
    station.call("TransactionEvent", STARTED)
    again = station.call("TransactionEvent", STARTED | {"seqNo": 9})
    assert again.events == []


def test_a_second_ended_with_a_new_seq_no_ends_nothing_new() -> None:
    station = booted()
    station.call("TransactionEvent", STARTED)
    station.call("TransactionEvent", ENDED)
    again = station.call("TransactionEvent", ENDED | {"seqNo": 9})
    assert again.events == []


def test_an_update_after_the_end_changes_no_totals_and_is_reported() -> None:
    station = booted()
    station.call("TransactionEvent", STARTED)
    ended = station.call("TransactionEvent", ENDED)
    late = station.call("TransactionEvent", offline(UPDATED) | {"seqNo": 7})
    [anomaly] = late.events  # no SessionUpdated: the totals stand
    assert anomaly.event_type == EventType.ANOMALY_DETECTED
    assert anomaly.payload["reason"] == "MessageAfterEnd"
    assert anomaly.payload["transaction_id"] == "tx-1"
    assert "Updated (seqNo 7," in anomaly.payload["detail"]
    before, after = ended.state.ended[-1], late.state.ended[-1]
    assert (after.energy_register_wh, after.ended_at) == (
        before.energy_register_wh,
        before.ended_at,
    )
    again = station.call("TransactionEvent", offline(UPDATED) | {"seqNo": 7})
    assert again.events == []  # the same message resent: reported once


def test_readings_that_go_backwards_inside_the_ended_event_are_reported_and_energy_holds() -> None:
    """Seen: an Ended whose Transaction.End reading is below the periodic one before it."""
    station = booted()
    station.call("TransactionEvent", STARTED)
    ended = station.call(
        "TransactionEvent",
        ENDED | {"meterValue": [energy(600, 3600), energy(610, 3500, "Transaction.End")]},
    )
    assert kinds(ended.events) == [EventType.ANOMALY_DETECTED, EventType.SESSION_ENDED]
    anomaly, end = ended.events
    assert anomaly.payload["reason"] == "MeterBackwards"
    assert anomaly.payload["detail"].startswith("3500 Wh at ")
    assert end.payload["energy_wh"] == 2600.0  # the register's highest value minus the start


def test_an_updated_below_the_start_never_gives_negative_energy() -> None:
    station = booted()
    station.call("TransactionEvent", STARTED)
    low = station.call("TransactionEvent", UPDATED | {"meterValue": [energy(70, 10)]})
    assert kinds(low.events) == [EventType.ANOMALY_DETECTED, EventType.SESSION_UPDATED]
    assert "below the 1000 Wh at the start" in low.events[0].payload["detail"]
    assert low.events[1].payload["energy_wh"] == 0.0  # a newer reading time, the same energy
    ended = station.call("TransactionEvent", ENDED | {"meterValue": [energy(610, 20)]})
    assert kinds(ended.events) == [EventType.SESSION_ENDED]
    assert ended.events[0].payload["energy_wh"] == 0.0


def test_a_new_charging_state_alone_is_an_update_and_the_same_again_is_not() -> None:
    """Billing tells charging from parking by it (docs/billing.md)."""
    station = booted()
    station.call("TransactionEvent", STARTED)
    charging = station.call(
        "TransactionEvent", event("Updated", 1, 20, info={"chargingState": "Charging"})
    )
    [updated] = charging.events
    assert (updated.event_type, updated.payload["charging_state"]) == ("SessionUpdated", "Charging")
    assert updated.payload["at"] == at(20)
    again = station.call(
        "TransactionEvent", event("Updated", 2, 30, info={"chargingState": "Charging"})
    )
    assert again.events == []
    older = station.call(  # a late report of an older state changes nothing
        "TransactionEvent", event("Updated", 3, 15, info={"chargingState": "SuspendedEV"})
    )
    assert older.events == []
    assert older.state.transactions[0].charging_state == "Charging"


@pytest.mark.parametrize(
    "payload",
    [
        STARTED | {"eventType": "Paused"},
        STARTED | {"timestamp": "later"},
        STARTED | {"transactionInfo": {"transactionId": ""}},
        {key: value for key, value in STARTED.items() if key != "seqNo"},
    ],
)
def test_an_unusable_transaction_event_gets_protocol_error(payload: dict[str, Any]) -> None:
    step = booted().call("TransactionEvent", payload)
    assert isinstance(step.reply, ReplyError)
    assert step.reply.code == "ProtocolError"
    assert step.events == []
    assert step.state.transactions == ()


@pytest.mark.parametrize("payload", [{}, {"idToken": "04A2B3C4D5"}])
def test_authorize_without_an_id_token_gets_protocol_error(payload: dict[str, Any]) -> None:
    step = booted().call("Authorize", payload)
    assert isinstance(step.reply, ReplyError)
    assert step.reply.code == "ProtocolError"


def test_authorize() -> None:
    step = booted().call("Authorize", {"idToken": TOKEN})
    assert step.reply == Reply({"idTokenInfo": {"status": "Accepted"}})
