"""The certificates service: what it sends and when (pure), and its CA on files."""

import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from contracts.payloads.certificates import CertificateSigningRequested
from contracts.payloads.presence import ClientCertificate, Presence
from ocppj.certificates import csr_for
from ocppj.versions import OcppVersion
from services.certificates.authority import Authority, CsrRefused, write_dev_ca
from services.certificates.core.commands import Renewal, certificate_signed, renewal, renewal_due

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
POLICY = Renewal(renew_before=timedelta(days=30), ask_again_after=timedelta(hours=24))


def connected(version: OcppVersion, expires_in: timedelta) -> Presence:
    return Presence(
        station_id="SN-1",
        connected=True,
        gateway=0,
        connection_id="c1",
        ocpp_version=version,
        gateway_boot="b",
        connected_at=NOW,
        certificate=ClientCertificate(
            common_name="SN-1", serial="0abc", expires_at=NOW + expires_in
        ),
    )


def pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> str:
    return csr_for(key, "SN-1").public_bytes(serialization.Encoding.PEM).decode()


def test_a_certificate_that_expires_soon_is_renewed_once_a_day() -> None:
    soon, later = (
        connected(OcppVersion.V201, timedelta(days=29)),
        connected(OcppVersion.V201, timedelta(days=31)),
    )
    assert renewal_due(soon, online=True, now=NOW, asked_at=None, policy=POLICY)
    assert not renewal_due(later, online=True, now=NOW, asked_at=None, policy=POLICY)
    assert not renewal_due(soon, online=False, now=NOW, asked_at=None, policy=POLICY)
    assert not renewal_due(
        soon, online=True, now=NOW, asked_at=NOW - timedelta(hours=23), policy=POLICY
    )
    assert renewal_due(
        soon, online=True, now=NOW, asked_at=NOW - timedelta(hours=24), policy=POLICY
    )
    no_certificate = Presence(
        station_id="X",
        connected=True,
        gateway=0,
        connection_id="c",
        ocpp_version=OcppVersion.V16,
        gateway_boot="b",
        connected_at=NOW,
    )
    assert not renewal_due(no_certificate, online=True, now=NOW, asked_at=None, policy=POLICY)


@pytest.mark.parametrize(
    ("version", "command", "arguments"),
    [
        (OcppVersion.V201, "TriggerMessage", {"message": "SignChargingStationCertificate"}),
        (OcppVersion.V16, "ExtendedTriggerMessage", {"message": "SignChargePointCertificate"}),
    ],
)
def test_the_renewal_trigger_in_each_version(
    version: OcppVersion, command: str, arguments: dict[str, str]
) -> None:
    asked = renewal(connected(version, timedelta(days=1)), NOW)
    assert (asked.command, dict(asked.arguments), asked.station_id) == (command, arguments, "SN-1")
    assert asked.command_id == "renew/SN-1/0abc/2026-11-27T12:00:00.000Z"
    assert asked.deadline == NOW + timedelta(minutes=10)


def test_a_csr_read_twice_is_one_command() -> None:
    request = CertificateSigningRequested(
        station_id="SN-1",
        csr="CSR",
        certificate_type="ChargingStationCertificate",
        accepted=True,
        at=NOW,
    )
    first, second = (
        certificate_signed(request, "CHAIN", NOW),
        certificate_signed(request, "CHAIN2", NOW),
    )
    assert first.command_id == second.command_id
    assert dict(first.arguments) == {
        "certificate_chain": "CHAIN",
        "certificate_type": "ChargingStationCertificate",
    }
    combined = certificate_signed(
        CertificateSigningRequested(
            station_id="SN-1", csr="CSR", certificate_type=None, accepted=True, at=NOW
        ),
        "C",
        NOW,
    )
    assert dict(combined.arguments) == {"certificate_chain": "C"}  # 1.6 and combined: no type


def test_the_dev_ca_signs_and_its_key_is_private(tmp_path: Path) -> None:
    certfile, keyfile = write_dev_ca(tmp_path / "ca", organization="Dev CPO")
    assert stat.S_IMODE(keyfile.stat().st_mode) == 0o600
    assert write_dev_ca(tmp_path / "ca", organization="Dev CPO") == (certfile, keyfile)  # kept
    authority = Authority.load(certfile, keyfile, timedelta(days=365))
    chain = authority.sign(pem(ec.generate_private_key(ec.SECP256R1())), NOW)
    (leaf,) = x509.load_pem_x509_certificates(chain.encode())
    leaf.verify_directly_issued_by(authority.certificate)
    assert leaf.not_valid_after_utc == NOW + timedelta(days=365)
    with pytest.raises(CsrRefused, match="RSA key of 1024 bits"):
        authority.sign(pem(rsa.generate_private_key(public_exponent=65537, key_size=1024)), NOW)
    with pytest.raises(CsrRefused, match="unreadable CSR"):
        authority.sign("garbage", NOW)


def test_a_key_that_is_not_the_cas_is_refused(tmp_path: Path) -> None:
    certfile, _ = write_dev_ca(tmp_path / "one", organization="A")
    _, other_key = write_dev_ca(tmp_path / "two", organization="B")
    with pytest.raises(ValueError, match="is not the key of"):
        Authority.load(certfile, other_key, timedelta(days=1))
