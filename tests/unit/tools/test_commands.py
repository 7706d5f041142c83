"""A station's answers to CSMS CALLs: schema-valid, and acted upon (no event loop)."""

from random import Random
from typing import Any

import pytest

from tests.unit.tools.peer import EPOCH_S, Peer
from tools.simulator.events import PasswordChanged
from tools.simulator.frames import CallError, CallResult, call_text
from tools.simulator.payloads import Version
from tools.simulator.station import Behaviour, Station

V16, V201 = Version.V16, Version.V201
ID_TOKEN_201 = {"idToken": "04A1B2C3D4E5F6", "type": "ISO14443"}
PROFILE_16 = {
    "chargingProfileId": 1,
    "stackLevel": 0,
    "chargingProfilePurpose": "TxDefaultProfile",
    "chargingProfileKind": "Absolute",
    "chargingSchedule": {
        "chargingRateUnit": "A",
        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0}],
    },
}
PROFILE_201 = {
    "id": 1,
    "stackLevel": 0,
    "chargingProfilePurpose": "TxDefaultProfile",
    "chargingProfileKind": "Absolute",
    "chargingSchedule": [
        {
            "id": 1,
            "chargingRateUnit": "W",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 11000.0}],
        }
    ],
}
HEARTBEAT_201 = {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}

SIMPLE = [  # (version, action, payload, status)
    (V16, "Reset", {"type": "Soft"}, "Accepted"),
    (V16, "ChangeAvailability", {"connectorId": 0, "type": "Inoperative"}, "Accepted"),
    (V16, "ChangeAvailability", {"connectorId": 9, "type": "Inoperative"}, "Rejected"),
    (V16, "UnlockConnector", {"connectorId": 1}, "Unlocked"),
    (V16, "UnlockConnector", {"connectorId": 9}, "NotSupported"),
    (V16, "TriggerMessage", {"requestedMessage": "StatusNotification"}, "Accepted"),
    (
        V16,
        "TriggerMessage",
        {"requestedMessage": "DiagnosticsStatusNotification"},
        "NotImplemented",
    ),
    (V16, "ChangeConfiguration", {"key": "HeartbeatInterval", "value": "30"}, "Accepted"),
    (V16, "ChangeConfiguration", {"key": "HeartbeatInterval", "value": "soon"}, "Rejected"),
    (V16, "ChangeConfiguration", {"key": "NumberOfConnectors", "value": "4"}, "Rejected"),
    (V16, "ChangeConfiguration", {"key": "NoSuchKey", "value": "1"}, "NotSupported"),
    (V16, "ClearCache", {}, "Accepted"),
    (V16, "DataTransfer", {"vendorId": "com.example"}, "Accepted"),
    (V16, "SetChargingProfile", {"connectorId": 1, "csChargingProfiles": PROFILE_16}, "Accepted"),
    (V16, "ClearChargingProfile", {}, "Accepted"),
    (V16, "RemoteStopTransaction", {"transactionId": 99}, "Rejected"),
    (V201, "Reset", {"type": "Immediate"}, "Accepted"),
    (V201, "ChangeAvailability", {"operationalStatus": "Inoperative"}, "Accepted"),
    (V201, "UnlockConnector", {"evseId": 1, "connectorId": 1}, "Unlocked"),
    (V201, "UnlockConnector", {"evseId": 2, "connectorId": 1}, "UnknownConnector"),
    (V201, "TriggerMessage", {"requestedMessage": "Heartbeat"}, "Accepted"),
    (V201, "TriggerMessage", {"requestedMessage": "SignV2GCertificate"}, "NotImplemented"),
    (V201, "ClearCache", {}, "Accepted"),
    (V201, "DataTransfer", {"vendorId": "com.example"}, "Accepted"),
    (V201, "SetChargingProfile", {"evseId": 1, "chargingProfile": PROFILE_201}, "Accepted"),
    (V201, "ClearChargingProfile", {}, "Accepted"),
    (V201, "RequestStopTransaction", {"transactionId": "nope"}, "Rejected"),
]


def booted(version: Version, behaviour: Behaviour | None = None) -> Peer:
    station = Station(
        "CS001", version, behaviour or Behaviour(sessions=False), Random(3), epoch_s=EPOCH_S
    )
    peer = Peer(station)
    station.connect(0.0)
    peer.pump(0.0)
    assert station.booted
    return peer


def result(reply: CallResult | CallError) -> dict[str, Any]:
    assert isinstance(reply, CallResult), reply
    return reply.payload


@pytest.mark.parametrize(("version", "action", "payload", "status"), SIMPLE)
def test_answers_are_schema_valid(
    version: Version, action: str, payload: dict[str, Any], status: str
) -> None:
    assert result(booted(version).call(action, payload))["status"] == status


@pytest.mark.parametrize(
    ("version", "action", "payload", "code"),
    [
        (V16, "GetDiagnostics", {"location": "ftp://example.com/"}, "NotSupported"),  # a 1.6 action
        (V16, "Frobnicate", {}, "NotImplemented"),  # no such action
        (V201, "GetMonitoringReport", {"requestId": 1}, "NotSupported"),
        (V16, "RemoteStartTransaction", {}, "ProtocolError"),  # idTag missing
        (V201, "UnlockConnector", {"evseId": "1", "connectorId": 1}, "TypeConstraintViolation"),
    ],
)
def test_anything_else_gets_a_callerror(
    version: Version, action: str, payload: dict[str, Any], code: str
) -> None:
    peer = booted(version)
    peer.station.receive_text(call_text("x", action, payload), 1.0)  # unchecked: may be invalid
    peer.pump(1.0)
    (reply,) = peer.replies
    assert isinstance(reply, CallError)
    assert (reply.unique_id, reply.code) == ("x", code)


def test_remote_start_and_stop_in_ocpp16() -> None:
    peer = booted(V16)
    assert (
        result(peer.call("RemoteStartTransaction", {"idTag": "TAG-1", "connectorId": 1}))["status"]
        == "Accepted"
    )
    start = next(s for s in peer.sent if s.action == "StartTransaction")
    assert start.payload["idTag"] == "TAG-1"
    assert "Authorize" not in peer.actions()  # AuthorizeRemoteTxRequests is false
    again = peer.call("RemoteStartTransaction", {"idTag": "TAG-2"})
    assert result(again)["status"] == "Rejected"  # the only connector is busy
    stop = peer.call("RemoteStopTransaction", {"transactionId": 1})
    assert result(stop)["status"] == "Accepted"
    stopped = next(s for s in peer.sent if s.action == "StopTransaction")
    assert (stopped.payload["transactionId"], stopped.payload["reason"]) == (1, "Remote")


def test_remote_start_authorizes_first_when_configured() -> None:
    peer = booted(V16)
    peer.call("ChangeConfiguration", {"key": "AuthorizeRemoteTxRequests", "value": "true"})
    peer.call("RemoteStartTransaction", {"idTag": "TAG-1"})
    assert peer.actions()[-4:-1] == ["StatusNotification", "Authorize", "StartTransaction"]


def test_request_start_and_stop_in_ocpp201() -> None:
    peer = booted(V201)
    answer = result(
        peer.call("RequestStartTransaction", {"idToken": ID_TOKEN_201, "remoteStartId": 7})
    )
    started = next(s.payload for s in peer.sent if s.action == "TransactionEvent")
    assert answer == {
        "status": "Accepted",
        "transactionId": started["transactionInfo"]["transactionId"],
    }
    assert started["triggerReason"] == "RemoteStart"
    assert started["transactionInfo"]["remoteStartId"] == 7
    assert started["idToken"] == ID_TOKEN_201
    busy = peer.call("UnlockConnector", {"evseId": 1, "connectorId": 1})
    assert result(busy)["status"] == "OngoingAuthorizedTransaction"
    stop = peer.call("RequestStopTransaction", {"transactionId": answer["transactionId"]})
    assert result(stop)["status"] == "Accepted"
    ended = [s.payload for s in peer.sent if s.action == "TransactionEvent"][-1]
    assert ended["eventType"] == "Ended"
    assert ended["triggerReason"] == "RemoteStop"
    assert ended["transactionInfo"]["stoppedReason"] == "Remote"


@pytest.mark.parametrize("version", list(Version))
def test_reset_stops_the_transaction_and_boots_again(version: Version) -> None:
    peer = booted(version, Behaviour(session_length_s=600, idle_s=1))
    peer.run_until(5.0)
    peer.call("Reset", {"type": "Soft" if version is V16 else "Immediate"})
    after = peer.run_until(10.0)
    assert after[0].action == "BootNotification"
    if version is V201:
        assert after[0].payload["reason"] == "RemoteReset"
    ending = next(s for s in after if s.action in ("StopTransaction", "TransactionEvent")).payload
    if version is V16:
        assert ending["reason"] == "SoftReset"
    else:
        assert ending["transactionInfo"]["stoppedReason"] == "ImmediateReset"


def test_change_availability_reports_unavailable_and_blocks_sessions() -> None:
    peer = booted(V16, Behaviour(idle_s=1))
    peer.call("ChangeAvailability", {"connectorId": 1, "type": "Inoperative"})
    assert peer.sent[-1].payload["status"] == "Unavailable"
    assert [s.action for s in peer.run_until(30.0)] == []
    assert result(peer.call("RemoteStartTransaction", {"idTag": "T"}))["status"] == "Rejected"


def test_trigger_message_sends_the_message() -> None:
    peer = booted(V16)
    peer.call("TriggerMessage", {"requestedMessage": "MeterValues", "connectorId": 1})
    readings = peer.sent[-1]
    assert readings.action == "MeterValues"
    assert readings.payload["meterValue"][0]["sampledValue"][0]["context"] == "Trigger"


def test_configuration_in_ocpp16() -> None:
    peer = booted(V16)
    peer.call("ChangeConfiguration", {"key": "HeartbeatInterval", "value": "45"})
    keys = result(peer.call("GetConfiguration", {"key": ["HeartbeatInterval", "Nope"]}))
    assert keys == {
        "configurationKey": [{"key": "HeartbeatInterval", "readonly": False, "value": "45"}],
        "unknownKey": ["Nope"],
    }
    assert peer.station.next_deadline() == pytest.approx(45.0)
    everything = result(peer.call("GetConfiguration", {}))["configurationKey"]
    assert {k["key"] for k in everything} >= {"NumberOfConnectors", "MeterValueSampleInterval"}


def test_variables_in_ocpp201() -> None:
    peer = booted(V201)
    unknown = {"component": {"name": "Nope"}, "variable": {"name": "X"}}
    set_result = result(
        peer.call("SetVariables", {"setVariableData": [{**HEARTBEAT_201, "attributeValue": "20"}]})
    )
    assert set_result["setVariableResult"][0]["attributeStatus"] == "Accepted"
    got = result(peer.call("GetVariables", {"getVariableData": [HEARTBEAT_201, unknown]}))
    assert [(r["attributeStatus"], r.get("attributeValue")) for r in got["getVariableResult"]] == [
        ("Accepted", "20"),
        ("UnknownComponent", None),
    ]


def test_a_base_report_comes_in_parts_after_its_answer() -> None:
    peer = booted(V201)
    request = {"requestId": 12, "reportBase": "FullInventory"}
    assert result(peer.call("GetBaseReport", request))["status"] == "Accepted"
    reports = [s.payload for s in peer.sent if s.action == "NotifyReport"]  # valid, the peer says
    assert len(reports) > 1
    assert [r["seqNo"] for r in reports] == list(range(len(reports)))
    assert [r.get("tbc", False) for r in reports] == [True] * (len(reports) - 1) + [False]
    assert {r["requestId"] for r in reports} == {12}
    rows = [row for r in reports for row in r["reportData"]]
    named = {(row["component"]["name"], row["variable"]["name"]): row for row in rows}
    assert named["OCPPCommCtrlr", "HeartbeatInterval"]["variableAttribute"][0]["value"].isdigit()
    password = named["SecurityCtrlr", "BasicAuthPassword"]["variableAttribute"][0]
    assert password == {"mutability": "WriteOnly", "persistent": True}  # never its value
    assert ("Connector", "ConnectorType") in named
    assert ("EVSE", "AvailabilityState") in named
    summary = result(
        peer.call("GetBaseReport", {"requestId": 13, "reportBase": "SummaryInventory"})
    )
    assert summary["status"] == "Accepted"
    last = [s.payload for s in peer.sent if s.action == "NotifyReport"][-1]
    assert {row["variable"]["name"] for row in last["reportData"]} == {"AvailabilityState"}


@pytest.mark.parametrize("version", list(Version))
def test_a_new_password_is_taken_but_never_shown(version: Version) -> None:
    peer = booted(version)
    if version is V16:
        peer.call(
            "ChangeConfiguration", {"key": "AuthorizationKey", "value": "00112233445566778899"}
        )
        shown = result(peer.call("GetConfiguration", {"key": ["AuthorizationKey"]}))
        assert shown == {"configurationKey": [], "unknownKey": ["AuthorizationKey"]}
    else:
        variable = {
            "component": {"name": "SecurityCtrlr"},
            "variable": {"name": "BasicAuthPassword"},
        }
        peer.call(
            "SetVariables",
            {"setVariableData": [{**variable, "attributeValue": "0123456789abcdef"}]},
        )
        shown = result(peer.call("GetVariables", {"getVariableData": [variable]}))
        assert shown["getVariableResult"][0]["attributeStatus"] == "Rejected"
    events = peer.station.events_received()
    (changed,) = [e for e in events if isinstance(e, PasswordChanged)]
    assert changed.password == peer.station.password
    assert changed.password not in repr(changed)


@pytest.mark.parametrize("version", list(Version))
def test_a_charging_profile_limits_the_power(version: Version) -> None:
    peer = booted(version, Behaviour(session_length_s=600, idle_s=1, min_power_w=20_000))
    if version is V16:
        peer.call("SetChargingProfile", {"connectorId": 1, "csChargingProfiles": PROFILE_16})
    else:
        peer.call("SetChargingProfile", {"evseId": 1, "chargingProfile": PROFILE_201})
    readings = [
        s.payload for s in peer.run_until(60.0) if s.action in ("MeterValues", "TransactionEvent")
    ]
    powers = [
        float(v["value"])
        for p in readings
        for v in p["meterValue"][0]["sampledValue"]
        if v["measurand"] == "Power.Active.Import"
    ]
    limit_w = 16 * 230 * 3 if version is V16 else 11_000
    assert powers
    assert max(powers) <= limit_w
    assert max(powers) > limit_w * 0.99  # the EV wants 20-22 kW: it gets the limit
    peer.call("ClearChargingProfile", {})
    later = [
        s.payload for s in peer.run_until(120.0) if s.action in ("MeterValues", "TransactionEvent")
    ]
    assert any(
        float(v["value"]) > limit_w
        for p in later
        for v in p["meterValue"][0]["sampledValue"]
        if v["measurand"] == "Power.Active.Import"
    )


def _tx_profile_16(transaction_id: int, amps: float) -> dict[str, Any]:
    return PROFILE_16 | {
        "chargingProfileId": 1001,
        "stackLevel": 1,
        "chargingProfilePurpose": "TxProfile",
        "transactionId": transaction_id,
        "chargingSchedule": {
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": amps}],
        },
    }


def test_a_tx_profile_needs_a_transaction_and_ends_with_it_the_default_stays() -> None:
    """K01: a TxProfile limits its transaction only (Rejected without one); the station's
    TxDefaultProfile on connector 0 limits every connector, each on its own."""
    peer = booted(V16, Behaviour(session_length_s=30, idle_s=1, min_power_w=20_000))
    refused = peer.call(
        "SetChargingProfile", {"connectorId": 1, "csChargingProfiles": _tx_profile_16(1, 8.0)}
    )
    assert result(refused)["status"] == "Rejected"
    accepted = peer.call("SetChargingProfile", {"connectorId": 0, "csChargingProfiles": PROFILE_16})
    assert result(accepted)["status"] == "Accepted"
    sent = peer.run_until(10.0)
    assert any(s.action == "StartTransaction" for s in sent)
    transaction_id = int(peer.station.charging.connectors[0].transaction_id or 0)
    assert transaction_id
    tx = peer.call(
        "SetChargingProfile",
        {"connectorId": 1, "csChargingProfiles": _tx_profile_16(transaction_id, 8.0)},
    )
    assert result(tx)["status"] == "Accepted"
    connector = peer.station.charging.connectors[0]
    assert (connector.limit_w, connector.default_limit_w) == (8.0 * 230 * 3, 16.0 * 230 * 3)
    peer.run_until(60.0)  # the session ends after about 30 s
    assert connector.limit_w is None
    assert connector.default_limit_w == 16.0 * 230 * 3
