"""ocppj.commands: every command for 1.6 and 2.0.1 (schema-valid), and refusals."""

from typing import Any

import pytest

from ocppj.commands import device_management
from ocppj.commands.arguments import InvalidCommand
from ocppj.commands.translate import (
    ALIASES,
    COMMANDS,
    OutgoingCall,
    canonical,
    request_id_for,
    translate,
)
from ocppj.validation import Validator
from ocppj.versions import OcppVersion

V16, V201, V21 = OcppVersion.V16, OcppVersion.V201, OcppVersion.V21
ROOT_PEM = (
    "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUTestRootCertificateOnlyForTranslation\n"
    "-----END CERTIFICATE-----\n"
)
HASH = {
    "hash_algorithm": "SHA256",
    "issuer_name_hash": "a" * 64,
    "issuer_key_hash": "b" * 64,
    "serial_number": "fff",
}
HASH_OCPP = {
    "hashAlgorithm": "SHA256",
    "issuerNameHash": "a" * 64,
    "issuerKeyHash": "b" * 64,
    "serialNumber": "fff",
}
CMD = "cmd-1"
RID = request_id_for(CMD)
LATER = "2027-01-01T00:00:00Z"
LATER_MS = "2027-01-01T00:00:00.000Z"
VARIABLE = {"component": "OCPPCommCtrlr", "variable": "HeartbeatInterval"}
FIRMWARE = {"location": "https://fw.example.com/v2.bin", "retrieve_at": LATER}
MONITOR = {"value": 67, "type": "UpperThreshold", "severity": 4, **VARIABLE}
CERTIFICATE = {
    "hash_algorithm": "SHA256",
    "issuer_name_hash": "a1b2c3",
    "issuer_key_hash": "d4e5f6",
    "serial_number": "0a1b",
}
NETWORK = {
    "ocpp_version": "OCPP20",
    "ocpp_transport": "JSON",
    "ocpp_csms_url": "wss://csms.example.com/ocpp",
    "message_timeout": 30,
    "security_profile": 2,
    "ocpp_interface": "Wired0",
}

# (command, arguments, version, action, payload)
TRANSLATIONS: list[tuple[str, dict[str, Any], OcppVersion, str, dict[str, Any]]] = [
    ("RemoteStart", {"id_token": "04A2B3C4"}, V16, "RemoteStartTransaction", {"idTag": "04A2B3C4"}),
    (
        "RemoteStart",
        {"id_token": "04A2B3C4", "evse_id": 2, "id_token_type": "ISO14443"},
        V16,
        "RemoteStartTransaction",
        {"idTag": "04A2B3C4", "connectorId": 2},
    ),
    (
        "RemoteStart",
        {"id_token": "04A2B3C4", "evse_id": 2},
        V201,
        "RequestStartTransaction",
        {"idToken": {"idToken": "04A2B3C4", "type": "Central"}, "remoteStartId": RID, "evseId": 2},
    ),
    (
        "RemoteStart",
        {"id_token": "T", "id_token_type": "eMAID", "remote_start_id": 7},
        V201,
        "RequestStartTransaction",
        {"idToken": {"idToken": "T", "type": "eMAID"}, "remoteStartId": 7},
    ),
    (
        "RemoteStart",
        {"id_token": "04A2B3C4", "connector_id": 3},
        V16,
        "RemoteStartTransaction",
        {"idTag": "04A2B3C4", "connectorId": 3},
    ),
    ("RemoteStop", {"transaction_id": "42"}, V16, "RemoteStopTransaction", {"transactionId": 42}),
    ("RemoteStop", {"transaction_id": 42}, V201, "RequestStopTransaction", {"transactionId": "42"}),
    ("Reset", {"type": "Hard"}, V16, "Reset", {"type": "Hard"}),
    ("Reset", {"type": "Soft"}, V16, "Reset", {"type": "Soft"}),
    ("Reset", {"type": "Hard"}, V201, "Reset", {"type": "Immediate"}),
    ("Reset", {"type": "Soft", "evse_id": 1}, V201, "Reset", {"type": "OnIdle", "evseId": 1}),
    ("UnlockConnector", {"connector_id": 2}, V16, "UnlockConnector", {"connectorId": 2}),
    ("UnlockConnector", {"evse_id": 2}, V16, "UnlockConnector", {"connectorId": 2}),
    (
        "UnlockConnector",
        {"evse_id": 2, "connector_id": 1},
        V201,
        "UnlockConnector",
        {"evseId": 2, "connectorId": 1},
    ),
    ("UnlockConnector", {"evse_id": 3}, V201, "UnlockConnector", {"evseId": 3, "connectorId": 1}),
    (
        "ChangeAvailability",
        {"status": "Inoperative"},
        V16,
        "ChangeAvailability",
        {"connectorId": 0, "type": "Inoperative"},
    ),
    (
        "ChangeAvailability",
        {"status": "Operative", "evse_id": 1, "connector_id": 2},
        V201,
        "ChangeAvailability",
        {"operationalStatus": "Operative", "evse": {"id": 1, "connectorId": 2}},
    ),
    (
        "ChangeAvailability",
        {"status": "Operative"},
        V201,
        "ChangeAvailability",
        {"operationalStatus": "Operative"},
    ),
    ("GetConfiguration", {}, V16, "GetConfiguration", {}),
    ("GetConfiguration", {"keys": ["A", "B"]}, V16, "GetConfiguration", {"key": ["A", "B"]}),
    (
        "ChangeConfiguration",
        {"key": "HeartbeatInterval", "value": "300"},
        V16,
        "ChangeConfiguration",
        {"key": "HeartbeatInterval", "value": "300"},
    ),
    (
        "GetVariables",
        {"variables": [VARIABLE, {**VARIABLE, "evse_id": 1, "attribute_type": "Target"}]},
        V201,
        "GetVariables",
        {
            "getVariableData": [
                {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}},
                {
                    "component": {"name": "OCPPCommCtrlr", "evse": {"id": 1}},
                    "variable": {"name": "HeartbeatInterval"},
                    "attributeType": "Target",
                },
            ]
        },
    ),
    (
        "SetVariables",
        {"variables": [{**VARIABLE, "value": "300", "variable_instance": "x"}]},
        V201,
        "SetVariables",
        {
            "setVariableData": [
                {
                    "component": {"name": "OCPPCommCtrlr"},
                    "variable": {"name": "HeartbeatInterval", "instance": "x"},
                    "attributeValue": "300",
                }
            ]
        },
    ),
    (
        "TriggerMessage",
        {"message": "StatusNotification", "connector_id": 1},
        V16,
        "TriggerMessage",
        {"requestedMessage": "StatusNotification", "connectorId": 1},
    ),
    (
        "TriggerMessage",
        {"message": "LogStatusNotification"},
        V16,
        "TriggerMessage",
        {"requestedMessage": "DiagnosticsStatusNotification"},
    ),
    (
        "TriggerMessage",
        {"message": "DiagnosticsStatusNotification", "evse_id": 1},
        V201,
        "TriggerMessage",
        {"requestedMessage": "LogStatusNotification", "evse": {"id": 1}},
    ),
    (
        "SendLocalList",
        {
            "version": 4,
            "update_type": "Differential",
            "entries": [
                {"id_token": "A", "status": "Accepted", "expires_at": LATER, "group_id": "G"},
                {"id_token": "B"},
            ],
        },
        V16,
        "SendLocalList",
        {
            "listVersion": 4,
            "updateType": "Differential",
            "localAuthorizationList": [
                {
                    "idTag": "A",
                    "idTagInfo": {"status": "Accepted", "expiryDate": LATER_MS, "parentIdTag": "G"},
                },
                {"idTag": "B"},
            ],
        },
    ),
    (
        "SendLocalList",
        {
            "version": 4,
            "update_type": "Full",
            "entries": [{"id_token": "A", "type": "KeyCode", "status": "Blocked", "group_id": "G"}],
        },
        V201,
        "SendLocalList",
        {
            "versionNumber": 4,
            "updateType": "Full",
            "localAuthorizationList": [
                {
                    "idToken": {"idToken": "A", "type": "KeyCode"},
                    "idTokenInfo": {
                        "status": "Blocked",
                        "groupIdToken": {"idToken": "G", "type": "Central"},
                    },
                }
            ],
        },
    ),
    (
        "SendLocalList",
        {"version": 5, "update_type": "Full"},
        V201,
        "SendLocalList",
        {"versionNumber": 5, "updateType": "Full"},
    ),
    ("GetLocalListVersion", {}, V16, "GetLocalListVersion", {}),
    ("GetLocalListVersion", {}, V201, "GetLocalListVersion", {}),
    (
        "ReserveNow",
        {"reservation_id": 9, "id_token": "A", "expires_at": LATER, "group_id": "G"},
        V16,
        "ReserveNow",
        {
            "connectorId": 0,
            "expiryDate": LATER_MS,
            "idTag": "A",
            "reservationId": 9,
            "parentIdTag": "G",
        },
    ),
    (
        "ReserveNow",
        {
            "reservation_id": 9,
            "id_token": "A",
            "expires_at": "2027-01-01T01:00:00+01:00",
            "evse_id": 1,
            "connector_type": "cType2",
        },
        V201,
        "ReserveNow",
        {
            "id": 9,
            "expiryDateTime": LATER_MS,
            "idToken": {"idToken": "A", "type": "ISO14443"},
            "evseId": 1,
            "connectorType": "cType2",
        },
    ),
    (
        "ReserveNow",
        {"reservation_id": 9, "id_token": "A", "expires_at": LATER, "connector_id": 2},
        V16,
        "ReserveNow",
        {"connectorId": 2, "expiryDate": LATER_MS, "idTag": "A", "reservationId": 9},
    ),
    (
        "ReserveNow",
        {"reservation_id": 9, "id_token": "A", "id_token_type": "eMAID", "expires_at": LATER},
        V201,
        "ReserveNow",
        {"id": 9, "expiryDateTime": LATER_MS, "idToken": {"idToken": "A", "type": "eMAID"}},
    ),
    ("CancelReservation", {"reservation_id": 9}, V16, "CancelReservation", {"reservationId": 9}),
    ("CancelReservation", {"reservation_id": 9}, V201, "CancelReservation", {"reservationId": 9}),
    (
        "UpdateFirmware",
        {**FIRMWARE, "retries": 3, "retry_interval_s": 60},
        V16,
        "UpdateFirmware",
        {
            "location": FIRMWARE["location"],
            "retrieveDate": LATER_MS,
            "retries": 3,
            "retryInterval": 60,
        },
    ),
    (
        "UpdateFirmware",
        {**FIRMWARE, "signing_certificate": "CERT", "signature": "SIG"},
        V16,
        "SignedUpdateFirmware",
        {
            "requestId": RID,
            "firmware": {
                "location": FIRMWARE["location"],
                "retrieveDateTime": LATER_MS,
                "signingCertificate": "CERT",
                "signature": "SIG",
            },
        },
    ),
    (
        "UpdateFirmware",
        {**FIRMWARE, "install_at": LATER, "request_id": 5},
        V201,
        "UpdateFirmware",
        {
            "requestId": 5,
            "firmware": {
                "location": FIRMWARE["location"],
                "retrieveDateTime": LATER_MS,
                "installDateTime": LATER_MS,
            },
        },
    ),
    (
        "GetLog",
        {"location": "ftp://logs.example.com/", "oldest_at": LATER},
        V16,
        "GetDiagnostics",
        {"location": "ftp://logs.example.com/", "startTime": LATER_MS},
    ),
    (
        "GetDiagnostics",
        {"location": "ftp://logs.example.com/", "log_type": "SecurityLog"},
        V16,
        "GetLog",
        {
            "logType": "SecurityLog",
            "requestId": RID,
            "log": {"remoteLocation": "ftp://logs.example.com/"},
        },
    ),
    (
        "GetLog",
        {"location": "ftp://logs.example.com/", "latest_at": LATER, "retries": 1},
        V201,
        "GetLog",
        {
            "logType": "DiagnosticsLog",
            "requestId": RID,
            "log": {"remoteLocation": "ftp://logs.example.com/", "latestTimestamp": LATER_MS},
            "retries": 1,
        },
    ),
    (
        "GetLog",
        {"location": "ftp://x/", "request_id": 8, "retries": 2, "retry_interval_s": 30},
        V16,
        "GetDiagnostics",
        {"location": "ftp://x/", "retries": 2, "retryInterval": 30},
    ),
    (
        "GetLog",
        {"location": "ftp://x/", "log_type": "SecurityLog", "request_id": 8},
        V201,
        "GetLog",
        {"logType": "SecurityLog", "requestId": 8, "log": {"remoteLocation": "ftp://x/"}},
    ),
    ("ClearCache", {}, V16, "ClearCache", {}),
    ("ClearCache", {}, V201, "ClearCache", {}),
    (
        "DataTransfer",
        {"vendor_id": "com.example", "message_id": "m", "data": "text"},
        V16,
        "DataTransfer",
        {"vendorId": "com.example", "messageId": "m", "data": "text"},
    ),
    (
        "DataTransfer",
        {"vendor_id": "com.example", "data": {"any": ["json", 1]}},
        V201,
        "DataTransfer",
        {"vendorId": "com.example", "data": {"any": ["json", 1]}},
    ),
    (
        "SetChargingProfile",
        {
            "purpose": "TxProfile",
            "evse_id": 1,
            "profile_id": 10,
            "transaction_id": "42",
            "limit": 16.35,
            "start_at": "2026-11-26T08:00:00Z",
            "duration_s": 3600,
            "unit": "A",
            "stack_level": 1,
        },
        V16,
        "SetChargingProfile",
        {
            "connectorId": 1,
            "csChargingProfiles": {
                "chargingProfileId": 10,
                "stackLevel": 1,
                "chargingProfilePurpose": "TxProfile",
                "chargingProfileKind": "Absolute",
                "transactionId": 42,
                "chargingSchedule": {
                    "chargingRateUnit": "A",
                    "startSchedule": "2026-11-26T08:00:00.000Z",
                    "duration": 3600,
                    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.3}],
                },
            },
        },
    ),
    (
        "SetChargingProfile",
        {
            "purpose": "StationMaxProfile",
            "evse_id": 0,
            "profile_id": 1,
            "periods": [
                {"start_s": 0, "limit": 32},
                {"start_s": 3600, "limit": 16, "number_phases": 1},
            ],
            "kind": "Recurring",
            "recurrency": "Daily",
            "start_at": "2026-11-26T00:00:00Z",
            "valid_from": "2026-11-26T00:00:00Z",
            "valid_to": "2026-12-26T00:00:00Z",
            "min_rate": 6,
        },
        V201,
        "SetChargingProfile",
        {
            "evseId": 0,
            "chargingProfile": {
                "id": 1,
                "stackLevel": 0,
                "chargingProfilePurpose": "ChargingStationMaxProfile",
                "chargingProfileKind": "Recurring",
                "recurrencyKind": "Daily",
                "validFrom": "2026-11-26T00:00:00.000Z",
                "validTo": "2026-12-26T00:00:00.000Z",
                "chargingSchedule": [
                    {
                        "id": 1,
                        "chargingRateUnit": "A",
                        "startSchedule": "2026-11-26T00:00:00.000Z",
                        "chargingSchedulePeriod": [
                            {"startPeriod": 0, "limit": 32.0},
                            {"startPeriod": 3600, "limit": 16.0, "numberPhases": 1},
                        ],
                        "minChargingRate": 6.0,
                    }
                ],
            },
        },
    ),
    (
        "SetChargingProfile",
        {
            "purpose": "TxDefaultProfile",
            "evse_id": 0,
            "profile_id": 2,
            "limit": 10,
            "number_phases": 3,
            "kind": "Relative",
        },
        V16,
        "SetChargingProfile",
        {
            "connectorId": 0,
            "csChargingProfiles": {
                "chargingProfileId": 2,
                "stackLevel": 0,
                "chargingProfilePurpose": "TxDefaultProfile",
                "chargingProfileKind": "Relative",
                "chargingSchedule": {
                    "chargingRateUnit": "A",
                    "chargingSchedulePeriod": [
                        {"startPeriod": 0, "limit": 10.0, "numberPhases": 3}
                    ],
                },
            },
        },
    ),
    (
        "ClearChargingProfile",
        {"profile_id": 3, "evse_id": 1, "purpose": "TxProfile", "stack_level": 0},
        V16,
        "ClearChargingProfile",
        {"id": 3, "connectorId": 1, "chargingProfilePurpose": "TxProfile", "stackLevel": 0},
    ),
    (
        "ClearChargingProfile",
        {"profile_id": 3, "evse_id": 1, "purpose": "StationMaxProfile"},
        V201,
        "ClearChargingProfile",
        {
            "chargingProfileId": 3,
            "chargingProfileCriteria": {
                "evseId": 1,
                "chargingProfilePurpose": "ChargingStationMaxProfile",
            },
        },
    ),
    ("ClearChargingProfile", {}, V201, "ClearChargingProfile", {}),
    (
        "GetCompositeSchedule",
        {"evse_id": 0, "duration_s": 600, "unit": "W"},
        V16,
        "GetCompositeSchedule",
        {"connectorId": 0, "duration": 600, "chargingRateUnit": "W"},
    ),
    (
        "GetCompositeSchedule",
        {"evse_id": 1, "duration_s": 600},
        V201,
        "GetCompositeSchedule",
        {"evseId": 1, "duration": 600},
    ),
    (
        "GetChargingProfiles",
        {
            "purpose": "TxProfile",
            "evse_id": 1,
            "stack_level": 0,
            "profile_ids": [1, 2],
            "request_id": 5,
        },
        V201,
        "GetChargingProfiles",
        {
            "requestId": 5,
            "chargingProfile": {
                "chargingProfilePurpose": "TxProfile",
                "stackLevel": 0,
                "chargingProfileId": [1, 2],
            },
            "evseId": 1,
        },
    ),
    (
        "SetDisplayMessage",
        {
            "message_id": 7,
            "content": "0.36 EUR/kWh",
            "language": "en",
            "format": "ASCII",
            "priority": "InFront",
            "state": "Idle",
            "start_at": "2026-11-26T08:00:00Z",
            "end_at": "2026-11-27T08:00:00Z",
            "transaction_id": "tx-1",
        },
        V201,
        "SetDisplayMessage",
        {
            "message": {
                "id": 7,
                "priority": "InFront",
                "message": {"format": "ASCII", "language": "en", "content": "0.36 EUR/kWh"},
                "state": "Idle",
                "startDateTime": "2026-11-26T08:00:00.000Z",
                "endDateTime": "2026-11-27T08:00:00.000Z",
                "transactionId": "tx-1",
            }
        },
    ),
    (
        "CostUpdated",
        {"total_cost": 6.66, "transaction_id": "tx-1"},
        V201,
        "CostUpdated",
        {"totalCost": 6.66, "transactionId": "tx-1"},
    ),
    (
        "RequestStartTransaction",
        {"id_token": "A"},
        V21,
        "RequestStartTransaction",
        {"idToken": {"idToken": "A", "type": "Central"}, "remoteStartId": RID},
    ),
    # device_management.py: 2.x device model, monitoring, customers, display, network; 1.6
    # ExtendedTriggerMessage
    (
        "GetBaseReport",
        {"report_base": "FullInventory"},
        V201,
        "GetBaseReport",
        {"requestId": RID, "reportBase": "FullInventory"},
    ),
    (
        "GetBaseReport",
        {"report_base": "SummaryInventory", "request_id": 9},
        V21,
        "GetBaseReport",
        {"requestId": 9, "reportBase": "SummaryInventory"},
    ),
    (
        "GetReport",
        {
            "request_id": 3,
            "component_criteria": ["Problem", "Enabled"],
            "component_variables": [
                {"component": "EVSE", "evse_id": 1, "connector_id": 2},
                {
                    "component": "OCPPCommCtrlr",
                    "component_instance": "primary",
                    "variable": "HeartbeatInterval",
                    "variable_instance": "x",
                },
            ],
        },
        V201,
        "GetReport",
        {
            "requestId": 3,
            "componentCriteria": ["Problem", "Enabled"],
            "componentVariable": [
                {"component": {"name": "EVSE", "evse": {"id": 1, "connectorId": 2}}},
                {
                    "component": {"name": "OCPPCommCtrlr", "instance": "primary"},
                    "variable": {"name": "HeartbeatInterval", "instance": "x"},
                },
            ],
        },
    ),
    ("GetReport", {}, V21, "GetReport", {"requestId": RID}),
    (
        "SetVariableMonitoring",
        {
            "monitors": [
                {
                    "id": 4,
                    "transaction": True,
                    "value": 0.5,
                    "type": "Delta",
                    "severity": 5,
                    "component": "EVSE",
                    "evse_id": 1,
                    "variable": "Power",
                    "variable_instance": "Active",
                },
                {"value": 250, "type": "UpperThreshold", "severity": 5, **VARIABLE},
                {"value": -20, "type": "LowerThreshold", "severity": 2, **VARIABLE},
            ]
        },
        V201,
        "SetVariableMonitoring",
        {
            "setMonitoringData": [
                {
                    "id": 4,
                    "transaction": True,
                    "value": 0.5,
                    "type": "Delta",
                    "severity": 5,
                    "component": {"name": "EVSE", "evse": {"id": 1}},
                    "variable": {"name": "Power", "instance": "Active"},
                },
                {
                    "value": 250,
                    "type": "UpperThreshold",
                    "severity": 5,
                    "component": {"name": "OCPPCommCtrlr"},
                    "variable": {"name": "HeartbeatInterval"},
                },
                {
                    "value": -20,
                    "type": "LowerThreshold",
                    "severity": 2,
                    "component": {"name": "OCPPCommCtrlr"},
                    "variable": {"name": "HeartbeatInterval"},
                },
            ]
        },
    ),
    (
        "SetVariableMonitoring",
        {"monitors": [{"value": 1, "type": "TargetDelta", "severity": 0, **VARIABLE}]},
        V21,
        "SetVariableMonitoring",
        {
            "setMonitoringData": [
                {
                    "value": 1,
                    "type": "TargetDelta",
                    "severity": 0,
                    "component": {"name": "OCPPCommCtrlr"},
                    "variable": {"name": "HeartbeatInterval"},
                }
            ]
        },
    ),
    ("ClearVariableMonitoring", {"ids": [1, 7]}, V201, "ClearVariableMonitoring", {"id": [1, 7]}),
    ("ClearVariableMonitoring", {"ids": [0]}, V21, "ClearVariableMonitoring", {"id": [0]}),
    (
        "SetMonitoringBase",
        {"monitoring_base": "HardWiredOnly"},
        V201,
        "SetMonitoringBase",
        {"monitoringBase": "HardWiredOnly"},
    ),
    ("SetMonitoringLevel", {"severity": 0}, V201, "SetMonitoringLevel", {"severity": 0}),
    ("SetMonitoringLevel", {"severity": 9}, V21, "SetMonitoringLevel", {"severity": 9}),
    (
        "GetMonitoringReport",
        {
            "request_id": 11,
            "monitoring_criteria": ["ThresholdMonitoring", "PeriodicMonitoring"],
            "component_variables": [{"component": "EVSE", "evse_id": 2}],
        },
        V201,
        "GetMonitoringReport",
        {
            "requestId": 11,
            "monitoringCriteria": ["ThresholdMonitoring", "PeriodicMonitoring"],
            "componentVariable": [{"component": {"name": "EVSE", "evse": {"id": 2}}}],
        },
    ),
    ("GetMonitoringReport", {}, V21, "GetMonitoringReport", {"requestId": RID}),
    (
        "CustomerInformation",
        {"report": True, "clear": False, "customer_identifier": "cust-42"},
        V201,
        "CustomerInformation",
        {"requestId": RID, "report": True, "clear": False, "customerIdentifier": "cust-42"},
    ),
    (
        "CustomerInformation",
        {
            "request_id": 5,
            "report": False,
            "clear": True,
            "id_token": "04A2B3C4",
            "id_token_type": "ISO15693",
        },
        V201,
        "CustomerInformation",
        {
            "requestId": 5,
            "report": False,
            "clear": True,
            "idToken": {"idToken": "04A2B3C4", "type": "ISO15693"},
        },
    ),
    (
        "CustomerInformation",
        {"report": True, "clear": True, "id_token": "04A2B3C4"},
        V21,
        "CustomerInformation",
        {
            "requestId": RID,
            "report": True,
            "clear": True,
            "idToken": {"idToken": "04A2B3C4", "type": "ISO14443"},
        },
    ),
    (
        "CustomerInformation",
        {"report": True, "clear": False, "customer_certificate": CERTIFICATE},
        V201,
        "CustomerInformation",
        {
            "requestId": RID,
            "report": True,
            "clear": False,
            "customerCertificate": {
                "hashAlgorithm": "SHA256",
                "issuerNameHash": "a1b2c3",
                "issuerKeyHash": "d4e5f6",
                "serialNumber": "0a1b",
            },
        },
    ),
    (
        "GetDisplayMessages",
        {"request_id": 1, "message_ids": [7, 8], "priority": "AlwaysFront", "state": "Charging"},
        V201,
        "GetDisplayMessages",
        {"requestId": 1, "id": [7, 8], "priority": "AlwaysFront", "state": "Charging"},
    ),
    ("GetDisplayMessages", {}, V201, "GetDisplayMessages", {"requestId": RID}),
    (
        "GetDisplayMessages",
        {"state": "Suspended"},
        V21,
        "GetDisplayMessages",
        {"requestId": RID, "state": "Suspended"},
    ),
    ("ClearDisplayMessage", {"message_id": 7}, V201, "ClearDisplayMessage", {"id": 7}),
    ("GetTransactionStatus", {}, V201, "GetTransactionStatus", {}),
    (
        "GetTransactionStatus",
        {"transaction_id": "tx-1"},
        V201,
        "GetTransactionStatus",
        {"transactionId": "tx-1"},
    ),
    (
        "GetTransactionStatus",
        {"transaction_id": 42},
        V21,
        "GetTransactionStatus",
        {"transactionId": "42"},
    ),
    (
        "SetNetworkProfile",
        {
            "configuration_slot": 2,
            "connection_data": {
                **NETWORK,
                "apn": {
                    "apn": "internet.example",
                    "apn_user_name": "cs",
                    "apn_password": "apn-secret",
                    "sim_pin": 1234,
                    "preferred_network": "26201",
                    "use_only_preferred_network": False,
                    "apn_authentication": "CHAP",
                },
                "vpn": {
                    "server": "vpn.example.com",
                    "user": "cs-0001",
                    "group": "stations",
                    "password": "vpn-secret",
                    "key": "vpn-key",
                    "type": "IKEv2",
                },
            },
        },
        V201,
        "SetNetworkProfile",
        {
            "configurationSlot": 2,
            "connectionData": {
                "ocppVersion": "OCPP20",
                "ocppTransport": "JSON",
                "ocppCsmsUrl": "wss://csms.example.com/ocpp",
                "messageTimeout": 30,
                "securityProfile": 2,
                "ocppInterface": "Wired0",
                "apn": {
                    "apn": "internet.example",
                    "apnUserName": "cs",
                    "apnPassword": "apn-secret",
                    "simPin": 1234,
                    "preferredNetwork": "26201",
                    "useOnlyPreferredNetwork": False,
                    "apnAuthentication": "CHAP",
                },
                "vpn": {
                    "server": "vpn.example.com",
                    "user": "cs-0001",
                    "group": "stations",
                    "password": "vpn-secret",
                    "key": "vpn-key",
                    "type": "IKEv2",
                },
            },
        },
    ),
    (
        "SetNetworkProfile",
        {
            "configuration_slot": 0,
            "connection_data": {
                "ocpp_transport": "JSON",
                "ocpp_csms_url": "ws://csms.example.com/ocpp",
                "message_timeout": 60,
                "security_profile": 1,
                "ocpp_interface": "Any",
                "identity": "CS-0001",
                "basic_auth_password": "0123456789abcdef",
            },
        },
        V21,
        "SetNetworkProfile",
        {
            "configurationSlot": 0,
            "connectionData": {
                "ocppTransport": "JSON",
                "ocppCsmsUrl": "ws://csms.example.com/ocpp",
                "messageTimeout": 60,
                "securityProfile": 1,
                "ocppInterface": "Any",
                "identity": "CS-0001",
                "basicAuthPassword": "0123456789abcdef",
            },
        },
    ),
    (
        "ExtendedTriggerMessage",
        {"message": "SignChargePointCertificate"},
        V16,
        "ExtendedTriggerMessage",
        {"requestedMessage": "SignChargePointCertificate"},
    ),
    (
        "ExtendedTriggerMessage",
        {"message": "StatusNotification", "connector_id": 0},
        V16,
        "ExtendedTriggerMessage",
        {"requestedMessage": "StatusNotification", "connectorId": 0},
    ),
    (
        "ExtendedTriggerMessage",
        {"message": "MeterValues", "evse_id": 2},
        V16,
        "ExtendedTriggerMessage",
        {"requestedMessage": "MeterValues", "connectorId": 2},
    ),
    (
        "InstallCertificate",
        {"certificate_type": "CSMSRootCertificate", "certificate": ROOT_PEM},
        V16,
        "InstallCertificate",
        {"certificateType": "CentralSystemRootCertificate", "certificate": ROOT_PEM},
    ),
    (
        "InstallCertificate",
        {"certificate_type": "CentralSystemRootCertificate", "certificate": ROOT_PEM},
        V201,
        "InstallCertificate",
        {"certificateType": "CSMSRootCertificate", "certificate": ROOT_PEM},
    ),
    (
        "GetInstalledCertificateIds",
        {"certificate_types": ["ManufacturerRootCertificate"]},
        V16,
        "GetInstalledCertificateIds",
        {"certificateType": "ManufacturerRootCertificate"},
    ),
    ("GetInstalledCertificateIds", {}, V201, "GetInstalledCertificateIds", {}),
    (
        "GetInstalledCertificateIds",
        {"certificate_types": ["CSMSRootCertificate", "V2GCertificateChain"]},
        V201,
        "GetInstalledCertificateIds",
        {"certificateType": ["CSMSRootCertificate", "V2GCertificateChain"]},
    ),
    ("DeleteCertificate", HASH, V16, "DeleteCertificate", {"certificateHashData": HASH_OCPP}),
    ("DeleteCertificate", HASH, V201, "DeleteCertificate", {"certificateHashData": HASH_OCPP}),
    (
        "CertificateSigned",
        {"certificate_chain": ROOT_PEM},
        V16,
        "CertificateSigned",
        {"certificateChain": ROOT_PEM},
    ),
    (
        "CertificateSigned",
        {"certificate_chain": ROOT_PEM, "certificate_type": "ChargingStationCertificate"},
        V201,
        "CertificateSigned",
        {"certificateChain": ROOT_PEM, "certificateType": "ChargingStationCertificate"},
    ),
]


@pytest.mark.parametrize(("command", "arguments", "version", "action", "payload"), TRANSLATIONS)
def test_translation(
    command: str, arguments: dict[str, Any], version: OcppVersion, action: str, payload: Any
) -> None:
    call = translate(command, arguments, version, command_id=CMD)
    assert call == OutgoingCall(canonical(command), action, payload)
    Validator(version).validate_request(call.action, call.payload, outgoing=True)


def test_every_command_is_translated_for_both_versions() -> None:
    covered = {(canonical(c), v) for c, _, v, _, _ in TRANSLATIONS}
    only = {"GetConfiguration": {V16}, "ChangeConfiguration": {V16}}
    only |= {"GetVariables": {V201}, "SetVariables": {V201}, "CostUpdated": {V201}}
    only |= {"SetDisplayMessage": {V201}, "GetChargingProfiles": {V201}}
    only |= {command: {V201} for command in device_management.TRANSLATIONS}
    only["ExtendedTriggerMessage"] = {V16}
    for command in COMMANDS:
        for version in only.get(command, {V16, V201}):
            assert (command, version) in covered, (command, version)
    assert set(ALIASES.values()) <= set(COMMANDS)


def test_the_token_store_gives_the_id_token_type() -> None:
    types = {"KNOWN": "MacAddress"}.get
    known = translate("RemoteStart", {"id_token": "KNOWN"}, V201, command_id=CMD, token_types=types)
    assert known.payload["idToken"] == {"idToken": "KNOWN", "type": "MacAddress"}
    unknown = translate("RemoteStart", {"id_token": "NEW"}, V201, command_id=CMD, token_types=types)
    assert unknown.payload["idToken"]["type"] == "Central"


def test_request_ids_follow_the_command_id() -> None:
    assert request_id_for("a") == request_id_for("a")
    assert request_id_for("a") != request_id_for("b")
    assert all(0 < request_id_for(str(i)) < 2**31 for i in range(1000))


# (command, arguments, version, words the message must contain)
REFUSALS: list[tuple[str, dict[str, Any], OcppVersion, str]] = [
    ("Fly", {}, V16, "unknown command 'Fly'"),
    ("RemoteStart", {}, V16, "RemoteStart: id_token is required"),
    ("RemoteStart", {"id_token": 5}, V201, "id_token must be a non-empty string, got 5"),
    ("RemoteStart", {"id_token": "A", "evse": 1}, V16, "unknown field evse"),
    ("RemoteStart", {"id_token": "A", "evse_id": "one"}, V201, "evse_id must be an integer"),
    ("RemoteStart", {"id_token": "A", "evse_id": True}, V201, "evse_id must be an integer"),
    ("RemoteStart", {"id_token": "A", "evse_id": -1}, V201, "evse_id must be an integer >= 0"),
    ("RemoteStart", {"id_token": "A", "id_token_type": "RFID"}, V201, "id_token_type must be one"),
    ("RemoteStart", {"id_token": "X" * 21}, V16, "payload.idTag must be"),  # 1.6 CiString20
    ("RemoteStart", {"id_token": "X" * 37}, V201, "idToken"),  # 2.0.1 CiString36
    (
        "RemoteStart",
        {"id_token": "A", "charging_profile": {"id": 1}},
        V201,
        "RequestStartTransactionRequest",
    ),
    ("RemoteStop", {"transaction_id": "abc"}, V16, "OCPP 1.6 transaction ids are integers"),
    ("RemoteStop", {"transaction_id": 1.5}, V201, "transaction_id must be a string or an integer"),
    ("RemoteStop", {}, V201, "transaction_id is required"),
    ("Reset", {"type": "Sideways"}, V16, "type must be one of Hard, Soft; got 'Sideways'"),
    ("Reset", {"type": "Hard", "evse_id": 1}, V16, "OCPP 1.6 resets the whole station"),
    ("UnlockConnector", {}, V16, "evse_id (or, for OCPP 1.6, connector_id) is required"),
    ("UnlockConnector", {"connector_id": 1}, V201, "give evse_id too"),
    ("UnlockConnector", {"evse_id": 1, "connector_id": 2}, V16, "an OCPP 1.6 connector is an EVSE"),
    ("ChangeAvailability", {"status": "Broken"}, V201, "status must be one of"),
    (
        "GetConfiguration",
        {},
        V201,
        "OCPP 1.6 only; this station speaks ocpp2.0.1: use GetVariables",
    ),
    ("ChangeConfiguration", {"key": "K", "value": 5}, V16, "value must be a non-empty string"),
    ("GetVariables", {"variables": [VARIABLE]}, V16, "use GetConfiguration"),
    ("SetVariables", {"variables": []}, V201, "variables must not be empty"),
    ("SetVariables", {"variables": [VARIABLE]}, V201, "variables[0]: value is required"),
    (
        "SetVariables",
        {"variables": [{**VARIABLE, "value": 300}]},
        V201,
        "value must be a string (OCPP sends variable values as text)",
    ),
    ("GetVariables", {"variables": [{**VARIABLE, "colour": 1}]}, V201, "unknown field colour"),
    ("GetVariables", {"variables": "all"}, V201, "variables must be a list of JSON objects"),
    ("TriggerMessage", {"message": "TransactionEvent"}, V16, "ocpp1.6 cannot trigger"),
    ("TriggerMessage", {"message": "Coffee"}, V201, "cannot trigger Coffee"),
    ("SendLocalList", {"version": 1}, V16, "update_type is required"),
    (
        "SendLocalList",
        {"version": 1, "update_type": "Full", "entries": [{"id_token": "A", "group_id": "G"}]},
        V16,
        "status is required with expires_at or group_id",
    ),
    (
        "SendLocalList",
        {"version": 1, "update_type": "Full", "entries": [{"id_token": "A", "status": "NoCredit"}]},
        V16,
        "status must be one of",
    ),
    (
        "ReserveNow",
        {"reservation_id": 1, "id_token": "A", "expires_at": "tomorrow"},
        V201,
        "expires_at must be an RFC 3339 date-time with a zone",
    ),
    (
        "ReserveNow",
        {"reservation_id": 1, "id_token": "A", "expires_at": "2027-01-01T00:00:00"},
        V16,
        "expires_at must be an RFC 3339 date-time with a zone",
    ),
    (
        "ReserveNow",
        {"reservation_id": 1, "id_token": "A", "expires_at": LATER, "connector_type": "cType2"},
        V16,
        "connector_type needs OCPP 2.0.1",
    ),
    (
        "ReserveNow",
        {"reservation_id": 1, "id_token": "A", "expires_at": LATER, "connector_type": "Plug"},
        V201,
        "connectorType",
    ),
    ("CancelReservation", {"reservation_id": 2**31}, V16, "must fit in 32 bits"),
    ("UpdateFirmware", {"location": "x"}, V16, "retrieve_at is required"),
    ("UpdateFirmware", {**FIRMWARE, "install_at": LATER}, V16, "install_at needs a signed update"),
    ("UpdateFirmware", {**FIRMWARE, "signature": "SIG"}, V16, "signingCertificate"),
    ("GetLog", {"location": "not a uri"}, V16, "GetDiagnosticsRequest"),
    ("GetLog", {"location": "ftp://x/", "log_type": "EverythingLog"}, V201, "log_type must be"),
    ("DataTransfer", {"vendor_id": "v", "data": {"a": 1}}, V16, "data must be a string"),
    ("DataTransfer", {}, V201, "vendor_id is required"),
    ("CostUpdated", {"total_cost": 1, "transaction_id": "1"}, V16, "1.6 has no CostUpdated"),
    ("CostUpdated", {"total_cost": -1, "transaction_id": "t"}, V201, "must be a number >= 0"),
    ("CostUpdated", {"total_cost": "1", "transaction_id": "t"}, V201, "must be a number >= 0"),
    ("CostUpdated", {"total_cost": 1}, V201, "transaction_id is required"),
    ("SetDisplayMessage", {"message_id": 1, "content": "x"}, V16, "2.0.1 and later only"),
    ("GetChargingProfiles", {}, V16, "2.0.1 and later only"),
    (
        "SetChargingProfile",
        {
            "purpose": "TxProfile",
            "evse_id": 1,
            "profile_id": 1,
            "limit": 16,
            "start_at": "2026-11-26T00:00:00Z",
        },
        V201,
        "names its transaction_id",
    ),
    (
        "SetChargingProfile",
        {"purpose": "TxDefaultProfile", "evse_id": 1, "profile_id": 1, "limit": 16},
        V201,
        "needs start_at",
    ),
    (
        "SetChargingProfile",
        {"purpose": "TxProfile", "evse_id": 0, "profile_id": 1, "limit": 16},
        V16,
        "a TxProfile is for an EVSE",
    ),
    (
        "SetChargingProfile",
        {"purpose": "StationMaxProfile", "evse_id": 1, "profile_id": 1, "limit": 16},
        V16,
        "for the whole station",
    ),
    (
        "SetChargingProfile",
        {"purpose": "TxDefaultProfile", "evse_id": 0, "profile_id": 1, "limit": -1},
        V16,
        "limit must be a number >= 0",
    ),
    (
        "SetChargingProfile",
        {
            "purpose": "TxDefaultProfile",
            "evse_id": 0,
            "profile_id": 1,
            "periods": [{"start_s": 60, "limit": 6}],
        },
        V16,
        "the first period must start at 0 s",
    ),
    (
        "SetChargingProfile",
        {
            "purpose": "ChargingStationExternalConstraints",
            "evse_id": 0,
            "profile_id": 1,
            "limit": 6,
        },
        V201,
        "purpose must be one of",
    ),
    (
        "SetChargingProfile",
        {
            "purpose": "TxDefaultProfile",
            "evse_id": 0,
            "profile_id": 1,
            "limit": 6,
            "kind": "Relative",
            "start_at": "2026-11-26T00:00:00Z",
        },
        V201,
        "a Relative profile has no start_at",
    ),
    (
        "SetChargingProfile",
        {
            "purpose": "TxDefaultProfile",
            "evse_id": 0,
            "profile_id": 1,
            "limit": 6,
            "kind": "Recurring",
        },
        V16,
        "recurrency",
    ),
    (
        "SetChargingProfile",
        {
            "purpose": "TxDefaultProfile",
            "evse_id": 0,
            "profile_id": 1,
            "limit": 6,
            "transaction_id": 5,
        },
        V16,
        "only a TxProfile names a transaction_id",
    ),
    ("SetDisplayMessage", {"message_id": 1, "content": "x", "priority": "Top"}, V201, "priority"),
    ("SetDisplayMessage", {"message_id": -1, "content": "x"}, V201, "message_id must be"),
    # device_management.py
    ("GetBaseReport", {"report_base": "FullInventory"}, V16, "use GetConfiguration"),
    (
        "GetReport",
        {},
        V16,
        "2.0.1 and later only; this station speaks ocpp1.6: use GetConfiguration",
    ),
    (
        "SetVariableMonitoring",
        {"monitors": [MONITOR]},
        V16,
        "OCPP 2.0.1 and later only; this station speaks ocpp1.6, which has no variable monitoring",
    ),
    ("ClearVariableMonitoring", {"ids": [1]}, V16, "which has no variable monitoring"),
    ("SetMonitoringBase", {"monitoring_base": "All"}, V16, "which has no variable monitoring"),
    ("SetMonitoringLevel", {"severity": 1}, V16, "which has no variable monitoring"),
    ("GetMonitoringReport", {}, V16, "which has no variable monitoring"),
    (
        "CustomerInformation",
        {"report": True, "clear": False, "customer_identifier": "c"},
        V16,
        "which has no CustomerInformation",
    ),
    ("GetDisplayMessages", {}, V16, "which has no display messages"),
    ("ClearDisplayMessage", {"message_id": 1}, V16, "which has no display messages"),
    ("GetTransactionStatus", {}, V16, "which has no GetTransactionStatus"),
    (
        "SetNetworkProfile",
        {"configuration_slot": 1, "connection_data": NETWORK},
        V16,
        "which has no network connection profiles",
    ),
    (
        "ExtendedTriggerMessage",
        {"message": "Heartbeat"},
        V201,
        "OCPP 1.6 only; this station speaks ocpp2.0.1: use TriggerMessage",
    ),
    ("ExtendedTriggerMessage", {"message": "Heartbeat"}, V21, "use TriggerMessage"),
    ("ExtendedTriggerMessage", {"message": "TransactionEvent"}, V16, "message must be one of"),
    (
        "ExtendedTriggerMessage",
        {"message": "Heartbeat", "evse_id": 1, "connector_id": 2},
        V16,
        "an OCPP 1.6 connector is an EVSE",
    ),
    ("GetBaseReport", {}, V201, "GetBaseReport: report_base is required"),
    ("GetBaseReport", {"report_base": "Everything"}, V201, "report_base must be one of"),
    ("GetBaseReport", {"report_base": "FullInventory", "base": 1}, V201, "unknown field base"),
    (
        "GetBaseReport",
        {"report_base": "FullInventory", "request_id": -1},
        V201,
        "request_id must be an integer >= 0, got -1",
    ),
    ("GetReport", {"component_criteria": ["Broken"]}, V201, "component_criteria[0] must be one of"),
    ("GetReport", {"component_criteria": []}, V201, "component_criteria must be a non-empty list"),
    (
        "GetReport",
        {"component_criteria": ["Active", "Problem", "Active"]},
        V201,
        "component_criteria names Active twice",
    ),
    (
        "GetReport",
        {"component_variables": [{"component": "C", "variable_instance": "x"}]},
        V201,
        "component_variables[0]: variable_instance needs variable",
    ),
    (
        "GetReport",
        {"component_variables": [{"variable": "V"}]},
        V201,
        "GetReport: component_variables[0]: component is required",
    ),
    (
        "GetReport",
        {"component_variables": [{"component": "C", "attribute_type": "Actual"}]},
        V201,
        "component_variables[0]: unknown field attribute_type",
    ),
    (
        "GetReport",
        {"component_variables": [{"component": "C" * 51}]},
        V201,
        "GetReportRequest: payload.componentVariable[0].component.name must be shorter",
    ),
    ("SetVariableMonitoring", {"monitors": []}, V201, "monitors must not be empty"),
    ("SetVariableMonitoring", {}, V201, "monitors is required"),
    (
        "SetVariableMonitoring",
        {"monitors": [{**MONITOR, "severity": 10}]},
        V201,
        "monitors[0]: severity must be 0 (Danger) to 9 (Debug), got 10",
    ),
    (
        "SetVariableMonitoring",
        {"monitors": [{**MONITOR, "severity": -1}]},
        V201,
        "severity must be 0 (Danger) to 9 (Debug), got -1",
    ),
    (
        "SetVariableMonitoring",
        {"monitors": [{**MONITOR, "type": "Delta", "value": -0.1}]},
        V201,
        "monitors[0]: a Delta monitor's value must be >= 0 (N04.FR.14), got -0.1",
    ),
    (
        "SetVariableMonitoring",
        {"monitors": [MONITOR, {**MONITOR, "value": 99}]},
        V201,
        "monitors[1] repeats the type UpperThreshold and severity 4 of monitors[0] on the same "
        "component and variable; the station answers Duplicate (N04.FR.10)",
    ),
    (
        "SetVariableMonitoring",
        {"monitors": [{**MONITOR, "value": "67"}]},
        V201,
        "monitors[0]: value must be a number, got '67'",
    ),
    (
        "SetVariableMonitoring",
        {"monitors": [{**MONITOR, "value": True}]},
        V201,
        "value must be a number, got True",
    ),
    (
        "SetVariableMonitoring",
        {"monitors": [{**MONITOR, "transaction": "yes"}]},
        V201,
        "transaction must be true or false, got 'yes'",
    ),
    (
        "SetVariableMonitoring",
        {"monitors": [{**MONITOR, "type": "TargetDelta"}]},
        V201,
        "monitors[0]: type must be one of",
    ),
    (
        "SetVariableMonitoring",
        {"monitors": [{"value": 1, "type": "Delta", "severity": 1, "component": "EVSE"}]},
        V201,
        "monitors[0]: variable is required",
    ),
    (
        "SetVariableMonitoring",
        {"monitors": [{**MONITOR, "attribute_type": "Actual"}]},
        V201,
        "monitors[0]: unknown field attribute_type",
    ),
    ("ClearVariableMonitoring", {}, V201, "ClearVariableMonitoring: ids is required"),
    ("ClearVariableMonitoring", {"ids": []}, V201, "ids must be a non-empty list"),
    ("ClearVariableMonitoring", {"ids": 3}, V201, "ids must be a non-empty list"),
    ("ClearVariableMonitoring", {"ids": [1, -1]}, V201, "ids[1] must be an integer >= 0"),
    ("ClearVariableMonitoring", {"ids": [True]}, V201, "ids[0] must be an integer >= 0"),
    ("SetMonitoringBase", {"monitoring_base": "None"}, V201, "monitoring_base must be one of"),
    ("SetMonitoringLevel", {}, V201, "severity is required"),
    ("SetMonitoringLevel", {"severity": 10}, V201, "severity must be 0 (Danger) to 9 (Debug)"),
    ("SetMonitoringLevel", {"severity": "3"}, V201, "severity must be an integer"),
    (
        "GetMonitoringReport",
        {"monitoring_criteria": ["ThresholdMonitoring", "AllMonitoring"]},
        V201,
        "monitoring_criteria[1] must be one of DeltaMonitoring, PeriodicMonitoring, "
        "ThresholdMonitoring; got 'AllMonitoring'",
    ),
    (
        "GetMonitoringReport",
        {"component_variables": [{"component": "EVSE", "connector_id": 1}]},
        V201,
        "component_variables[0]: OCPP 2.x addresses a connector within an EVSE",
    ),
    (
        "CustomerInformation",
        {"report": True, "clear": False},
        V201,
        "give exactly one of customer_identifier, id_token, customer_certificate "
        "(N09.FR.04, N10.FR.08), got none",
    ),
    (
        "CustomerInformation",
        {"report": True, "clear": False, "customer_identifier": "c", "id_token": "A"},
        V201,
        "give exactly one of customer_identifier, id_token, customer_certificate "
        "(N09.FR.04, N10.FR.08), got customer_identifier, id_token",
    ),
    (
        "CustomerInformation",
        {"report": False, "clear": False, "customer_identifier": "c"},
        V201,
        "report or clear must be true (N09.FR.07)",
    ),
    (
        "CustomerInformation",
        {"clear": False, "customer_identifier": "c"},
        V201,
        "CustomerInformation: report is required",
    ),
    (
        "CustomerInformation",
        {"report": "true", "clear": False, "customer_identifier": "c"},
        V201,
        "report must be true or false, got 'true'",
    ),
    (
        "CustomerInformation",
        {"report": True, "clear": False, "customer_identifier": "c", "id_token_type": "Central"},
        V201,
        "id_token_type goes with id_token",
    ),
    (
        "CustomerInformation",
        {"report": True, "clear": False, "id_token": "A", "id_token_type": "Card"},
        V201,
        "id_token_type must be one of",
    ),
    (
        "CustomerInformation",
        {"report": True, "clear": False, "customer_identifier": "c" * 65},
        V201,
        "customer_identifier must be at most 64 characters, got 65",
    ),
    (
        "CustomerInformation",
        {"report": True, "clear": False, "id_token": "X" * 37},
        V201,
        "CustomerInformationRequest: payload.idToken.idToken must be shorter",
    ),
    (
        "CustomerInformation",
        {
            "report": True,
            "clear": False,
            "customer_certificate": {**CERTIFICATE, "hash_algorithm": "MD5"},
        },
        V201,
        "customer_certificate: hash_algorithm must be one of SHA256, SHA384, SHA512",
    ),
    (
        "CustomerInformation",
        {
            "report": True,
            "clear": False,
            "customer_certificate": {**CERTIFICATE, "serial": "1"},
        },
        V201,
        "customer_certificate: unknown field serial",
    ),
    (
        "CustomerInformation",
        {"report": True, "clear": False, "customer_certificate": "ABC"},
        V201,
        "customer_certificate must be a JSON object",
    ),
    ("GetDisplayMessages", {"state": "Suspended"}, V201, "state must be one of"),
    ("GetDisplayMessages", {"priority": "Top"}, V201, "priority must be one of"),
    ("GetDisplayMessages", {"message_ids": [1, "2"]}, V201, "message_ids[1] must be an integer"),
    ("ClearDisplayMessage", {}, V201, "ClearDisplayMessage: message_id is required"),
    ("ClearDisplayMessage", {"message_id": -3}, V201, "message_id must be an integer >= 0"),
    ("ClearDisplayMessage", {"message_id": 3, "id": 3}, V201, "unknown field id"),
    (
        "GetTransactionStatus",
        {"transaction_id": 1.5},
        V201,
        "transaction_id must be a string or an integer",
    ),
    (
        "GetTransactionStatus",
        {"transaction_id": "t" * 37},
        V201,
        "GetTransactionStatusRequest: payload.transactionId must be shorter",
    ),
    ("SetNetworkProfile", {"configuration_slot": 1}, V201, "connection_data is required"),
    (
        "SetNetworkProfile",
        {"connection_data": NETWORK},
        V201,
        "SetNetworkProfile: configuration_slot is required",
    ),
    (
        "SetNetworkProfile",
        {"configuration_slot": 1, "connection_data": {**NETWORK, "ocpp_version": "OCPP21"}},
        V201,
        "connection_data: ocpp_version must be one of OCPP12, OCPP15, OCPP16, OCPP20",
    ),
    (
        "SetNetworkProfile",
        {
            "configuration_slot": 1,
            "connection_data": {k: v for k, v in NETWORK.items() if k != "ocpp_version"},
        },
        V201,
        "connection_data: ocpp_version is required",
    ),
    (
        "SetNetworkProfile",
        {"configuration_slot": 1, "connection_data": {**NETWORK, "ocpp_interface": "Any"}},
        V201,
        "ocpp_interface must be one of",
    ),
    (
        "SetNetworkProfile",
        {"configuration_slot": 1, "connection_data": {**NETWORK, "security_profile": 0}},
        V201,
        "security_profile must be 1, 2 or 3, got 0",
    ),
    (
        "SetNetworkProfile",
        {
            "configuration_slot": 1,
            "connection_data": {**NETWORK, "ocpp_csms_url": "ws://csms.example.com/ocpp"},
        },
        V201,
        "security_profile 2 is TLS: ocpp_csms_url must be wss://",
    ),
    (
        "SetNetworkProfile",
        {
            "configuration_slot": 1,
            "connection_data": {**NETWORK, "ocpp_csms_url": "https://csms.example.com/ocpp"},
        },
        V201,
        "OCPP-J connects to a ws:// or wss:// ocpp_csms_url",
    ),
    (
        "SetNetworkProfile",
        {"configuration_slot": 1, "connection_data": {**NETWORK, "message_timeout": 0}},
        V201,
        "message_timeout must be an integer >= 1",
    ),
    (
        "SetNetworkProfile",
        {"configuration_slot": 1, "connection_data": {**NETWORK, "identity": "CS-1"}},
        V201,
        "connection_data: identity and basic_auth_password need OCPP 2.1",
    ),
    (
        "SetNetworkProfile",
        {"configuration_slot": 1, "connection_data": {**NETWORK, "ocppVersion": "OCPP20"}},
        V201,
        "connection_data: unknown field ocppVersion",
    ),
    (
        "SetNetworkProfile",
        {
            "configuration_slot": 1,
            "connection_data": {**NETWORK, "apn": {"apn": "a", "apn_authentication": "PAP2"}},
        },
        V201,
        "SetNetworkProfile: connection_data.apn: apn_authentication must be one of",
    ),
    (
        "SetNetworkProfile",
        {
            "configuration_slot": 1,
            "connection_data": {
                **NETWORK,
                "vpn": {"server": "s", "user": "u", "key": "k", "type": "L2TP"},
            },
        },
        V201,
        "SetNetworkProfile: connection_data.vpn: password is required",
    ),
    (
        "SetNetworkProfile",
        {
            "configuration_slot": 1,
            "connection_data": {
                **NETWORK,
                "apn": {"apn": "a", "apn_authentication": "PAP", "apn_password": "p" * 21},
            },
        },
        V201,
        "SetNetworkProfileRequest: payload.connectionData.apn.apnPassword must be shorter than "
        "or equal to 20 characters",
    ),
    (
        "InstallCertificate",
        {"certificate_type": "V2GRootCertificate", "certificate": ROOT_PEM},
        V16,
        "certificate_type V2GRootCertificate does not exist in ocpp1.6",
    ),
    (
        "InstallCertificate",
        {"certificate_type": "CSMSRootCertificate", "certificate": "MIIB..."},
        V201,
        "certificate must be PEM",
    ),
    (
        "InstallCertificate",
        {"certificate_type": "ChargingStationCertificate", "certificate": ROOT_PEM},
        V201,
        "certificate_type must be one of",
    ),
    ("GetInstalledCertificateIds", {}, V16, "lists one certificate type at a time"),
    ("DeleteCertificate", {**HASH, "hash_algorithm": "MD5"}, V201, "hash_algorithm must be one of"),
    ("DeleteCertificate", {**HASH, "serial_number": "f" * 41}, V16, "at most 40 characters"),
    (
        "CertificateSigned",
        {"certificate_chain": ROOT_PEM, "certificate_type": "V2GCertificate"},
        V16,
        "ocpp1.6 CertificateSigned has no certificate_type",
    ),
    ("CertificateSigned", {"certificate_chain": "x" * 10001}, V201, "at most 10000 characters"),
]


@pytest.mark.parametrize(("command", "arguments", "version", "message"), REFUSALS)
def test_refusal(
    command: str, arguments: dict[str, Any], version: OcppVersion, message: str
) -> None:
    with pytest.raises(InvalidCommand) as refused:
        translate(command, arguments, version, command_id=CMD)
    assert message in str(refused.value)
