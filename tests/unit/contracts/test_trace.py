"""contracts.trace: the W3C traceparent parsed, formatted, begun and continued."""

from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contracts.headers import Header
from contracts.trace import (
    SAMPLED,
    Roots,
    TraceContext,
    TraceParent,
    context,
    derived_span_id,
    from_headers,
    new_root,
    parse,
)

# The example of W3C Trace Context Level 1, §3.2.2.6.
EXAMPLE = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
TRACE_ID, PARENT_ID = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"


def fixed(*chunks: bytes) -> Callable[[int], bytes]:
    """A ``random`` that returns ``chunks`` in turn (one per call)."""
    it = iter(chunks)

    def random(n: int) -> bytes:
        chunk = next(it)
        assert len(chunk) == n
        return chunk

    return random


def test_the_spec_example_parses_and_formats_back() -> None:
    parent = parse(EXAMPLE)
    assert parent == TraceParent(TRACE_ID, PARENT_ID, SAMPLED)
    assert parent.sampled
    assert str(parent) == EXAMPLE
    assert parent.encode() == EXAMPLE.encode()
    assert parse(EXAMPLE.encode()) == parent


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "00",
        EXAMPLE.upper(),  # §3.2.2: lowercase hex only
        EXAMPLE[:-1],  # too short
        EXAMPLE + "-",  # version 00 is exactly 55 characters
        EXAMPLE + "0",
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",  # all-zero trace-id
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",  # all-zero parent-id
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  # version ff is invalid
        "0x-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",
        "00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1",
        "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",  # no "-" before more
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\n",
        "00-４bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  # not ASCII  # noqa: RUF001
        b"\xff\xfe",
    ],
)
def test_a_malformed_value_is_absent_not_an_error(value: str | bytes | None) -> None:
    assert parse(value) is None


def test_surrounding_spaces_and_tabs_are_allowed() -> None:
    """An HTTP header's optional whitespace (RFC 9110 §5.5) is not part of the value."""
    assert parse(f" \t{EXAMPLE} ") == parse(EXAMPLE)


def test_a_later_version_is_read_as_00_keeping_only_the_sampled_flag() -> None:
    """§3.2.4: parse a higher version's first four fields; the other flags are unknown."""
    later = "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03-what-comes-next"
    assert parse(later) == TraceParent(TRACE_ID, PARENT_ID, SAMPLED)
    assert parse(later[:55]) == TraceParent(TRACE_ID, PARENT_ID, SAMPLED)
    assert parse("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-02") == TraceParent(
        TRACE_ID, PARENT_ID, 0
    )


def test_version_00_keeps_every_flag_and_unsampled_is_not_sampled() -> None:
    assert parse(EXAMPLE[:-2] + "03") == TraceParent(TRACE_ID, PARENT_ID, 0x03)
    unsampled = parse(EXAMPLE[:-2] + "00")
    assert unsampled is not None
    assert not unsampled.sampled


@given(st.text(max_size=80))
def test_any_text_parses_to_a_value_that_formats_back_or_to_none(text: str) -> None:
    parent = parse(text)
    if parent is not None:
        assert parse(str(parent)) == parent


def test_a_child_keeps_the_trace_and_the_flags_with_a_new_parent_id() -> None:
    parent = TraceParent(TRACE_ID, PARENT_ID, 0x03)
    child = parent.child(random=fixed(bytes(range(1, 9))))
    assert child == TraceParent(TRACE_ID, "0102030405060708", 0x03)
    assert parent.child("b7ad6b7169203331") == TraceParent(TRACE_ID, "b7ad6b7169203331", 0x03)


def test_a_random_child_never_has_the_all_zero_span_id() -> None:
    child = TraceParent(TRACE_ID, PARENT_ID).child(random=fixed(bytes(8), b"\x00" * 7 + b"\x01"))
    assert child.parent_id == "0000000000000001"


@pytest.mark.parametrize("span_id", ["0000000000000000", "B7AD6B7169203331", "b7ad", "x" * 16])
def test_a_child_of_an_invalid_span_id_is_refused(span_id: str) -> None:
    with pytest.raises(ValueError, match="not a span id"):
        TraceParent(TRACE_ID, PARENT_ID).child(span_id)


def test_a_new_root_has_random_nonzero_ids_and_the_flag_asked_for() -> None:
    root = new_root(
        sampled=False,
        random=fixed(bytes(16), bytes(range(16)), bytes(8), bytes(range(8, 16))),
    )
    assert root == TraceParent("000102030405060708090a0b0c0d0e0f", "08090a0b0c0d0e0f", 0)
    assert new_root().sampled
    assert new_root() != new_root()


def test_roots_build_valid_header_values_as_bytes() -> None:
    header = Roots().header()
    parent = parse(header)
    assert parent is not None
    assert parent.sampled
    assert header == parent.encode()
    assert Roots().header() != header


def test_roots_draw_random_bytes_for_many_traces_at_once() -> None:
    drawn: list[int] = []

    def random(n: int) -> bytes:
        drawn.append(n)
        return bytes(range(1, n + 1)) if n < 256 else bytes(n)

    roots = Roots(random=random, pool=3)
    headers = {roots.header() for _ in range(6)}
    assert drawn == [72, 72]  # 3 traces of 24 bytes, twice
    assert len(headers) == 3  # the same bytes each draw here: 3 distinct


def test_roots_skip_all_zero_ids() -> None:
    ids = bytes(range(1, 25))
    roots = Roots(random=fixed(bytes(24), bytes(16) + ids[:8], ids[:16] + bytes(8), ids), pool=1)
    assert roots.header() == b"00-0102030405060708090a0b0c0d0e0f10-1112131415161718-01"


@pytest.mark.parametrize(
    ("ratio", "low_bits", "sampled"),
    [
        (1.0, b"\xff" * 8, True),
        (0.0, b"\x00" * 7 + b"\x01", False),
        (0.5, b"\x7f" + b"\xff" * 7, True),  # under half of 2**64
        (0.5, b"\x80" + b"\x00" * 7, False),
        (1.5, b"\xff" * 8, True),  # outside 0..1: clamped
        (-1, b"\x00" * 7 + b"\x01", False),
    ],
)
def test_roots_are_sampled_by_ratio_on_the_low_64_bits_of_the_trace_id(
    ratio: float, low_bits: bytes, sampled: bool
) -> None:
    raw = b"\x01" * 8 + low_bits + b"\x02" * 8
    parent = parse(Roots(ratio, random=fixed(raw), pool=1).header())
    assert parent is not None
    assert parent.sampled is sampled


def test_a_context_carries_its_tracestate_unchanged() -> None:
    state = b"rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"
    found = from_headers(
        [
            (Header.CORRELATION_ID.value, b"c/u"),
            (Header.TRACESTATE.value, state),
            (Header.TRACEPARENT.value, EXAMPLE.encode()),
        ]
    )
    assert found == TraceContext(TraceParent(TRACE_ID, PARENT_ID), state)
    child = found.child("b7ad6b7169203331")
    assert child.headers() == [
        (Header.TRACEPARENT.value, f"00-{TRACE_ID}-b7ad6b7169203331-01".encode()),
        (Header.TRACESTATE.value, state),
    ]
    assert context(EXAMPLE, state.decode()) == found
    assert TraceContext(TraceParent(TRACE_ID, PARENT_ID)).headers() == [
        (Header.TRACEPARENT.value, EXAMPLE.encode())
    ]


def test_no_context_without_a_valid_traceparent_and_its_tracestate_goes_with_it() -> None:
    assert from_headers(None) is None
    assert from_headers([(Header.TRACESTATE.value, b"rojo=1")]) is None
    assert from_headers([(Header.TRACEPARENT.value, b"00-bad")]) is None
    assert context(None, "rojo=1") is None


def test_derived_span_ids_are_a_function_of_the_seed_and_never_zero() -> None:
    first = derived_span_id(b"sessions/ocpp.inbound.v1/3/17")
    assert first == derived_span_id(b"sessions/ocpp.inbound.v1/3/17")
    assert first != derived_span_id(b"billing/ocpp.inbound.v1/3/17")
    assert len(first) == 16
    assert parse(f"00-{TRACE_ID}-{first}-01") is not None


def test_a_tracestate_no_peer_could_read_is_dropped_never_an_error() -> None:
    """An HTTP header can hold any byte (aiohttp hands them over surrogate-escaped)."""
    traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    for bad in ("vendor=\udcff", b"vendor=\xff", "vendor=caf\u00e9", "x" * 513, "a=b\n"):
        found = context(traceparent, bad)
        assert found is not None
        assert found.state is None
    kept = context(traceparent, "rojo=00f067aa0ba902b7," + "x" * 490)
    assert kept is not None
    assert kept.state == ("rojo=00f067aa0ba902b7," + "x" * 490).encode()
