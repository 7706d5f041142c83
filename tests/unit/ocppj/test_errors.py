"""The OCPP error hierarchy and the one table of per-version wire codes."""

import builtins

import pytest

from ocppj import errors
from ocppj.errors import (
    ERROR_CODES,
    FormatViolation,
    InvalidOutgoing,
    NotImplementedAction,
    OcppError,
    canonical_code,
    wire_code,
)
from ocppj.versions import OcppVersion

V16, V201, V21 = OcppVersion.V16, OcppVersion.V201, OcppVersion.V21

ALL_CLASSES = [
    cls
    for cls in vars(errors).values()
    if isinstance(cls, type) and issubclass(cls, OcppError) and cls is not OcppError
]

# code -> (1.6 wire, 2.0.1 wire, 2.1 wire)
WIRE = {
    "FormatViolation": ("FormationViolation", "FormatViolation", "FormatViolation"),
    "ProtocolError": ("ProtocolError", "ProtocolError", "ProtocolError"),
    "TypeConstraintViolation": ("TypeConstraintViolation",) * 3,
    "PropertyConstraintViolation": ("PropertyConstraintViolation",) * 3,
    "OccurrenceConstraintViolation": (
        "OccurenceConstraintViolation",
        "ProtocolError",
        "OccurrenceConstraintViolation",
    ),
    "NotImplemented": ("NotImplemented",) * 3,
    "NotSupported": ("NotSupported",) * 3,
    "InternalError": ("InternalError",) * 3,
    "SecurityError": ("SecurityError",) * 3,
    "GenericError": ("GenericError",) * 3,
    "MessageTypeNotSupported": (
        "FormationViolation",
        "MessageTypeNotSupported",
        "MessageTypeNotSupported",
    ),
    "RpcFrameworkError": ("GenericError", "RpcFrameworkError", "RpcFrameworkError"),
}
# OCPP-J 1.6 §4.2.3 Table 7 (errata spellings) and 2.x Part 4 §4.3 tables.
V16_CODES = {
    "NotImplemented",
    "NotSupported",
    "InternalError",
    "ProtocolError",
    "SecurityError",
    "FormationViolation",
    "PropertyConstraintViolation",
    "OccurenceConstraintViolation",
    "TypeConstraintViolation",
    "GenericError",
}
V2_CODES = {
    "FormatViolation",
    "GenericError",
    "InternalError",
    "MessageTypeNotSupported",
    "NotImplemented",
    "NotSupported",
    "OccurrenceConstraintViolation",
    "PropertyConstraintViolation",
    "ProtocolError",
    "RpcFrameworkError",
    "SecurityError",
    "TypeConstraintViolation",
}


def test_one_class_per_code_and_no_builtin_shadowed() -> None:
    assert len(ALL_CLASSES) == 12
    assert {cls.code for cls in ALL_CLASSES} == ERROR_CODES == set(WIRE)
    assert not any(hasattr(builtins, cls.__name__) for cls in ALL_CLASSES)
    assert NotImplementedAction.code == "NotImplemented"
    assert not issubclass(InvalidOutgoing, OcppError)  # our misuse is not the station's fault


@pytest.mark.parametrize(
    ("code", "version", "expected"),
    [(code, version, WIRE[code][i]) for code in WIRE for i, version in enumerate(OcppVersion)],
)
def test_wire_code(code: str, version: OcppVersion, expected: str) -> None:
    assert wire_code(code, version) == expected


@pytest.mark.parametrize("version", list(OcppVersion))
def test_every_wire_code_is_valid_for_its_version(version: OcppVersion) -> None:
    valid = V16_CODES if version is V16 else V2_CODES
    assert {wire_code(code, version) for code in ERROR_CODES} <= valid
    if version is V201:  # the disputed spelling is never sent (ocpp.md §1.4)
        assert "OccurrenceConstraintViolation" not in {wire_code(c, V201) for c in ERROR_CODES}


def test_wire_code_rejects_unknown_codes() -> None:
    with pytest.raises(ValueError, match="not an OCPP error code"):
        wire_code("FormationViolation", V16)  # a wire value, not a code


@pytest.mark.parametrize(
    ("received", "expected"),
    [
        ("FormationViolation", "FormatViolation"),
        ("OccurenceConstraintViolation", "OccurrenceConstraintViolation"),
        ("OccurrenceConstraintViolation", "OccurrenceConstraintViolation"),
        ("NotImplemented", "NotImplemented"),
        ("VendorSpecific", "VendorSpecific"),
    ],
)
def test_canonical_code_accepts_both_spellings(received: str, expected: str) -> None:
    assert canonical_code(received) == expected


def test_error_attributes() -> None:
    bare = FormatViolation()
    assert (str(bare), bare.description, bare.unique_id, bare.details) == ("", "", None, {})
    assert (bare.message_type_id, bare.ignore) == (None, False)
    assert FormatViolation().details is not bare.details  # no shared mutable default
    full = FormatViolation("bad", unique_id="42", details={"path": "payload"}, message_type_id=2)
    assert (str(full), full.unique_id, full.details, full.message_type_id) == (
        "bad",
        "42",
        {"path": "payload"},
        2,
    )
    assert OcppError.code == "GenericError"
