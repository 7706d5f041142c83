"""The operator's boot policy: which stations are accepted, and the intervals we hand out (pure).

A station is *known* when the overrides name it; every other station gets ``unknown_station``.
The overrides are the registry: ``unknown_station=Rejected`` plus ``CS1=Accepted,...`` is an
allow-list, ``unknown_station=Accepted`` plus ``CS9=Rejected`` a block-list. The gateway has
already authenticated every station that reaches us (ocpp.credentials.v1), so the default
accepts unknown stations.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType


class BootStatus(StrEnum):
    """OCPP RegistrationStatus (1.6) / RegistrationStatusEnumType (2.0.1)."""

    ACCEPTED = "Accepted"
    PENDING = "Pending"
    REJECTED = "Rejected"


def _no_overrides() -> Mapping[str, BootStatus]:
    return MappingProxyType({})


@dataclass(frozen=True, slots=True, kw_only=True)
class Policy:
    """How BootNotification is answered, and what the service does on its own."""

    unknown_station: BootStatus = BootStatus.ACCEPTED
    overrides: Mapping[str, BootStatus] = field(default_factory=_no_overrides)
    heartbeat_interval_s: int = 300  # BootNotification interval when Accepted
    retry_interval_s: int = 60  # ... when Pending or Rejected: when to boot again
    # A station that talks to us while we hold no boot of it (state lost, say) is asked for a
    # BootNotification (TriggerMessage) at most this often; 0 switches it off.
    boot_request_interval_s: int = 60
    # An open transaction of a station silent this long (no message at all) is closed as
    # abandoned (core/abandoned.py); 0 switches it off.
    abandon_after_s: int = 48 * 3600
    # A 2.0.1 Ended response waits at most this long (log time) for billing's final cost
    # (core/costs.py); 0: never waits, the station shows its fallback text.
    final_cost_wait_s: int = 5
    # A report in parts with no part for this long is closed with what arrived (reports.py).
    report_timeout_s: int = 600
    # After an Accepted BootNotification of a station whose inventory we lack (or whose
    # firmware changed), ask for it: 2.0.1 GetBaseReport FullInventory (B07.FR.14), 1.6
    # GetConfiguration (inventory.py). False switches it off.
    fetch_inventory: bool = True
    # SignCertificate (certificates.py): answered Accepted for a good CSR when a CA signs (the
    # certificates service runs); the CSR's O must be this organisation when it is set.
    sign_certificates: bool = True
    certificate_organization: str | None = None

    def boot_status(self, station_id: str) -> BootStatus:
        return self.overrides.get(station_id, self.unknown_station)

    def interval_s(self, status: BootStatus) -> int:
        """1.6 §4.2 / 2.0.1 B01-B03: interval is the heartbeat interval when Accepted, else
        the minimum wait before the station sends its next BootNotification."""
        return self.heartbeat_interval_s if status is BootStatus.ACCEPTED else self.retry_interval_s

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> "Policy":
        """Reads SESSIONS_UNKNOWN_STATIONS, SESSIONS_STATION_OVERRIDES ("CS1=Rejected,CS2=Pending"),
        SESSIONS_HEARTBEAT_INTERVAL, SESSIONS_RETRY_INTERVAL, SESSIONS_BOOT_REQUEST_INTERVAL and
        SESSIONS_ABANDON_AFTER, SESSIONS_FINAL_COST_WAIT and SESSIONS_REPORT_TIMEOUT (seconds; 0
        switches boot requests, closing or waiting off), SESSIONS_FETCH_INVENTORY and
        SESSIONS_SIGN_CERTIFICATES (1 or 0), SESSIONS_CERTIFICATE_ORGANIZATION (the O of
        station certificates; empty: any).

        Raises:
            ValueError: a value is not a boot status, not a positive integer, or an override
                is not ``station_id=status``.
        """
        unknown = environ.get("SESSIONS_UNKNOWN_STATIONS", "").strip()
        overrides: dict[str, BootStatus] = {}
        for item in environ.get("SESSIONS_STATION_OVERRIDES", "").split(","):
            if not item.strip():
                continue
            station_id, sep, status = item.partition("=")
            if not sep or not station_id.strip():
                raise ValueError(f"SESSIONS_STATION_OVERRIDES: {item!r} is not station_id=status")
            overrides[station_id.strip()] = _status(status.strip(), "SESSIONS_STATION_OVERRIDES")
        return cls(
            unknown_station=_status(unknown, "SESSIONS_UNKNOWN_STATIONS")
            if unknown
            else BootStatus.ACCEPTED,
            overrides=MappingProxyType(overrides),
            heartbeat_interval_s=_seconds(environ, "SESSIONS_HEARTBEAT_INTERVAL", 300),
            retry_interval_s=_seconds(environ, "SESSIONS_RETRY_INTERVAL", 60),
            boot_request_interval_s=_seconds(
                environ, "SESSIONS_BOOT_REQUEST_INTERVAL", 60, allow_zero=True
            ),
            abandon_after_s=_seconds(environ, "SESSIONS_ABANDON_AFTER", 48 * 3600, allow_zero=True),
            final_cost_wait_s=_seconds(environ, "SESSIONS_FINAL_COST_WAIT", 5, allow_zero=True),
            report_timeout_s=_seconds(environ, "SESSIONS_REPORT_TIMEOUT", 600),
            fetch_inventory=_flag(environ, "SESSIONS_FETCH_INVENTORY", True),
            sign_certificates=_flag(environ, "SESSIONS_SIGN_CERTIFICATES", True),
            certificate_organization=environ.get("SESSIONS_CERTIFICATE_ORGANIZATION", "").strip()
            or None,
        )


def _status(value: str, name: str) -> BootStatus:
    try:
        return BootStatus(value)
    except ValueError:
        choices = ", ".join(BootStatus)
        raise ValueError(f"{name}: {value!r} is not one of {choices}") from None


def _flag(environ: Mapping[str, str], name: str, default: bool) -> bool:
    text = environ.get(name, "").strip().lower()
    if not text:
        return default
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{name}: {text!r} is not 1 or 0")


def _seconds(
    environ: Mapping[str, str], name: str, default: int, *, allow_zero: bool = False
) -> int:
    text = environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"{name}: {text!r} is not a whole number of seconds") from None
    if value < 0 or (value == 0 and not allow_zero):
        raise ValueError(f"{name}: must be positive, got {value}")
    return value
