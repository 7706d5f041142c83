"""The msgpack wire format of an Envelope: encode() and decode() (pure)."""

import dataclasses
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import msgpack

from contracts.envelope import Envelope
from contracts.errors import DecodeError, EncodeError

_FIELDS = {f.name: f for f in dataclasses.fields(Envelope)}
_TYPES: dict[str, type | tuple[type, ...]] = {
    "event_type": str,
    "schema_version": int,
    "key": str,
    "payload": dict,
    "occurred_at": datetime,
    "event_id": str,
    "causation_id": (str, type(None)),
}
# Bounds against hostile input: a record is at most a few MiB (Kafka's own limit is 1 MiB).
_MAX_BYTES = 8 * 1024 * 1024


def encode(envelope: Envelope) -> bytes:
    """Raises: EncodeError: if the payload holds something msgpack cannot carry."""
    if envelope.occurred_at.tzinfo is None:
        raise EncodeError("occurred_at must be timezone-aware")
    try:
        packed: bytes = msgpack.packb(
            {name: getattr(envelope, name) for name in _FIELDS}, datetime=True, default=_default
        )
    except (TypeError, ValueError, OverflowError) as exc:
        raise EncodeError(f"cannot encode {envelope.event_type}: {exc}") from exc
    return packed


def _default(value: object) -> object:
    if isinstance(value, Mapping):  # MappingProxyType and other read-only mappings
        return dict(value)
    raise TypeError(f"cannot serialize {type(value).__name__}")


def decode(data: bytes) -> Envelope:
    """Raises: DecodeError: if ``data`` is not a msgpack-encoded envelope."""
    if len(data) > _MAX_BYTES:
        raise DecodeError(f"record of {len(data)} bytes exceeds {_MAX_BYTES}")
    try:
        fields: Any = msgpack.unpackb(data, timestamp=3, raw=False, strict_map_key=False)
    except (ValueError, TypeError, RecursionError, msgpack.UnpackException) as exc:
        raise DecodeError(f"not msgpack: {exc!r}") from exc
    if not isinstance(fields, dict) or fields.keys() != _FIELDS.keys():
        raise DecodeError(f"not an envelope: {str(fields)[:80]!r}")
    for name, expected in _TYPES.items():
        value = fields[name]
        if not isinstance(value, expected) or (isinstance(value, bool) and expected is int):
            raise DecodeError(f"envelope field {name} is {type(value).__name__}")
    return Envelope(**fields)
