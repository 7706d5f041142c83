"""Errors of the contracts package (pure).

ContractError
 ├── DecodeError      bytes that are not an envelope (truncated, garbage, wrong shape)
 ├── EncodeError      an envelope whose payload msgpack cannot carry
 └── RecordRejected   an envelope whose payload breaks its contract (a view refuses it)
"""


class ContractError(Exception):
    """Base class: something on the wire does not match the contract."""


class DecodeError(ContractError):
    """The bytes are not a msgpack-encoded envelope."""


class EncodeError(ContractError):
    """The envelope holds a value that msgpack cannot encode (or a naive datetime)."""


class RecordRejected(ContractError):
    """A decoded envelope that its reader refuses: a wrong event type, a missing field."""
