"""A throwaway certificate authority for TLS tests: CA, server and station certificates (file I/O).

    ca = make_ca(tmp_path)
    server = ca.issue_server(tmp_path)                     # CN=localhost, SAN localhost, 127.0.0.1
    station = ca.issue_client(tmp_path, common_name="CS001")  # CN=CS001, O=chargebus test CPO
    server_context(server.cert, server.key, client_ca=ca.cert)

Keys are ECDSA P-256 unless ``key_type="rsa"`` (RSA 2048, A00.FR.502); certificates are signed
with SHA-256 (A00.FR.506) and written as PEM (A00.FR.507). Files are unencrypted: tests only.
"""

import datetime
import ipaddress
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

KeyType = Literal["ec", "rsa"]
PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
TEST_ORGANIZATION = "chargebus test CPO"


@dataclass(frozen=True, slots=True)
class CertFiles:
    """A PEM certificate and its unencrypted PEM private key."""

    cert: Path
    key: Path


@dataclass(frozen=True, slots=True)
class CA:
    """A self-signed root that issues server and client (station) certificates."""

    cert: Path  # PEM: pass as client_ca / cafile
    key: Path
    _certificate: x509.Certificate
    _private_key: PrivateKey

    def issue_server(
        self,
        directory: Path,
        hostnames: Sequence[str] = ("localhost", "127.0.0.1"),
        *,
        key_type: KeyType = "ec",
    ) -> CertFiles:
        """A CSMS certificate: CN = first hostname (A00.FR.510), SAN = every hostname."""
        names: list[x509.GeneralName] = []
        for host in hostnames:
            try:
                names.append(x509.IPAddress(ipaddress.ip_address(host)))
            except ValueError:
                names.append(x509.DNSName(host))
        return self._issue(
            directory,
            _name(hostnames[0], TEST_ORGANIZATION),
            key_type=key_type,
            usage=ExtendedKeyUsageOID.SERVER_AUTH,
            alt_names=names,
        )

    def issue_client(
        self,
        directory: Path,
        common_name: str,
        *,
        organization: str = TEST_ORGANIZATION,
        key_type: KeyType = "ec",
        valid_days: int = 1,
    ) -> CertFiles:
        """A station certificate: CN = ``common_name``, O = ``organization``, no SAN (A00.FR.511).

        ``valid_days`` below 0 makes an already expired certificate.
        """
        return self._issue(
            directory,
            _name(common_name, organization),
            key_type=key_type,
            usage=ExtendedKeyUsageOID.CLIENT_AUTH,
            valid_days=valid_days,
        )

    def _issue(
        self,
        directory: Path,
        subject: x509.Name,
        *,
        key_type: KeyType,
        usage: x509.ObjectIdentifier,
        alt_names: Sequence[x509.GeneralName] = (),
        valid_days: int = 1,
    ) -> CertFiles:
        key = _new_key(key_type)
        now = datetime.datetime.now(datetime.UTC)
        not_after = now + datetime.timedelta(days=valid_days)
        not_before = min(now, not_after) - datetime.timedelta(minutes=5)
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self._certificate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())  # A00.FR.508
            .not_valid_before(not_before)
            .not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_key_usage(key_type, ca=False), critical=True)  # A00.FR.512
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self._private_key.public_key()),
                critical=False,
            )
        )
        if alt_names:
            builder = builder.add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        certificate = builder.sign(self._private_key, hashes.SHA256())
        return _write(directory, _label(subject), certificate, key)


def make_ca(directory: Path, *, common_name: str = "chargebus test CA") -> CA:
    """A new root CA (ECDSA P-256) written to ``directory``; the name gets a unique suffix."""
    key = _new_key("ec")
    name = _name(f"{common_name} {uuid.uuid4().hex[:8]}", TEST_ORGANIZATION)
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage("ec", ca=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .sign(key, hashes.SHA256())
    )
    files = _write(directory, _label(name), certificate, key)
    return CA(files.cert, files.key, certificate, key)


def _new_key(key_type: KeyType) -> PrivateKey:
    if key_type == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return ec.generate_private_key(ec.SECP256R1())


def _name(common_name: str, organization: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _key_usage(key_type: KeyType, *, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=key_type == "rsa" and not ca,  # TLS_RSA_* key exchange
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def _label(name: x509.Name) -> str:
    common_name = name.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    safe = "".join(c if c.isalnum() else "-" for c in str(common_name))
    return f"{safe}-{uuid.uuid4().hex[:8]}"


def _write(
    directory: Path, label: str, certificate: x509.Certificate, key: PrivateKey
) -> CertFiles:
    directory.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = directory / f"{label}.crt", directory / f"{label}.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return CertFiles(cert_path, key_path)
