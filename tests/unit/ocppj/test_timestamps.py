"""ocppj.timestamps: OCPP dateTime read leniently, written in one form."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ocppj.timestamps import lenient, parse_timestamp, parse_zoned, rfc3339

T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-25T08:00:00Z", T0),
        ("2026-11-25T08:00:00.000Z", T0),
        ("2026-11-25t08:00:00z", T0),
        ("2026-11-25T10:00:00+02:00", T0),
        ("2026-11-25T10:00:00+0200", T0),
        ("2026-11-25T08:00:00", T0),  # no zone: UTC
        ("2026-11-25T08:00:00.123456789Z", T0 + timedelta(microseconds=123456)),
        ("2026-11-25T07:59:60Z", T0 - timedelta(seconds=1)),  # leap second read as :59
        (datetime(2026, 11, 25, 8, 0), T0),  # noqa: DTZ001 (naive on purpose: read as UTC)
        (datetime(2026, 11, 25, 9, 0, tzinfo=timezone(timedelta(hours=1))), T0),
        ("0001-01-01T00:00:00+01:00", None),  # before year 1 in UTC
        ("yesterday", None),
        ("", None),
        (1764057600, None),
        (None, None),
    ],
)
def test_parse_timestamp(text: object, expected: datetime | None) -> None:
    parsed = parse_timestamp(text)
    assert parsed == expected
    if parsed is not None:
        assert parsed.tzinfo is UTC


def test_rfc3339() -> None:
    assert rfc3339(T0 + timedelta(microseconds=123456)) == "2026-11-25T08:00:00.123Z"
    assert (
        rfc3339(datetime(2026, 11, 25, 9, 0, tzinfo=timezone(timedelta(hours=1))))
        == "2026-11-25T08:00:00.000Z"
    )


def test_rfc3339_reads_a_naive_datetime_as_utc() -> None:
    naive = datetime(2026, 11, 25, 8, 0)  # noqa: DTZ001 (naive on purpose)
    assert rfc3339(naive) == "2026-11-25T08:00:00.000Z"


def test_parse_zoned_refuses_a_missing_zone() -> None:
    assert parse_zoned("2026-11-25T09:00:00+01:00") == T0
    assert parse_zoned("2026-11-25T08:00:00") is None
    assert parse_zoned("soon") is None


_ZONES = st.sampled_from(["Z", "z", "", "+02:00", "-0530", "+00:00"])
_FORMS = st.builds(
    lambda moment, sep, digits, zone: moment.strftime(f"%Y-%m-%d{sep}%H:%M:%S") + digits + zone,
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)),  # noqa: DTZ001
    st.sampled_from(["T", "t", " "]),
    st.sampled_from(["", ".5", ".123", ".123456", ".1234567891", ",25"]),
    _ZONES,
)


@given(st.one_of(_FORMS, st.text(max_size=30)))
def test_values_read_as_they_come_are_read_as_the_lenient_rewrite_reads_them(text: str) -> None:
    assert parse_timestamp(text) == lenient(text)
