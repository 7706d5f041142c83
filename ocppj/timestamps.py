"""OCPP dateTime values: read leniently, written as RFC 3339 in UTC with a "Z" (pure)."""

import re
from datetime import UTC, datetime


def utc(value: datetime) -> datetime:
    """``value`` in UTC; a naive datetime is taken to be UTC already."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def rfc3339(value: datetime) -> str:
    """UTC, milliseconds and a "Z", as OCPP wants every dateTime (ocpp.md §1.7); the project
    writes every timestamp in JSON this way. A naive datetime is taken to be UTC."""
    return utc(value).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# Lenient gateways let through lowercase "t"/"z", "+0200", second 60 and long fractions.
_FRACTION = re.compile(r"(\.\d{6})\d+")
_LEAP_SECOND = re.compile(r"(T\d\d:\d\d:)60")


def parse_timestamp(value: object) -> datetime | None:
    """An OCPP dateTime (RFC 3339) as an aware UTC datetime; None if it is not one.

    A missing zone means UTC (lenient gateways pass such values on); a leap second 60 is read
    as 59.
    """
    if isinstance(value, datetime):
        return utc(value)
    if not isinstance(value, str):
        return None
    try:  # most values as they come: 3 µs less than the lenient rewrite (docs/benchmarks.md)
        parsed = datetime.fromisoformat(value)  # it keeps 6 digits of a fraction, as we do
    except ValueError:
        return lenient(value)
    try:
        return utc(parsed)
    except OverflowError:  # "0001-01-01T00:00:00+01:00" is before year 1 in UTC
        return None


def lenient(value: str) -> datetime | None:
    """``value`` read after the rewrites lenient gateways need: upper case, a fraction cut
    to 6 digits, second 60 read as 59."""
    text = _LEAP_SECOND.sub(r"\g<1>59", _FRACTION.sub(r"\1", value.upper()))
    try:
        return utc(datetime.fromisoformat(text))
    except (ValueError, OverflowError):
        return None


def parse_zoned(text: str) -> datetime | None:
    """An RFC 3339 date-time that names its zone (operator input), or None if ``text`` is not
    one: unlike a station's dateTime, a missing zone is refused rather than guessed."""
    try:
        value = datetime.fromisoformat(text)
        if value.tzinfo is None:
            return None
        value.astimezone(UTC)  # a time that is not one in UTC (before year 1) is not one
    except (ValueError, OverflowError):
        return None
    return value
