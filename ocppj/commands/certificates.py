"""Translations of the certificate commands: install, list, delete, and the signed chain (pure).

2.0.1 M03-M05 and A02/A03; the 1.6 security whitepaper has the same messages with other enum
names (CentralSystemRootCertificate for CSMSRootCertificate) and a single certificateType in
GetInstalledCertificateIds. Only root certificates are installed this way (M05; a non-root one
can then neither be listed nor deleted at some stations, EVerest/EVerest#2109).
"""

from typing import Any

from ocppj.commands.arguments import Arguments
from ocppj.commands.context import Context, Translation
from ocppj.commands.device_management import HASH_ALGORITHMS

# version-neutral name -> (1.6 security whitepaper name, 2.0.1 name); None: the version has none
ROOT_TYPES: dict[str, tuple[str | None, str]] = {
    "CSMSRootCertificate": ("CentralSystemRootCertificate", "CSMSRootCertificate"),
    "ManufacturerRootCertificate": ("ManufacturerRootCertificate", "ManufacturerRootCertificate"),
    "V2GRootCertificate": (None, "V2GRootCertificate"),
    "MORootCertificate": (None, "MORootCertificate"),
}
LISTED_TYPES: dict[str, tuple[str | None, str]] = {
    **ROOT_TYPES,
    "V2GCertificateChain": (None, "V2GCertificateChain"),
}
SIGNED_TYPES = frozenset({"ChargingStationCertificate", "V2GCertificate"})
PEM_CERTIFICATE = "-----BEGIN CERTIFICATE-----"


def _type(
    a: Arguments, ctx: Context, name: str, value: str, types: dict[str, tuple[str | None, str]]
) -> str:
    """The station's name for the certificate type ``value`` (either version's name given)."""
    for neutral, (v16, v2) in types.items():
        if value in (neutral, v16, v2):
            found = v16 if ctx.v16 else v2
            if found is None:
                raise a.fail(f"{name} {value} does not exist in {ctx.version}")
            return found
    raise a.fail(f"{name} must be one of {', '.join(types)}; got {value!r}")


def _pem(a: Arguments, name: str, max_length: int) -> str:
    value = a.string(name, max_length=max_length)
    if PEM_CERTIFICATE not in value:
        raise a.fail(f"{name} must be PEM (a {PEM_CERTIFICATE} block)")
    return value


def install_certificate(a: Arguments, ctx: Context) -> tuple[str, dict[str, Any]]:
    """M05: a root certificate for the station's store."""
    kind = _type(a, ctx, "certificate_type", a.string("certificate_type"), ROOT_TYPES)
    return "InstallCertificate", {
        "certificateType": kind,
        "certificate": _pem(a, "certificate", 5500),
    }


def get_installed_certificate_ids(a: Arguments, ctx: Context) -> tuple[str, dict[str, Any]]:
    """M03: the station's installed certificates; 1.6 asks for exactly one type, 2.0.1 for
    any (none: all)."""
    kinds = [
        _type(a, ctx, "certificate_types", k, LISTED_TYPES)
        for k in a.strings("certificate_types", required=False)
    ]
    if ctx.v16:
        if len(kinds) != 1:
            raise a.fail("ocpp1.6 (security whitepaper) lists one certificate type at a time")
        return "GetInstalledCertificateIds", {"certificateType": kinds[0]}
    return "GetInstalledCertificateIds", {"certificateType": kinds} if kinds else {}


def delete_certificate(a: Arguments, ctx: Context) -> tuple[str, dict[str, Any]]:
    """M04: by the certificate's hash data as GetInstalledCertificateIds gave it, with the same
    hash algorithm (M04.FR.07)."""
    data = {
        "hashAlgorithm": a.choice("hash_algorithm", HASH_ALGORITHMS),
        "issuerNameHash": a.string("issuer_name_hash", max_length=128),
        "issuerKeyHash": a.string("issuer_key_hash", max_length=128),
        "serialNumber": a.string("serial_number", max_length=40),
    }
    return "DeleteCertificate", {"certificateHashData": data}


def certificate_signed(a: Arguments, ctx: Context) -> tuple[str, dict[str, Any]]:
    """A02/A03: the signed chain (PEM, the leaf first) for the station's CSR; the type as its
    SignCertificate said (A02.FR.14), none for a combined certificate and for 1.6."""
    payload: dict[str, Any] = {"certificateChain": _pem(a, "certificate_chain", 10000)}
    kind = a.choice("certificate_type", SIGNED_TYPES, required=False)
    if kind is not None:
        if ctx.v16:
            raise a.fail("ocpp1.6 CertificateSigned has no certificate_type")
        payload["certificateType"] = kind
    return "CertificateSigned", payload


TRANSLATIONS: dict[str, Translation] = {
    "InstallCertificate": install_certificate,
    "GetInstalledCertificateIds": get_installed_certificate_ids,
    "DeleteCertificate": delete_certificate,
    "CertificateSigned": certificate_signed,
}
