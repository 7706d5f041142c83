"""Dataclasses as plain msgpack-able data and back, for the station state (pure).

``as_dict`` writes the init fields of a frozen dataclass (a None left out where None is the
default: a changelog record is written per message, and most optional fields are empty);
``read`` takes known fields only, datetimes in UTC, so fields can be added without a migration.
"""

from collections.abc import Mapping
from dataclasses import fields
from datetime import datetime
from typing import Any

from ocppj.timestamps import utc


def _plain(value: Any) -> Any:
    if hasattr(value, "plain"):  # a Transaction: its cached form
        return value.plain()
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if isinstance(value, tuple):
        return [_plain(item) for item in value]
    return value


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}
_NONE_BY_DEFAULT: dict[type, frozenset[str]] = {}


def _field_names(cls: type) -> tuple[str, ...]:
    """The fields ``to_dict`` writes and ``from_dict`` reads (not the init=False caches)."""
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in fields(cls) if f.init)
        _NONE_BY_DEFAULT[cls] = frozenset(f.name for f in fields(cls) if f.default is None)
    return names


def as_dict(obj: object, skip: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The fields of ``obj`` but ``skip``; a None is left out where None is the default (a
    changelog record is written per message: most optional fields are empty)."""
    names = _field_names(type(obj))
    none_by_default = _NONE_BY_DEFAULT[type(obj)]
    data = {}
    for name in names:
        value = getattr(obj, name)
        if (value is None and name in none_by_default) or name in skip:
            continue
        data[name] = _plain(value)
    return data


def read(cls: type, data: Mapping[str, Any]) -> dict[str, Any]:
    """Keyword arguments for ``cls`` from ``data``: known fields only, datetimes in UTC."""
    names = _field_names(cls)  # cached: restoring a partition reads many thousand states
    return {
        name: utc(value) if isinstance(value, datetime) else value
        for name, value in data.items()
        if name in names
    }
