"""The conventions every operator API shares on the wire: errors, query strings, paging (pure).

An error answers ``{"error": "<ErrorName>", "message": "..."}`` with the status its class
names. A query string is read by name and type; a name nobody reads is an error. A list is
``{"items": [...], "total", "limit", "offset"}``.
"""

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import ClassVar, TypeVar

from ocppj.timestamps import parse_zoned

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
_T = TypeVar("_T")


class ApiError(Exception):
    """Something an API answers with an error document instead of a result."""

    status: ClassVar[int] = 500


class InvalidRequest(ApiError, ValueError):
    """The request's body, path or query breaks the API's rules."""

    status = 400


class NotFound(ApiError):
    """What the path names does not exist (subclasses name what)."""

    status = 404


class Conflict(ApiError):
    """The request contradicts what exists (subclasses say how)."""

    status = 409


class Query:
    """The query string of one request, read by name and type; unknown names are errors."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self._values = values
        self._read: set[str] = set()

    def _get(self, name: str) -> str | None:
        self._read.add(name)
        return self._values.get(name)

    def string(self, name: str) -> str | None:
        value = self._get(name)
        if value == "":
            raise InvalidRequest(f"query parameter {name} must not be empty")
        return value

    def integer(self, name: str, *, default: int, minimum: int, maximum: int) -> int:
        value = self._get(name)
        if value is None:
            return default
        try:
            number = int(value)
        except ValueError:
            number = minimum - 1
        if not minimum <= number <= maximum:
            raise InvalidRequest(
                f"query parameter {name} must be an integer from {minimum} to {maximum}, "
                f"got {value!r}"
            )
        return number

    def boolean(self, name: str) -> bool | None:
        value = self._get(name)
        if value is None:
            return None
        if value not in ("true", "false"):
            raise InvalidRequest(f"query parameter {name} must be true or false, got {value!r}")
        return value == "true"

    def choice(self, name: str, choices: Collection[str]) -> str | None:
        value = self._get(name)
        if value is not None and value not in choices:
            options = ", ".join(sorted(choices))
            raise InvalidRequest(f"query parameter {name} must be one of {options}, got {value!r}")
        return value

    def time(self, name: str) -> datetime | None:
        value = self._get(name)
        if value is None:
            return None
        parsed = parse_zoned(value)
        if parsed is None:
            raise InvalidRequest(
                f"query parameter {name} must be an RFC 3339 date-time with a zone "
                f"(URL-encode '+' as %2B), got {value!r}"
            )
        return parsed

    def done(self) -> None:
        """Raises: InvalidRequest: if the query has a parameter nobody read."""
        unknown = sorted(set(self._values) - self._read)
        if unknown:
            expected = ", ".join(sorted(self._read))
            raise InvalidRequest(
                f"unknown query parameter {', '.join(unknown)}; expected {expected}"
            )


def paged(query: Query, items: Sequence[_T]) -> tuple[list[_T], dict[str, int]]:
    limit = query.integer("limit", default=DEFAULT_LIMIT, minimum=1, maximum=MAX_LIMIT)
    offset = query.integer("offset", default=0, minimum=0, maximum=2**31 - 1)
    query.done()
    return list(items[offset : offset + limit]), {
        "total": len(items),
        "limit": limit,
        "offset": offset,
    }
