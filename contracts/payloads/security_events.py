"""SecurityEventReported on stations.v1: a station's security event, version-neutral (pure).

2.0.1 A04 and the 1.6 security extension: a station logs every security event and pushes the
critical ones (A04.FR.01) with SecurityEventNotification. The type is normalised to its 2.0.1
name (1.6 spells some with "CentralSystem"/"ChargePoint"; unknown types are kept as sent), and
``critical`` follows the 2.0.1 list for both versions (1.6 marks the certificate, TLS and
firmware signature events non-critical; an operator wants them as alerts all the same).
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from contracts.envelope import Envelope
from contracts.events import DomainEvent, EventType
from contracts.fields import moment, text
from contracts.topics import Topic

# 2.0.1 appendix "Security events" (v1.4): the types a station must push
CRITICAL = frozenset(
    {
        "FirmwareUpdated",
        "SettingSystemTime",
        "StartupOfTheDevice",
        "ResetOrReboot",
        "SecurityLogWasCleared",
        "MemoryExhaustion",
        "TamperDetectionActivated",
        "InvalidFirmwareSignature",
        "InvalidFirmwareSigningCertificate",
        "InvalidCsmsCertificate",
        "InvalidChargingStationCertificate",
        "InvalidTLSVersion",
        "InvalidTLSCipherSuite",
        "MaintenanceLoginAccepted",
        "MaintenanceLoginFailed",
        "DiscardedRenewedClientCertificate",
    }
)
# Other spellings of the same events: the 1.6 security whitepaper's, the 2.0.1 appendix prose's
ALIASES = {
    "FailedToAuthenticationAtCentralSystem": "FailedToAuthenticateAtCsms",
    "FailedToAuthenticationAtCsms": "FailedToAuthenticateAtCsms",
    "CentralSystemFailedToAuthentication": "CsmsFailedToAuthenticate",
    "CsmsFailedToAuthentication": "CsmsFailedToAuthenticate",
    "InvalidCentralSystemCertificate": "InvalidCsmsCertificate",
    "InvalidChargePointCertificate": "InvalidChargingStationCertificate",
}


def normalised(reported: str) -> str:
    """The 2.0.1 name of a reported security event type; an unknown one as it is."""
    return ALIASES.get(reported, reported)


@dataclass(frozen=True, slots=True, kw_only=True)
class SecurityEventReported:
    """A security event: its 2.0.1 type, the type as sent, whether it is critical, when it
    happened at the station, and the station's technical detail."""

    station_id: str
    type: str
    reported_type: str
    critical: bool
    at: datetime
    tech_info: str | None = None
    ocpp_version: str | None = None

    @classmethod
    def of(
        cls,
        station_id: str,
        reported_type: str,
        at: datetime,
        tech_info: str | None,
        ocpp_version: str | None,
    ) -> "SecurityEventReported":
        """The event as a station reported it, its type normalised and its criticality set."""
        kind = normalised(reported_type)
        return cls(
            station_id=station_id,
            type=kind,
            reported_type=reported_type,
            critical=kind in CRITICAL,
            at=at,
            tech_info=tech_info,
            ocpp_version=ocpp_version,
        )

    def event(self) -> DomainEvent:
        payload: dict[str, Any] = {
            "station_id": self.station_id,
            "type": self.type,
            "reported_type": self.reported_type,
            "critical": self.critical,
            "at": self.at,
            "tech_info": self.tech_info,
            "ocpp_version": self.ocpp_version,
        }
        return DomainEvent(
            topic=Topic.STATIONS,
            event_type=EventType.SECURITY_EVENT_REPORTED,
            key=self.station_id,
            payload=payload,
        )

    @classmethod
    def parse(cls, envelope: Envelope) -> "SecurityEventReported | None":
        p = envelope.payload
        kind, reported = text(p, "type"), text(p, "reported_type")
        critical = p.get("critical")
        if envelope.event_type != EventType.SECURITY_EVENT_REPORTED or kind is None:
            return None
        return cls(
            station_id=text(p, "station_id") or envelope.key,
            type=kind,
            reported_type=reported or kind,
            critical=critical if isinstance(critical, bool) else kind in CRITICAL,
            at=moment(p, "at") or envelope.occurred_at,
            tech_info=text(p, "tech_info"),
            ocpp_version=text(p, "ocpp_version"),
        )
