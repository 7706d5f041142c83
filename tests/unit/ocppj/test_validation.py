"""Payload validation: OCA schemas via fastjsonschema, error mapping, directions, lenient mode."""

import copy
from typing import Any

import pytest
from ocpp.messages import get_validator

from ocppj.errors import (
    FormatViolation,
    NotImplementedAction,
    NotSupported,
    OccurrenceConstraintViolation,
    OcppError,
    PropertyConstraintViolation,
    ProtocolError,
    TypeConstraintViolation,
)
from ocppj.validation import (
    Validator,
    _compiled,
    _schema_files,
    actions,
    csms_actions,
    send_actions,
    station_actions,
)
from ocppj.versions import OcppVersion

V16, V201, V21 = OcppVersion.V16, OcppVersion.V201, OcppVersion.V21
TS = "2024-05-01T12:00:00.000Z"

BOOT_16 = {"chargePointVendor": "VendorX", "chargePointModel": "SingleSocketCharger"}
BOOT_2X = {
    "reason": "PowerUp",
    "chargingStation": {"model": "SingleSocketCharger", "vendorName": "VendorX"},
}
METER_16 = {
    "connectorId": 1,
    "transactionId": 7,
    "meterValue": [
        {
            "timestamp": TS,
            "sampledValue": [
                {"value": "1234.5", "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
                {"value": "7.2", "measurand": "Power.Active.Import", "unit": "kW", "phase": "L1"},
                {
                    "value": "16",
                    "measurand": "Current.Import",
                    "unit": "A",
                    "context": "Sample.Periodic",
                },
            ],
        }
    ],
}
SAMPLES_2X = [
    {"value": 1234.5, "measurand": "Energy.Active.Import.Register", "unitOfMeasure": {"unit": "Wh"}}
]
TX_EVENT = {
    "eventType": "Updated",
    "timestamp": TS,
    "triggerReason": "MeterValuePeriodic",
    "seqNo": 3,
    "transactionInfo": {"transactionId": "tx-1", "chargingState": "Charging"},
    "evse": {"id": 1, "connectorId": 1},
    "meterValue": [{"timestamp": TS, "sampledValue": SAMPLES_2X}],
}

# (version, action, request, response): schema-valid samples, station -> CSMS and the answer.
VALID: list[tuple[OcppVersion, str, dict[str, Any], dict[str, Any]]] = [
    (V16, "BootNotification", BOOT_16, {"status": "Accepted", "currentTime": TS, "interval": 300}),
    (
        V16,
        "BootNotification",
        {
            **BOOT_16,
            "chargePointSerialNumber": "SN-1",
            "firmwareVersion": "1.2.3",
            "meterType": "AC",
        },
        {"status": "Pending", "currentTime": "2024-05-01T14:00:00+02:00", "interval": 0},
    ),
    (V16, "Heartbeat", {}, {"currentTime": TS}),
    (
        V16,
        "StatusNotification",
        {"connectorId": 0, "errorCode": "NoError", "status": "Available", "timestamp": TS},
        {},
    ),
    (
        V16,
        "StatusNotification",
        {
            "connectorId": 2,
            "errorCode": "OtherError",
            "status": "Faulted",
            "vendorErrorCode": "E42",
        },
        {},
    ),
    (
        V16,
        "StartTransaction",
        {"connectorId": 1, "idTag": "TAG-0001", "meterStart": 0, "timestamp": TS},
        {"idTagInfo": {"status": "Accepted"}, "transactionId": 7},
    ),
    (
        V16,
        "StopTransaction",
        {"meterStop": 1500, "timestamp": TS, "transactionId": 7, "reason": "Local"},
        {"idTagInfo": {"status": "Accepted", "expiryDate": TS}},
    ),
    (V16, "MeterValues", METER_16, {}),
    (V16, "Authorize", {"idTag": "TAG-0001"}, {"idTagInfo": {"status": "Blocked"}}),
    (V201, "BootNotification", BOOT_2X, {"currentTime": TS, "interval": 300, "status": "Accepted"}),
    (V201, "Heartbeat", {}, {"currentTime": TS}),
    (
        V201,
        "StatusNotification",
        {"timestamp": TS, "connectorStatus": "Occupied", "evseId": 1, "connectorId": 1},
        {},
    ),
    (
        V201,
        "MeterValues",
        {"evseId": 0, "meterValue": [{"timestamp": TS, "sampledValue": SAMPLES_2X}]},
        {},
    ),
    (V201, "TransactionEvent", TX_EVENT, {}),
    (
        V201,
        "TransactionEvent",
        {
            **TX_EVENT,
            "eventType": "Started",
            "triggerReason": "Authorized",
            "seqNo": 0,
            "idToken": {"idToken": "TAG-0001", "type": "ISO14443"},
        },
        {"idTokenInfo": {"status": "Accepted"}, "totalCost": 1.25},
    ),
    (
        V201,
        "Authorize",
        {"idToken": {"idToken": "TAG-0001", "type": "ISO14443"}},
        {"idTokenInfo": {"status": "Accepted"}},
    ),
    (
        V201,
        "DataTransfer",
        {
            "vendorId": "com.example",
            "data": {"any": ["json"]},
            "customData": {"vendorId": "x", "k": 1},
        },
        {"status": "Accepted"},
    ),
    (V21, "BootNotification", BOOT_2X, {"currentTime": TS, "interval": 300, "status": "Accepted"}),
    (V21, "Heartbeat", {}, {"currentTime": TS}),
]


@pytest.mark.parametrize(("version", "action", "request_", "response"), VALID)
@pytest.mark.parametrize("lenient", [False, True])
def test_valid_samples_pass(
    version: OcppVersion,
    action: str,
    request_: dict[str, Any],
    response: dict[str, Any],
    lenient: bool,
) -> None:
    validator = Validator(version, lenient=lenient)
    before = copy.deepcopy((request_, response))
    validator.validate_request(action, request_)
    validator.validate_response(action, response)
    validator.validate_response(action, response, outgoing=True)  # what we answer: strict
    assert (request_, response) == before  # use_default=False: never writes defaults in


def test_validation_never_writes_schema_defaults() -> None:
    payload: dict[str, Any] = {
        "evseId": 1,
        "meterValue": [{"timestamp": TS, "sampledValue": [{"value": 1, "unitOfMeasure": {}}]}],
    }
    Validator(V201).validate_request("MeterValues", payload)
    assert payload["meterValue"][0]["sampledValue"][0]["unitOfMeasure"] == {}  # no "unit": "Wh"


SN_16 = {"connectorId": 1, "errorCode": "NoError", "status": "Available"}
SN_2X = {"timestamp": TS, "connectorStatus": "Available", "evseId": 1, "connectorId": 1}
ST = "StatusNotification"
MV = "MeterValues"


def meter_16(**sampled_value: Any) -> dict[str, Any]:
    return {"connectorId": 1, "meterValue": [{"timestamp": TS, "sampledValue": [sampled_value]}]}


def meter_2x(**sampled_value: Any) -> dict[str, Any]:
    return {"evseId": 1, "meterValue": [{"timestamp": TS, "sampledValue": [sampled_value]}]}


SAMPLE_VALUE = "payload.meterValue[0].sampledValue[0].value"
NO_SEQ_NO = {k: v for k, v in TX_EVENT.items() if k != "seqNo"}

# (version, action, payload, error, path) for what a station sends, strict mode.
INVALID: list[tuple[OcppVersion, str, dict[str, Any], type[OcppError], str]] = [
    (V16, ST, {**SN_16, "connectorId": "1"}, TypeConstraintViolation, "payload.connectorId"),
    (V16, ST, {**SN_16, "connectorId": True}, TypeConstraintViolation, "payload.connectorId"),
    (V16, ST, {**SN_16, "status": None}, TypeConstraintViolation, "payload.status"),
    (V16, ST, {**SN_16, "status": "available"}, PropertyConstraintViolation, "payload.status"),
    (
        V16,
        ST,
        {**SN_16, "timestamp": "2024-05-01T12:00"},
        PropertyConstraintViolation,
        "payload.timestamp",
    ),
    (V16, ST, {"connectorId": 1, "errorCode": "NoError"}, OccurrenceConstraintViolation, "payload"),
    (V16, ST, {**SN_16, "x": 1}, FormatViolation, "payload"),
    (
        V16,
        "BootNotification",
        {**BOOT_16, "chargePointSerialNumber": "S" * 26},
        PropertyConstraintViolation,
        "payload.chargePointSerialNumber",
    ),
    (
        V16,
        MV,
        {"connectorId": 1, "meterValue": []},
        OccurrenceConstraintViolation,
        "payload.meterValue",
    ),
    (V16, MV, meter_16(value=1), TypeConstraintViolation, SAMPLE_VALUE),
    (
        V201,
        "BootNotification",
        {"reason": "PowerUp", "chargingStation": {"vendorName": "V"}},
        ProtocolError,
        "payload.chargingStation",
    ),
    (
        V201,
        "BootNotification",
        {**BOOT_2X, "chargingStation": {"model": 1, "vendorName": "V"}},
        TypeConstraintViolation,
        "payload.chargingStation.model",
    ),
    (
        V201,
        "BootNotification",
        {**BOOT_2X, "reason": "Boot"},
        PropertyConstraintViolation,
        "payload.reason",
    ),
    (V201, "Heartbeat", {"x": 1}, FormatViolation, "payload"),
    (V201, "Heartbeat", {"customData": {}}, ProtocolError, "payload.customData"),
    (V201, "TransactionEvent", NO_SEQ_NO, ProtocolError, "payload"),
    (V201, MV, meter_2x(value="1.5"), TypeConstraintViolation, SAMPLE_VALUE),
    (V21, ST, {**SN_2X, "evseId": -1}, PropertyConstraintViolation, "payload.evseId"),
    (
        V21,
        "Heartbeat",
        {"customData": {"vendorId": 5}},
        TypeConstraintViolation,
        "payload.customData.vendorId",
    ),
    (V21, "BootNotification", {"reason": "PowerUp"}, ProtocolError, "payload"),
]


@pytest.mark.parametrize(("version", "action", "payload", "error", "path"), INVALID)
def test_invalid_payloads_raise_the_right_error(
    version: OcppVersion,
    action: str,
    payload: dict[str, Any],
    error: type[OcppError],
    path: str,
) -> None:
    with pytest.raises(OcppError) as info:
        Validator(version).validate_request(action, payload)
    assert type(info.value) is error
    assert info.value.details["path"] == path
    assert str(info.value).startswith(f"{action}Request: {path} ")


def test_response_errors_name_the_response_schema() -> None:
    with pytest.raises(
        PropertyConstraintViolation, match=r"^BootNotificationResponse: payload\.status"
    ):
        Validator(V16).validate_response(
            "BootNotification", {"status": "OK", "currentTime": TS, "interval": 1}
        )


@pytest.mark.parametrize(
    ("limit", "valid"),
    [(21.4, True), (32, True), (0.1, True), (0.3, True), (6.07, False), (21.45, False)],
)
def test_1_6_multiple_of_0_1_is_exact(limit: float, valid: bool) -> None:
    """OCPP 1.6 SetChargingProfile limits are multipleOf 0.1 (ocpp.md §2.3: floats break it)."""
    payload = {
        "connectorId": 1,
        "csChargingProfiles": {
            "chargingProfileId": 1,
            "stackLevel": 0,
            "chargingProfilePurpose": "TxDefaultProfile",
            "chargingProfileKind": "Absolute",
            "chargingSchedule": {
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit}],
            },
        },
    }
    validator = Validator(V16)
    if valid:
        validator.validate_request("SetChargingProfile", payload, outgoing=True)
    else:
        with pytest.raises(PropertyConstraintViolation, match="multiple of"):
            validator.validate_request("SetChargingProfile", payload, outgoing=True)


# -- format: date-time (fastjsonschema checks it; lenient only lets the zone go missing) ----------


@pytest.mark.parametrize(
    ("timestamp", "strict", "lenient"),
    [
        ("2024-05-01T12:00:00Z", True, True),
        ("2024-05-01T12:00:00.123456+02:00", True, True),
        ("2024-05-01t12:00:00z", True, True),  # RFC 3339 §5.6 allows lowercase
        ("2024-05-01T23:59:60Z", True, True),  # leap second
        ("2024-05-01T12:00:00+0200", True, True),  # not RFC 3339, fastjsonschema accepts it
        ("2024-05-01T12:00:00", False, True),  # no zone: the 1.6 deviation lenient mode allows
        ("2024-05-01T12:00:00.5", False, True),
        ("2024-05-01 12:00:00Z", False, False),
        ("2024-13-01T12:00:00Z", False, False),
        ("2024-02-31T12:00:00Z", False, True),  # strict checks days per month, lenient does not
        ("2024-05-01", False, False),
        ("yesterday", False, False),
        ("", False, False),
    ],
)
def test_date_time_format(timestamp: str, strict: bool, lenient: bool) -> None:
    payload = {
        "connectorId": 1,
        "errorCode": "NoError",
        "status": "Available",
        "timestamp": timestamp,
    }
    for validator, accepted in ((Validator(V16), strict), (Validator(V16, lenient=True), lenient)):
        if accepted:
            validator.validate_request("StatusNotification", payload)
        else:
            with pytest.raises(PropertyConstraintViolation, match="date-time"):
                validator.validate_request("StatusNotification", payload)


# -- lenient mode: each documented deviation passes lenient, fails strict, and never outgoing -----

NAIVE = "2024-05-01T12:00:00"
DEVIATIONS: list[tuple[str, OcppVersion, str, dict[str, Any]]] = [
    ("L1 unknown property", V16, ST, {**SN_16, "vendorX": 1}),
    (
        "L1 nested unknown property",
        V201,
        "BootNotification",
        {**BOOT_2X, "chargingStation": {"model": "M", "vendorName": "V", "x": 1}},
    ),
    (
        "L2 long serial number",
        V16,
        "BootNotification",
        {**BOOT_16, "chargePointSerialNumber": "S" * 40},
    ),
    (
        "L2 long model",
        V21,
        "BootNotification",
        {**BOOT_2X, "chargingStation": {"model": "M" * 30, "vendorName": "V"}},
    ),
    (
        "L3 no zone",
        V16,
        "StartTransaction",
        {"connectorId": 1, "idTag": "T", "meterStart": 0, "timestamp": NAIVE},
    ),
    ("L3 no zone", V201, ST, {**SN_2X, "timestamp": NAIVE}),
    ("L4 unknown measurand", V16, MV, meter_16(value="1", measurand="Request.Energy")),
    ("L4 unknown unit", V16, MV, meter_16(value="50", unit="Hz")),
    ("L4 unknown measurand", V201, MV, meter_2x(value=1, measurand="Request.Energy")),
]


@pytest.mark.parametrize(("name", "version", "action", "payload"), DEVIATIONS)
def test_lenient_deviations(
    name: str, version: OcppVersion, action: str, payload: dict[str, Any]
) -> None:
    Validator(version, lenient=True).validate_request(action, payload)
    with pytest.raises(OcppError):
        Validator(version).validate_request(action, payload)


def test_lenient_mode_is_never_applied_to_what_we_send() -> None:
    lenient = Validator(V16, lenient=True)
    with pytest.raises(FormatViolation):
        lenient.validate_request("Reset", {"type": "Hard", "x": 1}, outgoing=True)
    with pytest.raises(PropertyConstraintViolation):
        lenient.validate_response(
            "Heartbeat", {"currentTime": "2024-05-01T12:00:00"}, outgoing=True
        )
    lenient.validate_response("Heartbeat", {"currentTime": "2024-05-01T12:00:00"})  # from a station


@pytest.mark.parametrize(
    ("action", "payload", "error"),
    [
        (ST, {**SN_16, "status": "Charged"}, PropertyConstraintViolation),
        (ST, {"connectorId": 1, "errorCode": "NoError"}, OccurrenceConstraintViolation),
        (ST, {**SN_16, "connectorId": "1"}, TypeConstraintViolation),
        (ST, {**SN_16, "timestamp": "now"}, PropertyConstraintViolation),
        (MV, meter_16(value="1", context="Whenever"), PropertyConstraintViolation),
    ],
)
def test_lenient_mode_still_rejects_everything_else(
    action: str, payload: dict[str, Any], error: type[OcppError]
) -> None:
    with pytest.raises(error):
        Validator(V16, lenient=True).validate_request(action, payload)


# -- actions and directions ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "n_actions", "n_station", "n_csms"),
    [(V16, 39, 14, 26), (V201, 64, 25, 40), (V21, 91, 37, 55)],
)
def test_actions_partition_into_directions(
    version: OcppVersion, n_actions: int, n_station: int, n_csms: int
) -> None:
    all_actions, station, csms = actions(version), station_actions(version), csms_actions(version)
    assert (len(all_actions), len(station), len(csms)) == (n_actions, n_station, n_csms)
    assert station | csms == all_actions
    assert station & csms == {"DataTransfer"}


def test_direction_tables() -> None:
    assert {"StartTransaction", "StopTransaction", "Heartbeat"} <= station_actions(V16)
    assert {"RemoteStartTransaction", "Reset", "ChangeConfiguration"} <= csms_actions(V16)
    assert {"TransactionEvent", "NotifyReport"} <= station_actions(V201)
    assert {"RequestStartTransaction", "SetVariables", "CostUpdated"} <= csms_actions(V201)
    assert {"NotifyPeriodicEventStream", "BatterySwap"} <= station_actions(V21)
    assert {"SetDefaultTariff", "AFRRSignal"} <= csms_actions(V21)
    assert send_actions(V21) == {"NotifyPeriodicEventStream"}
    assert send_actions(V16) == send_actions(V201) == frozenset()


@pytest.mark.parametrize("version", list(OcppVersion))
def test_action_checks(version: OcppVersion) -> None:
    validator = Validator(version)
    with pytest.raises(NotImplementedAction, match="unknown action 'FooBar'"):
        validator.validate_request("FooBar", {})
    with pytest.raises(NotImplementedAction):
        validator.validate_request("heartbeat", {})  # Action is case-sensitive (§4.2.1)
    with pytest.raises(NotSupported, match="not initiated by a station"):
        validator.validate_request("Reset", {"type": "Hard"})
    with pytest.raises(NotSupported, match="not initiated by the CSMS"):
        validator.validate_request("Heartbeat", {}, outgoing=True)
    with pytest.raises(NotImplementedAction):
        validator.validate_response("FooBar", {})
    with pytest.raises(NotSupported, match="not sent as a SEND"):
        validator.validate_request("Heartbeat", {}, send=True)


def test_2_1_send_rules() -> None:
    validator = Validator(V21)
    stream = {"id": 1, "pending": 0, "basetime": TS, "data": [{"t": 0.0, "v": "230.4"}]}
    validator.validate_request("NotifyPeriodicEventStream", stream, send=True)
    with pytest.raises(NotSupported, match="not sent as a CALL"):
        validator.validate_request("NotifyPeriodicEventStream", stream)
    with pytest.raises(
        NotImplementedAction, match="no schema for NotifyPeriodicEventStreamResponse"
    ):
        validator.validate_response("NotifyPeriodicEventStream", {})


# -- compilation ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("version", "files"), [(V16, 78), (V201, 128), (V21, 181)])
def test_every_schema_file_is_found(version: OcppVersion, files: int) -> None:
    assert len(_schema_files(version)) == files


def test_warm_compiles_every_schema_once() -> None:
    """1.6 only: compiling all 2.x schemas takes seconds (the shell warms them at startup)."""
    assert Validator(V16).warm() == 78
    assert Validator(V16, lenient=True).warm() == 2 * 78  # strict too, for what we send
    hits = _compiled.cache_info().hits
    assert Validator(V16).warm() == 78
    assert _compiled.cache_info().hits == hits + 78  # cached: nothing compiled twice


def test_compiled_validators_are_cached_per_version_action_direction_mode() -> None:
    first = _compiled(V16, "Heartbeat", False, False)
    assert first is _compiled(V16, "Heartbeat", False, False)
    assert first is not _compiled(V16, "Heartbeat", True, False)
    assert first is not _compiled(V16, "Heartbeat", False, True)
    assert first is not _compiled(V201, "Heartbeat", False, False)
    assert _compiled(V16, "FooBar", False, False) is None


# -- the ocpp library (jsonschema, no format checker) as an oracle --------------------------------

_LIBRARY_VERSION = {V16: "1.6", V201: "2.0.1", V21: "2.1"}


def _library_accepts(version: OcppVersion, action: str, payload: dict[str, Any]) -> bool:
    validator = get_validator(2, action, _LIBRARY_VERSION[version])
    return bool(validator.is_valid(payload))


@pytest.mark.parametrize(("version", "action", "request_", "response"), VALID)
def test_the_library_accepts_our_valid_samples(
    version: OcppVersion, action: str, request_: dict[str, Any], response: dict[str, Any]
) -> None:
    assert _library_accepts(version, action, request_)


@pytest.mark.parametrize(("version", "action", "payload", "error", "path"), INVALID)
def test_the_library_rejects_our_invalid_samples_except_formats(
    version: OcppVersion,
    action: str,
    payload: dict[str, Any],
    error: type[OcppError],
    path: str,
) -> None:
    format_only = path.endswith("timestamp")  # the library has no format checker (ocpp.md §2.1)
    assert _library_accepts(version, action, payload) is format_only
