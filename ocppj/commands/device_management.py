"""Translations of the device model, monitoring, customer data and network commands (pure)."""

import json
import math
from collections.abc import Collection, Mapping
from typing import Any

from ocppj.commands.arguments import Arguments, InvalidCommand
from ocppj.commands.context import Context, Translation, connector_16, id_token
from ocppj.commands.management import component_variable
from ocppj.versions import OcppVersion

REPORT_BASES = frozenset({"ConfigurationInventory", "FullInventory", "SummaryInventory"})
COMPONENT_CRITERIA = frozenset({"Active", "Available", "Enabled", "Problem"})
MONITORING_CRITERIA = frozenset({"ThresholdMonitoring", "DeltaMonitoring", "PeriodicMonitoring"})
MONITORING_BASES = frozenset({"All", "FactoryDefault", "HardWiredOnly"})
MONITOR_TYPES = frozenset(
    {"UpperThreshold", "LowerThreshold", "Delta", "Periodic", "PeriodicClockAligned"}
)
HASH_ALGORITHMS = frozenset({"SHA256", "SHA384", "SHA512"})
MESSAGE_PRIORITIES = frozenset({"AlwaysFront", "InFront", "NormalCycle"})
MESSAGE_STATES = frozenset({"Charging", "Faulted", "Idle", "Unavailable"})
OCPP_VERSIONS = frozenset({"OCPP12", "OCPP15", "OCPP16", "OCPP20"})
OCPP_TRANSPORTS = frozenset({"JSON", "SOAP"})
OCPP_INTERFACES = frozenset(f"{kind}{n}" for kind in ("Wired", "Wireless") for n in range(4))
APN_AUTHENTICATIONS = frozenset({"CHAP", "NONE", "PAP", "AUTO"})
VPN_TYPES = frozenset({"IKEv2", "IPSec", "L2TP", "PPTP"})
# The same enums in the 2.1 schemas (2.x stations get the same translation).
MONITOR_TYPES_21 = MONITOR_TYPES | {"TargetDelta", "TargetDeltaRelative"}
MESSAGE_STATES_21 = MESSAGE_STATES | {"Suspended", "Discharging"}
OCPP_VERSIONS_21 = OCPP_VERSIONS | {"OCPP201", "OCPP21"}
OCPP_INTERFACES_21 = OCPP_INTERFACES | {"Any"}
# OCA white paper "Improved security for OCPP 1.6-J", ExtendedTriggerMessage.req.
EXTENDED_TRIGGERS_16 = frozenset(
    {
        "BootNotification",
        "LogStatusNotification",
        "FirmwareStatusNotification",
        "Heartbeat",
        "MeterValues",
        "SignChargePointCertificate",
        "StatusNotification",
    }
)
SEVERITIES = "0 (Danger) to 9 (Debug)"  # OCPP 2.0.1 Part 2, "Severity levels"


def _of(ctx: Context, values: frozenset[str], values_21: frozenset[str]) -> frozenset[str]:
    """The values of an enum in the station's version."""
    return values_21 if ctx.version is OcppVersion.V21 else values


def _only_2(a: Arguments, ctx: Context, lacks: str) -> None:
    if ctx.v16:
        raise a.fail(
            f"OCPP 2.0.1 and later only; this station speaks ocpp1.6, which has no {lacks}"
        )


def _request_id(a: Arguments, ctx: Context) -> int:
    request_id = a.integer("request_id", required=False, minimum=0)
    return ctx.request_id if request_id is None else request_id


def _boolean(a: Arguments, name: str) -> bool | None:
    """true or false (None if absent)."""
    value = a.anything(name)
    if value is not None and not isinstance(value, bool):
        raise a.fail(f"{name} must be true or false, got {value!r}")
    return value


def _required_boolean(a: Arguments, name: str) -> bool:
    value = _boolean(a, name)
    if value is None:
        raise a.fail(f"{name} is required")
    return value


def _number(a: Arguments, name: str) -> int | float:
    value = a.anything(name)
    if value is None:
        raise a.fail(f"{name} is required")
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise a.fail(f"{name} must be a number, got {value!r}")
    return value


def _severity(a: Arguments) -> int:
    severity = a.integer("severity")
    if not 0 <= severity <= 9:
        raise a.fail(f"severity must be {SEVERITIES}, got {severity}")
    return severity


def _choices(a: Arguments, name: str, choices: Collection[str]) -> list[str]:
    """A non-empty list of distinct ``choices`` (empty if absent)."""
    value = a.anything(name)
    if value is None:
        return []
    options = ", ".join(sorted(choices))
    if not isinstance(value, list) or not value:
        raise a.fail(f"{name} must be a non-empty list of {options}")
    for n, item in enumerate(value):
        if not isinstance(item, str) or item not in choices:
            raise a.fail(f"{name}[{n}] must be one of {options}; got {item!r}")
        if item in value[:n]:
            raise a.fail(f"{name} names {item} twice")
    return value


def _ids(a: Arguments, name: str, *, required: bool) -> list[int]:
    """A non-empty list of integers >= 0 (empty if optional and absent)."""
    value = a.anything(name)
    if value is None:
        if required:
            raise a.fail(f"{name} is required")
        return []
    if not isinstance(value, list) or not value:
        raise a.fail(f"{name} must be a non-empty list of integers >= 0")
    for n, item in enumerate(value):
        if isinstance(item, bool) or not isinstance(item, int) or not 0 <= item < 2**31:
            raise a.fail(f"{name}[{n}] must be an integer >= 0 (32 bits), got {item!r}")
    return value


def _secret(a: Arguments, name: str, *, required: bool) -> str | None:
    """A non-empty string that no message ever shows (passwords, keys)."""
    value = a.anything(name)
    if value is None:
        if required:
            raise a.fail(f"{name} is required")
        return None
    if not isinstance(value, str) or not value:
        raise a.fail(f"{name} must be a non-empty string (the value is not shown)")
    return value


def _object(a: Arguments, name: str) -> Mapping[str, Any] | None:
    """A JSON object (None if absent); a wrong value is not shown (it may hold a password)."""
    value = a.anything(name)
    if value is not None and not isinstance(value, Mapping):
        raise a.fail(f"{name} must be a JSON object (the value is not shown)")
    return value


def _component_variables(a: Arguments) -> list[dict[str, Any]]:
    """``component_variables``: [{component, component_instance?, evse_id?, connector_id?,
    variable?, variable_instance?}] as ComponentVariableType (B08, N02)."""
    out = []
    for n, item in enumerate(a.objects("component_variables", required=False)):
        c = Arguments(f"{a.what}: component_variables[{n}]", item, InvalidCommand)
        out.append(component_variable(c, variable_required=False))
        c.done()
    return out


def get_base_report(a: Arguments, ctx: Context) -> tuple[str, dict[str, Any]]:
    """B07; the station reports with NotifyReport."""
    ctx.only_2(a, "GetConfiguration")
    report_base = a.choice("report_base", REPORT_BASES)
    return "GetBaseReport", {"requestId": _request_id(a, ctx), "reportBase": report_base}


def get_report(a: Arguments, ctx: Context) -> tuple[str, dict[str, Any]]:
    """B08; the station reports with NotifyReport."""
    ctx.only_2(a, "GetConfiguration")
    payload: dict[str, Any] = {"requestId": _request_id(a, ctx)}
    criteria = _choices(a, "component_criteria", COMPONENT_CRITERIA)
    if criteria:
        payload["componentCriteria"] = criteria
    variables = _component_variables(a)
    if variables:
        payload["componentVariable"] = variables
    return "GetReport", payload


def _monitor(item: Mapping[str, Any], what: str, ctx: Context) -> dict[str, Any]:
    m = Arguments(what, item, InvalidCommand)
    data: dict[str, Any] = {}
    monitor_id = m.integer("id", required=False, minimum=0)
    if monitor_id is not None:
        data["id"] = monitor_id  # N04.FR.12: replaces that monitor
    transaction = _boolean(m, "transaction")
    if transaction is not None:
        data["transaction"] = transaction
    value = _number(m, "value")
    kind = m.choice("type", _of(ctx, MONITOR_TYPES, MONITOR_TYPES_21))
    if kind == "Delta" and value < 0:
        # N04.FR.14: the station rejects a Delta monitor with a negative value.
        raise m.fail(f"a Delta monitor's value must be >= 0 (N04.FR.14), got {value}")
    data |= {"value": value, "type": kind, "severity": _severity(m)}
    data |= component_variable(m)
    m.done()
    return data


def set_variable_monitoring(a: Arguments, ctx: Context) -> tuple[str, dict[str, Any]]:
    """N04; a monitor that fires makes the station send NotifyEvent."""
    _only_2(a, ctx, "variable monitoring")
    monitors: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for n, item in enumerate(a.objects("monitors")):
        monitor = _monitor(item, f"{a.what}: monitors[{n}]", ctx)
        # N04.FR.10: one monitor of a type and severity per component/variable (else Duplicate).
        key = json.dumps(
            [monitor["component"], monitor["variable"], monitor["type"], monitor["severity"]],
            sort_keys=True,
        )
        if key in seen:
            raise a.fail(
                f"monitors[{n}] repeats the type {monitor['type']} and severity "
                f"{monitor['severity']} of monitors[{seen[key]}] on the same component and "
                "variable; the station answers Duplicate (N04.FR.10)"
            )
        seen[key] = n
        monitors.append(monitor)
    return "SetVariableMonitoring", {"setMonitoringData": monitors}


def clear_variable_monitoring(a: Arguments, ctx: Context) -> tuple[str, dict[str, Any]]:
    """N06: removes the monitors with these ids."""
    _only_2(a, ctx, "variable monitoring")
    return "ClearVariableMonitoring", {"id": _ids(a, "ids", required=True)}


def set_monitoring_base(a: Arguments, ctx: Context) -> tuple[str, dict[str, Any]]:
    """N03: which preconfigured monitors are active."""
    _only_2(a, ctx, "variable monitoring")
    return "SetMonitoringBase", {"monitoringBase": a.choice("monitoring_base", MONITORING_BASES)}


def set_monitoring_level(a: Arguments, ctx: Context) -> tuple[str, dict[str, Any]]:
    """N05: report only events of this severity or a more severe one (a lower number)."""
    _only_2(a, ctx, "variable monitoring")
    return "SetMonitoringLevel", {"severity": _severity(a)}  # N05.FR.02: else Rejected


def get_monitoring_report(a: Arguments, ctx: Context) -> tuple[str, dict[str, Any]]:
    """N02; the station reports with NotifyMonitoringReport."""
    _only_2(a, ctx, "variable monitoring")
    payload: dict[str, Any] = {"requestId": _request_id(a, ctx)}
    criteria = _choices(a, "monitoring_criteria", MONITORING_CRITERIA)
    if criteria:
        payload["monitoringCriteria"] = criteria
    variables = _component_variables(a)
    if variables:
        payload["componentVariable"] = variables
    return "GetMonitoringReport", payload


def _certificate_hash(item: Mapping[str, Any], what: str) -> dict[str, str]:
    c = Arguments(what, item, InvalidCommand)
    data = {
        # N09.FR.08/N10.FR.09: the hash algorithm the certificate was installed with.
        "hashAlgorithm": c.choice("hash_algorithm", HASH_ALGORITHMS),
        "issuerNameHash": c.string("issuer_name_hash", max_length=128),
        "issuerKeyHash": c.string("issuer_key_hash", max_length=128),
        "serialNumber": c.string("serial_number", max_length=40),
    }
    c.done()
    return data


def customer_information(a: Arguments, ctx: Context) -> tuple[str, dict[str, Any]]:
    """N09 (report) and N10 (clear); the station reports with NotifyCustomerInformation."""
    _only_2(a, ctx, "CustomerInformation")
    references = [
        name for name in ("customer_identifier", "id_token", "customer_certificate") if a.has(name)
    ]
    if len(references) != 1:
        # N09.FR.04/N10.FR.08: the CSMS refers to the customer by idToken, customerCertificate
        # or customerIdentifier.
        raise a.fail(
            "give exactly one of customer_identifier, id_token, customer_certificate "
            f"(N09.FR.04, N10.FR.08), got {', '.join(references) or 'none'}"
        )
    payload: dict[str, Any] = {
        "requestId": _request_id(a, ctx),
        "report": _required_boolean(a, "report"),
        "clear": _required_boolean(a, "clear"),
    }
    if not payload["report"] and not payload["clear"]:
        # N09.FR.07/N10.FR.07: the station should reject a request that neither reports nor clears.
        raise a.fail("report or clear must be true (N09.FR.07)")
    if a.has("id_token"):
        payload["idToken"] = id_token(a, ctx, default_type="ISO14443")
    elif a.has("id_token_type"):
        raise a.fail("id_token_type goes with id_token")
    customer_identifier = a.string("customer_identifier", required=False, max_length=64)
    if customer_identifier is not None:
        payload["customerIdentifier"] = customer_identifier
    certificate = a.mapping("customer_certificate", required=False)
    if certificate is not None:
        what = f"{a.what}: customer_certificate"
        payload["customerCertificate"] = _certificate_hash(certificate, what)
    return "CustomerInformation", payload


def get_display_messages(a: Arguments, ctx: Context) -> tuple[str, dict[str, Any]]:
    """O03 (all) and O04 (specific); the station reports with NotifyDisplayMessages."""
    _only_2(a, ctx, "display messages")
    payload: dict[str, Any] = {"requestId": _request_id(a, ctx)}
    ids = _ids(a, "message_ids", required=False)
    if ids:
        payload["id"] = ids
    priority = a.choice("priority", MESSAGE_PRIORITIES, required=False)
    if priority is not None:
        payload["priority"] = priority
    state = a.choice("state", _of(ctx, MESSAGE_STATES, MESSAGE_STATES_21), required=False)
    if state is not None:
        payload["state"] = state
    return "GetDisplayMessages", payload


def clear_display_message(a: Arguments, ctx: Context) -> tuple[str, dict[str, Any]]:
    """O05: removes the message SetDisplayMessage set with this id."""
    _only_2(a, ctx, "display messages")
    return "ClearDisplayMessage", {"id": a.integer("message_id", minimum=0)}


def get_transaction_status(a: Arguments, ctx: Context) -> tuple[str, dict[str, Any]]:
    """E14: whether the transaction is ongoing and whether messages of it (of any transaction,
    without transaction_id) wait in the station's queue."""
    _only_2(a, ctx, "GetTransactionStatus")
    value = a.anything("transaction_id")
    if value is None:
        return "GetTransactionStatus", {}
    if isinstance(value, bool) or not isinstance(value, int | str) or value == "":
        raise a.fail(f"transaction_id must be a string or an integer, got {value!r}")
    return "GetTransactionStatus", {"transactionId": str(value)}


def _apn(item: Mapping[str, Any], what: str) -> dict[str, Any]:
    p = Arguments(what, item, InvalidCommand)
    apn: dict[str, Any] = {"apn": p.string("apn")}
    user_name = p.string("apn_user_name", required=False)
    if user_name is not None:
        apn["apnUserName"] = user_name
    password = _secret(p, "apn_password", required=False)
    if password is not None:
        apn["apnPassword"] = password
    sim_pin = p.anything("sim_pin")
    if sim_pin is not None:
        if isinstance(sim_pin, bool) or not isinstance(sim_pin, int) or not 0 <= sim_pin < 2**31:
            raise p.fail("sim_pin must be an integer >= 0 (the value is not shown)")
        apn["simPin"] = sim_pin
    preferred = p.string("preferred_network", required=False)
    if preferred is not None:
        apn["preferredNetwork"] = preferred
    only_preferred = _boolean(p, "use_only_preferred_network")
    if only_preferred is not None:
        apn["useOnlyPreferredNetwork"] = only_preferred
    apn["apnAuthentication"] = p.choice("apn_authentication", APN_AUTHENTICATIONS)
    p.done()
    return apn


def _vpn(item: Mapping[str, Any], what: str) -> dict[str, Any]:
    p = Arguments(what, item, InvalidCommand)
    vpn: dict[str, Any] = {"server": p.string("server"), "user": p.string("user")}
    group = p.string("group", required=False)
    if group is not None:
        vpn["group"] = group
    vpn["password"] = _secret(p, "password", required=True)
    vpn["key"] = _secret(p, "key", required=True)
    vpn["type"] = p.choice("type", VPN_TYPES)
    p.done()
    return vpn


def _connection_data(c: Arguments, ctx: Context) -> dict[str, Any]:
    v21 = ctx.version is OcppVersion.V21
    versions = _of(ctx, OCPP_VERSIONS, OCPP_VERSIONS_21)
    # The 2.1 schema no longer requires ocppVersion.
    version = (
        c.choice("ocpp_version", versions, required=False)
        if v21
        else c.choice("ocpp_version", versions)
    )
    profile: dict[str, Any] = {} if version is None else {"ocppVersion": version}
    transport = c.choice("ocpp_transport", OCPP_TRANSPORTS)
    url = c.string("ocpp_csms_url")
    security_profile = c.integer("security_profile")
    if not 1 <= security_profile <= 3:
        # 2.0.1 Part 2 A (Security): 1 basic auth, 2 TLS and basic auth, 3 TLS and client certs.
        raise c.fail(f"security_profile must be 1, 2 or 3, got {security_profile}")
    scheme = url.split(":", 1)[0].lower()
    if transport == "JSON" and scheme not in ("ws", "wss"):
        # The URL is not shown: it may carry user:password.
        raise c.fail("OCPP-J connects to a ws:// or wss:// ocpp_csms_url")
    if transport == "JSON" and security_profile >= 2 and scheme != "wss":
        raise c.fail(f"security_profile {security_profile} is TLS: ocpp_csms_url must be wss://")
    profile |= {
        "ocppTransport": transport,
        "ocppCsmsUrl": url,
        "messageTimeout": c.integer("message_timeout", minimum=1),
        "securityProfile": security_profile,
        "ocppInterface": c.choice("ocpp_interface", _of(ctx, OCPP_INTERFACES, OCPP_INTERFACES_21)),
    }
    if v21:
        identity = c.string("identity", required=False)
        if identity is not None:
            profile["identity"] = identity
        password = _secret(c, "basic_auth_password", required=False)
        if password is not None:
            profile["basicAuthPassword"] = password
    elif c.has("identity") or c.has("basic_auth_password"):
        raise c.fail("identity and basic_auth_password need OCPP 2.1")
    apn = _object(c, "apn")
    if apn is not None:
        profile["apn"] = _apn(apn, f"{c.what}.apn")
    vpn = _object(c, "vpn")
    if vpn is not None:
        profile["vpn"] = _vpn(vpn, f"{c.what}.vpn")
    return profile


def set_network_profile(a: Arguments, ctx: Context) -> tuple[str, dict[str, Any]]:
    """B09: a connection profile in a slot of NetworkConfigurationPriority (B10 then moves the
    station to it). Passwords and keys never appear in a message."""
    _only_2(a, ctx, "network connection profiles")
    slot = a.integer("configuration_slot", minimum=0)
    data = _object(a, "connection_data")
    if data is None:
        raise a.fail("connection_data is required")
    c = Arguments(f"{a.what}: connection_data", data, InvalidCommand)
    profile = _connection_data(c, ctx)
    c.done()
    return "SetNetworkProfile", {"configurationSlot": slot, "connectionData": profile}


def extended_trigger_message(a: Arguments, ctx: Context) -> tuple[str, dict[str, Any]]:
    """The 1.6 security extension's trigger (security log, certificate signing); 2.x
    TriggerMessage has all of them."""
    ctx.only_16(a, "TriggerMessage")
    payload: dict[str, Any] = {"requestedMessage": a.choice("message", EXTENDED_TRIGGERS_16)}
    connector_id = connector_16(a, default=-1)
    if connector_id != -1:
        payload["connectorId"] = connector_id
    return "ExtendedTriggerMessage", payload


TRANSLATIONS: dict[str, Translation] = {
    "GetBaseReport": get_base_report,
    "GetReport": get_report,
    "SetVariableMonitoring": set_variable_monitoring,
    "ClearVariableMonitoring": clear_variable_monitoring,
    "SetMonitoringBase": set_monitoring_base,
    "SetMonitoringLevel": set_monitoring_level,
    "GetMonitoringReport": get_monitoring_report,
    "CustomerInformation": customer_information,
    "GetDisplayMessages": get_display_messages,
    "ClearDisplayMessage": clear_display_message,
    "GetTransactionStatus": get_transaction_status,
    "SetNetworkProfile": set_network_profile,
    "ExtendedTriggerMessage": extended_trigger_message,
}
