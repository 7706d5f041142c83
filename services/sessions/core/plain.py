"""Dataclasses as plain msgpack-able data and back, for the station state (pure).

``as_dict`` writes the init fields of a frozen dataclass (a None left out where None is the
default: a changelog record is written per message, and most optional fields are empty);
``read`` takes known fields only, datetimes in UTC, so fields can be added without a migration.
"""

from collections.abc import Callable, Mapping
from dataclasses import fields
from datetime import datetime
from typing import Any

from ocppj.timestamps import utc

# Values written as they are: no ``plain``/``to_dict`` to call, nothing to walk.
_AS_IS = frozenset({str, int, float, bool, type(None), datetime})


def _plain(value: Any) -> Any:
    cls = value.__class__
    if cls in _AS_IS:
        return value
    if cls is tuple:
        return [item if item.__class__ in _AS_IS else _plain(item) for item in value]
    if hasattr(value, "plain"):  # a Transaction: its cached form
        return value.plain()
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if isinstance(value, tuple):
        return [_plain(item) for item in value]
    return value


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}
Writer = Callable[[Any], dict[str, Any]]
_WRITERS: dict[tuple[type, frozenset[str]], Writer] = {}


def _field_names(cls: type) -> tuple[str, ...]:
    """The fields ``to_dict`` writes and ``from_dict`` reads (not the init=False caches)."""
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in fields(cls) if f.init)
    return names


def as_dict(obj: object, skip: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The fields of ``obj`` but ``skip``; a None is left out where None is the default (a
    changelog record is written per message: most optional fields are empty)."""
    writer = _WRITERS.get((type(obj), skip))
    if writer is None:
        writer = _WRITERS[type(obj), skip] = _writer(type(obj), skip)
    return writer(obj)


def _writer(cls: type, skip: frozenset[str]) -> Writer:
    """``as_dict`` for ``cls`` and ``skip`` as straight-line code, built once: the generic loop
    took 18 % of the sessions core's time offline (docs/benchmarks.md, issue 14)."""
    lines = ["def write(obj):", "    data = {}"]
    for f in fields(cls):
        if not f.init or f.name in skip:
            continue
        lines.append(f"    value = obj.{f.name}")
        put = f"data[{f.name!r}] = value if value.__class__ in _AS_IS else _plain(value)"
        lines.append(f"    if value is not None: {put}" if f.default is None else f"    {put}")
    lines.append("    return data")
    namespace: dict[str, Any] = {"_AS_IS": _AS_IS, "_plain": _plain}
    exec("\n".join(lines), namespace)  # the source: the class's own field names
    writer: Writer = namespace["write"]
    return writer


def read(cls: type, data: Mapping[str, Any]) -> dict[str, Any]:
    """Keyword arguments for ``cls`` from ``data``: known fields only, datetimes in UTC."""
    names = _field_names(cls)  # cached: restoring a partition reads many thousand states
    return {
        name: utc(value) if isinstance(value, datetime) else value
        for name, value in data.items()
        if name in names
    }
