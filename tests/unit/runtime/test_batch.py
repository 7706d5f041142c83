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
