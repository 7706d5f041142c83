"""ocppj.commands.device_management: what the tables in test_translate.py cannot say."""

from typing import Any

import pytest

from ocppj.commands.arguments import InvalidCommand
from ocppj.commands.translate import request_id_for, translate
from ocppj.validation import Validator, csms_actions
from ocppj.versions import OcppVersion

V16, V201, V21 = OcppVersion.V16, OcppVersion.V201, OcppVersion.V21
SECRET = "Hunter2-Hunter2"  # a made-up password that no message may show
NETWORK = {
    "ocpp_version": "OCPP20",
    "ocpp_transport": "JSON",
    "ocpp_csms_url": "wss://csms.example.com/ocpp",
    "message_timeout": 30,
    "security_profile": 2,
    "ocpp_interface": "Wired0",
}
APN = {"apn": "internet.example", "apn_authentication": "PAP"}
VPN = {"server": "vpn.example.com", "user": "u", "password": "p", "key": "k", "type": "L2TP"}


def _network(version: OcppVersion = V201, **data: Any) -> dict[str, Any]:
    return translate(
        "SetNetworkProfile",
        {"configuration_slot": 1, "connection_data": {**NETWORK, **data}},
        version,
        command_id="c",
    ).payload


@pytest.mark.parametrize(
    ("version", "data"),
    [
        (V201, {"apn": {**APN, "apn_password": SECRET * 2}}),  # schema: maxLength 20
        (V201, {"apn": {**APN, "apn_password": [SECRET]}}),
        (V201, {"apn": {**APN, "apn_password": {"value": SECRET}}}),
        (V201, {"apn": {**APN, "sim_pin": SECRET}}),
        (V201, {"apn": f"internet.example:{SECRET}"}),
        (V201, {"vpn": {**VPN, "password": SECRET * 2}}),
        (V201, {"vpn": {**VPN, "password": [SECRET]}}),
        (V201, {"vpn": {**VPN, "key": SECRET * 20}}),  # schema: maxLength 255
        (V201, {"vpn": {**VPN, "key": 1234}}),
        (V201, {"vpn": f"server:{SECRET}"}),
        (V201, {"ocpp_csms_url": f"https://cs:{SECRET}@csms.example.com/ocpp"}),
        (V201, {"ocpp_csms_url": f"cs:{SECRET}@csms.example.com/ocpp"}),
        (V201, {"ocpp_csms_url": f"ws://cs:{SECRET}@csms.example.com/ocpp"}),  # profile 2
        (V201, {"ocpp_csms_url": f"wss://cs:{SECRET}@csms.example.com/{'x' * 512}"}),
        (V201, {"basic_auth_password": SECRET}),  # 2.1 only
        (V21, {"basic_auth_password": SECRET * 5}),  # schema: maxLength 64
        (V21, {"basic_auth_password": [SECRET]}),
    ],
)
def test_no_message_shows_a_password_or_key(version: OcppVersion, data: dict[str, Any]) -> None:
    with pytest.raises(InvalidCommand) as refused:
        _network(version, **data)
    assert "SetNetworkProfile" in str(refused.value)
    assert SECRET not in str(refused.value)
    assert "1234" not in str(refused.value)


def test_connection_data_that_is_not_an_object_is_not_shown() -> None:
    with pytest.raises(InvalidCommand, match="connection_data must be a JSON object") as refused:
        translate(
            "SetNetworkProfile",
            {"configuration_slot": 1, "connection_data": f'{{"password": "{SECRET}"}}'},
            V201,
            command_id="c",
        )
    assert SECRET not in str(refused.value)


def test_security_profile_1_may_use_plain_websockets_and_soap_urls_are_not_checked() -> None:
    plain = _network(security_profile=1, ocpp_csms_url="ws://csms.example.com/ocpp")
    assert plain["connectionData"]["ocppCsmsUrl"] == "ws://csms.example.com/ocpp"
    soap = _network(ocpp_transport="SOAP", ocpp_csms_url="https://csms.example.com/ocpp")
    assert soap["connectionData"]["ocppTransport"] == "SOAP"


def test_2_1_takes_its_own_enum_values_and_still_takes_an_ocpp_version() -> None:
    payload = _network(V21, ocpp_version="OCPP21", ocpp_interface="Any")
    assert payload["connectionData"]["ocppVersion"] == "OCPP21"
    assert payload["connectionData"]["ocppInterface"] == "Any"


MONITOR = {"value": 67, "type": "UpperThreshold", "severity": 4, "component": "EVSE"}


@pytest.mark.parametrize(
    "other",
    [
        {"severity": 3},
        {"type": "LowerThreshold"},
        {"variable": "Current"},
        {"variable_instance": "L1"},
        {"component_instance": "B"},
        {"evse_id": 2},
    ],
)
def test_monitors_differing_in_type_severity_component_or_variable_are_no_duplicates(
    other: dict[str, Any],
) -> None:
    first = {**MONITOR, "variable": "Power", "evse_id": 1}
    call = translate(
        "SetVariableMonitoring", {"monitors": [first, {**first, **other}]}, V201, command_id="c"
    )
    assert len(call.payload["setMonitoringData"]) == 2


def test_a_duplicate_names_both_monitors_even_far_apart() -> None:
    monitors = [
        {**MONITOR, "variable": "Power", "evse_id": 1},
        {**MONITOR, "variable": "Power", "evse_id": 2},
        {**MONITOR, "variable": "Power", "evse_id": 1, "value": 80},
    ]
    with pytest.raises(InvalidCommand, match=r"monitors\[2\] repeats .* of monitors\[0\]"):
        translate("SetVariableMonitoring", {"monitors": monitors}, V201, command_id="c")


def test_a_negative_value_is_fine_for_thresholds_but_not_for_delta() -> None:
    for kind in ("UpperThreshold", "LowerThreshold"):
        monitor = {**MONITOR, "variable": "Temperature", "type": kind, "value": -5}
        call = translate("SetVariableMonitoring", {"monitors": [monitor]}, V201, command_id="c")
        assert call.payload["setMonitoringData"][0]["value"] == -5
    delta = {**MONITOR, "variable": "Temperature", "type": "Delta", "value": -5}
    with pytest.raises(InvalidCommand, match=r"N04\.FR\.14"):
        translate("SetVariableMonitoring", {"monitors": [delta]}, V201, command_id="c")


@pytest.mark.parametrize(
    ("command", "arguments"),
    [
        ("GetBaseReport", {"report_base": "FullInventory"}),
        ("GetReport", {}),
        ("GetMonitoringReport", {}),
        ("GetDisplayMessages", {}),
        ("CustomerInformation", {"report": True, "clear": False, "customer_identifier": "c"}),
    ],
)
def test_request_ids_follow_the_command_id_unless_given(
    command: str, arguments: dict[str, Any]
) -> None:
    for command_id in ("a", "b"):
        call = translate(command, arguments, V201, command_id=command_id)
        assert call.payload["requestId"] == request_id_for(command_id)
    given = translate(command, {**arguments, "request_id": 0}, V201, command_id="a")
    assert given.payload["requestId"] == 0


def test_customer_information_takes_the_token_stores_type() -> None:
    call = translate(
        "CustomerInformation",
        {"report": True, "clear": False, "id_token": "KNOWN"},
        V201,
        command_id="c",
        token_types={"KNOWN": "eMAID"}.get,
    )
    assert call.payload["idToken"] == {"idToken": "KNOWN", "type": "eMAID"}


def test_extended_trigger_message_is_a_1_6_csms_call_with_a_strict_schema() -> None:
    assert "ExtendedTriggerMessage" in csms_actions(V16)
    validator = Validator(V16)
    call = translate(
        "ExtendedTriggerMessage", {"message": "LogStatusNotification"}, V16, command_id="c"
    )
    validator.validate_request(call.action, call.payload, outgoing=True)
    # 1.6 names in TriggerMessage that the security extension's trigger does not have
    for message in ("DiagnosticsStatusNotification", "SignChargingStationCertificate"):
        with pytest.raises(InvalidCommand, match="message must be one of"):
            translate("ExtendedTriggerMessage", {"message": message}, V16, command_id="c")
