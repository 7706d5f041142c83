"""runtime.batch: the planner every stateful service shares, shown with a toy counting service."""

from dataclasses import dataclass, field
from datetime import UTC, datetime

import msgpack
import pytest

from contracts.codec import decode, encode
from contracts.envelope import Envelope
from contracts.events import DomainEvent, EventType
from contracts.headers import Header, Headers
from contracts.payloads.ocpp import DeferredReply, Reply, ReplyError
from contracts.topics import Topic
from contracts.trace import from_headers, parse
from runtime.batch import event_id, plan

T0 = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
CHANGELOG = "toy.state"


@dataclass(frozen=True)
class Record:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Headers = ()


@dataclass(frozen=True)
class Counted:
    events: list[DomainEvent]
    reply: Reply | ReplyError | None
    deferred: tuple[DeferredReply, ...] = ()


@dataclass
class Counter:
    """A toy core: counts "Count" records per key; "Fail" is answered with a CALLERROR."""

    counts: dict[str, int] = field(default_factory=dict)
    touched: dict[str, None] = field(default_factory=dict)

    def handle(self, envelope: Envelope) -> Counted | None:
        if envelope.event_type == "Fail":
            return Counted([], ReplyError("NotSupported", "no"))
        if envelope.event_type == "Release":  # answers an earlier CALL of another station
            waited = DeferredReply(
                station_id="b",
                action="TransactionEvent",
                gateway=2,
                correlation_id="k/7",
                payload={"totalCost": 1.5},
            )
            return Counted([], None, (waited,))
        if envelope.event_type != "Count":
            return None
        count = self.counts[envelope.key] = self.counts.get(envelope.key, 0) + 1
        self.touched[envelope.key] = None
        event = DomainEvent(topic="toy.events", event_type="Counted", key=envelope.key, payload={})
        return Counted([event, event], Reply({"count": count}))

    def changes(self) -> list[tuple[str, bytes]]:
        writes = [(key, msgpack.packb(self.counts[key])) for key in self.touched]
        self.touched = {}
        return writes

    def restore(self, key: str, value: bytes | None) -> None:
        if value is None:
            self.counts.pop(key, None)
        else:
            self.counts[key] = msgpack.unpackb(value)


def record(
    offset: int, key: str, event_type: str = "Count", *, partition: int = 0, route: bool = True
) -> Record:
    envelope = Envelope(
        event_type=event_type,
        schema_version=1,
        key=key,
        payload={"action": "Count"},
        occurred_at=T0,
    )
    headers = [(Header.REPLY_PARTITION.value, b"5"), (Header.CORRELATION_ID.value, b"c/u")]
    return Record(
        "toy.in", partition, offset, key.encode(), encode(envelope), headers if route else ()
    )


def test_each_touched_key_is_written_once_per_batch_to_its_partition_of_the_changelog() -> None:
    stores = {0: Counter(), 1: Counter()}
    records = [record(1, "a"), record(2, "b"), record(3, "a"), record(1, "c", partition=1)]
    effects = plan(records, stores, changelog=CHANGELOG)
    assert [(w.topic, w.partition, w.key, w.value) for w in effects.changelog] == [
        (CHANGELOG, 0, b"a", msgpack.packb(2)),
        (CHANGELOG, 0, b"b", msgpack.packb(1)),
        (CHANGELOG, 1, b"c", msgpack.packb(1)),
    ]
    restored = Counter()
    for write in effects.changelog[:2]:
        restored.restore((write.key or b"").decode(), write.value)
    assert restored.counts == stores[0].counts


def test_events_get_ids_from_their_record_and_the_input_as_their_cause() -> None:
    source = record(7, "a")
    effects = plan([source], {0: Counter()}, changelog=CHANGELOG)
    first, second = (decode(w.value or b"") for w in effects.events)
    assert [first.event_id, second.event_id] == [event_id("toy.in", 0, 7, i) for i in (0, 1)]
    assert first.causation_id == decode(source.value or b"").event_id
    assert first.occurred_at == T0
    again = plan([source], {0: Counter()}, changelog=CHANGELOG)  # a replay: the same records
    assert [w.value for w in again.events] == [w.value for w in effects.events]


@pytest.mark.parametrize(
    ("event_type", "expected"),
    [("Count", EventType.OCPP_REPLY), ("Fail", EventType.OCPP_REPLY_ERROR)],
)
def test_a_reply_goes_to_the_inbox_partition_named_by_the_call(
    event_type: str, expected: str
) -> None:
    effects = plan([record(1, "a", event_type)], {0: Counter()}, changelog=CHANGELOG)
    (reply,) = effects.replies
    assert (reply.topic, reply.partition, reply.key) == (Topic.GATEWAY_INBOX, 5, b"a")
    assert list(reply.headers) == [(Header.CORRELATION_ID.value, b"c/u")]
    envelope = decode(reply.value or b"")
    assert envelope.event_type == expected
    assert envelope.payload["action"] == "Count"


def test_a_deferred_reply_goes_to_the_gateway_and_call_it_names() -> None:
    source = record(4, "a", "Release", route=False)
    effects = plan([source], {0: Counter()}, changelog=CHANGELOG)
    (reply,) = effects.replies
    assert (reply.topic, reply.partition, reply.key) == (Topic.GATEWAY_INBOX, 2, b"b")
    assert list(reply.headers) == [(Header.CORRELATION_ID.value, b"k/7")]
    envelope = decode(reply.value or b"")
    assert envelope.event_type == EventType.OCPP_REPLY
    assert envelope.payload == {"action": "TransactionEvent", "payload": {"totalCost": 1.5}}
    assert envelope.causation_id == decode(source.value or b"").event_id


@pytest.mark.parametrize(
    "headers",
    [(), [(Header.REPLY_PARTITION.value, b"x"), (Header.CORRELATION_ID.value, b"c/u")]],
)
def test_a_call_without_a_usable_route_is_counted_not_answered(headers: Headers) -> None:
    unrouted = record(1, "a", route=False)
    unrouted = Record(unrouted.topic, 0, 1, unrouted.key, unrouted.value, headers)
    effects = plan([unrouted], {0: Counter()}, changelog=CHANGELOG)
    assert not effects.replies
    assert effects.counts["reply", "no-route"] == 1


def test_bad_bytes_are_dead_lettered_and_tombstones_and_foreign_records_change_nothing() -> None:
    store = Counter()
    records = [
        Record("toy.in", 0, 1, b"a", b"\xc1 not msgpack"),
        Record("toy.in", 0, 2, b"a", None),
        record(3, "a", "SomethingElse"),
    ]
    effects = plan(records, {0: store}, changelog=CHANGELOG)
    (dead,) = effects.events
    assert (dead.topic, dead.key, dead.value) == (Topic.DEAD_LETTERS, b"a", b"\xc1 not msgpack")
    assert dict(dead.headers)[Header.SOURCE_OFFSET.value] == b"1"
    assert effects.undecodable[0].startswith("toy.in/0/1: ")
    assert effects.counts == {("undecodable", "dead-lettered"): 1, ("SomethingElse", "ignored"): 1}
    assert not effects.changelog
    assert not effects.replies
    assert not store.counts


# -- trace context (docs/tracing.md) ------------------------------------------------------------

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01".encode()
TRACESTATE = b"rojo=00f067aa0ba902b7"


def traced(source: Record, *extra: tuple[str, bytes]) -> Record:
    """``source`` with a traceparent (and ``extra`` headers) beside its route."""
    headers = [*source.headers, (Header.TRACEPARENT.value, TRACEPARENT), *extra]
    return Record(source.topic, source.partition, source.offset, source.key, source.value, headers)


def test_every_event_and_reply_of_a_record_carries_one_child_of_its_trace() -> None:
    source = traced(record(7, "a"), (Header.TRACESTATE.value, TRACESTATE))
    effects = plan([source], {0: Counter()}, changelog=CHANGELOG, service="toy", spans=True)
    outputs = [*effects.events, *effects.replies]
    contexts = {from_headers(w.headers) for w in outputs}
    assert len(outputs) == 3
    assert len(contexts) == 1  # one span: the handling of the record
    (child,) = contexts
    assert child is not None
    assert child.parent.trace_id == TRACE_ID
    assert child.parent.parent_id != "00f067aa0ba902b7"
    assert child.parent.sampled
    assert child.state == TRACESTATE  # unchanged
    assert [w.headers for w in effects.changelog] == [()]  # state records carry none
    (reply,) = effects.replies
    assert dict(reply.headers)[Header.CORRELATION_ID.value] == b"c/u"
    (span,) = effects.spans
    assert (span.parent, span.span_id) == (parse(TRACEPARENT), child.parent.parent_id)
    assert (span.name, span.topic, span.partition, span.offset, span.key) == (
        "Count Count",
        "toy.in",
        0,
        7,
        "a",
    )


def test_a_record_handled_again_continues_its_trace_with_the_same_bytes() -> None:
    """The span id is derived from the service and the record: a replay after a crash writes
    the very same records, headers included; another service gets another span."""
    source = traced(record(7, "a"))
    first = plan([source], {0: Counter()}, changelog=CHANGELOG, service="toy")
    again = plan([source], {0: Counter()}, changelog=CHANGELOG, service="toy")
    other = plan([source], {0: Counter()}, changelog=CHANGELOG, service="other")
    assert [(w.headers, w.value) for w in again.events] == [
        (w.headers, w.value) for w in first.events
    ]
    assert other.events[0].headers != first.events[0].headers


def test_a_deferred_reply_carries_the_trace_of_the_record_that_released_it() -> None:
    source = traced(record(4, "a", "Release", route=False))
    effects = plan([source], {0: Counter()}, changelog=CHANGELOG, service="toy")
    (reply,) = effects.replies
    context = from_headers(reply.headers)
    assert context is not None
    assert context.parent.trace_id == TRACE_ID
    assert dict(reply.headers)[Header.CORRELATION_ID.value] == b"k/7"


@pytest.mark.parametrize("traceparent", [None, b"00-not-a-trace", TRACEPARENT.upper()])
def test_a_record_without_a_valid_trace_causes_records_without_one(
    traceparent: bytes | None,
) -> None:
    source = record(7, "a")
    if traceparent is not None:
        headers = [*source.headers, (Header.TRACEPARENT.value, traceparent)]
        source = Record(source.topic, 0, 7, source.key, source.value, headers)
    effects = plan([source], {0: Counter()}, changelog=CHANGELOG, service="toy", spans=True)
    assert all(from_headers(w.headers) is None for w in [*effects.events, *effects.replies])
    assert not effects.spans


def test_an_unsampled_trace_is_carried_on_but_is_no_span() -> None:
    source = traced(record(7, "a"))
    unsampled = [(k, v[:-2] + b"00" if k == Header.TRACEPARENT else v) for k, v in source.headers]
    source = Record(source.topic, 0, 7, source.key, source.value, unsampled)
    effects = plan([source], {0: Counter()}, changelog=CHANGELOG, service="toy", spans=True)
    context = from_headers(effects.events[0].headers)
    assert context is not None
    assert not context.parent.sampled
    assert not effects.spans


def test_with_span_export_off_the_trace_is_carried_and_no_span_is_noted() -> None:
    source = traced(record(7, "a"))
    effects = plan([source], {0: Counter()}, changelog=CHANGELOG, service="toy")
    exported = plan([source], {0: Counter()}, changelog=CHANGELOG, service="toy", spans=True)
    assert [w.headers for w in effects.events] == [w.headers for w in exported.events]
    assert not effects.spans
    assert len(exported.spans) == 1


def test_a_dead_letter_carries_no_trace() -> None:
    """A dead letter is the record itself, not something it caused: its headers say only where
    it came from and why it failed."""
    dead = Record("toy.in", 0, 1, b"a", b"\xc1", [(Header.TRACEPARENT.value, TRACEPARENT)])
    effects = plan([dead], {0: Counter()}, changelog=CHANGELOG, service="toy")
    assert from_headers(effects.events[0].headers) is None
