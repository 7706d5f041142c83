"""Benchmark: median time per payload validation, our Validator vs ocpp.messages.validate_payload.

Run from the repository root: ``.venv/bin/python -m bench.validation``. Both sides validate
the same payload against the same OCA schema, in the same process and run, warmed up, REPEATS
times; the median of the per-call means is printed. The library's ``validate_payload`` is a
coroutine: with ``ASYNC_VALIDATION = False`` it validates inline and never awaits, so it is
driven with ``send(None)`` and no event-loop cost is counted against it (its default
thread-pool path is slower still, ocpp.md §2.4). Then the time to parse each payload's CALL
frame from its text (``ocppj.framing.parse``) against ``json.loads`` of the same text.
"""

import json
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import ocpp.messages

from ocppj.framing import parse
from ocppj.validation import Validator
from ocppj.versions import OcppVersion
from tools.simulator.checking import library_validate

REPEATS = 5
TARGET_S = 0.2  # per repetition
TS = "2024-05-01T12:00:00.000Z"

BOOT_16 = {
    "chargePointVendor": "VendorX",
    "chargePointModel": "SingleSocketCharger",
    "chargePointSerialNumber": "SN-000123",
    "firmwareVersion": "1.2.3",
    "meterType": "AC-Meter",
}
METER_16 = {
    "connectorId": 1,
    "transactionId": 42,
    "meterValue": [
        {
            "timestamp": TS,
            "sampledValue": [
                {"value": "12345.6", "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
                {"value": "7200", "measurand": "Power.Active.Import", "unit": "W"},
                {"value": "16.1", "measurand": "Current.Import", "unit": "A", "phase": "L1"},
                {"value": "16.0", "measurand": "Current.Import", "unit": "A", "phase": "L2"},
                {"value": "15.9", "measurand": "Current.Import", "unit": "A", "phase": "L3"},
                {"value": "230.1", "measurand": "Voltage", "unit": "V", "phase": "L1-N"},
                {
                    "value": "80",
                    "measurand": "SoC",
                    "unit": "Percent",
                    "context": "Sample.Periodic",
                },
            ],
        }
    ],
}
BOOT_201 = {
    "reason": "PowerUp",
    "chargingStation": {
        "model": "SingleSocketCharger",
        "vendorName": "VendorX",
        "serialNumber": "SN-000123",
        "firmwareVersion": "1.2.3",
    },
}
TX_EVENT_201 = {
    "eventType": "Updated",
    "timestamp": TS,
    "triggerReason": "MeterValuePeriodic",
    "seqNo": 7,
    "transactionInfo": {"transactionId": "tx-000042", "chargingState": "Charging"},
    "evse": {"id": 1, "connectorId": 1},
    "meterValue": [
        {
            "timestamp": TS,
            "sampledValue": [
                {
                    "value": 12345.6,
                    "measurand": "Energy.Active.Import.Register",
                    "context": "Sample.Periodic",
                    "unitOfMeasure": {"unit": "Wh"},
                },
                {
                    "value": 7200.0,
                    "measurand": "Power.Active.Import",
                    "context": "Sample.Periodic",
                    "unitOfMeasure": {"unit": "W"},
                },
            ],
        }
    ],
}

CASES: list[tuple[OcppVersion, str, str, dict[str, Any]]] = [
    (OcppVersion.V16, "1.6", "BootNotification", BOOT_16),
    (OcppVersion.V16, "1.6", "MeterValues", METER_16),
    (OcppVersion.V201, "2.0.1", "BootNotification", BOOT_201),
    (OcppVersion.V201, "2.0.1", "TransactionEvent", TX_EVENT_201),
]


def library_validation(version: str, action: str, payload: dict[str, Any]) -> Callable[[], None]:
    call = ocpp.messages.Call("19223201", action, payload)

    def validate() -> None:
        library_validate(call, version)

    return validate


def median_seconds(validate: Callable[[], object]) -> float:
    """Median over REPEATS of the mean time per call, about TARGET_S per repetition."""
    start = time.perf_counter()
    for _ in range(10):
        validate()
    calls = max(10, int(TARGET_S / ((time.perf_counter() - start) / 10)))
    samples = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        for _ in range(calls):
            validate()
        samples.append((time.perf_counter() - start) / calls)
    return statistics.median(samples)


def main() -> None:
    ocpp.messages.ASYNC_VALIDATION = False
    print(f"Python {sys.version.split()[0]}, median of {REPEATS} repetitions of ~{TARGET_S} s")
    print(f"{'payload':<28} {'ours µs':>9} {'ocpp µs':>9} {'ours/s':>9} {'ocpp/s':>8} {'ratio':>6}")
    for version, library_version, action, payload in CASES:
        validator = Validator(version)
        ours = median_seconds(lambda: validator.validate_request(action, payload))  # noqa: B023
        theirs = median_seconds(library_validation(library_version, action, payload))
        name = f"{library_version} {action}"
        print(
            f"{name:<28} {ours * 1e6:>9.2f} {theirs * 1e6:>9.1f} {1 / ours:>9,.0f}"
            f" {1 / theirs:>8,.0f} {theirs / ours:>5.0f}x"
        )
    # Before validation, every CALL is parsed from its WebSocket text (ocppj.framing): against
    # json.loads of the same text, the least any JSON endpoint does.
    print(f"\n{'frame text':<28} {'parse µs':>9} {'loads µs':>9} {'ratio':>6}")
    for version, library_version, action, payload in CASES:
        text = json.dumps([2, "19223201", action, payload])
        ours = median_seconds(lambda: parse(text, version))  # noqa: B023
        plain = median_seconds(lambda: json.loads(text))  # noqa: B023
        name = f"{library_version} {action}"
        print(f"{name:<28} {ours * 1e6:>9.2f} {plain * 1e6:>9.2f} {ours / plain:>5.2f}x")


if __name__ == "__main__":
    main()
