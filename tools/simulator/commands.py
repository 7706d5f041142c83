"""A station's answers to CSMS-initiated CALLs, OCPP 1.6 and 2.0.1 (pure: takes ``now``)."""

from collections.abc import Callable
from typing import Any, Protocol

from ocpp.v16.enums import Action as Action16
from ocpp.v201.enums import Action as Action201

from tools.simulator.charging import Charging
from tools.simulator.connector import Connector, Phase
from tools.simulator.frames import Call, error_text, result_text
from tools.simulator.payloads import PHASES, VOLTAGE_V, Version, status_of, timestamp


class ChargingStation(Protocol):
    """What the CSMS's CALLs read and act upon: the station."""

    @property
    def version(self) -> Version: ...

    @property
    def charging(self) -> Charging: ...

    def setting(self, key: str) -> str | None: ...

    def configure(self, key: str, value: str, now: float) -> str: ...

    def reset(self, now: float) -> None: ...

    def queue_boot(self, reason: str) -> None: ...

    def queue_heartbeat(self) -> None: ...

    def queue(self, action: str, payload: dict[str, Any]) -> None: ...

    def wall(self, now: float) -> float: ...


Handler = Callable[[ChargingStation, dict[str, Any], float], dict[str, Any]]

KNOWN_ACTIONS = {
    Version.V16: frozenset(a.value for a in Action16),
    Version.V201: frozenset(a.value for a in Action201),
}
CONFIGURATION_KEYS = {  # 1.6 key -> readonly
    "HeartbeatInterval": False,
    "MeterValueSampleInterval": False,
    "NumberOfConnectors": True,
    "MeterValuesSampledData": True,
    "AuthorizeRemoteTxRequests": False,
}
VARIABLES = {  # 2.0.1 (component, variable) -> the 1.6 key that holds it
    ("OCPPCommCtrlr", "HeartbeatInterval"): "HeartbeatInterval",
    ("SampledDataCtrlr", "TxUpdatedInterval"): "MeterValueSampleInterval",
    ("SampledDataCtrlr", "TxUpdatedMeasurands"): "MeterValuesSampledData",
    ("AuthCtrlr", "AuthorizeRemoteStart"): "AuthorizeRemoteTxRequests",
    ("SecurityCtrlr", "BasicAuthPassword"): "AuthorizationKey",
}
COMPONENTS = frozenset(component for component, _ in VARIABLES)
SET_STATUS_V201 = {
    "Accepted": "Accepted",
    "Rejected": "Rejected",
    "NotSupported": "UnknownVariable",
}


def answer(station: ChargingStation, call: Call, now: float) -> tuple[str, str]:
    """The reply frame and its status (or CALLERROR code) for one CSMS CALL."""
    table = V16 if station.version is Version.V16 else V201
    if (handler := table.get(call.action)) is None:
        # OCPP-J §4.2.3: NotImplemented for an unknown action, NotSupported for a known one
        known = call.action in KNOWN_ACTIONS[station.version]
        code = "NotSupported" if known else "NotImplemented"
        return error_text(call.unique_id, code, f"{call.action} is not supported"), code
    try:
        payload = handler(station, call.payload, now)
    except (KeyError, IndexError) as exc:  # a required field or list item is missing
        return error_text(call.unique_id, "ProtocolError", f"missing {exc}"), "ProtocolError"
    except (TypeError, ValueError, AttributeError) as exc:  # a field has the wrong type
        code = "TypeConstraintViolation"
        return error_text(call.unique_id, code, str(exc)), code
    return result_text(call.unique_id, payload), status_of(payload)


def _int(payload: dict[str, Any], key: str) -> int:
    """Raises: KeyError: if absent. TypeError: if not an integer."""
    value = payload[key]
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{key} must be an integer")
    return value


def _str(payload: dict[str, Any], key: str) -> str:
    """Raises: KeyError: if absent. TypeError: if not a string."""
    value = payload[key]
    if not isinstance(value, str):
        raise TypeError(f"{key} must be a string")
    return value


def _dict(payload: dict[str, Any], key: str) -> dict[str, Any]:
    """Raises: KeyError: if absent. TypeError: if not an object."""
    value = payload[key]
    if not isinstance(value, dict):
        raise TypeError(f"{key} must be an object")
    return value


def _status(status: str) -> dict[str, Any]:
    return {"status": status}


def _free_connector(station: ChargingStation, connector_id: int | None) -> Connector | None:
    """The asked connector if it can start, else the first that can (id absent or 0)."""
    candidates = station.charging.connectors
    if connector_id:
        candidates = [c for c in candidates if c.connector_id == connector_id]
    return next((c for c in candidates if c.phase is Phase.IDLE and c.available), None)


def _remote_start(
    station: ChargingStation,
    connector_id: int | None,
    id_token: str,
    remote_start_id: int | None,
    now: float,
) -> Connector | None:
    if (connector := _free_connector(station, connector_id)) is None:
        return None
    authorize = station.setting("AuthorizeRemoteTxRequests") == "true"
    station.charging.begin(
        connector, id_token, now, authorize=authorize, remote_start_id=remote_start_id
    )
    return connector


def _remote_stop(station: ChargingStation, transaction_id: str, now: float) -> dict[str, Any]:
    for connector in station.charging.connectors:
        if connector.transaction_id == transaction_id:
            stopped = station.charging.stop(connector, "Remote", now)
            return _status("Accepted" if stopped else "Rejected")
    return _status("Rejected")


def _reset(station: ChargingStation, payload: dict[str, Any], now: float) -> dict[str, Any]:
    _str(payload, "type")
    station.reset(now)
    return _status("Accepted")


def _set_availability(
    station: ChargingStation, connector_id: int, available: bool, now: float
) -> str:
    if connector_id == 0:
        targets = station.charging.connectors
    elif (connector := station.charging.connector(connector_id)) is not None:
        targets = [connector]
    else:
        return "Rejected"
    scheduled = False
    for target in targets:
        target.available = available
        if target.phase is Phase.IDLE:
            station.charging.queue_status(target, now)
        else:  # takes effect when the session ends
            scheduled = True
    return "Scheduled" if scheduled else "Accepted"


def _trigger(station: ChargingStation, message: str, connector_id: int | None, now: float) -> str:
    charging = station.charging
    targets = charging.connectors if not connector_id else [charging.connector(connector_id)]
    connectors = [c for c in targets if c is not None]
    match message:
        case "BootNotification":
            station.queue_boot("Triggered")
        case "Heartbeat":
            station.queue_heartbeat()
        case "StatusNotification":
            for connector in connectors:
                charging.queue_status(connector, now, force=True)
        case "MeterValues":
            for connector in connectors:
                charging.queue_meter_values(connector, now, triggered=True)
        case "TransactionEvent" if station.version is Version.V201:
            for connector in connectors:
                if connector.phase is Phase.CHARGING:
                    charging.queue_meter_values(connector, now, triggered=True)
        case _:
            return "NotImplemented"
    return "Accepted"


def _limit_w(schedule: dict[str, Any]) -> float:
    """The first period's limit in W; a limit in A counts every phase at 230 V."""
    period = schedule["chargingSchedulePeriod"][0]
    limit = float(period["limit"])
    if schedule["chargingRateUnit"] == "A":
        return limit * VOLTAGE_V * int(period.get("numberPhases", PHASES))
    return limit


# --- OCPP 1.6 ---------------------------------------------------------------------------


def _remote_start_16(
    station: ChargingStation, payload: dict[str, Any], now: float
) -> dict[str, Any]:
    connector_id = payload.get("connectorId")
    started = _remote_start(station, connector_id, _str(payload, "idTag"), None, now)
    return _status("Accepted" if started else "Rejected")


def _change_availability_16(
    station: ChargingStation, payload: dict[str, Any], now: float
) -> dict[str, Any]:
    available = _str(payload, "type") == "Operative"
    return _status(_set_availability(station, _int(payload, "connectorId"), available, now))


def _unlock_16(station: ChargingStation, payload: dict[str, Any], now: float) -> dict[str, Any]:
    connector = station.charging.connector(_int(payload, "connectorId"))
    if connector is None:
        return _status("NotSupported")
    station.charging.stop(connector, "UnlockCommand", now)  # 1.6: unlocking ends the session
    return _status("Unlocked")


def _get_configuration(
    station: ChargingStation, payload: dict[str, Any], now: float
) -> dict[str, Any]:
    keys = payload.get("key") or list(CONFIGURATION_KEYS)
    known = [k for k in keys if k in CONFIGURATION_KEYS]
    result: dict[str, Any] = {
        "configurationKey": [
            {"key": k, "readonly": CONFIGURATION_KEYS[k], "value": station.setting(k) or ""}
            for k in known
        ]
    }
    if unknown := [str(k)[:50] for k in keys if k not in CONFIGURATION_KEYS]:
        result["unknownKey"] = unknown
    return result


def _set_charging_profile_16(
    station: ChargingStation, payload: dict[str, Any], now: float
) -> dict[str, Any]:
    profile = _dict(payload, "csChargingProfiles")
    purpose = profile["chargingProfilePurpose"]
    connector_id = _int(payload, "connectorId")
    limit_w = _limit_w(profile["chargingSchedule"])
    accepted = station.charging.set_limit(connector_id, limit_w, purpose)
    return _status("Accepted" if accepted else "Rejected")


def _clear_charging_profile(
    station: ChargingStation, payload: dict[str, Any], now: float
) -> dict[str, Any]:
    station.charging.clear_limits()
    return _status("Accepted")


V16: dict[str, Handler] = {
    "RemoteStartTransaction": _remote_start_16,
    "RemoteStopTransaction": lambda s, p, now: _remote_stop(s, str(_int(p, "transactionId")), now),
    "Reset": _reset,
    "ChangeAvailability": _change_availability_16,
    "UnlockConnector": _unlock_16,
    "TriggerMessage": lambda s, p, now: _status(
        _trigger(s, _str(p, "requestedMessage"), p.get("connectorId"), now)
    ),
    "GetConfiguration": _get_configuration,
    "ChangeConfiguration": lambda s, p, now: _status(
        s.configure(_str(p, "key"), _str(p, "value"), now)
    ),
    "ClearCache": lambda s, p, now: _status("Accepted"),
    "DataTransfer": lambda s, p, now: _status("Accepted"),
    "SetChargingProfile": _set_charging_profile_16,
    "ClearChargingProfile": _clear_charging_profile,
}


# --- OCPP 2.0.1 -------------------------------------------------------------------------


def _request_start(station: ChargingStation, payload: dict[str, Any], now: float) -> dict[str, Any]:
    id_token = _str(_dict(payload, "idToken"), "idToken")
    remote_start_id = _int(payload, "remoteStartId")
    connector = _remote_start(station, payload.get("evseId"), id_token, remote_start_id, now)
    if connector is None:
        return _status("Rejected")
    result = _status("Accepted")
    if connector.transaction_id is not None:  # already started (no Authorize first)
        result["transactionId"] = connector.transaction_id
    return result


def _change_availability_201(
    station: ChargingStation, payload: dict[str, Any], now: float
) -> dict[str, Any]:
    available = _str(payload, "operationalStatus") == "Operative"
    evse_id = _int(payload["evse"], "id") if "evse" in payload else 0
    return _status(_set_availability(station, evse_id, available, now))


def _unlock_201(station: ChargingStation, payload: dict[str, Any], now: float) -> dict[str, Any]:
    connector = station.charging.connector(_int(payload, "evseId"))
    if connector is None or _int(payload, "connectorId") != 1:
        return _status("UnknownConnector")
    if connector.phase is not Phase.IDLE:
        return _status("OngoingAuthorizedTransaction")
    return _status("Unlocked")


def _trigger_201(station: ChargingStation, payload: dict[str, Any], now: float) -> dict[str, Any]:
    evse_id = _int(payload["evse"], "id") if "evse" in payload else None
    return _status(_trigger(station, _str(payload, "requestedMessage"), evse_id, now))


def _variable_key(item: dict[str, Any]) -> tuple[str | None, str]:
    """(the 1.6 key or None, the status if None)."""
    component = _str(_dict(item, "component"), "name")
    variable = _str(_dict(item, "variable"), "name")
    if component not in COMPONENTS:
        return None, "UnknownComponent"
    if (key := VARIABLES.get((component, variable))) is None:
        return None, "UnknownVariable"
    if item.get("attributeType", "Actual") != "Actual":
        return None, "NotSupportedAttributeType"
    return key, "Accepted"


def _get_variables(station: ChargingStation, payload: dict[str, Any], now: float) -> dict[str, Any]:
    results = []
    for item in payload["getVariableData"]:
        key, status = _variable_key(item)
        value = None if key is None else station.setting(key)
        if key is not None and value is None:  # write-only, e.g. BasicAuthPassword
            status = "Rejected"
        result = {"attributeStatus": status, "component": item["component"]}
        result["variable"] = item["variable"]
        if value is not None:
            result["attributeValue"] = value
        results.append(result)
    return {"getVariableResult": results}


def _set_variables(station: ChargingStation, payload: dict[str, Any], now: float) -> dict[str, Any]:
    results = []
    for item in payload["setVariableData"]:
        key, status = _variable_key(item)
        if key is not None:
            outcome = station.configure(key, _str(item, "attributeValue"), now)
            status = SET_STATUS_V201[outcome]
        results.append(
            {
                "attributeStatus": status,
                "component": item["component"],
                "variable": item["variable"],
            }
        )
    return {"setVariableResult": results}


def _set_charging_profile_201(
    station: ChargingStation, payload: dict[str, Any], now: float
) -> dict[str, Any]:
    profile = _dict(payload, "chargingProfile")
    purpose = profile["chargingProfilePurpose"]
    limit_w = _limit_w(profile["chargingSchedule"][0])
    accepted = station.charging.set_limit(_int(payload, "evseId"), limit_w, purpose)
    return _status("Accepted" if accepted else "Rejected")


REPORT_BASES = frozenset({"ConfigurationInventory", "FullInventory", "SummaryInventory"})
REPORT_PART_ROWS = 4  # reportData per NotifyReport: a report of several parts, as stations send


def _report_data(station: ChargingStation, base: str) -> list[dict[str, Any]]:
    """B07: the controllers' variables (ConfigurationInventory: the settable ones), and per
    EVSE its AvailabilityState and its connector's type (FullInventory: all of them)."""
    rows = []
    if base != "SummaryInventory":
        for (component, variable), key in VARIABLES.items():
            value = station.setting(key)
            writable = key not in ("NumberOfConnectors", "MeterValuesSampledData")
            if base == "ConfigurationInventory" and not writable:
                continue
            attribute: dict[str, Any] = {
                "mutability": "ReadWrite" if writable else "ReadOnly",
                "persistent": True,
            }
            if value is None:
                attribute["mutability"] = "WriteOnly"  # BasicAuthPassword: never shown
            else:
                attribute["value"] = value
            rows.append(
                {
                    "component": {"name": component},
                    "variable": {"name": variable},
                    "variableAttribute": [attribute],
                    "variableCharacteristics": {"dataType": "string", "supportsMonitoring": False},
                }
            )
    if base != "ConfigurationInventory":
        for connector in station.charging.connectors:
            evse = {"id": connector.connector_id}
            rows.append(
                {
                    "component": {"name": "EVSE", "evse": evse},
                    "variable": {"name": "AvailabilityState"},
                    "variableAttribute": [
                        {"value": connector.status.v201, "mutability": "ReadOnly"}
                    ],
                    "variableCharacteristics": {
                        "dataType": "OptionList",
                        "valuesList": "Available,Occupied,Reserved,Unavailable,Faulted",
                        "supportsMonitoring": True,
                    },
                }
            )
            if base == "FullInventory":
                rows.append(
                    {
                        "component": {"name": "Connector", "evse": evse | {"connectorId": 1}},
                        "variable": {"name": "ConnectorType"},
                        "variableAttribute": [{"value": "cType2", "mutability": "ReadOnly"}],
                        "variableCharacteristics": {
                            "dataType": "string",
                            "supportsMonitoring": False,
                        },
                    }
                )
    return rows


def _get_base_report(
    station: ChargingStation, payload: dict[str, Any], now: float
) -> dict[str, Any]:
    """B07: Accepted, then the report in NotifyReport parts (seqNo from 0, tbc on all but
    the last), each sent after the CSMS answered the one before."""
    base, request_id = _str(payload, "reportBase"), _int(payload, "requestId")
    if base not in REPORT_BASES:
        return _status("NotSupported")
    rows = _report_data(station, base)
    parts = [rows[i : i + REPORT_PART_ROWS] for i in range(0, len(rows), REPORT_PART_ROWS)]
    generated_at = timestamp(station.wall(now))
    for seq_no, part in enumerate(parts or [[]]):
        report: dict[str, Any] = {
            "requestId": request_id,
            "generatedAt": generated_at,
            "seqNo": seq_no,
        }
        if part:
            report["reportData"] = part
        if seq_no < len(parts) - 1:
            report["tbc"] = True
        station.queue("NotifyReport", report)
    return _status("Accepted")


V201: dict[str, Handler] = {
    "RequestStartTransaction": _request_start,
    "RequestStopTransaction": lambda s, p, now: _remote_stop(s, _str(p, "transactionId"), now),
    "Reset": _reset,
    "ChangeAvailability": _change_availability_201,
    "UnlockConnector": _unlock_201,
    "TriggerMessage": _trigger_201,
    "GetVariables": _get_variables,
    "SetVariables": _set_variables,
    "ClearCache": lambda s, p, now: _status("Accepted"),
    "DataTransfer": lambda s, p, now: _status("Accepted"),
    "SetChargingProfile": _set_charging_profile_201,
    "ClearChargingProfile": _clear_charging_profile,
    # I02 and O01: the CSMS's running cost and price texts; a display would show them
    "CostUpdated": lambda s, p, now: {},
    "SetDisplayMessage": lambda s, p, now: _status("Accepted"),
    "GetBaseReport": _get_base_report,
}
