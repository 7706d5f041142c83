"""contracts.fields: tolerant readers of payload fields."""

from datetime import UTC, datetime

from contracts.fields import jsonable, mapping, moment, number, text, whole

T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


def test_field_readers_take_only_their_type() -> None:
    p = {"n": 1, "f": 1.5, "b": True, "s": "x", "m": {"k": 1}}
    assert [whole(p, k) for k in ("n", "f", "b", "s")] == [1, None, None, None]
    assert [number(p, k) for k in ("n", "f", "b", "s")] == [1, 1.5, None, None]
    assert [text(p, k) for k in ("s", "n", "missing")] == ["x", None, None]
    assert [mapping(p, k) for k in ("m", "s")] == [{"k": 1}, None]


def test_moment_reads_timestamps_and_zoned_text() -> None:
    p = {"t": T0, "naive": datetime(2026, 11, 25, 8, 0), "s": "2026-11-25T08:00:00Z"}  # noqa: DTZ001
    assert [moment(p, k) for k in ("t", "naive", "s")] == [T0, T0, T0]
    assert moment({"s": "2026-11-25T08:00:00"}, "s") is None  # no zone: refused
    assert moment({"n": 5}, "n") is None


def test_jsonable_writes_rfc3339_lists_and_hex() -> None:
    assert jsonable({"at": T0, "xs": (1, 2), "raw": b"\x01"}) == {
        "at": "2026-11-25T08:00:00.000Z",
        "xs": [1, 2],
        "raw": "01",
    }
