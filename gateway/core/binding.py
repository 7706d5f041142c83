"""Profile 3: the client certificate CN is the serial number the station boots with (pure).

2.0.1 B01.FR.11/12: on a connection with a client certificate, the CSMS compares the
BootNotification's ``chargingStation.serialNumber`` with the certificate's CN (A00.FR.511: the
CN is the station's unique serial number) and closes the connection when they differ. The 1.6
security whitepaper has the same rule for the certificate (A00.FR.405) and its BootNotification
says ``chargePointSerialNumber`` (``chargeBoxSerialNumber``, deprecated, when that is absent).
A station on profile 3 that says no serial number cannot be bound, and is refused the same way.
"""

from collections.abc import Mapping
from typing import Any

from ocppj.versions import OcppVersion

BOOT_NOTIFICATION = "BootNotification"
CLOSE_CODE = 1008  # RFC 6455: policy violation
CLOSE_REASON_BYTES = 123


def boot_serial(version: OcppVersion, payload: Mapping[str, Any]) -> str | None:
    """The serial number a BootNotification says."""
    if version is OcppVersion.V16:
        found = payload.get("chargePointSerialNumber") or payload.get("chargeBoxSerialNumber")
    else:
        station = payload.get("chargingStation")
        found = station.get("serialNumber") if isinstance(station, Mapping) else None
    return found if isinstance(found, str) and found else None


def boot_mismatch(
    version: OcppVersion, action: str, payload: Mapping[str, Any], common_name: str
) -> str | None:
    """Why this CALL must close the connection (the close reason, at most 123 bytes), or None."""
    if action != BOOT_NOTIFICATION:
        return None
    serial = boot_serial(version, payload)
    if serial == common_name:
        return None
    said = "no serial number" if serial is None else f"serial number {serial[:25]!r}"
    reason = f"B01.FR.12: boot says {said}, certificate CN {common_name[:25]!r}"
    # RFC 6455 §5.5: a close frame's reason is at most 123 bytes of UTF-8
    return reason.encode()[:CLOSE_REASON_BYTES].decode(errors="ignore")
