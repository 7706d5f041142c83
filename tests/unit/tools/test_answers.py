"""The responder's CSMS answers and the OCPP-J framing, both pure."""

from typing import Any

import jsonschema
import pytest

from tests.unit.tools.peer import EPOCH_S, assert_valid
from tools.simulator.answers import Csms
from tools.simulator.frames import (
    Call,
    CallError,
    CallResult,
    MalformedFrame,
    call_text,
    error_text,
    parse,
    result_text,
)
from tools.simulator.payloads import Version, timestamp
from tools.simulator.schemas import violation

ID_TOKEN = {"idToken": "04A1B2C3D4E5F6", "type": "ISO14443"}
STATION_CALLS: list[tuple[Version, str, dict[str, Any]]] = [
    (Version.V16, "BootNotification", {"chargePointVendor": "V", "chargePointModel": "M"}),
    (Version.V16, "Heartbeat", {}),
    (Version.V16, "Authorize", {"idTag": "T"}),
    (
        Version.V16,
        "StartTransaction",
        {"connectorId": 1, "idTag": "T", "meterStart": 0, "timestamp": "2025-06-15T00:00:00Z"},
    ),
    (
        Version.V16,
        "StopTransaction",
        {"transactionId": 1, "meterStop": 9, "timestamp": "2025-06-15T01:00:00Z", "idTag": "T"},
    ),
    (
        Version.V16,
        "StopTransaction",
        {"transactionId": 1, "meterStop": 9, "timestamp": "2025-06-15T01:00:00Z"},
    ),
    (Version.V16, "DataTransfer", {"vendorId": "com.example"}),
    (Version.V16, "DiagnosticsStatusNotification", {"status": "Idle"}),
    (
        Version.V201,
        "BootNotification",
        {"chargingStation": {"model": "M", "vendorName": "V"}, "reason": "PowerUp"},
    ),
    (Version.V201, "Heartbeat", {}),
    (Version.V201, "Authorize", {"idToken": ID_TOKEN}),
    (
        Version.V201,
        "StatusNotification",
        {
            "timestamp": "2025-06-15T00:00:00Z",
            "connectorStatus": "Available",
            "evseId": 1,
            "connectorId": 1,
        },
    ),
    (
        Version.V201,
        "NotifyEvent",
        {
            "generatedAt": "2025-06-15T00:00:00Z",
            "seqNo": 0,
            "eventData": [
                {
                    "eventId": 1,
                    "timestamp": "2025-06-15T00:00:00Z",
                    "trigger": "Alerting",
                    "actualValue": "1",
                    "eventNotificationType": "HardWiredNotification",
                    "component": {"name": "C"},
                    "variable": {"name": "V"},
                }
            ],
        },
    ),
    (Version.V201, "DataTransfer", {"vendorId": "com.example"}),
]


@pytest.mark.parametrize(("version", "action", "payload"), STATION_CALLS)
def test_every_answer_is_schema_valid(
    version: Version, action: str, payload: dict[str, Any]
) -> None:
    assert_valid(version, action, payload, response=False)  # the test's input is realistic
    answer = Csms().answer(version, action, payload, EPOCH_S)
    assert answer is not None
    assert_valid(version, action, answer, response=True)


def test_boot_time_is_rfc3339_utc_with_z_and_transaction_ids_count_up() -> None:
    csms = Csms(heartbeat_interval_s=30)
    boot = csms.answer(Version.V16, "BootNotification", {}, 1_750_000_000.5)
    assert boot == {"status": "Accepted", "currentTime": "2025-06-15T15:06:40.500Z", "interval": 30}
    ids = [csms.answer(Version.V16, "StartTransaction", {}, 0.0) for _ in range(3)]
    assert [a["transactionId"] for a in ids if a] == [1, 2, 3]
    assert csms.answer(Version.V201, "TransactionEvent", {}, 0.0) == {}
    assert csms.answer(Version.V201, "TransactionEvent", {"idToken": ID_TOKEN}, 0.0) == {
        "idTokenInfo": {"status": "Accepted"}
    }
    assert csms.answer(Version.V201, "StartTransaction", {}, 0.0) is None  # not in 2.0.1
    assert timestamp(0.0) == "1970-01-01T00:00:00.000Z"


def test_frames_round_trip() -> None:
    assert parse(call_text("1", "Heartbeat", {})) == Call("1", "Heartbeat", {})
    assert parse(result_text("1", {"a": 1})) == CallResult("1", {"a": 1})
    assert parse(error_text("1", "NotSupported", "x" * 300)) == CallError(
        "1", "NotSupported", "x" * 255, {}
    )


@pytest.mark.parametrize("text", ["", "[", "{}", "[2]", '[5, "1", "A", {}]', "[" * 100_000])
def test_garbage_is_a_malformed_frame(text: str) -> None:
    with pytest.raises(MalformedFrame):
        parse(text)


def test_the_schema_checks_are_strict_about_time_zones() -> None:
    with pytest.raises(jsonschema.ValidationError):
        assert_valid(
            Version.V16, "Heartbeat", {"currentTime": "2025-06-15T00:00:00"}, response=True
        )
    assert_valid(Version.V16, "Heartbeat", {"currentTime": "2025-06-15T00:00:00Z"}, response=True)


def test_the_runner_validation_names_the_broken_schema() -> None:
    boot = {"status": "Accepted", "currentTime": "2025-06-15T00:00:00Z", "interval": 60}
    assert violation(Version.V16, "BootNotificationResponse", boot) is None
    problem = violation(Version.V201, "BootNotificationResponse", {**boot, "status": "Maybe"})
    assert problem is not None
    assert problem.startswith("BootNotificationResponse: ")
    assert violation(Version.V16, "TransactionEventResponse", {}) == (
        "no schema TransactionEventResponse in OCPP 1.6"
    )
