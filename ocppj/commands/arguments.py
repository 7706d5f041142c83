"""Operator input read strictly: fields by name and type, unknown fields refused (pure)."""

from collections.abc import Callable, Collection, Mapping
from typing import Any, Literal, overload

from ocppj.timestamps import parse_zoned, rfc3339


class InvalidCommand(ValueError):
    """A command that cannot be translated for the station's OCPP version, or whose payload
    violates the OCPP schema of that version (the message says what is wrong)."""


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:57]}..."


class Arguments:
    """Named fields of one JSON object, read by type; what is never read is an error.

    Every message names the object (``what``), the field and what was wrong, e.g.
    ``RemoteStart: evse_id must be an integer >= 1, got 'one'``.
    """

    def __init__(
        self,
        what: str,
        values: Mapping[str, Any],
        error: Callable[[str], Exception] = InvalidCommand,
    ) -> None:
        self.what = what
        self._values = values
        self._error = error
        self._read: set[str] = set()

    def fail(self, message: str) -> Exception:
        """The error to raise for this object."""
        return self._error(f"{self.what}: {message}")

    def has(self, name: str) -> bool:
        return self._values.get(name) is not None

    def _get(self, name: str, required: bool) -> Any:
        self._read.add(name)
        value = self._values.get(name)
        if value is None and required:
            raise self.fail(f"{name} is required")
        return value

    @overload
    def string(
        self, name: str, *, required: Literal[True] = ..., max_length: int | None = ...
    ) -> str: ...
    @overload
    def string(
        self, name: str, *, required: Literal[False], max_length: int | None = ...
    ) -> str | None: ...
    def string(
        self, name: str, *, required: bool = True, max_length: int | None = None
    ) -> str | None:
        """A non-empty string (None if optional and absent)."""
        value = self._get(name, required)
        if value is None:
            return None
        if not isinstance(value, str) or not value:
            raise self.fail(f"{name} must be a non-empty string, got {_show(value)}")
        if max_length is not None and len(value) > max_length:
            raise self.fail(f"{name} must be at most {max_length} characters, got {len(value)}")
        return value

    @overload
    def integer(
        self, name: str, *, required: Literal[True] = ..., minimum: int | None = ...
    ) -> int: ...
    @overload
    def integer(
        self, name: str, *, required: Literal[False], minimum: int | None = ...
    ) -> int | None: ...
    def integer(
        self, name: str, *, required: bool = True, minimum: int | None = None
    ) -> int | None:
        """An integer (not a bool; None if optional and absent)."""
        value = self._get(name, required)
        if value is None:
            return None
        if not isinstance(value, int) or isinstance(value, bool):
            raise self.fail(f"{name} must be an integer, got {_show(value)}")
        if minimum is not None and value < minimum:
            raise self.fail(f"{name} must be an integer >= {minimum}, got {value}")
        if value > 2**31 - 1:
            raise self.fail(f"{name} must fit in 32 bits, got {value}")
        return value

    @overload
    def choice(
        self,
        name: str,
        choices: Collection[str],
        *,
        required: Literal[True] = ...,
        default: str = ...,
    ) -> str: ...
    @overload
    def choice(
        self, name: str, choices: Collection[str], *, required: Literal[False], default: str = ...
    ) -> str | None: ...
    def choice(
        self, name: str, choices: Collection[str], *, required: bool = True, default: str = ""
    ) -> str | None:
        """One of ``choices`` (``default`` or None if optional and absent)."""
        value = self._get(name, required)
        if value is None:
            return default or None
        if not isinstance(value, str) or value not in choices:
            options = ", ".join(sorted(choices))
            raise self.fail(f"{name} must be one of {options}; got {_show(value)}")
        return value

    @overload
    def timestamp(self, name: str, *, required: Literal[True] = ...) -> str: ...
    @overload
    def timestamp(self, name: str, *, required: Literal[False]) -> str | None: ...
    def timestamp(self, name: str, *, required: bool = True) -> str | None:
        """An RFC 3339 date-time with a zone, returned normalized to UTC with "Z"."""
        value = self._get(name, required)
        if value is None:
            return None
        parsed = parse_zoned(value) if isinstance(value, str) else None
        if parsed is None:
            raise self.fail(
                f"{name} must be an RFC 3339 date-time with a zone "
                f"(2026-11-25T08:30:00Z), got {_show(value)}"
            )
        return rfc3339(parsed)

    @overload
    def mapping(self, name: str, *, required: Literal[True] = ...) -> dict[str, Any]: ...
    @overload
    def mapping(self, name: str, *, required: Literal[False]) -> dict[str, Any] | None: ...
    def mapping(self, name: str, *, required: bool = True) -> dict[str, Any] | None:
        """A JSON object, passed on as is (None if optional and absent)."""
        value = self._get(name, required)
        if value is None:
            return None
        if not isinstance(value, Mapping):
            raise self.fail(f"{name} must be a JSON object, got {_show(value)}")
        return dict(value)

    def objects(self, name: str, *, required: bool = True) -> list[Mapping[str, Any]]:
        """A list of JSON objects (empty if optional and absent)."""
        value = self._get(name, required)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
            raise self.fail(f"{name} must be a list of JSON objects, got {_show(value)}")
        if required and not value:
            raise self.fail(f"{name} must not be empty")
        return value

    def strings(self, name: str, *, required: bool = True) -> list[str]:
        """A list of non-empty strings (empty if optional and absent)."""
        value = self._get(name, required)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise self.fail(f"{name} must be a list of non-empty strings, got {_show(value)}")
        return value

    def anything(self, name: str) -> Any:
        """Any JSON value, or None if absent."""
        return self._get(name, False)

    def ignore(self, *names: str) -> None:
        """Accept these fields without reading them (version-neutral input that one version
        has no use for)."""
        self._read.update(names)

    def done(self) -> None:
        """Raises: the error type given: if the object has a field nobody read (a typo, say)."""
        unknown = sorted(set(self._values) - self._read)
        if unknown:
            raise self.fail(f"unknown field {', '.join(unknown)}")
