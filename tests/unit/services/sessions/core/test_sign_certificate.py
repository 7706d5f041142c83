"""SignCertificate: a good CSR Accepted and handed to the CA, a bad one Rejected with why (pure)."""

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from contracts.events import EventType
from contracts.payloads.certificates import CertificateSigningRequested
from contracts.payloads.ocpp import Reply, ReplyError
from contracts.topics import Topic
from ocppj.certificates import csr_for
from ocppj.versions import OcppVersion
from services.sessions.core.policy import Policy
from tests.unit.services.sessions.core.station import V16, V201, Station, at

SERIAL = "SN-1"  # station.boot_payload's serial number
KEY = ec.generate_private_key(ec.SECP256R1())


def pem(common_name: str, organization: str | None = None, key: object = KEY) -> str:
    csr = csr_for(key, common_name, organization)  # type: ignore[arg-type]
    return csr.public_bytes(serialization.Encoding.PEM).decode()


def signed(station: Station, csr: str, **more: str) -> tuple[Reply, CertificateSigningRequested]:
    step = station.call("SignCertificate", {"csr": csr, **more})
    assert isinstance(step.reply, Reply)
    (event,) = step.events
    assert (event.topic, event.event_type) == (
        Topic.STATIONS,
        EventType.CERTIFICATE_SIGNING_REQUESTED,
    )
    request = CertificateSigningRequested.parse(event.envelope())
    assert request is not None
    return step.reply, request


@pytest.mark.parametrize("version", [V16, V201])
def test_a_good_csr_is_accepted_and_handed_on(version: OcppVersion) -> None:
    station = Station(
        version=version, policy=Policy(fetch_inventory=False, certificate_organization="CPO")
    )
    station.boot()
    station.tick(5)
    csr = pem(SERIAL, "CPO")
    more = {} if version is V16 else {"certificateType": "ChargingStationCertificate"}
    reply, request = signed(station, csr, **more)
    assert reply == Reply({"status": "Accepted"})
    assert (request.accepted, request.problems, request.csr, request.serial_number, request.at) == (
        True,
        (),
        csr,
        SERIAL,
        at(5),
    )
    assert request.certificate_type == more.get("certificateType")


def test_a_csr_for_another_serial_number_is_rejected_with_the_reason() -> None:
    station = Station(version=V201, policy=Policy(fetch_inventory=False))
    station.boot()
    reply, request = signed(station, pem("SN-2"))
    reason = "CN 'SN-2' is not the station's serial number 'SN-1'"
    assert reply == Reply(
        {"status": "Rejected", "statusInfo": {"reasonCode": "InvalidCSR", "additionalInfo": reason}}
    )
    assert (request.accepted, request.problems) == (False, (reason,))


def test_a_weak_key_in_16_gets_a_plain_rejected() -> None:
    station = Station(version=V16, policy=Policy(fetch_inventory=False))
    station.boot()
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    reply, request = signed(station, pem(SERIAL, key=weak))
    assert reply == Reply({"status": "Rejected"})
    assert request.problems == ("RSA key of 1024 bits (at least 2048)",)


def test_a_v2g_certificate_and_a_csms_without_a_ca_are_rejected() -> None:
    station = Station(version=V201, policy=Policy(fetch_inventory=False))
    station.boot()
    _, v2g = signed(station, pem(SERIAL), certificateType="V2GCertificate")
    assert v2g.problems == ("V2G certificates are signed by the ISO 15118 PKI, not by this CSMS",)
    station.policy = Policy(fetch_inventory=False, sign_certificates=False)
    reply, off = signed(station, pem(SERIAL))
    assert reply.payload["status"] == "Rejected"
    assert not off.accepted


def test_a_station_that_never_said_its_serial_number_cannot_be_signed() -> None:
    station = Station(version=V16, policy=Policy(fetch_inventory=False))
    station.call("BootNotification", {"chargePointVendor": "V", "chargePointModel": "M"})
    _, request = signed(station, pem(SERIAL))
    assert request.problems == (
        "the station's serial number is unknown (no BootNotification said one)",
    )


def test_a_connection_whose_certificate_is_another_stations_is_refused() -> None:
    station = Station(version=V201, policy=Policy(fetch_inventory=False))
    station.call("BootNotification", _boot(), client_cn=SERIAL)
    status = {
        "timestamp": "2026-11-25T08:00:00Z",
        "connectorStatus": "Available",
        "evseId": 1,
        "connectorId": 1,
    }
    ok = station.call("StatusNotification", status, client_cn=SERIAL)
    assert ok.reply == Reply({})
    other = station.call("StatusNotification", status, client_cn="SN-OTHER")
    assert isinstance(other.reply, ReplyError)
    assert other.reply.code == "SecurityError"
    assert "'SN-OTHER' is not the serial number 'SN-1'" in other.reply.description
    assert other.events == []


def _boot() -> dict[str, object]:
    return {
        "reason": "PowerUp",
        "chargingStation": {"vendorName": "V", "model": "M", "serialNumber": SERIAL},
    }


def test_on_profile_3_the_first_boot_pins_the_serial_number() -> None:
    station = Station(version=V201, policy=Policy(fetch_inventory=False))
    station.call("BootNotification", _boot(), client_cn=SERIAL)
    other = {
        "reason": "PowerUp",
        "chargingStation": {"vendorName": "V", "model": "M", "serialNumber": "SN-X"},
    }
    step = station.call(
        "BootNotification", other, client_cn="SN-X"
    )  # another station's valid certificate
    assert isinstance(step.reply, Reply)
    assert step.reply.payload["status"] == "Rejected"
    (anomaly,) = step.events
    assert anomaly.payload["reason"] == "SerialChanged"
    assert station.state is not None
    assert station.state.serial_number == SERIAL
    status = {
        "timestamp": "2026-11-25T08:00:00Z",
        "connectorStatus": "Available",
        "evseId": 1,
        "connectorId": 1,
    }
    refused = station.call("StatusNotification", status, client_cn="SN-X")
    assert isinstance(refused.reply, ReplyError)
