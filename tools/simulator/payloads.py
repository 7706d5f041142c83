"""Payloads of the CALLs a station sends, for OCPP 1.6 and 2.0.1 (pure)."""

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from ocppj.timestamps import rfc3339

VOLTAGE_V = 230.0  # per phase
PHASES = 3


class Version(StrEnum):
    V16 = "1.6"
    V201 = "2.0.1"

    @property
    def subprotocol(self) -> str:
        return f"ocpp{self.value}"


class ConnectorStatus(StrEnum):
    """OCPP 1.6 ChargePointStatus; 2.0.1 folds the charging states into Occupied."""

    AVAILABLE = "Available"
    PREPARING = "Preparing"
    CHARGING = "Charging"
    FINISHING = "Finishing"
    UNAVAILABLE = "Unavailable"

    @property
    def v201(self) -> str:  # 2.0.1 ConnectorStatusEnumType
        if self in (ConnectorStatus.AVAILABLE, ConnectorStatus.UNAVAILABLE):
            return self.value
        return "Occupied"


@dataclass(frozen=True, slots=True)
class Sample:
    """One meter reading: units in the names, as the spec's measurands."""

    energy_wh: float  # Energy.Active.Import.Register
    power_w: float  # Power.Active.Import
    current_a: float  # Current.Import, per phase
    soc_percent: float  # SoC


def status_of(payload: dict[str, Any]) -> str:
    """An answer's status: ``status``, ``idTagInfo.status`` (1.6), ``idTokenInfo.status``."""
    for holder in (payload, payload.get("idTagInfo"), payload.get("idTokenInfo")):
        if isinstance(holder, dict) and isinstance(status := holder.get("status"), str):
            return status
    return "Result"


def timestamp(wall_s: float) -> str:
    """RFC 3339 in UTC with a 'Z', to the millisecond, as both versions require."""
    return rfc3339(datetime.fromtimestamp(wall_s, tz=UTC))


def boot_notification(
    version: Version, *, vendor: str, model: str, serial_number: str, reason: str = "PowerUp"
) -> dict[str, Any]:
    if version is Version.V16:
        return {
            "chargePointVendor": vendor[:20],
            "chargePointModel": model[:20],
            "chargePointSerialNumber": serial_number[:25],
            "firmwareVersion": "sim-1.0",
        }
    station = {
        "vendorName": vendor[:50],
        "model": model[:20],
        "serialNumber": serial_number[:25],
        "firmwareVersion": "sim-1.0",
    }
    return {"chargingStation": station, "reason": reason}


def status_notification(
    version: Version, *, connector_id: int, status: ConnectorStatus, wall_s: float
) -> dict[str, Any]:
    if version is Version.V16:
        return {
            "connectorId": connector_id,
            "errorCode": "NoError",
            "status": status.value,
            "timestamp": timestamp(wall_s),
        }
    # One connector per EVSE: evse_id = connector_id of 1.6, connectorId 1 within the EVSE.
    return {
        "timestamp": timestamp(wall_s),
        "connectorStatus": status.v201,
        "evseId": connector_id,
        "connectorId": 1,
    }


def id_token_type(id_token: str) -> dict[str, str]:
    return {"idToken": id_token, "type": "ISO14443"}


def authorize(version: Version, id_token: str) -> dict[str, Any]:
    if version is Version.V16:
        return {"idTag": id_token}
    return {"idToken": id_token_type(id_token)}


def start_transaction(
    *, connector_id: int, id_token: str, meter_start_wh: int, wall_s: float
) -> dict[str, Any]:  # 1.6 only
    return {
        "connectorId": connector_id,
        "idTag": id_token,
        "meterStart": meter_start_wh,
        "timestamp": timestamp(wall_s),
    }


def stop_transaction(
    *, transaction_id: int, id_token: str, meter_stop_wh: int, reason: str, wall_s: float
) -> dict[str, Any]:  # 1.6 only
    return {
        "transactionId": transaction_id,
        "idTag": id_token,
        "meterStop": meter_stop_wh,
        "timestamp": timestamp(wall_s),
        "reason": reason,
    }


def sampled_values(version: Version, sample: Sample, context: str) -> list[dict[str, Any]]:
    """1.6 values are decimal strings with a unit; 2.0.1 values are numbers."""
    readings = (
        ("Energy.Active.Import.Register", round(sample.energy_wh), "Wh", "Outlet"),
        ("Power.Active.Import", round(sample.power_w), "W", "Outlet"),
        ("Current.Import", round(sample.current_a, 1), "A", "Outlet"),
        ("SoC", round(sample.soc_percent), "Percent", "EV"),
    )
    if version is Version.V16:
        return [
            {"value": str(value), "context": context, "measurand": measurand, "unit": unit}
            | {"location": location}
            for measurand, value, unit, location in readings
        ]
    return [
        {"value": value, "context": context, "measurand": measurand, "location": location}
        | {"unitOfMeasure": {"unit": unit}}
        for measurand, value, unit, location in readings
    ]


def meter_value(version: Version, sample: Sample, context: str, wall_s: float) -> dict[str, Any]:
    return {
        "timestamp": timestamp(wall_s),
        "sampledValue": sampled_values(version, sample, context),
    }


def meter_values(
    version: Version,
    *,
    connector_id: int,
    transaction_id: str | None,
    sample: Sample,
    context: str,
    wall_s: float,
) -> dict[str, Any]:
    readings = [meter_value(version, sample, context, wall_s)]
    if version is Version.V201:  # 2.0.1 sends transaction readings in TransactionEvent
        return {"evseId": connector_id, "meterValue": readings}
    payload: dict[str, Any] = {"connectorId": connector_id, "meterValue": readings}
    if transaction_id is not None:
        payload["transactionId"] = int(transaction_id)
    return payload


def transaction_event(
    *,
    event_type: str,
    trigger_reason: str,
    seq_no: int,
    transaction_id: str,
    charging_state: str,
    connector_id: int,
    wall_s: float,
    sample: Sample | None = None,
    id_token: str | None = None,
    stopped_reason: str | None = None,
    remote_start_id: int | None = None,
    context: str | None = None,
) -> dict[str, Any]:  # 2.0.1 only
    info: dict[str, Any] = {"transactionId": transaction_id, "chargingState": charging_state}
    if stopped_reason is not None:
        info["stoppedReason"] = stopped_reason
    if remote_start_id is not None:
        info["remoteStartId"] = remote_start_id
    payload: dict[str, Any] = {
        "eventType": event_type,
        "timestamp": timestamp(wall_s),
        "triggerReason": trigger_reason,
        "seqNo": seq_no,
        "transactionInfo": info,
    }
    if event_type == "Started":  # E01.FR.16: the EVSE goes in the first event
        payload["evse"] = {"id": connector_id, "connectorId": 1}
    if id_token is not None:
        payload["idToken"] = id_token_type(id_token)
    if sample is not None:
        default = {"Started": "Transaction.Begin", "Ended": "Transaction.End"}.get(
            event_type, "Sample.Periodic"
        )
        payload["meterValue"] = [meter_value(Version.V201, sample, context or default, wall_s)]
    return payload
