"""Payload validation against the OCA JSON schemas in the ``ocpp`` wheel (pure; reads only them).

Each (version, action, request/response, strict/lenient) schema is compiled once per process by
fastjsonschema, on first use or by ``Validator.warm()``. Compile options, decided once:

- ``use_default=False``: with the default, fastjsonschema writes schema ``default`` values into
  the payload it validates (2.0.1 MeterValues, GetVariables, ... carry defaults); validation
  must never change what a station sent.
- ``format: "date-time"`` is checked (fastjsonschema's default, unlike the ``ocpp`` library):
  OCPP wants RFC 3339 with a zone (ocpp.md §1.7). fastjsonschema's regex rejects a missing
  zone, a space for "T", month 13 and February 31, and accepts lowercase "t"/"z", "+0200"
  without a colon, second 60 and any number of fraction digits. Lenient mode accepts a missing
  zone, nothing else (see docs/ocpp-validation.md).

Who may send what: the schema files give the actions of a version; ocpp.md §1.8-§1.10 give
the direction (1.6 CP->CS, 2.x CS->CSMS lists below); everything else is CSMS-initiated,
DataTransfer goes both ways, and a request without a response schema (2.1
NotifyPeriodicEventStream) is a SEND (2.1 Part 4 §4.2.4).
"""

import json
import re
from collections.abc import Callable
from functools import cache
from importlib.resources import files
from typing import Any, TypeAlias

import fastjsonschema

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
from ocppj.framing import Payload
from ocppj.versions import OcppVersion

_SCHEMA_DIR = {OcppVersion.V16: "v16", OcppVersion.V201: "v201", OcppVersion.V21: "v21"}

# ocpp.md §1.8: OCPP 1.6 messages a Charge Point initiates (Core, FirmwareManagement, security
# whitepaper extensions).
_STATION_V16 = frozenset(
    {
        "Authorize",
        "BootNotification",
        "DataTransfer",
        "DiagnosticsStatusNotification",
        "FirmwareStatusNotification",
        "Heartbeat",
        "LogStatusNotification",
        "MeterValues",
        "SecurityEventNotification",
        "SignCertificate",
        "SignedFirmwareStatusNotification",
        "StartTransaction",
        "StatusNotification",
        "StopTransaction",
    }
)
# ocpp.md §1.9: the "CS -> CSMS" column of OCPP 2.0.1, functional blocks A-P.
_STATION_V201 = frozenset(
    {
        "Authorize",
        "BootNotification",
        "ClearedChargingLimit",
        "DataTransfer",
        "FirmwareStatusNotification",
        "Get15118EVCertificate",
        "GetCertificateStatus",
        "Heartbeat",
        "LogStatusNotification",
        "MeterValues",
        "NotifyChargingLimit",
        "NotifyCustomerInformation",
        "NotifyDisplayMessages",
        "NotifyEVChargingNeeds",
        "NotifyEVChargingSchedule",
        "NotifyEvent",
        "NotifyMonitoringReport",
        "NotifyReport",
        "PublishFirmwareStatusNotification",
        "ReportChargingProfiles",
        "ReservationStatusUpdate",
        "SecurityEventNotification",
        "SignCertificate",
        "StatusNotification",
        "TransactionEvent",
    }
)
# ocpp.md §1.10: what OCPP 2.1 adds in the CS -> CSMS direction.
_STATION_V21 = _STATION_V201 | {
    "BatterySwap",
    "ClosePeriodicEventStream",
    "GetCertificateChainStatus",
    "NotifyDERAlarm",
    "NotifyDERStartStop",
    "NotifyPeriodicEventStream",
    "NotifyPriorityCharging",
    "NotifySettlement",
    "OpenPeriodicEventStream",
    "PullDynamicScheduleUpdate",
    "ReportDERControl",
    "VatNumberValidation",
}
_STATION = {
    OcppVersion.V16: _STATION_V16,
    OcppVersion.V201: _STATION_V201,
    OcppVersion.V21: _STATION_V21,
}
_BOTH_WAYS = frozenset({"DataTransfer"})

# Lenient mode (docs/ocpp-validation.md): RFC 3339 date-time whose zone may be missing.
_LENIENT_DATE_TIME = (
    r"^\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])[Tt]"
    r"(?:[01]\d|2[0-3]):[0-5]\d:(?:[0-5]\d|60)(?:\.\d+)?"
    r"(?:[Zz]|[+-](?:[01]\d|2[0-3]):?[0-5]\d)?\Z"
)
_OPEN_ENUMS = frozenset({"measurand", "unit", "MeasurandEnumType"})

# fastjsonschema rule -> OCPP error (OCPP-J 1.6 §4.2.3 Table 7, 2.x Part 4 §4.3 Table 8).
_VALUE_RULES = frozenset(
    {
        "const",
        "enum",
        "exclusiveMaximum",
        "exclusiveMinimum",
        "format",
        "maxLength",
        "maximum",
        "minLength",
        "minimum",
        "multipleOf",
        "pattern",
    }
)
_OCCURRENCE_RULES = frozenset({"maxItems", "minItems"})

_Validate: TypeAlias = Callable[[Payload], Any]  # returns the payload; raises on error


@cache
def _schema_files(version: OcppVersion) -> dict[tuple[str, bool], str]:
    """(action, is_response) -> schema file name, from the files the ocpp wheel ships."""
    names = {}
    for entry in files("ocpp").joinpath(_SCHEMA_DIR[version], "schemas").iterdir():
        stem = entry.name.removesuffix(".json")
        if stem.endswith("Response"):
            names[stem.removesuffix("Response"), True] = entry.name
        else:  # 1.6 "X.json", 2.x "XRequest.json", 2.1 SEND "NotifyPeriodicEventStream.json"
            names[stem.removesuffix("Request"), False] = entry.name
    return names


def actions(version: OcppVersion) -> frozenset[str]:
    """Every action with a request schema in ``version``."""
    return frozenset(action for action, response in _schema_files(version) if not response)


def send_actions(version: OcppVersion) -> frozenset[str]:
    """Actions sent as 2.1 SEND (a request schema and no response schema)."""
    schemas = _schema_files(version)
    return frozenset(action for action in actions(version) if (action, True) not in schemas)


def station_actions(version: OcppVersion) -> frozenset[str]:
    """Actions a station may initiate (CP -> CS, CS -> CSMS) in ``version``."""
    return _STATION[version] & actions(version)


def csms_actions(version: OcppVersion) -> frozenset[str]:
    """Actions the CSMS may initiate (CS -> CP, CSMS -> CS) in ``version``."""
    return (actions(version) - _STATION[version]) | (_BOTH_WAYS & actions(version))


def _relax(node: Any, name: str = "") -> Any:
    """A copy of a schema with the lenient-mode deviations allowed (docs/ocpp-validation.md)."""
    if isinstance(node, list):
        return [_relax(item) for item in node]
    if not isinstance(node, dict):
        return node
    relaxed: dict[str, Any] = {}
    for key, value in node.items():
        if key == "maxLength" or (key == "additionalProperties" and value is False):
            continue  # L1 unknown properties, L2 over-long strings
        if key == "enum" and name in _OPEN_ENUMS:
            continue  # L4 unknown measurands and units
        if key in ("properties", "definitions"):
            relaxed[key] = {child: _relax(schema, child) for child, schema in value.items()}
        else:
            relaxed[key] = _relax(value)
    return relaxed


@cache
def _compiled(version: OcppVersion, action: str, response: bool, lenient: bool) -> _Validate | None:
    name = _schema_files(version).get((action, response))
    if name is None:
        return None
    text = files("ocpp").joinpath(_SCHEMA_DIR[version], "schemas", name).read_text("utf-8-sig")
    schema = json.loads(text)
    validate: _Validate
    if lenient:
        formats = {"date-time": _LENIENT_DATE_TIME}
        validate = fastjsonschema.compile(_relax(schema), use_default=False, formats=formats)
    else:
        validate = fastjsonschema.compile(schema, use_default=False)
    return validate


def _schema_error(
    exc: fastjsonschema.JsonSchemaValueException, version: OcppVersion, what: str
) -> OcppError:
    rule = exc.rule or ""
    path = re.sub(r"^data", "payload", exc.name or "data")
    message = f"{what}: {path}{exc.message.removeprefix(exc.name or '')}"
    details = {"path": path, "rule": rule}
    if rule == "type":
        return TypeConstraintViolation(message, details=details)
    if rule in _VALUE_RULES:
        return PropertyConstraintViolation(message, details=details)
    if rule in _OCCURRENCE_RULES or (rule == "required" and version is OcppVersion.V16):
        return OccurrenceConstraintViolation(message, details=details)
    if rule == "required":  # 2.x: ProtocolError rather than the disputed code (ocpp.md §1.4)
        return ProtocolError(message, details=details)
    return FormatViolation(message, details=details)  # additionalProperties and the rest


class Validator:
    """Validates payloads of one OCPP version; ``lenient`` relaxes only what stations send.

    What we send (``outgoing=True``) is always validated strictly.
    """

    def __init__(self, version: OcppVersion, *, lenient: bool = False) -> None:
        self.version = version
        self.lenient = lenient
        self._all = actions(version)
        self._station = station_actions(version)
        self._csms = csms_actions(version)
        self._send = send_actions(version)

    def validate_request(
        self, action: str, payload: Payload, *, outgoing: bool = False, send: bool = False
    ) -> None:
        """Check a CALL (or, with ``send``, a 2.1 SEND) of ``action``.

        Raises:
            NotImplementedAction: ``action`` is not an action of this version.
            NotSupported: the action exists but not in this direction or message type.
            OcppError: the payload does not match the schema (see module docstring).
        """
        if action not in self._all:
            # OCPP-J 1.6 §4.2.3 / 2.x §4.3: NotImplemented = "Requested Action is not known"
            raise NotImplementedAction(f"unknown action {action!r}")
        if action not in (self._csms if outgoing else self._station):
            sender = "the CSMS" if outgoing else "a station"
            raise NotSupported(f"{action} is not initiated by {sender}")
        if send != (action in self._send):
            kind = "SEND" if send else "CALL"
            raise NotSupported(f"{action} is not sent as a {kind}")
        self._check(action, payload, response=False, outgoing=outgoing)

    def validate_response(self, action: str, payload: Payload, *, outgoing: bool = False) -> None:
        """Check the CALLRESULT payload answering a CALL of ``action``.

        Raises:
            NotImplementedAction: ``action`` has no response schema in this version.
            OcppError: the payload does not match the schema.
        """
        self._check(action, payload, response=True, outgoing=outgoing)

    def warm(self) -> int:
        """Compile every schema this validator can use now; returns how many it compiled."""
        count = 0
        for action, response in _schema_files(self.version):
            for lenient in {False, self.lenient}:
                count += _compiled(self.version, action, response, lenient) is not None
        return count

    def _check(self, action: str, payload: Payload, *, response: bool, outgoing: bool) -> None:
        lenient = self.lenient and not outgoing
        validate = _compiled(self.version, action, response, lenient)
        what = f"{action}{'Response' if response else 'Request'}"
        if validate is None:
            raise NotImplementedAction(f"no schema for {what} in {self.version}")
        try:
            validate(payload)
        except fastjsonschema.JsonSchemaValueException as exc:
            raise _schema_error(exc, self.version, what) from exc
