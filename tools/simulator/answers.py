"""What a minimal CSMS answers to station CALLs, OCPP 1.6 and 2.0.1 (pure: takes the time)."""

from dataclasses import dataclass
from typing import Any

from tools.simulator.payloads import Version, timestamp

ACCEPTED = {"status": "Accepted"}
NOTIFICATIONS = frozenset(  # answered with an empty payload in both versions
    {
        "StatusNotification",
        "MeterValues",
        "FirmwareStatusNotification",
        "DiagnosticsStatusNotification",
        "LogStatusNotification",
        "SecurityEventNotification",
        "NotifyEvent",
        "NotifyReport",
        "NotifyMonitoringReport",
    }
)


@dataclass(slots=True, kw_only=True)
class Csms:
    """Accepts everything; 1.6 transaction ids count up from 1 across all stations."""

    heartbeat_interval_s: int = 60
    boot_status: str = "Accepted"  # or Pending / Rejected: the station retries after interval
    next_transaction_id: int = 1

    def answer(
        self, version: Version, action: str, payload: dict[str, Any], wall_s: float
    ) -> dict[str, Any] | None:
        """The CALLRESULT payload; None if this CSMS does not handle ``action``."""
        if action in NOTIFICATIONS:
            return {}
        match action:
            case "BootNotification":
                return {
                    "status": self.boot_status,
                    "currentTime": timestamp(wall_s),
                    "interval": self.heartbeat_interval_s,
                }
            case "Heartbeat":
                return {"currentTime": timestamp(wall_s)}
            case "Authorize" if version is Version.V16:
                return {"idTagInfo": ACCEPTED}
            case "Authorize":
                return {"idTokenInfo": ACCEPTED}
            case "StartTransaction" if version is Version.V16:
                self.next_transaction_id += 1
                return {"transactionId": self.next_transaction_id - 1, "idTagInfo": ACCEPTED}
            case "StopTransaction" if version is Version.V16:
                return {"idTagInfo": ACCEPTED} if "idTag" in payload else {}
            case "TransactionEvent" if version is Version.V201:
                return {"idTokenInfo": ACCEPTED} if "idToken" in payload else {}
            case "DataTransfer":
                return {"status": "UnknownVendorId"}
            case _:
                return None
