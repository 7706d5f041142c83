"""`replace` for the core's frozen dataclasses, 2.3x faster than dataclasses.replace (pure).

The sessions core copies a frozen state on every change; dataclasses.replace spent 13 % of the
worker's time doing it live (docs/benchmarks.md): it filters the class's fields and calls
``__init__`` with every field as a keyword, on each copy. This one builds, once per class, a
function that copies the fields in straight-line code and resets the ``init=False`` fields to
their defaults, as dataclasses.replace does. A class with ``__post_init__``, ``InitVar`` fields
or a change it does not know goes to dataclasses.replace, which says what is wrong.

Modules import ``replace`` from here: this one at run time, dataclasses' own for the type
checker, so that mypy still checks every call's field names and types.
"""

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

T = TypeVar("T")
Copier = Callable[[Any, dict[str, Any]], Any]

_COPIERS: dict[type, Copier | None] = {}
_MISSING = dataclasses.MISSING


def fast_replace(obj: T, /, **changes: Any) -> T:
    """A copy of the dataclass instance ``obj`` with ``changes``: dataclasses.replace's result.

    Raises:
        TypeError, ValueError: as dataclasses.replace for a change it refuses.
    """
    cls = type(obj)
    copier = _COPIERS.get(cls, _MISSING)
    if copier is _MISSING:
        copier = _COPIERS[cls] = _copier(cls)
    if copier is None or (changes and not changes.keys() <= _INIT_NAMES[cls]):
        return dataclasses.replace(obj, **changes)  # type: ignore[type-var]
    result: T = copier(obj, changes)
    return result


_INIT_NAMES: dict[type, frozenset[str]] = {}


def _copier(cls: type) -> Copier | None:
    """The straight-line copy function of ``cls``; None where dataclasses.replace must do it."""
    if not dataclasses.is_dataclass(cls) or hasattr(cls, "__post_init__"):
        return None
    fields = list(cls.__dataclass_fields__.values())
    if any(f._field_type is not dataclasses._FIELD for f in fields):  # type: ignore[attr-defined]
        return None  # InitVar or ClassVar pseudo-fields
    namespace: dict[str, Any] = {"_new": object.__new__, "_cls": cls, "_set": object.__setattr__}
    lines = ["def copy(obj, changes):", "    new = _new(_cls)"]
    for i, f in enumerate(fields):
        if f.init:
            lines.append(
                f"    _set(new, {f.name!r}, changes[{f.name!r}] "
                f"if {f.name!r} in changes else obj.{f.name})"
            )
        elif f.default is not _MISSING:
            namespace[f"_default{i}"] = f.default
            lines.append(f"    _set(new, {f.name!r}, _default{i})")
        elif f.default_factory is not _MISSING:
            namespace[f"_factory{i}"] = f.default_factory
            lines.append(f"    _set(new, {f.name!r}, _factory{i}())")
        else:
            return None  # an init=False field without a default: __init__ never sets it either
    lines.append("    return new")
    exec("\n".join(lines), namespace)  # the source: the class's own field names
    _INIT_NAMES[cls] = frozenset(f.name for f in fields if f.init)
    copier: Copier = namespace["copy"]
    return copier


if TYPE_CHECKING:
    from dataclasses import replace as replace
else:
    replace = fast_replace
