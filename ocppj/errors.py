"""OCPP-J RPC errors and their per-version wire codes (pure).

OcppError(code: ClassVar[str])        a station's frame or payload is at fault -> CALLERROR
 ├── FormatViolation                  "FormationViolation" on the 1.6 wire
 ├── ProtocolError
 ├── TypeConstraintViolation
 ├── PropertyConstraintViolation
 ├── OccurrenceConstraintViolation    "OccurenceConstraintViolation" on the 1.6 wire
 ├── NotImplementedAction             code "NotImplemented" (never shadow the builtin)
 ├── NotSupported
 ├── InternalError
 ├── SecurityError
 ├── GenericError
 ├── MessageTypeNotSupported          2.x only
 └── RpcFrameworkError                2.x only
InvalidOutgoing                       our own misuse (an invalid CALL or answer we tried to send)

Blame is split as in h11: what a station sends raises an OcppError, which the session turns into
a CALLERROR or an event; what *we* get wrong raises InvalidOutgoing, which is a bug to fix.
"""

from typing import Any, ClassVar

from ocppj.versions import OcppVersion


class OcppError(Exception):
    """Something a station sent is wrong; ``code`` is the version-neutral CALLERROR code.

    Attributes:
        description: short text for the CALLERROR errorDescription.
        unique_id: the MessageId of the offending frame, or None if it could not be read.
        details: machine-readable context (e.g. the schema path), never the raw input.
        message_type_id: the MessageTypeId of the offending frame, if it could be read.
        ignore: the spec says to ignore this frame silently (no CALLERROR).
    """

    code: ClassVar[str] = "GenericError"

    def __init__(
        self,
        description: str = "",
        *,
        unique_id: str | None = None,
        details: dict[str, Any] | None = None,
        message_type_id: int | None = None,
        ignore: bool = False,
    ) -> None:
        super().__init__(description)
        self.description = description
        self.unique_id = unique_id
        self.details: dict[str, Any] = {} if details is None else details
        self.message_type_id = message_type_id
        self.ignore = ignore


class FormatViolation(OcppError):
    """Payload for Action is syntactically incorrect (2.0.1 Part 4 §4.3)."""

    code = "FormatViolation"


class ProtocolError(OcppError):
    """Payload is incomplete (1.6) / not conform the PDU structure (2.x)."""

    code = "ProtocolError"


class TypeConstraintViolation(OcppError):
    """A field violates data type constraints ("somestring": 12)."""

    code = "TypeConstraintViolation"


class PropertyConstraintViolation(OcppError):
    """A field contains an invalid value (enum, length, range, format)."""

    code = "PropertyConstraintViolation"


class OccurrenceConstraintViolation(OcppError):
    """A field violates occurrence constraints (missing, too many)."""

    code = "OccurrenceConstraintViolation"


class NotImplementedAction(OcppError):
    """Requested Action is not known by the receiver."""

    code = "NotImplemented"


class NotSupported(OcppError):
    """Requested Action is recognized but not supported by the receiver."""

    code = "NotSupported"


class InternalError(OcppError):
    """The receiver could not process the Action (also: no answer in time)."""

    code = "InternalError"


class SecurityError(OcppError):
    """A security issue prevented the Action (e.g. a CALL before boot accepted)."""

    code = "SecurityError"


class GenericError(OcppError):
    """Any other error not covered by the more specific codes."""

    code = "GenericError"


class MessageTypeNotSupported(OcppError):
    """A MessageTypeId this implementation does not support (2.x)."""

    code = "MessageTypeNotSupported"


class RpcFrameworkError(OcppError):
    """Not a valid RPC frame, e.g. the MessageId could not be read (2.x)."""

    code = "RpcFrameworkError"


class InvalidOutgoing(Exception):
    """We tried to send something invalid (unknown action, schema-invalid payload, bad code)."""


ERROR_CODES: frozenset[str] = frozenset(
    cls.code
    for cls in (
        FormatViolation,
        ProtocolError,
        TypeConstraintViolation,
        PropertyConstraintViolation,
        OccurrenceConstraintViolation,
        NotImplementedAction,
        NotSupported,
        InternalError,
        SecurityError,
        GenericError,
        MessageTypeNotSupported,
        RpcFrameworkError,
    )
)

# The one table of per-version wire values; codes not listed go out as named.
_WIRE_RENAMES: dict[OcppVersion, dict[str, str]] = {
    OcppVersion.V16: {
        # OCPP-J 1.6 §4.2.3 Table 7 names it FormationViolation; errata §5 keeps that name.
        "FormatViolation": "FormationViolation",
        # OCPP-J 1.6 errata §5 keeps the "Occurence" typo on the wire (ocpp.md §1.4).
        "OccurrenceConstraintViolation": "OccurenceConstraintViolation",
        # Not in 1.6 (§4.1.3: unknown MessageTypeIds are ignored, never answered); the nearest
        # 1.6 code is "not conform the PDU structure".
        "MessageTypeNotSupported": "FormationViolation",
        # Not in 1.6; "any other error not covered by the previous ones".
        "RpcFrameworkError": "GenericError",
    },
    OcppVersion.V201: {
        # 2.0.1 Part 4 §4.3 spells it "Occurrence", but implementations disagree on the
        # spelling (mobilityhouse/ocpp#381, #490): do not send it, ProtocolError says enough.
        "OccurrenceConstraintViolation": "ProtocolError",
    },
    OcppVersion.V21: {},  # 2.1 Part 4 §4.3: every code as named
}

# Receive side (ocpp.md §1.4): accept both spellings in every version.
_CANONICAL: dict[str, str] = {
    "FormationViolation": "FormatViolation",
    "OccurenceConstraintViolation": "OccurrenceConstraintViolation",
}


def wire_code(code: str, version: OcppVersion) -> str:
    """The errorCode to put in a CALLERROR for ``code`` on a ``version`` connection.

    Raises:
        ValueError: if ``code`` is not one of ERROR_CODES.
    """
    if code not in ERROR_CODES:
        raise ValueError(f"not an OCPP error code: {code!r}")
    return _WIRE_RENAMES[version].get(code, code)


def canonical_code(received: str) -> str:
    """The version-neutral name of an errorCode a station sent (unknown codes pass through)."""
    return _CANONICAL.get(received, received)
