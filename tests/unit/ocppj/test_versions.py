"""ocppj.versions: the names of OCPP versions in payloads."""

import pytest

from ocppj.versions import OcppVersion, version_named


@pytest.mark.parametrize(
    ("text", "version"),
    [
        ("ocpp1.6", OcppVersion.V16),
        ("1.6", OcppVersion.V16),
        ("2.0.1", OcppVersion.V201),
        ("ocpp2.1", OcppVersion.V21),
        ("1.5", None),
        (16, None),
    ],
)
def test_version_named(text: object, version: OcppVersion | None) -> None:
    assert version_named(text) == version
