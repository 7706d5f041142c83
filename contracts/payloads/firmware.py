"""FirmwareStatusReported, LogStatusReported on stations.v1: uploads and updates under way (pure).

1.6 FirmwareStatusNotification (§4.5) and DiagnosticsStatusNotification (§4.4), the 1.6
security extension's SignedFirmwareStatusNotification and LogStatusNotification, 2.0.1
FirmwareStatusNotification (L01), PublishFirmwareStatusNotification (L03: a local controller
publishing firmware to the stations behind it) and LogStatusNotification (N01). The status is
as the station sent it (``Installed``, ``InstallationFailed``, ``Uploaded``, ``UploadFailure``,
...); ``failed`` says whether it is one of the failures of its version's enumeration.
"""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from contracts.envelope import Envelope
from contracts.events import DomainEvent, EventType
from contracts.fields import moment, text, whole
from contracts.topics import Topic


class FirmwareKind(StrEnum):
    UPDATE = "update"  # (Signed)FirmwareStatusNotification
    PUBLISH = "publish"  # 2.0.1 PublishFirmwareStatusNotification


class LogKind(StrEnum):
    DIAGNOSTICS = "diagnostics"  # 1.6 DiagnosticsStatusNotification
    LOG = "log"  # LogStatusNotification (2.0.1, 1.6 security extension)


# 1.6 FirmwareStatus, 1.6S FirmwareStatusEnumType, 2.0.1 FirmwareStatusEnumType and
# PublishFirmwareStatusEnumType, DiagnosticsStatus and UploadLogStatusEnumType: the failures.
FIRMWARE_FAILURES = frozenset(
    {
        "DownloadFailed",
        "InstallationFailed",
        "InstallVerificationFailed",
        "InvalidSignature",
        "InvalidCertificate",
        "RevokedCertificate",
        "PublishFailed",
        "InvalidChecksum",
    }
)
LOG_FAILURES = frozenset(
    {"UploadFailed", "UploadFailure", "BadMessage", "NotSupportedOperation", "PermissionDenied"}
)


@dataclass(frozen=True, slots=True, kw_only=True)
class FirmwareStatusReported:
    station_id: str
    kind: FirmwareKind
    status: str
    at: datetime  # when it was received (the messages carry no time)
    request_id: int | None = None  # the UpdateFirmware/PublishFirmware requestId (not 1.6)
    locations: tuple[str, ...] = ()  # PublishFirmware: where the firmware is published
    ocpp_version: str = ""

    @property
    def failed(self) -> bool:
        return self.status in FIRMWARE_FAILURES

    def event(self) -> DomainEvent:
        payload: dict[str, Any] = {
            "station_id": self.station_id,
            "kind": str(self.kind),
            "status": self.status,
            "failed": self.failed,
            "at": self.at,
            "request_id": self.request_id,
            "locations": list(self.locations),
            "ocpp_version": self.ocpp_version,
        }
        return DomainEvent(
            topic=Topic.STATIONS,
            event_type=EventType.FIRMWARE_STATUS_REPORTED,
            key=self.station_id,
            payload=payload,
        )

    @classmethod
    def parse(cls, envelope: Envelope) -> "FirmwareStatusReported | None":
        p = envelope.payload
        kind, status = text(p, "kind"), text(p, "status")
        if envelope.event_type != EventType.FIRMWARE_STATUS_REPORTED or status is None:
            return None
        locations = p.get("locations")
        return cls(
            station_id=text(p, "station_id") or envelope.key,
            kind=FirmwareKind(kind) if kind in set(FirmwareKind) else FirmwareKind.UPDATE,
            status=status,
            at=moment(p, "at") or envelope.occurred_at,
            request_id=whole(p, "request_id"),
            locations=tuple(x for x in locations if isinstance(x, str))
            if isinstance(locations, list)
            else (),
            ocpp_version=text(p, "ocpp_version") or "",
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class LogStatusReported:
    station_id: str
    kind: LogKind
    status: str
    at: datetime  # when it was received
    request_id: int | None = None  # the GetLog requestId (not 1.6 diagnostics)
    ocpp_version: str = ""

    @property
    def failed(self) -> bool:
        return self.status in LOG_FAILURES

    def event(self) -> DomainEvent:
        payload: dict[str, Any] = {
            "station_id": self.station_id,
            "kind": str(self.kind),
            "status": self.status,
            "failed": self.failed,
            "at": self.at,
            "request_id": self.request_id,
            "ocpp_version": self.ocpp_version,
        }
        return DomainEvent(
            topic=Topic.STATIONS,
            event_type=EventType.LOG_STATUS_REPORTED,
            key=self.station_id,
            payload=payload,
        )

    @classmethod
    def parse(cls, envelope: Envelope) -> "LogStatusReported | None":
        p = envelope.payload
        kind, status = text(p, "kind"), text(p, "status")
        if envelope.event_type != EventType.LOG_STATUS_REPORTED or status is None:
            return None
        return cls(
            station_id=text(p, "station_id") or envelope.key,
            kind=LogKind(kind) if kind in set(LogKind) else LogKind.LOG,
            status=status,
            at=moment(p, "at") or envelope.occurred_at,
            request_id=whole(p, "request_id"),
            ocpp_version=text(p, "ocpp_version") or "",
        )
