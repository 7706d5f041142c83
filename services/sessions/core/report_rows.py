"""The rows of a report part, version-neutral: device model, monitors, profiles, messages (pure).

Each OCPP report carries its items in its own shape; a ReportReceived carries them as rows of
snake_case fields (docs/events.md, "ReportReceived"). An item the schema let through but that
lacks what addresses it (a component or variable name, a message id) is left out.
"""

from collections.abc import Mapping, Sequence
from typing import Any

from contracts.fields import mapping, text, whole
from contracts.payloads.station_reports import ReportKind

Row = dict[str, Any]

# 1.6 configuration keys go into the device model under this component (a pseudo component:
# 2.0.1 has no component of that name), one variable per key.
CONFIGURATION_16 = "OCPP16Config"


def _items(payload: Mapping[str, Any], name: str) -> list[Mapping[str, Any]]:
    found = payload.get(name)
    if not isinstance(found, Sequence) or isinstance(found, str):
        return []
    return [item for item in found if isinstance(item, Mapping)]


def _address(item: Mapping[str, Any]) -> Row | None:
    """component, component_instance, evse_id, connector_id, variable, variable_instance."""
    component, variable = mapping(item, "component"), mapping(item, "variable")
    if component is None or variable is None:
        return None
    component_name, variable_name = text(component, "name"), text(variable, "name")
    if component_name is None or variable_name is None:
        return None
    evse = mapping(component, "evse") or {}
    return {
        "component": component_name,
        "component_instance": text(component, "instance"),
        "evse_id": whole(evse, "id"),
        "connector_id": whole(evse, "connectorId"),
        "variable": variable_name,
        "variable_instance": text(variable, "instance"),
    }


def _attribute(attribute: Mapping[str, Any]) -> Row:
    """2.0.1 VariableAttributeType with its defaults filled in (type Actual, mutability
    ReadWrite, persistent and constant false)."""
    return {
        "type": text(attribute, "type") or "Actual",
        "value": text(attribute, "value"),
        "mutability": text(attribute, "mutability") or "ReadWrite",
        "persistent": attribute.get("persistent") is True,
        "constant": attribute.get("constant") is True,
    }


def _characteristics(found: Mapping[str, Any] | None) -> Row | None:
    if found is None:
        return None
    return {
        "unit": text(found, "unit"),
        "data_type": text(found, "dataType"),
        "min_limit": found.get("minLimit"),
        "max_limit": found.get("maxLimit"),
        "values_list": text(found, "valuesList"),
        "supports_monitoring": found.get("supportsMonitoring") is True,
    }


def device_model(payload: Mapping[str, Any]) -> list[Row]:
    """NotifyReport ``reportData``: one row per component variable, with its attributes."""
    rows = []
    for item in _items(payload, "reportData"):
        row = _address(item)
        if row is None:
            continue
        row["attributes"] = [_attribute(a) for a in _items(item, "variableAttribute")]
        row["characteristics"] = _characteristics(mapping(item, "variableCharacteristics"))
        rows.append(row)
    return rows


def configuration_16(response: Mapping[str, Any]) -> list[Row]:
    """1.6 GetConfiguration.conf ``configurationKey``: one row per key, as a variable of the
    pseudo component OCPP16Config; ``value`` is absent for a key that is unset or write-only
    (AuthorizationKey), which is not an unknown key."""
    rows = []
    for item in _items(response, "configurationKey"):
        key = text(item, "key")
        if key is None:
            continue
        readonly = item.get("readonly") is True
        attribute = {
            "type": "Actual",
            "value": text(item, "value"),
            "mutability": "ReadOnly" if readonly else "ReadWrite",
            "persistent": False,
            "constant": False,
        }
        rows.append(
            {
                "component": CONFIGURATION_16,
                "component_instance": None,
                "evse_id": None,
                "connector_id": None,
                "variable": key,
                "variable_instance": None,
                "attributes": [attribute],
                "characteristics": None,
            }
        )
    return rows


def monitors(payload: Mapping[str, Any]) -> list[Row]:
    """NotifyMonitoringReport ``monitor``: one row per component variable with its monitors
    (id, transaction, value, type, severity)."""
    rows = []
    for item in _items(payload, "monitor"):
        row = _address(item)
        if row is None:
            continue
        row["monitors"] = [
            {
                "id": whole(m, "id"),
                "transaction": m.get("transaction") is True,
                "value": m.get("value"),
                "type": text(m, "type"),
                "severity": whole(m, "severity"),
            }
            for m in _items(item, "variableMonitoring")
        ]
        rows.append(row)
    return rows


def charging_profiles(payload: Mapping[str, Any]) -> list[Row]:
    """ReportChargingProfiles: one row per profile, with the part's EVSE and the source of the
    limit (CSO, EMS, SO, Other); the profile as the station sent it (OCPP 2.0.1 camelCase)."""
    evse_id, source = whole(payload, "evseId"), text(payload, "chargingLimitSource")
    return [
        {"evse_id": evse_id, "source": source, "profile": dict(profile)}
        for profile in _items(payload, "chargingProfile")
    ]


def customer_information(payload: Mapping[str, Any]) -> list[Row]:
    """NotifyCustomerInformation: the part's ``data`` (N09: the parts, in seqNo order, are
    the whole text)."""
    data = text(payload, "data")
    return [] if data is None else [{"data": data}]


def display_messages(payload: Mapping[str, Any]) -> list[Row]:
    """NotifyDisplayMessages ``messageInfo``: one row per message."""
    rows = []
    for item in _items(payload, "messageInfo"):
        message_id, message = whole(item, "id"), mapping(item, "message")
        if message_id is None or message is None:
            continue
        display = mapping(item, "display")
        rows.append(
            {
                "id": message_id,
                "priority": text(item, "priority"),
                "state": text(item, "state"),
                "start_at": text(item, "startDateTime"),
                "end_at": text(item, "endDateTime"),
                "transaction_id": text(item, "transactionId"),
                "format": text(message, "format"),
                "language": text(message, "language"),
                "content": text(message, "content"),
                "display": None if display is None else text(display, "name"),
            }
        )
    return rows


ROWS = {
    ReportKind.DEVICE_MODEL: device_model,
    ReportKind.MONITORS: monitors,
    ReportKind.CHARGING_PROFILES: charging_profiles,
    ReportKind.CUSTOMER_INFORMATION: customer_information,
    ReportKind.DISPLAY_MESSAGES: display_messages,
}


def size(value: object) -> int:
    """About how many bytes ``value`` takes in msgpack (UTF-8 text; a few bytes of header):
    what bounds a report."""
    if isinstance(value, str):
        return len(value.encode("utf-8", "replace")) + 5
    if isinstance(value, Mapping):
        return 2 + sum(size(k) + size(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return 2 + sum(size(v) for v in value)
    return 9
