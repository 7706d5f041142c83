"""TLS for security profiles 2 and 3: server SSLContexts and client-certificate checks (no sockets).

Profile 2 (TLS with Basic Authentication): ``server_context(cert, key)``. Profile 3 (TLS with
client side certificates): ``server_context(cert, key, client_ca=ca)``, then, after the
handshake, ``check_client_certificate(station_id, writer.get_extra_info("peercert"))``.
"""

import os
import ssl
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from contracts.payloads.presence import ClientCertificate

StrPath = str | os.PathLike[str]

# A00.FR.317/421: the CSMS SHALL support TLS_ECDHE_ECDSA_WITH_AES_128/256_GCM and
# TLS_RSA_WITH_AES_128/256_GCM (OpenSSL names below). Python's default list leaves out the RSA
# key-exchange suites; forward-secret ECDHE suites come first and the server's order wins.
# A00.FR.319: nothing weaker (no CBC, SHA-1, RC4, 3DES or NULL suites).
_TLS12_CIPHERS = (
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
    "AES128-GCM-SHA256:AES256-GCM-SHA384"
)
# 1.6 whitepaper A00.FR.324: TLS_RSA_WITH_AES_128_CBC_SHA "only for TLS v1.0/1.1 connections",
# for legacy 1.6 stations; OpenSSL 3 only negotiates TLS < 1.2 at security level 0.
_LEGACY_CIPHERS = "AES128-SHA:@SECLEVEL=0"


def server_context(
    certfile: StrPath,
    keyfile: StrPath,
    *,
    client_ca: StrPath | None = None,
    min_version: ssl.TLSVersion = ssl.TLSVersion.TLSv1_2,
    extra_certificates: Sequence[tuple[StrPath, StrPath]] = (),
) -> ssl.SSLContext:
    """A server context: profile 2, or profile 3 (mTLS) when ``client_ca`` is given.

    ``extra_certificates`` adds (certfile, keyfile) pairs of another key type: A00.FR.317 asks
    for an RSA and an ECDSA certificate; OpenSSL serves whichever the client's suites need.
    ``min_version`` below TLS 1.2 is only for 1.6 stations that cannot do better
    (A00.FR.312); 2.0.1 forbids it.

    Raises:
        OSError: if a file cannot be read.
        ssl.SSLError: if a certificate, key or CA file is invalid or the key does not match.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = min_version  # A00.FR.312-314: TLS 1.2 or above
    ciphers = _TLS12_CIPHERS
    if min_version < ssl.TLSVersion.TLSv1_2:
        ciphers = f"{_TLS12_CIPHERS}:{_LEGACY_CIPHERS}"
    context.set_ciphers(ciphers)  # TLS 1.3 suites are separate and all acceptable
    context.options |= (
        ssl.OP_NO_COMPRESSION  # A00.FR.320: no TLS compression
        | ssl.OP_CIPHER_SERVER_PREFERENCE
        | ssl.OP_NO_RENEGOTIATION
    )
    context.load_cert_chain(certfile, keyfile)
    for extra_cert, extra_key in extra_certificates:
        context.load_cert_chain(extra_cert, extra_key)
    if client_ca is not None:
        # A00.FR.403/407: verify the station certificate's path, else terminate the connection.
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(cafile=client_ca)
    return context


def _subject_values(peercert: Mapping[str, object] | None, attribute: str) -> list[str]:
    """Every value of ``attribute`` in the subject of an ``SSLSocket.getpeercert()`` dict."""
    subject = peercert.get("subject") if peercert else None
    if not isinstance(subject, tuple):
        return []
    values: list[str] = []
    for rdn in subject:  # ((("countryName", "NL"),), (("commonName", "CS001"),))
        if not isinstance(rdn, tuple):
            continue
        values.extend(
            pair[1]
            for pair in rdn
            if isinstance(pair, tuple)
            and len(pair) == 2
            and pair[0] == attribute
            and isinstance(pair[1], str)
        )
    return values


def peer_common_name(peercert: Mapping[str, object] | None) -> str | None:
    """The subject's single commonName, or None (no certificate, none, or several CNs)."""
    names = _subject_values(peercert, "commonName")
    return names[0] if len(names) == 1 else None


def peer_organization(peercert: Mapping[str, object] | None) -> str | None:
    """The subject's single organizationName (O), or None."""
    names = _subject_values(peercert, "organizationName")
    return names[0] if len(names) == 1 else None


def client_certificate(peercert: Mapping[str, object] | None) -> ClientCertificate | None:
    """What ocpp.presence.v1 says of a verified client certificate: CN, serial, expiry; None
    without a certificate or without a single CN."""
    common_name = peer_common_name(peercert)
    serial = peercert.get("serialNumber") if peercert else None
    not_after = peercert.get("notAfter") if peercert else None
    if common_name is None or not isinstance(serial, str) or not isinstance(not_after, str):
        return None
    expires_at = datetime.fromtimestamp(ssl.cert_time_to_seconds(not_after), UTC)
    # hex without leading zeros, as CertificateHashData's serialNumber (M04) writes it
    return ClientCertificate(
        common_name=common_name, serial=format(int(serial, 16), "x"), expires_at=expires_at
    )


def check_client_certificate(
    station_id: str,
    peercert: Mapping[str, object] | None,
    *,
    organization: str | None = None,
    cn_is_identity: bool = True,
) -> bool:
    """Whether a verified client certificate belongs to ``station_id``.

    ``cn_is_identity`` False (``--client-cn serial``): any single CN passes here; the CN is
    then bound to the serial number the station boots with (gateway/core/binding.py) and the
    sessions service refuses the CALLs of a connection whose CN is not that serial number.

    A00.FR.405 (1.6 whitepaper and 2.0.1): the CN "contains the unique serial number of the
    Charging Station"; A00.FR.404: the O "contains the CPO name". Our rule: the CN must equal the
    station id (the identity in the URL), so operators issue certificates with CN = identity;
    the O is checked (for equality) only when ``organization`` is configured. ``peercert`` must
    come from a CERT_REQUIRED context: an unverified certificate yields ``{}`` and is refused.
    """
    common_name = peer_common_name(peercert)
    if common_name is None or (cn_is_identity and common_name != station_id):
        return False
    return organization is None or peer_organization(peercert) == organization
