"""OCPP 1.6 sessions: Authorize, StartTransaction, MeterValues, StopTransaction."""

from typing import Any

import pytest

from contracts.events import DomainEvent, EventType
from contracts.payloads.ocpp import Reply, ReplyError
from contracts.payloads.station_meters import MeterValuesReported
from contracts.payloads.tokens import Token
from contracts.topics import Topic
from services.sessions.core.state import MAX_OPEN
from tests.unit.services.sessions.core.station import STATION_ID, V16, Station, at, kinds, ts

TAG = "04A2B3C4"
TOKENS = {TAG: Token(id_token=TAG, type="ISO14443", status="Accepted", group_id="FLEET-7")}
ACCEPTED = {"status": "Accepted", "parentIdTag": "FLEET-7"}


def booted() -> Station:
    station = Station(version=V16, tokens=dict(TOKENS))
    station.boot()
    return station


def start(
    station: Station, *, connector_id: int = 1, id_tag: str = TAG, meter: int = 1520, t: float = 20
) -> Any:
    payload = {
        "connectorId": connector_id,
        "idTag": id_tag,
        "meterStart": meter,
        "timestamp": ts(t),
    }
    return station.call("StartTransaction", payload)


def meter_value(t: float, *samples: dict[str, str]) -> dict[str, Any]:
    return {"timestamp": ts(t), "sampledValue": list(samples)}


def sessions(station: Station) -> list[DomainEvent]:
    return [e for e in station.events if e.topic == Topic.SESSIONS]


def test_a_whole_16_session() -> None:
    station = Station(version=V16, tokens=dict(TOKENS))
    boot = station.boot()
    assert boot.reply == Reply(
        {"status": "Accepted", "currentTime": "2026-11-25T08:00:00.000Z", "interval": 300}
    )
    assert boot.events == [
        DomainEvent(
            topic=Topic.STATIONS,
            event_type=EventType.STATION_BOOTED,
            key=STATION_ID,
            payload={
                "station_id": STATION_ID,
                "vendor": "VendorX",
                "model": "Model1",
                "serial_number": "SN-1",
                "firmware_version": "1.2.3",
                "ocpp_version": "ocpp1.6",
                "boot_status": "Accepted",
            },
        )
    ]
    status = station.call(
        "StatusNotification",
        {"connectorId": 1, "errorCode": "NoError", "status": "Preparing", "timestamp": ts(10)},
    )
    assert status.reply == Reply({})
    assert status.events == [
        DomainEvent(
            topic=Topic.STATIONS,
            event_type=EventType.STATION_STATUS_CHANGED,
            key=STATION_ID,
            payload={
                "station_id": STATION_ID,
                "evse_id": 1,
                "connector_id": 1,
                "status": "Preparing",
                "error_code": "NoError",
                "at": at(10),
            },
        )
    ]
    authorized = station.call("Authorize", {"idTag": TAG})
    assert authorized.reply == Reply({"idTagInfo": ACCEPTED})
    assert authorized.events == [
        DomainEvent(
            topic=Topic.SESSIONS,
            event_type=EventType.TOKEN_AUTHORIZED,
            key=STATION_ID,
            payload={
                "station_id": STATION_ID,
                "id_token": TAG,
                "id_token_type": None,
                "status": "Accepted",
                "group_id": "FLEET-7",
                "ocpp_version": "ocpp1.6",
                "at": at(0),
            },
        )
    ]

    started = start(station)
    assert started.reply == Reply({"idTagInfo": ACCEPTED, "transactionId": 100})
    assert started.used_transaction_id
    session = {"session_id": f"{STATION_ID}/100", "station_id": STATION_ID, "transaction_id": "100"}
    assert started.events == [
        DomainEvent(
            topic=Topic.SESSIONS,
            event_type=EventType.SESSION_STARTED,
            key=STATION_ID,
            payload=session
            | {
                "ocpp_version": "ocpp1.6",
                "reservation_id": None,
                "reserved_at": None,
                "evse_id": 1,
                "connector_id": 1,
                "id_token": TAG,
                "id_token_type": None,  # 1.6 has no token types
                "id_token_source": "Station",
                "charging_state": None,
                "meter_start_wh": 1520.0,
                "started_at": at(20),
            },
        )
    ]
    values = station.call(
        "MeterValues",
        {
            "connectorId": 1,
            "transactionId": 100,
            "meterValue": [
                meter_value(
                    80,
                    {"value": "2.52", "unit": "kWh"},
                    {"value": "7.2", "measurand": "Power.Active.Import", "unit": "kW"},
                    {"value": "16", "measurand": "Current.Import", "unit": "A", "phase": "L1"},
                    {"value": "15", "measurand": "Current.Import", "unit": "A", "phase": "L2"},
                    {"value": "16.5", "measurand": "Current.Import", "unit": "A", "phase": "L3"},
                    {"value": "42", "measurand": "SoC", "unit": "Percent", "location": "EV"},
                )
            ],
        },
    )
    assert values.reply == Reply({})
    assert values.events == [
        DomainEvent(
            topic=Topic.SESSIONS,
            event_type=EventType.SESSION_UPDATED,
            key=STATION_ID,
            payload=session
            | {
                "evse_id": 1,  # 1.6: the connector
                "connector_id": 1,
                "energy_wh": 1000.0,
                "power_w": 7200.0,
                "current_a": 16.5,
                "current_total_a": 47.5,  # 16 + 15 + 16.5
                "soc_percent": 42.0,
                "charging_state": None,
                "at": at(80),
            },
        )
    ]
    stopped = station.call(
        "StopTransaction",
        {
            "transactionId": 100,
            "idTag": TAG,
            "meterStop": 4020,
            "timestamp": ts(620),
            "reason": "EVDisconnected",
        },
    )
    assert stopped.reply == Reply({"idTagInfo": ACCEPTED})
    assert stopped.events == [
        DomainEvent(
            topic=Topic.SESSIONS,
            event_type=EventType.SESSION_ENDED,
            key=STATION_ID,
            payload=session
            | {
                "energy_wh": 2500.0,
                "duration_s": 600.0,
                "id_token": TAG,
                "id_token_type": None,
                "id_token_source": "Station",
                "stop_reason": "EVDisconnected",
                "ended_at": at(620),
            },
        )
    ]
    assert stopped.state.transactions == ()
    assert [t.transaction_id for t in stopped.state.ended] == [100]


def test_a_resent_start_gets_the_same_transaction_id_and_no_second_session() -> None:
    station = booted()
    first = start(station)
    station.tick(30)
    again = start(station)
    assert again.reply == first.reply
    assert not again.used_transaction_id
    assert again.events == []
    assert kinds(sessions(station)) == [EventType.SESSION_STARTED]


def test_a_resent_start_after_the_stop_still_gets_its_transaction_id() -> None:
    station = booted()
    start(station)
    station.call("StopTransaction", {"transactionId": 100, "meterStop": 1600, "timestamp": ts(90)})
    again = start(station)
    assert isinstance(again.reply, Reply)
    assert again.reply.payload["transactionId"] == 100
    assert again.events == []


def test_a_resent_start_with_other_values_is_reported() -> None:
    station = booted()
    start(station)
    again = start(station, meter=1600)
    assert isinstance(again.reply, Reply)
    assert again.reply.payload["transactionId"] == 100
    assert kinds(again.events) == [EventType.ANOMALY_DETECTED]
    assert again.events[0].payload["reason"] == "StartMismatch"


def test_starts_on_other_connectors_or_times_are_new_transactions() -> None:
    station = booted()
    start(station, connector_id=1)
    other_connector = start(station, connector_id=2)
    later = start(station, connector_id=1, t=900)
    assert [s.used_transaction_id for s in (other_connector, later)] == [True, True]
    assert isinstance(later.reply, Reply)
    assert later.reply.payload["transactionId"] == 102
    # connector 1 still had 100 open: reported, and closed as abandoned (test_abandoned.py)
    assert kinds(later.events) == [
        EventType.ANOMALY_DETECTED,
        EventType.SESSION_ENDED,
        EventType.SESSION_STARTED,
    ]
    assert later.events[0].payload["reason"] == "ConnectorBusy"
    assert later.events[1].payload["closed_by_csms"] == "NewTransaction"
    assert [t.transaction_id for t in later.state.transactions] == [101, 102]


@pytest.mark.parametrize(
    ("token", "status"),
    [
        (None, "Invalid"),
        (Token(id_token="X", type="ISO14443", status="Blocked"), "Blocked"),
        (Token(id_token="X", type="ISO14443", status="Accepted", expires_at=at(-1)), "Expired"),
    ],
)
def test_a_start_with_a_refused_token_still_gets_a_transaction_id(
    token: Token | None, status: str
) -> None:
    station = booted()
    if token is not None:
        station.tokens["X"] = token
    started = start(station, id_tag="X")
    assert started.reply == Reply({"idTagInfo": {"status": status}, "transactionId": 100})
    assert started.used_transaction_id
    assert kinds(started.events) == [EventType.SESSION_STARTED]
    assert started.state.transactions[0].authorization_status == status
    stopped = station.call(
        "StopTransaction",
        {"transactionId": 100, "meterStop": 1520, "timestamp": ts(25), "reason": "DeAuthorized"},
    )
    assert stopped.events[0].payload["stop_reason"] == "DeAuthorized"
    assert stopped.events[0].payload["energy_wh"] == 0.0


def test_a_stop_without_reason_or_idtag() -> None:
    station = booted()
    start(station)
    stopped = station.call(
        "StopTransaction", {"transactionId": 100, "meterStop": 1620, "timestamp": ts(80)}
    )
    assert stopped.reply == Reply({})  # idTagInfo only when an idTag was sent
    assert stopped.events[0].payload["stop_reason"] == "Local"
    assert stopped.events[0].payload["energy_wh"] == 100.0


def test_a_duplicate_stop_is_answered_again_without_a_second_session_end() -> None:
    station = booted()
    start(station)
    stop = {"transactionId": 100, "idTag": TAG, "meterStop": 1620, "timestamp": ts(80)}
    first = station.call("StopTransaction", stop)
    again = station.call("StopTransaction", stop)
    assert again.reply == first.reply
    assert again.events == []
    assert kinds(sessions(station)) == [EventType.SESSION_STARTED, EventType.SESSION_ENDED]


def test_a_stop_of_an_unknown_transaction_is_answered_and_reported() -> None:
    station = booted()
    stopped = station.call(
        "StopTransaction", {"transactionId": 77, "idTag": TAG, "meterStop": 1, "timestamp": ts(5)}
    )
    assert stopped.reply == Reply({"idTagInfo": ACCEPTED})
    assert kinds(stopped.events) == [EventType.ANOMALY_DETECTED]
    assert stopped.events[0].payload == {
        "station_id": STATION_ID,
        "reason": "UnknownTransaction",
        "detail": "StopTransaction for transaction 77, which this station never started",
        "action": "StopTransaction",
        "transaction_id": "77",
        "at": station.now,
    }


def test_stop_transaction_data_updates_the_transaction() -> None:
    station = booted()
    start(station)
    stopped = station.call(
        "StopTransaction",
        {
            "transactionId": 100,
            "meterStop": 2000,
            "timestamp": ts(300),
            "transactionData": [
                meter_value(
                    300, {"value": "11000", "measurand": "Power.Active.Import", "unit": "W"}
                )
            ],
        },
    )
    assert stopped.state.ended[0].power_w == 11000.0
    assert kinds(stopped.events) == [EventType.SESSION_ENDED]


def test_a_meter_below_the_start_gives_zero_energy_and_an_anomaly() -> None:
    station = booted()
    start(station, meter=5000)
    stopped = station.call(
        "StopTransaction", {"transactionId": 100, "meterStop": 10, "timestamp": ts(80)}
    )
    assert kinds(stopped.events) == [EventType.ANOMALY_DETECTED, EventType.SESSION_ENDED]
    assert stopped.events[0].payload["reason"] == "MeterBackwards"
    assert "below the 5000 Wh at the start" in stopped.events[0].payload["detail"]
    assert stopped.events[1].payload["energy_wh"] == 0.0  # never negative


def test_a_meter_stop_below_a_reading_keeps_the_highest_and_is_reported_once() -> None:
    station = booted()
    start(station, meter=1000)
    values = station.call(
        "MeterValues",
        {
            "connectorId": 1,
            "transactionId": 100,
            "meterValue": [meter_value(60, {"value": "1600"})],
        },
    )
    assert values.events[0].payload["energy_wh"] == 600.0
    lower = station.call(
        "MeterValues",
        {
            "connectorId": 1,
            "transactionId": 100,
            "meterValue": [meter_value(90, {"value": "1200"})],
        },
    )
    assert kinds(lower.events) == [EventType.ANOMALY_DETECTED, EventType.SESSION_UPDATED]
    assert lower.events[0].payload["reason"] == "MeterBackwards"
    assert lower.events[1].payload["energy_wh"] == 600.0  # the energy does not go down
    stopped = station.call(
        "StopTransaction", {"transactionId": 100, "meterStop": 1500, "timestamp": ts(120)}
    )
    assert kinds(stopped.events) == [EventType.SESSION_ENDED]  # reported once per transaction
    assert stopped.events[0].payload["energy_wh"] == 600.0


def test_meter_values_without_transaction_id_go_to_the_open_transaction_of_the_connector() -> None:
    station = booted()
    start(station, connector_id=2)
    values = station.call(
        "MeterValues", {"connectorId": 2, "meterValue": [meter_value(60, {"value": "1600"})]}
    )
    assert kinds(values.events) == [EventType.SESSION_UPDATED]
    assert values.events[0].payload["energy_wh"] == 80.0
    assert values.events[0].payload["power_w"] is None


@pytest.mark.parametrize("connector_id", [0, 1])
def test_meter_values_of_a_connector_without_transaction_are_station_meter_values(
    connector_id: int,
) -> None:
    station = booted()
    values = station.call(
        "MeterValues",
        {"connectorId": connector_id, "meterValue": [meter_value(60, {"value": "1600"})]},
    )
    assert values.reply == Reply({})
    assert kinds(values.events) == [EventType.METER_VALUES_REPORTED]
    reported = MeterValuesReported.parse(values.events[0].envelope())
    assert reported is not None
    assert (reported.evse_id, reported.ocpp_version) == (connector_id, "ocpp1.6")
    assert reported.samples == [
        {
            "at": at(60),
            "measurand": "Energy.Active.Import.Register",
            "value": 1600.0,
            "unit": None,
            "phase": None,
            "location": "Outlet",
            "context": "Sample.Periodic",
        }
    ]
    assert station.state is not None
    assert station.state.transactions == ()


def test_meter_values_of_an_unknown_transaction_are_reported() -> None:
    station = booted()
    values = station.call(
        "MeterValues",
        {"connectorId": 1, "transactionId": 5, "meterValue": [meter_value(60, {"value": "1"})]},
    )
    assert values.reply == Reply({})
    assert kinds(values.events) == [EventType.ANOMALY_DETECTED]


def test_late_meter_values_do_not_move_the_latest_values_back() -> None:
    station = booted()
    start(station)
    values = {"connectorId": 1, "transactionId": 100}
    station.call("MeterValues", values | {"meterValue": [meter_value(120, {"value": "1700"})]})
    late = station.call(
        "MeterValues", values | {"meterValue": [meter_value(60, {"value": "1600"})]}
    )
    assert late.events == []
    assert late.state.transactions[0].energy_register_wh == 1700.0
    same = station.call(
        "MeterValues", values | {"meterValue": [meter_value(120, {"value": "1700"})]}
    )
    assert same.events == []


def test_meter_values_after_the_stop_write_nothing() -> None:
    station = booted()
    start(station)
    station.call("StopTransaction", {"transactionId": 100, "meterStop": 1600, "timestamp": ts(90)})
    late = station.call(
        "MeterValues",
        {
            "connectorId": 1,
            "transactionId": 100,
            "meterValue": [meter_value(60, {"value": "1550"})],
        },
    )
    assert late.events == []


def test_too_many_open_transactions_drop_the_oldest() -> None:
    station = booted()
    for connector_id in range(1, MAX_OPEN + 1):
        start(station, connector_id=connector_id)
    one_more = start(station, connector_id=MAX_OPEN + 1)
    assert kinds(one_more.events) == [EventType.SESSION_STARTED, EventType.ANOMALY_DETECTED]
    assert one_more.events[1].payload["reason"] == "TransactionDropped"
    assert one_more.events[1].payload["transaction_id"] == "100"
    assert len(one_more.state.transactions) == MAX_OPEN


@pytest.mark.parametrize(
    ("action", "payload"),
    [
        ("Authorize", {}),
        ("StartTransaction", {"connectorId": 1, "idTag": TAG, "meterStart": 1}),
        ("StopTransaction", {"transactionId": 1, "meterStop": 1, "timestamp": "yesterday"}),
        ("StatusNotification", {"connectorId": 1, "errorCode": "NoError"}),
    ],
)
def test_a_payload_without_a_needed_field_gets_protocol_error(
    action: str, payload: dict[str, Any]
) -> None:
    station = booted()
    step = station.call(action, payload)
    assert isinstance(step.reply, ReplyError)
    assert step.reply.code == "ProtocolError"
    assert step.events == []


def test_a_16_connector_status_in_a_transaction_is_its_charging_state() -> None:
    station = booted()
    start(station)
    status = {"connectorId": 1, "errorCode": "NoError", "timestamp": ts(60)}
    parked = station.call("StatusNotification", status | {"status": "SuspendedEV"})
    assert kinds(parked.events) == [EventType.STATION_STATUS_CHANGED, EventType.SESSION_UPDATED]
    assert parked.events[1].payload["charging_state"] == "SuspendedEV"
    assert parked.events[1].payload["at"] == at(60)
    charging = station.call(
        "StatusNotification", status | {"status": "Charging", "timestamp": ts(90)}
    )
    assert charging.events[1].payload["charging_state"] == "Charging"
    other = station.call("StatusNotification", status | {"connectorId": 2, "status": "SuspendedEV"})
    assert kinds(other.events) == [EventType.STATION_STATUS_CHANGED]  # no transaction there
