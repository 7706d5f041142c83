"""The CA that signs station certificates: its certificate and key read from files (I/O).

The key is read once at start from a file the operator mounts (a Kubernetes secret, say); it is
never logged. ``python -m services.certificates dev-ca DIR`` writes a development CA there
(``make run`` does), the key readable by its owner only.
"""

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from ocppj.certificates import CaKey, chain_pem, key_problem, load_csr, new_ca, sign


class CsrRefused(ValueError):
    """A CSR the CA will not sign (it was accepted upstream: an operator should look)."""


class Authority:
    def __init__(self, certificate: x509.Certificate, key: CaKey, valid_for: timedelta) -> None:
        self.certificate, self._key, self.valid_for = certificate, key, valid_for

    @classmethod
    def load(cls, certfile: Path, keyfile: Path, valid_for: timedelta) -> "Authority":
        """Raises: OSError: a file cannot be read; ValueError: not a PEM certificate and an
        RSA or EC key that belong together."""
        certificate = x509.load_pem_x509_certificate(certfile.read_bytes())
        key = serialization.load_pem_private_key(keyfile.read_bytes(), password=None)
        if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
            raise ValueError(f"{keyfile}: the CA key must be RSA or EC")
        if key.public_key().public_numbers() != certificate.public_key().public_numbers():  # type: ignore[union-attr]
            raise ValueError(f"{keyfile} is not the key of {certfile}")
        return cls(certificate, key, valid_for)

    def sign(self, csr_pem: str, now: datetime) -> str:
        """CertificateSigned's chain for a CSR (the leaf; the CA is the station's trust anchor).

        Raises:
            CsrRefused: not a CSR, a signature that does not verify, a weak key.
        """
        try:
            csr = load_csr(csr_pem)
            valid = csr.is_signature_valid
            weak = key_problem(csr.public_key())
        except ValueError as exc:
            raise CsrRefused(f"unreadable CSR: {exc}") from exc
        if not valid or weak is not None:
            raise CsrRefused(weak or "the CSR's signature does not verify")
        leaf = sign(
            csr,
            ca_certificate=self.certificate,
            ca_key=self._key,
            serial=x509.random_serial_number(),
            now=now,
            valid_for=self.valid_for,
        )
        return chain_pem(leaf)


def write_dev_ca(directory: Path, organization: str) -> tuple[Path, Path]:
    """A development CA in ``directory`` (ca.pem, ca.key with mode 0600); kept if there."""
    directory.mkdir(parents=True, exist_ok=True)
    certfile, keyfile = directory / "ca.pem", directory / "ca.key"
    if certfile.exists() and keyfile.exists():
        return certfile, keyfile
    now = datetime.now(UTC)
    certificate, key = new_ca(
        "chargebus dev station CA", organization, now=now, valid_for=timedelta(days=3650)
    )
    pem_key = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    descriptor = os.open(keyfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(pem_key)
    certfile.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return certfile, keyfile
