"""What the certificates service asks of a station, as OperatorCommands on commands.v1 (pure).

The sessions API routes them like any other team's command (the ledger makes a command id
carry out once), so the chain reaches the station through the gateway that holds it:

- CertificateSigned with the chain signed for a CSR the sessions service accepted (A02/A03);
  its id is the digest of the CSR and the time it came, so a request read twice is sent once;
- a renewal: 2.0.1 TriggerMessage SignChargingStationCertificate, 1.6 ExtendedTriggerMessage
  SignChargePointCertificate (A02: the station then makes a new key and sends SignCertificate),
  when the certificate a station connected with expires within ``renew_before``; asked again
  after ``ask_again_after`` if the station still connects with it.
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from contracts.payloads.certificates import CertificateSigningRequested
from contracts.payloads.commands import OperatorCommand
from contracts.payloads.presence import Presence
from ocppj.timestamps import rfc3339
from ocppj.versions import OcppVersion

DEADLINE = timedelta(minutes=10)


@dataclass(frozen=True, slots=True, kw_only=True)
class Renewal:
    renew_before: timedelta = timedelta(days=30)  # A03.FR.02: stations renew a month ahead
    ask_again_after: timedelta = timedelta(hours=24)


def certificate_signed(
    request: CertificateSigningRequested, chain: str, now: datetime
) -> OperatorCommand:
    """The CertificateSigned for an accepted request, with the type it asked for (A02.FR.14)."""
    # The CSR and when the station sent it: the same request read twice (after a crash) is one
    # command; the same CSR sent again later (its certificate never arrived) is another.
    digest = hashlib.sha256(f"{request.csr}/{rfc3339(request.at)}".encode()).hexdigest()[:16]
    arguments: dict[str, str] = {"certificate_chain": chain}
    if request.certificate_type is not None:
        arguments["certificate_type"] = request.certificate_type
    return OperatorCommand(
        command_id=f"certificate/{request.station_id}/{digest}",
        station_id=request.station_id,
        command="CertificateSigned",
        arguments=arguments,
        deadline=now + DEADLINE,
    )


def renewal_due(
    presence: Presence, *, online: bool, now: datetime, asked_at: datetime | None, policy: Renewal
) -> bool:
    """Whether to ask this station for a new certificate now."""
    certificate = presence.certificate
    if not online or certificate is None or presence.ocpp_version is None:
        return False
    if certificate.expires_at - now > policy.renew_before:
        return False
    return asked_at is None or now - asked_at >= policy.ask_again_after


def renewal(presence: Presence, now: datetime) -> OperatorCommand:
    """The trigger that makes the station send a new CSR (A02; 1.6 security whitepaper)."""
    assert presence.certificate is not None
    if presence.ocpp_version is OcppVersion.V16:
        command, arguments = "ExtendedTriggerMessage", {"message": "SignChargePointCertificate"}
    else:
        command, arguments = "TriggerMessage", {"message": "SignChargingStationCertificate"}
    return OperatorCommand(
        command_id=f"renew/{presence.station_id}/{presence.certificate.serial}/{rfc3339(now)}",
        station_id=presence.station_id,
        command=command,
        arguments=arguments,
        deadline=now + DEADLINE,
    )
