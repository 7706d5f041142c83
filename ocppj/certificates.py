"""Station certificates of security profile 3: CSR checks, signing, OCSP hash data (sans-I/O).

OCPP 2.0.1 and the 1.6 security whitepaper (same requirement ids): a station makes its key pair
and sends a PKCS#10 CSR in PEM (SignCertificate, A02/A03); the CSMS has it signed and returns
the chain, leaf first (CertificateSigned). The rules that bind the CSR (A00.FR.5xx):

- keys of at least 112 bits of symmetric strength: RSA >= 2048 bits, EC >= 224 bits (A00.FR.503);
  we take RSA and elliptic-curve keys only (DSA is not among BSI's recommendations any more);
- the subject's ``O`` is the CPO's organisation name (A00.FR.509: 2.0.1 fills it from
  SecurityCtrlr.OrganizationName, 1.6 from CpoName);
- the subject's ``CN`` is the station's unique serial number (A00.FR.511), which the station
  says in its BootNotification.

The spec lets the CSMS check the CSR but names no rule for refusing one; ``csr_problems`` is our
policy (docs/certificates.md). ``sign`` backdates ``notBefore`` by a few minutes: the station
checks that now lies within the validity (errata 2025-01), and clocks drift.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import NameOID

MIN_RSA_BITS = 2048
MIN_EC_BITS = 224
BACKDATE = timedelta(minutes=5)
HASH_ALGORITHMS: dict[str, type[hashes.SHA256 | hashes.SHA384 | hashes.SHA512]] = {
    "SHA256": hashes.SHA256,
    "SHA384": hashes.SHA384,
    "SHA512": hashes.SHA512,
}

CaKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


@dataclass(frozen=True, slots=True)
class Subject:
    common_name: str | None
    organization: str | None


def _single(name: x509.Name, oid: x509.ObjectIdentifier) -> str | None:
    values = name.get_attributes_for_oid(oid)
    if len(values) != 1:
        return None
    value = values[0].value
    return value if isinstance(value, str) else value.decode("utf-8", "replace")


def load_csr(pem: str) -> x509.CertificateSigningRequest:
    """Raises: ValueError: not a PEM PKCS#10 certification request."""
    return x509.load_pem_x509_csr(pem.encode("ascii", "replace"))


def subject_of(csr: x509.CertificateSigningRequest) -> Subject:
    """The CN and O of a CSR's subject (None where absent or given more than once)."""
    return Subject(
        _single(csr.subject, NameOID.COMMON_NAME), _single(csr.subject, NameOID.ORGANIZATION_NAME)
    )


def key_problem(public_key: object) -> str | None:
    """Why a key is too weak or of a kind we do not sign (A00.FR.503), or None."""
    if isinstance(public_key, rsa.RSAPublicKey):
        if public_key.key_size < MIN_RSA_BITS:
            return f"RSA key of {public_key.key_size} bits (at least {MIN_RSA_BITS})"
        return None
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        if public_key.curve.key_size < MIN_EC_BITS:
            return f"EC key of {public_key.curve.key_size} bits (at least {MIN_EC_BITS})"
        return None
    return f"{type(public_key).__name__.lstrip('_')} keys are not signed (RSA or EC only)"


def csr_problems(pem: str, *, serial_number: str | None, organization: str | None) -> list[str]:
    """What is wrong with a station's CSR, in words for an operator's log; empty: sign it.

    ``serial_number`` is the one the station booted with (None: it never said one, and the CSR
    cannot be bound to it); ``organization`` the CPO's name, None to accept any O.
    """
    try:
        csr = load_csr(pem)
    except ValueError:
        return ["not a PEM PKCS#10 certification request"]
    problems = []
    try:
        if not csr.is_signature_valid:
            problems.append("the CSR's signature does not verify")
        public_key = csr.public_key()
    except (UnsupportedAlgorithm, ValueError) as exc:
        return [f"the CSR's key cannot be read: {exc}"]
    weak = key_problem(public_key)
    if weak is not None:
        problems.append(weak)
    subject = subject_of(csr)
    if serial_number is None:
        problems.append("the station's serial number is unknown (no BootNotification said one)")
    elif subject.common_name != serial_number:
        problems.append(
            f"CN {subject.common_name!r} is not the station's serial number {serial_number!r}"
        )
    if organization is not None and subject.organization != organization:
        problems.append(f"O {subject.organization!r} is not {organization!r}")
    return problems


def _padding(ca_key: CaKey) -> padding.PSS | None:
    """RSA-PSS for an RSA CA (A00.FR.5xx: the CA signs with RSA-PSS or ECDSA)."""
    if isinstance(ca_key, rsa.RSAPrivateKey):
        return padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
    return None


def sign(
    csr: x509.CertificateSigningRequest,
    *,
    ca_certificate: x509.Certificate,
    ca_key: CaKey,
    serial: int,
    now: datetime,
    valid_for: timedelta,
) -> x509.Certificate:
    """The station certificate for ``csr``: its subject and key, issued by the CA, for
    ``valid_for`` from ``now`` (notBefore a few minutes earlier). Key usage for a TLS client
    (digitalSignature, and keyEncipherment for RSA); no extended key usage, which A00 advises
    against (ISO 15118)."""
    public_key = csr.public_key()
    rsa_key = isinstance(public_key, rsa.RSAPublicKey)
    builder = (
        x509.CertificateBuilder()
        .subject_name(csr.subject)
        .issuer_name(ca_certificate.subject)
        .public_key(public_key)
        .serial_number(serial)
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now + valid_for)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=rsa_key,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(public_key),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
    )
    return builder.sign(ca_key, hashes.SHA256(), rsa_padding=_padding(ca_key))


def chain_pem(leaf: x509.Certificate, intermediates: Sequence[x509.Certificate] = ()) -> str:
    """CertificateSigned's ``certificateChain``: PEM, the leaf first, then the sub-CAs."""
    return "".join(
        c.public_bytes(serialization.Encoding.PEM).decode("ascii") for c in (leaf, *intermediates)
    )


def hash_data(
    certificate: x509.Certificate, issuer: x509.Certificate | None = None, algorithm: str = "SHA256"
) -> dict[str, str]:
    """CertificateHashDataType of a certificate: the RFC 6960 CertID (issuer name and key
    hashes, the serial in hex without leading zeros); a root is its own issuer."""
    request = (
        ocsp.OCSPRequestBuilder()
        .add_certificate(certificate, issuer or certificate, HASH_ALGORITHMS[algorithm]())
        .build()
    )
    return {
        "hashAlgorithm": algorithm,
        "issuerNameHash": request.issuer_name_hash.hex(),
        "issuerKeyHash": request.issuer_key_hash.hex(),
        "serialNumber": format(certificate.serial_number, "x"),
    }


def new_ca(
    common_name: str, organization: str, *, now: datetime, valid_for: timedelta
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """A self-signed CA on a new P-256 key (the dev CA of ``make run`` and the tests)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
        ]
    )
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now + valid_for)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return certificate, key


def csr_for(
    key: CaKey, common_name: str, organization: str | None = None
) -> x509.CertificateSigningRequest:
    """A CSR as a station makes one (the simulator and the tests)."""
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    if organization is not None:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    builder = x509.CertificateSigningRequestBuilder().subject_name(x509.Name(attributes))
    return builder.sign(key, hashes.SHA256())
