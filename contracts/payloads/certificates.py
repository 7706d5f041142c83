"""CertificateSigningRequested on stations.v1: a station's CSR, checked, for the CA to sign (pure).

A02/A03 (2.0.1 and the 1.6 security whitepaper): the station sends SignCertificate with a PKCS#10
CSR; the sessions service checks it (ocppj/certificates.py) and answers Accepted or Rejected.
Either way it writes this event: ``accepted`` with the CSR for the certificates service to sign,
or the ``problems`` that refused it, for the operator's log and alerts.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from contracts.envelope import Envelope
from contracts.events import DomainEvent, EventType
from contracts.fields import moment, text
from contracts.topics import Topic


@dataclass(frozen=True, slots=True, kw_only=True)
class CertificateSigningRequested:
    station_id: str
    csr: str  # PEM PKCS#10, as the station sent it (a public key and a subject: no secret)
    certificate_type: str | None  # 2.0.1 ChargingStationCertificate, V2GCertificate; None: both
    accepted: bool
    problems: tuple[str, ...] = ()  # why it was refused, for a person
    serial_number: str | None = None  # the serial number the station booted with
    ocpp_version: str = ""
    at: datetime  # when the station's SignCertificate was received

    def event(self) -> DomainEvent:
        payload: dict[str, Any] = {
            "station_id": self.station_id,
            "csr": self.csr,
            "certificate_type": self.certificate_type,
            "accepted": self.accepted,
            "problems": list(self.problems),
            "serial_number": self.serial_number,
            "ocpp_version": self.ocpp_version,
            "at": self.at,
        }
        return DomainEvent(
            topic=Topic.STATIONS,
            event_type=EventType.CERTIFICATE_SIGNING_REQUESTED,
            key=self.station_id,
            payload=payload,
        )

    @classmethod
    def parse(cls, envelope: Envelope) -> "CertificateSigningRequested | None":
        p = envelope.payload
        csr, accepted = text(p, "csr"), p.get("accepted")
        if envelope.event_type != EventType.CERTIFICATE_SIGNING_REQUESTED or csr is None:
            return None
        problems = p.get("problems")
        return cls(
            station_id=text(p, "station_id") or envelope.key,
            csr=csr,
            certificate_type=text(p, "certificate_type"),
            accepted=accepted is True,
            problems=tuple(x for x in problems if isinstance(x, str))
            if isinstance(problems, list)
            else (),
            serial_number=text(p, "serial_number"),
            ocpp_version=text(p, "ocpp_version") or "",
            at=moment(p, "at") or envelope.occurred_at,
        )
