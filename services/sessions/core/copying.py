"""`replace` for the core's frozen dataclasses, 9x faster than dataclasses.replace (pure).

The sessions core copies a frozen state on every change; dataclasses.replace spent 13 % of the
worker's time doing it live (docs/benchmarks.md): it filters the class's fields and calls
``__init__`` with every field as a keyword, on each copy. This one builds, once per class, a
function that copies the fields in straight-line code and resets the ``init=False`` fields to
their defaults, as dataclasses.replace does. A class with ``__post_init__``, ``InitVar`` fields
or a change it does not know goes to dataclasses.replace, which says what is wrong.

A frozen class refuses attribute assignment, so each field would cost an
``object.__setattr__`` call (2.5 µs for the 35 fields of a StationState). For a class with
``__slots__`` the copy is built in a mutable twin with the same slots, where each field is a
plain (specialized) store, and then becomes an instance of the frozen class by ``__class__``
assignment, which Python allows between classes of the same layout (0.62 µs). A class whose
layout the twin does not match (a base with slots of its own) is copied field by field.

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
    twin = _twin(cls)
    namespace: dict[str, Any] = {"_cls": cls, "_twin": twin, "_set": object.__setattr__}
    lines = ["def copy(obj, changes):"]
    values: list[tuple[str, str]] = []  # field name, the expression of its value
    for i, f in enumerate(fields):
        if f.init:
            values.append((f.name, f"obj.{f.name}"))
        elif f.default is not _MISSING:
            namespace[f"_default{i}"] = f.default
            values.append((f.name, f"_default{i}"))
        elif f.default_factory is not _MISSING:
            namespace[f"_factory{i}"] = f.default_factory
            values.append((f.name, f"_factory{i}()"))
        else:
            return None  # an init=False field without a default: __init__ never sets it either
    # The fields as they are, then the changes over them (their names are init fields: checked
    # by fast_replace).
    if twin is not None:
        lines.append("    new = _twin()")
        lines.extend(f"    new.{name} = {value}" for name, value in values)
        lines.append("    for name, value in changes.items():")
        lines.append("        setattr(new, name, value)")
        lines.append("    new.__class__ = _cls")
    else:
        lines.append("    new = object.__new__(_cls)")
        lines.extend(f"    _set(new, {name!r}, {value})" for name, value in values)
        lines.append("    for name, value in changes.items():")
        lines.append("        _set(new, name, value)")
    lines.append("    return new")
    exec("\n".join(lines), namespace)  # the source: the class's own field names
    _INIT_NAMES[cls] = frozenset(f.name for f in fields if f.init)
    copier: Copier = namespace["copy"]
    return copier


def _twin(cls: type) -> type | None:
    """A mutable class with the slots of ``cls``, whose instances may become instances of
    ``cls`` by ``__class__`` assignment; None if ``cls`` has no slots or another layout."""
    slots = cls.__dict__.get("__slots__")
    if slots is None or "__dict__" in slots or cls.__bases__ != (object,):
        return None
    twin = type(f"_Mutable{cls.__name__}", (), {"__slots__": tuple(slots)})
    try:
        twin().__class__ = cls
    except TypeError:  # Python found the layouts differ
        return None
    return twin


if TYPE_CHECKING:
    from dataclasses import replace as replace
else:
    replace = fast_replace
