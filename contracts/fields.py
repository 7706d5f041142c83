"""Tolerant readers of payload fields: a missing field or a wrong type reads as None (pure).

Payloads come from other processes (our topics) or from stations (OCPP payloads that a lenient
gateway let through); a reader never raises on what it finds.
"""

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from ocppj.timestamps import parse_zoned, rfc3339


def text(payload: Mapping[str, Any], name: str) -> str | None:
    value = payload.get(name)
    return value if isinstance(value, str) else None


def whole(payload: Mapping[str, Any], name: str) -> int | None:
    value = payload.get(name)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def number(payload: Mapping[str, Any], name: str) -> int | float | None:
    """An int or a float as it is (not a bool)."""
    value = payload.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value


def mapping(payload: Mapping[str, Any], name: str) -> Mapping[str, Any] | None:
    value = payload.get(name)
    return value if isinstance(value, Mapping) else None


def moment(payload: Mapping[str, Any], name: str) -> datetime | None:
    """A datetime (msgpack timestamp; naive means UTC) or an RFC 3339 string with a zone."""
    value = payload.get(name)
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    if isinstance(value, str):
        return parse_zoned(value)
    return None


def jsonable(value: Any) -> Any:
    """A payload value as JSON: datetimes become RFC 3339 text, tuples lists, bytes hex."""
    if isinstance(value, datetime):
        return rfc3339(value)
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return [jsonable(v) for v in value]
    if isinstance(value, bytes):
        return value.hex()
    return value
