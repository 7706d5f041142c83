"""W3C Trace Context (Level 1) in record headers: traceparent parsed, begun, continued (pure).

    traceparent = version "-" trace-id "-" parent-id "-" trace-flags     (W3C §3.2)
                  00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01

``tracestate`` travels beside it unchanged: we add no entry of our own (§3.3). A malformed
traceparent is treated as absent, never as an error, and the tracestate of a malformed one is
dropped with it (§3.3.1: "if the vendor failed to parse traceparent, it MUST NOT attempt to
parse tracestate"). docs/tracing.md says which records carry them.
"""

import binascii
import hashlib
import os
import re
from collections.abc import Callable
from dataclasses import dataclass

from contracts.headers import Header, Headers

SAMPLED = 0x01  # trace-flags bit 0 (§3.2.2.5): the caller may have recorded its span
_VERSION = "00"
_FORMAT = re.compile(
    r"([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?", re.ASCII | re.DOTALL
)
_HEX16 = re.compile(r"[0-9a-f]{16}", re.ASCII)
_ZERO_TRACE = "0" * 32  # §3.2.2.3: all zeroes is an invalid trace-id
_ZERO_SPAN = "0" * 16  # §3.2.2.4: ... and an invalid parent-id
_ZERO_TRACE_HEX = _ZERO_TRACE.encode()
_ZERO_SPAN_HEX = _ZERO_SPAN.encode()

_TRACEPARENT, _TRACESTATE = Header.TRACEPARENT.value, Header.TRACESTATE.value  # plain str: fast
Random = Callable[[int], bytes]  # n -> n random bytes (os.urandom)


@dataclass(frozen=True, slots=True)
class TraceParent:
    """One traceparent: the trace, the span of whoever wrote the record, the flags."""

    trace_id: str  # 32 lowercase hex digits, not all zero
    parent_id: str  # 16 lowercase hex digits, not all zero: the writer's span
    flags: int = SAMPLED

    @property
    def sampled(self) -> bool:
        return bool(self.flags & SAMPLED)

    def __str__(self) -> str:
        return f"{_VERSION}-{self.trace_id}-{self.parent_id}-{self.flags:02x}"

    def encode(self) -> bytes:
        """The header value (ASCII)."""
        return str(self).encode("ascii")

    def child(self, span_id: str | None = None, *, random: Random = os.urandom) -> "TraceParent":
        """The same trace continued by a span of ours, ``span_id`` (16 lowercase hex digits,
        not all zero) or a random one; the same flags.

        Raises:
            ValueError: ``span_id`` is not a valid parent-id.
        """
        if span_id is None:
            span_id = _random_span(random)
        elif not _HEX16.fullmatch(span_id) or span_id == _ZERO_SPAN:
            raise ValueError(f"not a span id: {span_id!r}")
        return TraceParent(self.trace_id, span_id, self.flags)


@dataclass(frozen=True, slots=True)
class TraceContext:
    """A record's trace context: its traceparent and the tracestate that travels with it."""

    parent: TraceParent
    state: bytes | None = None  # tracestate, exactly as received

    def child(self, span_id: str | None = None, *, random: Random = os.urandom) -> "TraceContext":
        """The context for what a span of ours writes (``TraceParent.child``); the same state.

        Raises:
            ValueError: ``span_id`` is not a valid parent-id.
        """
        return TraceContext(self.parent.child(span_id, random=random), self.state)

    def headers(self) -> Headers:
        """The record headers that carry it."""
        parent = (Header.TRACEPARENT.value, self.parent.encode())
        if self.state is None:
            return [parent]
        return [parent, (Header.TRACESTATE.value, self.state)]


def parse(value: str | bytes | None) -> TraceParent | None:
    """A traceparent header value; None if absent or malformed (§3.2).

    Version 00 must be exactly 55 characters. A later version is read as 00 if it is at least
    that long and any further field follows a "-"; only its sampled flag is kept (§3.2.4);
    version ff is invalid.
    """
    if value is None:
        return None
    if isinstance(value, bytes):
        try:
            value = value.decode("ascii")
        except UnicodeDecodeError:
            return None
    match = _FORMAT.fullmatch(value.strip(" \t"))
    if match is None:
        return None
    version, trace_id, parent_id, flags, rest = match.groups()
    if version == "ff" or (version == _VERSION and rest is not None):
        return None
    if trace_id == _ZERO_TRACE or parent_id == _ZERO_SPAN:
        return None
    bits = int(flags, 16)
    return TraceParent(trace_id, parent_id, bits if version == _VERSION else bits & SAMPLED)


MAX_TRACESTATE = 512  # §3.3.1.5: "SHOULD propagate at least 512 characters"; we pass no more
_PRINTABLE = re.compile(rb"[\x20-\x7e]*", re.ASCII)  # §3.3.1.3: printable ASCII


def _state(tracestate: str | bytes | None) -> bytes | None:
    """A tracestate value we pass on, or None: one that is not printable ASCII or is longer than
    ``MAX_TRACESTATE`` is dropped (an HTTP header can hold any byte: never an error)."""
    if tracestate is None:
        return None
    if isinstance(tracestate, str):
        try:
            tracestate = tracestate.encode("ascii")
        except UnicodeEncodeError:
            return None
    if len(tracestate) > MAX_TRACESTATE or not _PRINTABLE.fullmatch(tracestate):
        return None
    return tracestate or None


def context(traceparent: str | bytes | None, tracestate: str | bytes | None) -> TraceContext | None:
    """The trace context of a traceparent and a tracestate value (an HTTP request's headers,
    a record's decoded headers); None without a valid traceparent."""
    parent = parse(traceparent)
    if parent is None:
        return None
    return TraceContext(parent, _state(tracestate))


def from_headers(headers: Headers | None) -> TraceContext | None:
    """The trace context a record's headers carry; None without a valid traceparent."""
    traceparent = tracestate = None
    for key, value in headers or ():
        if key == _TRACEPARENT:
            traceparent = value
        elif key == _TRACESTATE:
            tracestate = value
    return context(traceparent, tracestate)


def new_root(*, sampled: bool = True, random: Random = os.urandom) -> TraceParent:
    """A new trace: random ids (§3.2.2.3: "randomly (or pseudo-randomly) generated")."""
    trace_id = _ZERO_TRACE
    while trace_id == _ZERO_TRACE:
        trace_id = random(16).hex()
    return TraceParent(trace_id, _random_span(random), SAMPLED if sampled else 0)


class Roots:
    """New traces for the gateway's path of every station CALL: header values built as bytes
    from random bytes drawn ``pool`` traces at a time (about 0.3 µs each), sampled at ``ratio``
    (0..1) by their trace id, as OpenTelemetry's TraceIdRatioBased sampler decides (the low 64
    bits under ratio * 2**64)."""

    __slots__ = ("_bound", "_flags", "_hex", "_next", "_pool", "_random")

    def __init__(self, ratio: float = 1.0, random: Random = os.urandom, pool: int = 128) -> None:
        self._bound = round(min(max(ratio, 0.0), 1.0) * 2**64)
        # None: decided per trace; else the same flags for every trace
        self._flags = b"01" if ratio >= 1 else b"00" if ratio <= 0 else None
        self._random, self._pool = random, pool
        self._hex, self._next = b"", 0  # 48 hex digits per trace: trace-id, then parent-id

    def header(self) -> bytes:
        """A new traceparent value."""
        while True:
            at = self._next
            if at >= len(self._hex):
                self._hex, at = binascii.b2a_hex(self._random(24 * self._pool)), 0
            self._next = at + 48
            trace_id, span_id = self._hex[at : at + 32], self._hex[at + 32 : at + 48]
            if trace_id != _ZERO_TRACE_HEX and span_id != _ZERO_SPAN_HEX:
                break
        flags = self._flags
        if flags is None:
            flags = b"01" if int(trace_id[16:], 16) < self._bound else b"00"
        return b"00-" + trace_id + b"-" + span_id + b"-" + flags


def derived_span_id(seed: bytes) -> str:
    """A span id that is a function of ``seed`` (what a record was and who handled it): a
    record handled again continues its trace with the same span id, so its outputs are the same
    bytes again, headers included (runtime/batch.py)."""
    span_id = hashlib.blake2b(seed, digest_size=8).hexdigest()
    return "0000000000000001" if span_id == _ZERO_SPAN else span_id


def _random_span(random: Random) -> str:
    span_id = _ZERO_SPAN
    while span_id == _ZERO_SPAN:
        span_id = random(8).hex()
    return span_id
