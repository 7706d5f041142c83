"""Translations of the management commands, for 1.6 and 2.x (pure).

Configuration and variables, the local authorization list, firmware and logs (OCPP 2.0.1
functional blocks B, D, L, N).
"""

from collections.abc import Mapping
from typing import Any

from ocppj.authorization import ID_TOKEN_TYPES, STATUSES_16, STATUSES_201
from ocppj.commands.arguments import Arguments, InvalidCommand
from ocppj.commands.context import (
    ATTRIBUTE_TYPES,
    Context,
    Translation,
    evse_2,
    evse_type,
    no_arguments,
    retry_policy,
)


def _get_configuration(a: Arguments, ctx: Context) -> tuple[str, dict[str, Any]]:
    ctx.only_16(a, "GetVariables")
    keys = a.strings("keys", required=False)
    return "GetConfiguration", {"key": keys} if keys else {}


def _change_configuration(a: Arguments, ctx: Context) -> tuple[str, dict[str, Any]]:
    ctx.only_16(a, "SetVariables")
    return "ChangeConfiguration", {"key": a.string("key"), "value": a.string("value")}


def component_variable(a: Arguments, *, variable_required: bool = True) -> dict[str, Any]:
    """A 2.x ComponentVariableType from ``component``, ``component_instance``, ``evse_id``,
    ``connector_id``, ``variable`` and ``variable_instance`` (without ``variable`` when it is
    optional and absent)."""
    component: dict[str, Any] = {"name": a.string("component")}
    instance = a.string("component_instance", required=False)
    if instance is not None:
        component["instance"] = instance
    evse_id, connector_id = evse_2(a, required=False)
    if evse_id is not None:
        component["evse"] = evse_type(evse_id, connector_id)
    data: dict[str, Any] = {"component": component}
    name = a.string("variable") if variable_required else a.string("variable", required=False)
    variable_instance = a.string("variable_instance", required=False)
    if name is None:
        if variable_instance is not None:
            raise a.fail("variable_instance needs variable")
        return data
    variable: dict[str, Any] = {"name": name}
    if variable_instance is not None:
        variable["instance"] = variable_instance
    return data | {"variable": variable}


def _variable(item: Mapping[str, Any], what: str, *, with_value: bool) -> dict[str, Any]:
    a = Arguments(what, item, InvalidCommand)
    data = component_variable(a)
    if with_value:
        value = a.anything("value")
        if value is None:
            raise a.fail("value is required")
        if not isinstance(value, str):
            raise a.fail(
                f"value must be a string (OCPP sends variable values as text), got {value!r}"
            )
        data["attributeValue"] = value
    attribute_type = a.choice("attribute_type", ATTRIBUTE_TYPES, required=False)
    if attribute_type is not None:
        data["attributeType"] = attribute_type
    a.done()
    return data


def _variables(a: Arguments, ctx: Context, *, set_: bool) -> tuple[str, dict[str, Any]]:
    ctx.only_2(a, "ChangeConfiguration" if set_ else "GetConfiguration")
    items = a.objects("variables")
    data = [
        _variable(item, f"{a.what}: variables[{i}]", with_value=set_)
        for i, item in enumerate(items)
    ]
    if set_:
        return "SetVariables", {"setVariableData": data}
    return "GetVariables", {"getVariableData": data}


def _local_list_entry(item: Mapping[str, Any], what: str, ctx: Context) -> dict[str, Any]:
    a = Arguments(what, item, InvalidCommand)
    statuses = STATUSES_16 if ctx.v16 else STATUSES_201
    if ctx.v16:
        entry: dict[str, Any] = {"idTag": a.string("id_token")}
        a.ignore("type")
    else:
        token = a.string("id_token")
        token_type = a.choice("type", ID_TOKEN_TYPES, required=False)
        entry = {"idToken": {"idToken": token, "type": token_type or "ISO14443"}}
    status = a.choice("status", statuses, required=False)
    expires_at = a.timestamp("expires_at", required=False)
    group_id = a.string("group_id", required=False)
    a.done()
    if status is None:
        if expires_at is not None or group_id is not None:
            raise a.fail("status is required with expires_at or group_id")
        return entry  # Differential: an entry without a status removes the token from the list
    if ctx.v16:
        info: dict[str, Any] = {"status": status}
        if expires_at is not None:
            info["expiryDate"] = expires_at
        if group_id is not None:
            info["parentIdTag"] = group_id
        return entry | {"idTagInfo": info}
    info = {"status": status}
    if expires_at is not None:
        info["cacheExpiryDateTime"] = expires_at
    if group_id is not None:
        info["groupIdToken"] = {"idToken": group_id, "type": "Central"}
    return entry | {"idTokenInfo": info}


def _send_local_list(a: Arguments, ctx: Context) -> tuple[str, dict[str, Any]]:
    version = a.integer("version", minimum=0)
    update_type = a.choice("update_type", {"Full", "Differential"})
    entries = [
        _local_list_entry(item, f"{a.what}: entries[{i}]", ctx)
        for i, item in enumerate(a.objects("entries", required=False))
    ]
    if ctx.v16:
        payload: dict[str, Any] = {"listVersion": version, "updateType": update_type}
    else:
        payload = {"versionNumber": version, "updateType": update_type}
    if entries:
        payload["localAuthorizationList"] = entries
    return "SendLocalList", payload


def _update_firmware(a: Arguments, ctx: Context) -> tuple[str, dict[str, Any]]:
    location = a.string("location")
    retrieve_at = a.timestamp("retrieve_at")
    install_at = a.timestamp("install_at", required=False)
    certificate = a.string("signing_certificate", required=False)
    signature = a.string("signature", required=False)
    request_id = a.integer("request_id", required=False, minimum=0)
    retries = retry_policy(a)
    signed = certificate is not None or signature is not None
    if ctx.v16 and not signed:
        if install_at is not None:
            raise a.fail("install_at needs a signed update (OCPP 1.6 security extension)")
        return "UpdateFirmware", {"location": location, "retrieveDate": retrieve_at, **retries}
    firmware: dict[str, Any] = {"location": location, "retrieveDateTime": retrieve_at}
    if install_at is not None:
        firmware["installDateTime"] = install_at
    if certificate is not None:
        firmware["signingCertificate"] = certificate
    if signature is not None:
        firmware["signature"] = signature
    payload = {
        "requestId": ctx.request_id if request_id is None else request_id,
        "firmware": firmware,
        **retries,
    }
    return ("SignedUpdateFirmware" if ctx.v16 else "UpdateFirmware"), payload


def _get_log(a: Arguments, ctx: Context) -> tuple[str, dict[str, Any]]:
    location = a.string("location")
    log_type = a.choice("log_type", {"DiagnosticsLog", "SecurityLog"}, required=False)
    oldest_at = a.timestamp("oldest_at", required=False)
    latest_at = a.timestamp("latest_at", required=False)
    request_id = a.integer("request_id", required=False, minimum=0)
    retries = retry_policy(a)
    if ctx.v16 and log_type in (None, "DiagnosticsLog"):
        payload: dict[str, Any] = {"location": location, **retries}
        if oldest_at is not None:
            payload["startTime"] = oldest_at
        if latest_at is not None:
            payload["stopTime"] = latest_at
        return "GetDiagnostics", payload
    log: dict[str, Any] = {"remoteLocation": location}
    if oldest_at is not None:
        log["oldestTimestamp"] = oldest_at
    if latest_at is not None:
        log["latestTimestamp"] = latest_at
    return "GetLog", {
        "logType": log_type or "DiagnosticsLog",
        "requestId": ctx.request_id if request_id is None else request_id,
        "log": log,
        **retries,
    }


TRANSLATIONS: dict[str, Translation] = {
    "GetConfiguration": _get_configuration,
    "ChangeConfiguration": _change_configuration,
    "GetVariables": lambda a, ctx: _variables(a, ctx, set_=False),
    "SetVariables": lambda a, ctx: _variables(a, ctx, set_=True),
    "SendLocalList": _send_local_list,
    "GetLocalListVersion": no_arguments("GetLocalListVersion"),
    "UpdateFirmware": _update_firmware,
    "GetLog": _get_log,
}
