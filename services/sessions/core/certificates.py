"""SignCertificate (2.0.1 A02/A03, 1.6 security whitepaper): the CSR checked and answered (pure).

A02.FR.11/12: the CSMS answers Accepted when it can process the request, Rejected otherwise.
We accept a CSR that passes ``ocppj.certificates.csr_problems`` (key strength; CN = the serial
number of the station's BootNotification; O = ``Policy.certificate_organization`` when set)
and write CertificateSigningRequested for the certificates service, which signs it and sends
CertificateSigned (docs/certificates.md). A V2G certificate (ISO 15118) is not ours to sign.
"""

from contracts.fields import text
from contracts.payloads.certificates import CertificateSigningRequested
from contracts.payloads.ocpp import Reply, StationCall
from ocppj.certificates import csr_problems
from ocppj.versions import OcppVersion
from services.sessions.core.state import StationState
from services.sessions.core.step import Context, Step, protocol_error

V2G = "V2GCertificate"
REASON_CODE = "InvalidCSR"  # statusInfo.reasonCode, s20


def sign_certificate(state: StationState, call: StationCall, ctx: Context) -> Step:
    csr = text(call.payload, "csr")
    if csr is None:
        return Step(state=state, reply=protocol_error(call, "csr"))
    certificate_type = text(call.payload, "certificateType")
    if not ctx.policy.sign_certificates:
        problems = ["no CA signs station certificates here (SESSIONS_SIGN_CERTIFICATES=0)"]
    elif certificate_type == V2G:
        problems = ["V2G certificates are signed by the ISO 15118 PKI, not by this CSMS"]
    else:
        problems = csr_problems(
            csr,
            serial_number=state.serial_number,
            organization=ctx.policy.certificate_organization,
        )
    requested = CertificateSigningRequested(
        station_id=call.station_id,
        csr=csr,
        certificate_type=certificate_type,
        accepted=not problems,
        problems=tuple(problems),
        serial_number=state.serial_number,
        ocpp_version=str(call.ocpp_version),
        at=call.received_at,
    )
    reply: dict[str, object] = {"status": "Rejected" if problems else "Accepted"}
    if problems and call.ocpp_version is not OcppVersion.V16:
        reply["statusInfo"] = {
            "reasonCode": REASON_CODE,
            "additionalInfo": "; ".join(problems)[:512],
        }
    return Step(state=state, reply=Reply(reply), events=[requested.event()])
