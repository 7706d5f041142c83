"""One batch of input records -> the writes it causes, by the order they must land (sans-I/O).

The shell (app.py) writes ``Effects`` in three phases:

1. ``events`` (domain events, dead letters), and waits for their acknowledgements;
2. ``changelog`` (the 1.6 transaction sequence, then the newest state of each station the batch
   touched), and waits for their acknowledgements;
3. ``replies`` to the gateway inboxes.

Events land before the state that remembers them: if the worker dies in between, the records
are handled again from the older state and the same events are written again with the same
event ids (consumers deduplicate on them). The other order could lose an event for good: the
new state would say "SessionEnded written" while the event never landed.
"""

import hashlib
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import msgpack

from contracts.codec import decode, encode
from contracts.envelope import Envelope
from contracts.errors import DecodeError
from contracts.events import EventType
from contracts.headers import Header, dead_letter_headers
from contracts.topics import STATION_PARTITIONS, Topic
from services.sessions.handlers import handle
from services.sessions.messages import parse
from services.sessions.policy import Policy
from services.sessions.state import StationState, ended_from_list
from services.sessions.step import Context, Reply, ReplyError
from services.sessions.tokens import TokenInfo

INT32_MAX = 2**31 - 1
# Changelog keys besides the station ids. A station id never holds "/" (the gateway takes it
# from one URL path segment), so these cannot clash with one.
SEQ_KEY = "/transaction-seq"  # per changelog partition: 1.6 transaction ids handed out
ENDED_SUFFIX = "/ended"  # station_id + ENDED_SUFFIX: the station's ended transactions
LEGACY_SEQ_KEY = "__transaction_seq"  # SEQ_KEY before 2026-11-25, still read
# What Partition.apply_changelog raises for a record it cannot read (msgpack's are ValueErrors).
UNREADABLE = (ValueError, TypeError, AttributeError, KeyError)

RecordHeaders = Sequence[tuple[str, bytes]]


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
    def headers(self) -> RecordHeaders: ...


@dataclass(frozen=True, slots=True)
class Write:
    """One record to produce."""

    topic: str
    key: bytes | None
    value: bytes | None
    partition: int | None = None  # None: the producer's partitioner (by key)
    headers: RecordHeaders = ()


@dataclass
class Partition:
    """The states of one assigned partition, as restored and kept up to date."""

    states: dict[str, StationState] = field(default_factory=dict)
    seq: int = 0

    def apply_changelog(self, key: str, value: bytes | None) -> None:
        """Restore: one record of this partition's changelog, oldest first. A station's state
        and its ended transactions are two keys that may come in either order."""
        if key in (SEQ_KEY, LEGACY_SEQ_KEY):
            self.seq = int(msgpack.unpackb(value)) if value is not None else 0
            return
        station_id, _, suffix = key.partition("/")
        known = self.states.get(station_id)
        if suffix:
            if suffix == ENDED_SUFFIX[1:]:
                data = msgpack.unpackb(value, timestamp=3) if value is not None else []
                known = known or StationState(station_id=station_id)
                self.states[station_id] = replace(known, ended=ended_from_list(data))
        elif value is None:
            self.states.pop(station_id, None)
        else:
            ended = known.ended if known is not None else ()
            data = msgpack.unpackb(value, timestamp=3)
            self.states[station_id] = StationState.from_dict(data, ended=ended)


@dataclass
class Effects:
    """What one batch causes, by phase; ``counts`` is (kind, fate) -> records, for metrics."""

    events: list[Write] = field(default_factory=list)
    changelog: list[Write] = field(default_factory=list)
    replies: list[Write] = field(default_factory=list)
    counts: Counter[tuple[str, str]] = field(default_factory=Counter)
    undecodable: list[str] = field(default_factory=list)  # "topic/partition/offset: why"


def event_id(topic: str, partition: int, offset: int, index: int) -> str:
    """Deterministic: a record handled again yields the same ids, so consumers dedupe."""
    digest = hashlib.blake2b(f"{topic}/{partition}/{offset}/{index}".encode(), digest_size=16)
    return uuid.UUID(bytes=digest.digest()).hex


def transaction_id(seq: int, partition: int) -> int:
    """The seq-th 1.6 transaction id of a partition: unique across partitions and workers.

    Raises:
        OverflowError: the partition used up its int32 ids (268 million with 8 partitions).
    """
    value = seq * STATION_PARTITIONS + partition + 1
    if value > INT32_MAX:
        raise OverflowError(f"partition {partition} ran out of 1.6 transaction ids")
    return value


def plan(
    records: Iterable[InputRecord],
    partitions: Mapping[int, Partition],
    policy: Policy,
    tokens: Mapping[str, TokenInfo],
) -> Effects:
    """Handle ``records`` in order against ``partitions`` (updated in place); their effects.

    Every record's partition must be in ``partitions``. A station's state is written to the
    changelog once per batch, as it is after the batch's last record of that station.
    """
    effects = Effects()
    before: dict[tuple[int, str], StationState | None] = {}  # as the changelog has them
    seq_used: set[int] = set()
    for record in records:
        _record(record, partitions[record.partition], policy, tokens, effects, before, seq_used)
    # The sequence goes first: in changelog partition p, a persisted state never comes with a
    # lost sequence, so no transaction id is handed out twice.
    for p in sorted(seq_used):
        effects.changelog.append(
            Write(Topic.SESSIONS_STATE, SEQ_KEY.encode(), msgpack.packb(partitions[p].seq), p)
        )
    for (p, station_id), old in before.items():
        state = partitions[p].states[station_id]
        if state.ended_changed(old):
            # Before the state: a restore that finds the state also finds what it ended.
            value = msgpack.packb(state.ended_to_list(), datetime=True)
            key = (station_id + ENDED_SUFFIX).encode()
            effects.changelog.append(Write(Topic.SESSIONS_STATE, key, value, p))
        value = msgpack.packb(state.to_dict(with_ended=False), datetime=True)
        effects.changelog.append(Write(Topic.SESSIONS_STATE, station_id.encode(), value, p))
    return effects


def _record(
    record: InputRecord,
    partition: Partition,
    policy: Policy,
    tokens: Mapping[str, TokenInfo],
    effects: Effects,
    before: dict[tuple[int, str], StationState | None],
    seq_used: set[int],
) -> None:
    if record.value is None:
        return  # a tombstone on the compacted presence topic
    try:
        envelope = decode(record.value)
    except DecodeError as exc:
        effects.counts["undecodable", "dead-lettered"] += 1
        where = f"{record.topic}/{record.partition}/{record.offset}"
        effects.undecodable.append(f"{where}: {exc}")
        headers = dead_letter_headers(record.topic, record.partition, record.offset, str(exc))
        effects.events.append(Write(Topic.DEAD_LETTERS, record.key, record.value, None, headers))
        return
    message = parse(envelope)
    if message is None:
        effects.counts[envelope.event_type, "ignored"] += 1
        return
    station_id = envelope.key
    context = Context(
        policy=policy,
        tokens=tokens,
        now=envelope.occurred_at,
        new_transaction_id=transaction_id(partition.seq, record.partition),
    )
    state = partition.states.get(station_id)
    step = handle(state, message, context)
    if step.used_transaction_id:
        partition.seq += 1
        seq_used.add(record.partition)
    partition.states[station_id] = step.state
    before.setdefault((record.partition, station_id), state)
    for index, output in enumerate(step.events):
        out = Envelope(
            event_type=output.event_type,
            schema_version=1,
            key=output.key,
            payload=output.payload,
            occurred_at=envelope.occurred_at,
            event_id=event_id(record.topic, record.partition, record.offset, index),
            causation_id=envelope.event_id,
        )
        effects.events.append(Write(output.topic, output.key.encode(), encode(out)))
    effects.counts[envelope.event_type, "handled"] += 1
    if step.reply is not None:
        reply = _reply(envelope, record.headers, step.reply)
        if reply is None:
            effects.counts["reply", "no-route"] += 1
        else:
            effects.replies.append(reply)


def _reply(call: Envelope, raw_headers: RecordHeaders, reply: Reply | ReplyError) -> Write | None:
    """The answer for the gateway inbox partition that waits for it; None without a route."""
    headers = {str(k): v for k, v in raw_headers or ()}
    partition, correlation = headers.get(Header.REPLY_PARTITION), headers.get(Header.CORRELATION_ID)
    if partition is None or correlation is None:
        return None
    action = call.payload.get("action")
    body: dict[str, Any]
    if isinstance(reply, Reply):
        body = {"action": action, "payload": reply.payload}
        event_type = EventType.OCPP_REPLY
    else:
        body = {"action": action, "code": reply.code, "description": reply.description}
        event_type = EventType.OCPP_REPLY_ERROR
    try:
        reply_partition = int(partition)
    except ValueError:
        return None
    return Write(
        Topic.GATEWAY_INBOX,
        call.key.encode(),
        encode(call.caused(event_type, body)),
        reply_partition,
        [(Header.CORRELATION_ID.value, correlation)],
    )
