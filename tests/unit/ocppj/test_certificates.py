"""CSR checks (good, bad, wrong subject, weak key), signing and hash data (pure)."""

from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519, rsa
from cryptography.x509.oid import NameOID

from ocppj.certificates import (
    BACKDATE,
    chain_pem,
    csr_for,
    csr_problems,
    hash_data,
    load_csr,
    new_ca,
    sign,
)

NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
SERIAL, ORG = "SN-0042", "Example CPO"
EC_KEY = ec.generate_private_key(ec.SECP256R1())


def pem(csr: x509.CertificateSigningRequest) -> str:
    return csr.public_bytes(serialization.Encoding.PEM).decode()


def test_a_good_csr_has_no_problem() -> None:
    assert (
        csr_problems(pem(csr_for(EC_KEY, SERIAL, ORG)), serial_number=SERIAL, organization=ORG)
        == []
    )
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert (
        csr_problems(pem(csr_for(rsa_key, SERIAL, ORG)), serial_number=SERIAL, organization=None)
        == []
    )


@pytest.mark.parametrize(
    ("common_name", "organization", "serial", "expected"),
    [
        ("SN-9999", ORG, SERIAL, "CN 'SN-9999' is not the station's serial number 'SN-0042'"),
        (SERIAL, "Other CPO", SERIAL, "O 'Other CPO' is not 'Example CPO'"),
        (SERIAL, None, SERIAL, "O None is not 'Example CPO'"),
        (
            SERIAL,
            ORG,
            None,
            "the station's serial number is unknown (no BootNotification said one)",
        ),
    ],
)
def test_a_wrong_subject_is_refused_with_its_reason(
    common_name: str, organization: str | None, serial: str | None, expected: str
) -> None:
    csr = pem(csr_for(EC_KEY, common_name, organization))
    assert csr_problems(csr, serial_number=serial, organization=ORG) == [expected]


def test_weak_and_unsupported_keys_are_refused() -> None:
    weak_rsa = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    assert csr_problems(
        pem(csr_for(weak_rsa, SERIAL)), serial_number=SERIAL, organization=None
    ) == ["RSA key of 1024 bits (at least 2048)"]
    weak_ec = ec.generate_private_key(ec.SECP192R1())
    assert csr_problems(pem(csr_for(weak_ec, SERIAL)), serial_number=SERIAL, organization=None) == [
        "EC key of 192 bits (at least 224)"
    ]
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, SERIAL)])
    edwards = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(name)
        .sign(ed25519.Ed25519PrivateKey.generate(), None)
    )
    (problem,) = csr_problems(pem(edwards), serial_number=SERIAL, organization=None)
    assert problem.endswith("keys are not signed (RSA or EC only)")
    dsa_csr = x509.CertificateSigningRequestBuilder().subject_name(name)
    signed = dsa_csr.sign(dsa.generate_private_key(key_size=2048), hashes.SHA256())
    (problem,) = csr_problems(pem(signed), serial_number=SERIAL, organization=None)
    assert problem == "DSAPublicKey keys are not signed (RSA or EC only)"


def test_garbage_and_a_tampered_signature_are_refused() -> None:
    assert csr_problems("hello", serial_number=SERIAL, organization=None) == [
        "not a PEM PKCS#10 certification request"
    ]
    good = csr_for(EC_KEY, SERIAL)
    der = bytearray(good.public_bytes(serialization.Encoding.DER))
    der[-3] ^= 0x01  # inside the signature
    tampered = x509.load_der_x509_csr(bytes(der)).public_bytes(serialization.Encoding.PEM).decode()
    assert csr_problems(tampered, serial_number=SERIAL, organization=None) == [
        "the CSR's signature does not verify"
    ]


@pytest.mark.parametrize("ca_kind", ["ec", "rsa"])
def test_a_signed_certificate_chains_to_the_ca_and_keeps_the_subject(ca_kind: str) -> None:
    ca_cert, ec_ca_key = new_ca("Test CA", ORG, now=NOW, valid_for=timedelta(days=3650))
    ca_key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey = ec_ca_key
    if ca_kind == "rsa":
        ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        ca_cert = (
            x509.CertificateBuilder()
            .subject_name(ca_cert.subject)
            .issuer_name(ca_cert.subject)
            .public_key(ca_key.public_key())
            .serial_number(7)
            .not_valid_before(NOW - timedelta(days=1))
            .not_valid_after(NOW + timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .sign(ca_key, hashes.SHA256())
        )
    csr = load_csr(pem(csr_for(EC_KEY, SERIAL, ORG)))
    leaf = sign(
        csr,
        ca_certificate=ca_cert,
        ca_key=ca_key,
        serial=4095,
        now=NOW,
        valid_for=timedelta(days=365),
    )
    assert leaf.subject == csr.subject
    assert leaf.issuer == ca_cert.subject
    assert leaf.not_valid_before_utc == NOW - BACKDATE  # the station's clock may be behind
    assert leaf.not_valid_after_utc == NOW + timedelta(days=365)
    leaf.verify_directly_issued_by(ca_cert)  # raises if the signature or the names do not fit
    assert not leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    with pytest.raises(x509.ExtensionNotFound):
        leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    chain = chain_pem(leaf)
    assert x509.load_pem_x509_certificates(chain.encode()) == [leaf]
    data = hash_data(leaf, ca_cert)
    assert data["serialNumber"] == "fff"  # hex, no leading zeros
    assert data["hashAlgorithm"] == "SHA256"
    assert len(data["issuerNameHash"]) == len(data["issuerKeyHash"]) == 64
