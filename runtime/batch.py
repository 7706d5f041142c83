"""One batch of input records -> the writes it causes, by the order they must land (sans-I/O).

The stateful worker (worker.py) writes ``Effects`` in three phases:

1. ``events`` (domain events, dead letters), and waits for their acknowledgements;
2. ``changelog`` (what each partition's store says changed), and waits for their
   acknowledgements;
3. ``replies`` to the gateway inboxes.

Events land before the state that remembers them: if the worker dies in between, the records
are handled again from the older state and the same events are written again with the same
event ids (consumers deduplicate on them). The other order could lose an event for good: the
new state would say "SessionEnded written" while the event never landed.

A service supplies one ``Store`` per assigned partition (its pure core behind three methods);
this module does what every service shares: decoding and dead letters, deterministic event ids,
replies routed to the gateway partition that waits, and one changelog flush per batch.

Trace context (docs/tracing.md): every event and reply that a record causes carries a child of
the record's ``traceparent``: the same trace, the span id of the worker's handling of that record
(derived from the service and the record, so a record handled again gives the same bytes), its
``tracestate`` unchanged. A record without one causes records without one; changelog records
carry none (one of them sums up the records of a whole batch).
"""

import hashlib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

from contracts.codec import decode, encode
from contracts.envelope import Envelope
from contracts.errors import DecodeError
from contracts.events import DomainEvent
from contracts.headers import Header, Headers, dead_letter_headers, header_text
from contracts.payloads.ocpp import DeferredReply, Reply, ReplyError, reply_to
from contracts.topics import Topic
from contracts.trace import TraceContext, TraceParent, derived_span_id, from_headers


class InputRecord(Protocol):
    """What the planner reads of a consumed record (aiokafka's ConsumerRecord has it)."""

    @property
    def topic(self) -> str: ...
    @property
    def partition(self) -> int: ...
    @property
    def offset(self) -> int: ...
    @property
    def key(self) -> bytes | None: ...
    @property
    def value(self) -> bytes | None: ...
    @property
    def headers(self) -> Headers: ...


class Handled(Protocol):
    """What handling one record gave: events to publish, the answer to a station CALL, and
    answers to earlier CALLs that waited (each with its own address)."""

    @property
    def events(self) -> Sequence[DomainEvent]: ...
    @property
    def reply(self) -> Reply | ReplyError | None: ...
    @property
    def deferred(self) -> Sequence[DeferredReply]: ...


class Store(Protocol):
    """The state of one partition as a service's pure core keeps it."""

    def restore(self, key: str, value: bytes | None) -> None:
        """Apply one changelog record, oldest first (a tombstone: ``value`` None).

        Raises:
            ValueError, TypeError, KeyError, AttributeError: the record is unreadable (the
                worker logs it and goes on: one bad record must not stop a partition).
        """

    def handle(self, envelope: Envelope) -> Handled | None:
        """Handle one decoded input record; None if it is not for this service (ignored)."""

    def changes(self) -> Sequence[tuple[str, bytes | None]]:
        """The changelog records (key, value) that the records handled since the last call
        caused, in the order they must land; forgets them."""


# What Store.restore raises for a record it cannot read (msgpack's errors are ValueErrors).
UNREADABLE = (ValueError, TypeError, AttributeError, KeyError)


@dataclass(frozen=True, slots=True)
class Write:
    """One record to produce."""

    topic: str
    key: bytes | None
    value: bytes | None
    partition: int | None = None  # None: the producer's partitioner (by key)
    headers: Headers = ()


@dataclass(frozen=True, slots=True)
class Span:
    """The handling of one record of a sampled trace, as the worker may export it."""

    parent: TraceParent  # the record's traceparent
    span_id: str  # ours: the parent-id of every record that it caused
    name: str  # the event type handled (and the OCPP action of a CALL)
    topic: str  # where the record was
    partition: int
    offset: int
    key: str


@dataclass
class Effects:
    """What one batch causes, by phase; ``counts`` is (kind, fate) -> records, for metrics."""

    events: list[Write] = field(default_factory=list)
    changelog: list[Write] = field(default_factory=list)
    replies: list[Write] = field(default_factory=list)
    counts: Counter[tuple[str, str]] = field(default_factory=Counter)
    undecodable: list[str] = field(default_factory=list)  # "topic/partition/offset: why"
    spans: list[Span] = field(default_factory=list)  # the sampled records handled


def event_id(topic: str, partition: int, offset: int, index: int) -> str:
    """Deterministic: a record handled again yields the same ids, so consumers dedupe."""
    digest = hashlib.blake2b(f"{topic}/{partition}/{offset}/{index}".encode(), digest_size=16)
    return digest.hexdigest()  # uuid.UUID(bytes=digest).hex, without the UUID: 1 µs less


def dead_letter(record: InputRecord, error: DecodeError) -> Write:
    """The record for deadletter.v1: the undecodable bytes unchanged, the source in headers."""
    headers = dead_letter_headers(record.topic, record.partition, record.offset, str(error))
    return Write(Topic.DEAD_LETTERS, record.key, record.value, None, headers)


def plan(
    records: Iterable[InputRecord],
    stores: Mapping[int, Store],
    *,
    changelog: str | None,
    service: str = "",
    spans: bool = False,
) -> Effects:
    """Handle ``records`` in order, each by the store of its partition; their effects.

    Every record's partition must be in ``stores``. Partition p of the input topics keeps its
    state in partition p of ``changelog``, written once per batch (None: stateless stores).
    ``service`` names the handler in the span ids of its traces (services reading the same
    record must not share a span id); ``spans``: note the sampled records handled in
    ``Effects.spans`` (span export is on; off, the headers are written all the same).

    Raises:
        ValueError: a store reported changes without a changelog to write them to.
    """
    effects = Effects()
    touched: dict[int, None] = {}  # partitions in the order the batch first touched them
    for record in records:
        if _record(record, stores[record.partition], effects, service, spans):
            touched[record.partition] = None
    for p in touched:
        changes = stores[p].changes()
        if not changes:
            continue
        if changelog is None:
            raise ValueError("a stateless service's store reported changes")
        effects.changelog.extend(Write(changelog, k.encode(), v, p) for k, v in changes)
    return effects


def _record(record: InputRecord, store: Store, effects: Effects, service: str, spans: bool) -> bool:
    """Plan one record into ``effects``; whether the store handled it."""
    if record.value is None:
        return False  # a tombstone on a compacted input topic
    try:
        envelope = decode(record.value)
    except DecodeError as exc:
        effects.counts["undecodable", "dead-lettered"] += 1
        where = f"{record.topic}/{record.partition}/{record.offset}"
        effects.undecodable.append(f"{where}: {exc}")
        effects.events.append(dead_letter(record, exc))
        return False
    handled = store.handle(envelope)
    if handled is None:
        effects.counts[envelope.event_type, "ignored"] += 1
        return False
    trace = _trace(record, envelope, service, effects if spans else None)
    for index, output in enumerate(handled.events):
        if output.tombstone:  # a compacted topic forgets the key
            effects.events.append(
                Write(output.topic, output.key.encode(), None, output.partition, trace)
            )
            continue
        out = output.envelope(
            occurred_at=envelope.occurred_at,
            event_id=event_id(record.topic, record.partition, record.offset, index),
            causation_id=envelope.event_id,
        )
        key = output.key.encode()
        effects.events.append(Write(output.topic, key, encode(out), output.partition, trace))
    effects.counts[envelope.event_type, "handled"] += 1
    if handled.reply is not None:
        reply = _reply(envelope, record.headers, handled.reply, trace)
        if reply is None:
            effects.counts["reply", "no-route"] += 1
        else:
            effects.replies.append(reply)
    for deferred in handled.deferred:
        out = replace(
            deferred.envelope(),
            occurred_at=envelope.occurred_at,
            causation_id=envelope.event_id,
        )
        effects.replies.append(_inbox(out, deferred.gateway, deferred.correlation_id, trace))
    return True


def _trace(
    record: InputRecord, envelope: Envelope, service: str, effects: Effects | None
) -> Headers:
    """The trace headers of what ``record`` causes (none if it has no trace); a sampled one's
    handling goes to ``effects.spans`` (``effects`` None: no span is noted)."""
    context = from_headers(record.headers)
    if context is None:
        return ()
    parent, topic, partition, offset = context.parent, record.topic, record.partition, record.offset
    span_id = derived_span_id(f"{service}/{topic}/{partition}/{offset}/{parent}".encode())
    # TraceParent.child(span_id) without its check: a derived span id is valid by construction.
    child = TraceContext(TraceParent(parent.trace_id, span_id, parent.flags), context.state)
    if effects is not None and parent.sampled:
        action = envelope.payload.get("action")
        name = f"{envelope.event_type} {action}" if isinstance(action, str) else envelope.event_type
        effects.spans.append(Span(parent, span_id, name, topic, partition, offset, envelope.key))
    return child.headers()


def _reply(
    call: Envelope, headers: Headers, reply: Reply | ReplyError, trace: Headers
) -> Write | None:
    """The answer for the gateway inbox partition that waits for it; None without a route."""
    partition = header_text(headers, Header.REPLY_PARTITION)
    correlation = header_text(headers, Header.CORRELATION_ID)
    if partition is None or correlation is None or not partition.isdecimal():
        return None
    return _inbox(reply_to(call, reply), int(partition), correlation, trace)


def _inbox(answer: Envelope, partition: int, correlation: str, trace: Headers) -> Write:
    """An answer for partition ``partition`` of the gateway inbox, for the CALL that
    ``correlation`` names, with the trace headers of what caused it."""
    headers = [(Header.CORRELATION_ID.value, correlation.encode()), *trace]
    return Write(Topic.GATEWAY_INBOX, answer.key.encode(), encode(answer), partition, headers)
