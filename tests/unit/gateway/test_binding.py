"""Profile 3: the boot's serial number must be the certificate's CN; the presence record says
which certificate a station connected with (pure)."""

from datetime import UTC, datetime

import pytest

from gateway.core.binding import boot_mismatch, boot_serial
from gateway.tls import check_client_certificate, client_certificate
from ocppj.versions import OcppVersion

V16, V201 = OcppVersion.V16, OcppVersion.V201
BOOT_201 = {
    "reason": "PowerUp",
    "chargingStation": {"model": "M", "vendorName": "V", "serialNumber": "SN-7"},
}
PEERCERT = {
    "subject": ((("organizationName", "CPO"),), (("commonName", "SN-7"),)),
    "serialNumber": "0A1B2C",
    "notAfter": "Dec 31 23:59:59 2027 GMT",
}


def test_the_boot_says_its_serial_number_in_each_version() -> None:
    assert boot_serial(V201, BOOT_201) == "SN-7"
    assert (
        boot_serial(V16, {"chargePointSerialNumber": "SN-7", "chargeBoxSerialNumber": "X"})
        == "SN-7"
    )
    assert boot_serial(V16, {"chargeBoxSerialNumber": "SN-7"}) == "SN-7"
    assert boot_serial(V16, {"chargePointVendor": "V"}) is None


@pytest.mark.parametrize(
    ("version", "payload", "expected"),
    [
        (V201, BOOT_201, None),
        (
            V201,
            {
                **BOOT_201,
                "chargingStation": {"model": "M", "vendorName": "V", "serialNumber": "SN-8"},
            },
            "B01.FR.12: boot says serial number 'SN-8', certificate CN 'SN-7'",
        ),
        (
            V16,
            {"chargePointVendor": "V", "chargePointModel": "M"},
            "B01.FR.12: boot says no serial number, certificate CN 'SN-7'",
        ),
    ],
)
def test_a_boot_with_another_serial_number_closes_the_connection(
    version: OcppVersion, payload: dict[str, object], expected: str | None
) -> None:
    assert boot_mismatch(version, "BootNotification", payload, "SN-7") == expected
    assert boot_mismatch(version, "StatusNotification", payload, "SN-7") is None  # boots only
    if expected is not None:
        assert len(expected.encode()) <= 123  # a WebSocket close reason's limit


def test_the_certificate_a_station_connected_with() -> None:
    found = client_certificate(PEERCERT)
    assert found is not None
    assert (found.common_name, found.serial, found.expires_at) == (
        "SN-7",
        "a1b2c",
        datetime(2027, 12, 31, 23, 59, 59, tzinfo=UTC),
    )
    assert client_certificate({}) is None  # an unverified certificate yields {}
    assert client_certificate(None) is None


def test_the_cn_is_the_identity_unless_bound_to_the_serial_number() -> None:
    assert not check_client_certificate("CS-ID", PEERCERT)
    assert check_client_certificate("CS-ID", PEERCERT, cn_is_identity=False)
    assert check_client_certificate("SN-7", PEERCERT, organization="CPO")
    assert not check_client_certificate("CS-ID", {}, cn_is_identity=False)


def test_a_close_reason_fits_a_close_frame_whatever_the_station_said() -> None:
    odd = {
        "reason": "PowerUp",
        "chargingStation": {"model": "M", "vendorName": "V", "serialNumber": "\u20ac\x00" * 12},
    }
    reason = boot_mismatch(V201, "BootNotification", odd, "\u00e9\x01" * 25)
    assert reason is not None
    assert len(reason.encode()) <= 123
