"""The sessions partition in the runtime's planner: its changelog, replies, events and replays."""

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import msgpack
import pytest

from contracts.codec import decode, encode
from contracts.envelope import Envelope
from contracts.events import EventType
from contracts.headers import Header, Headers
from contracts.payloads.ocpp import StationCall
from contracts.payloads.presence import Presence
from contracts.payloads.tokens import Token
from contracts.topics import STATION_PARTITIONS, Topic
from runtime.batch import UNREADABLE, Write, event_id, plan
from services.sessions.core.partition import (
    ENDED_SUFFIX,
    INT32_MAX,
    LEGACY_SEQ_KEY,
    SEQ_KEY,
    Partition,
    transaction_id,
)
from services.sessions.core.policy import Policy
from tests.unit.services.sessions.core.station import T0, V16, boot_payload

P = 3  # the station's partition in these tests
STATUS = {"connectorId": 1, "errorCode": "NoError", "status": "Available"}
TOKENS = {"TAG-1": Token(id_token="TAG-1", type="ISO14443", status="Accepted")}


@dataclass(frozen=True)
class Record:
    """A consumed record, as the planner reads it (plain data: no Kafka needed)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Headers = ()


class Inbound:
    """Records of one 1.6 station on partition P, numbered like a real partition."""

    def __init__(self, station_id: str = "CS-1") -> None:
        self.connection = Presence(
            station_id=station_id,
            connected=True,
            connection_id="c1",
            ocpp_version=V16,
            gateway=2,
            gateway_boot="b1",
            connected_at=T0,
        )
        self.offset = 0

    def _record(self, topic: str, envelope: Envelope, headers: Headers) -> Record:
        self.offset += 1
        key = envelope.key.encode()
        return Record(topic, P, self.offset, key, encode(envelope), headers)

    def connected(self) -> Record:
        return self._record(Topic.PRESENCE, self.connection.envelope(), ())

    def call(self, action: str, payload: dict[str, Any], second: int = 0) -> Record:
        unique_id = f"u{self.offset}"
        at = T0 + timedelta(seconds=second)
        envelope = StationCall(
            station_id=self.connection.station_id,
            ocpp_version=V16,
            unique_id=unique_id,
            action=action,
            payload=payload,
            connection_id="c1",
            gateway=2,
            received_at=at,
        ).envelope()
        headers = [
            (Header.REPLY_PARTITION.value, b"2"),
            (Header.CORRELATION_ID.value, f"c1/{unique_id}".encode()),
        ]
        return self._record(Topic.OCPP_INBOUND, envelope, headers)

    def session(self) -> list[Record]:
        start = {
            "connectorId": 1,
            "idTag": "TAG-1",
            "meterStart": 1000,
            "timestamp": T0.isoformat(),
        }
        meter = {
            "connectorId": 1,
            "transactionId": transaction_id(0, P),
            "meterValue": [{"timestamp": T0.isoformat(), "sampledValue": [{"value": "1500"}]}],
        }
        stop = {
            "transactionId": transaction_id(0, P),
            "meterStop": 2000,
            "timestamp": T0.isoformat(),
        }
        return [
            self.connected(),
            self.call("BootNotification", boot_payload(V16)),
            self.call("Authorize", {"idTag": "TAG-1"}),
            self.call("StartTransaction", start, 1),
            self.call("MeterValues", meter, 2),
            self.call("StopTransaction", stop, 3),
        ]


def _partition() -> Partition:
    return Partition(P, policy=Policy(fetch_inventory=False), tokens=TOKENS)


def _plan(records: list[Record], partition: Partition | None = None) -> tuple[Any, Partition]:
    partition = partition or _partition()
    return plan(records, {P: partition}, changelog=Topic.SESSIONS_STATE), partition


def test_a_batch_writes_each_station_once_with_its_newest_state_after_the_sequence() -> None:
    effects, partition = _plan(Inbound().session())
    keys = [w.key for w in effects.changelog]
    assert keys == [SEQ_KEY.encode(), b"CS-1" + ENDED_SUFFIX.encode(), b"CS-1"]
    assert all(w.topic == Topic.SESSIONS_STATE and w.partition == P for w in effects.changelog)
    assert msgpack.unpackb(effects.changelog[0].value) == partition.seq == 1
    restored = _partition()
    for write in effects.changelog:
        assert write.key is not None
        restored.restore(write.key.decode(), write.value)
    assert restored == partition  # what a restore reads back is what the worker holds


def _restore(*batches: list[Write]) -> Partition:
    restored = _partition()
    for writes in batches:
        for write in writes:
            assert write.key is not None
            restored.restore(write.key.decode(), write.value)
    return restored


def test_ended_transactions_are_written_only_by_the_batch_that_ends_one() -> None:
    inbound = Inbound()
    session = inbound.session()
    partition = _partition()
    first = _plan(session[:5], partition)[0]  # started, not ended
    second = _plan(session[5:], partition)[0]  # StopTransaction
    third = _plan([inbound.call("StatusNotification", STATUS)], partition)[0]
    assert [w.key for w in first.changelog] == [SEQ_KEY.encode(), b"CS-1"]
    assert [w.key for w in second.changelog] == [b"CS-1/ended", b"CS-1"]
    assert [w.key for w in third.changelog] == [b"CS-1"]
    state = partition.states["CS-1"]
    assert len(state.ended) == 1
    assert not state.transactions
    log = [*first.changelog, *second.changelog, *third.changelog]
    assert _restore(log) == partition
    assert _restore(_compacted(log)) == partition


def _compacted(log: list[Write]) -> list[Write]:
    """What log compaction leaves: the last record of each key, at its own position."""
    last = {w.key: i for i, w in enumerate(log)}
    return [w for i, w in enumerate(log) if last[w.key] == i]


def test_a_restore_that_found_the_ended_record_but_not_the_state_handles_the_stop_again() -> None:
    inbound = Inbound()
    session = inbound.session()
    partition = _partition()
    first = _plan(session[:5], partition)[0]
    second = _plan(session[5:], partition)[0]
    ended_only = [w for w in second.changelog if w.key == b"CS-1/ended"]
    restored = _restore(first.changelog, ended_only)  # killed between the two writes
    again = _plan(session[5:], restored)[0]  # the StopTransaction is read again
    assert [w.value for w in again.events] == [w.value for w in second.events]
    assert restored == partition


def test_two_stations_in_one_batch_get_one_write_each() -> None:
    one, two = Inbound("CS-1"), Inbound("CS-2")
    two.offset = 100
    records = [one.connected(), two.connected(), one.call("BootNotification", boot_payload(V16))]
    effects, _ = _plan(records)
    assert sorted(w.key for w in effects.changelog) == [b"CS-1", b"CS-2"]


def test_every_call_is_answered_to_the_inbox_partition_that_waits_for_it() -> None:
    records = Inbound().session()
    effects, _ = _plan(records)
    assert len(effects.replies) == 5  # the presence record gets no reply
    for reply, call in zip(effects.replies, records[1:], strict=True):
        assert reply.topic == Topic.GATEWAY_INBOX
        assert reply.partition == 2
        correlation = dict(call.headers)[Header.CORRELATION_ID.value]
        assert dict(reply.headers) == {Header.CORRELATION_ID.value: correlation}
        assert reply.value is not None
        assert decode(reply.value).event_type == EventType.OCPP_REPLY
    start_reply = decode(effects.replies[2].value or b"").payload["payload"]
    assert start_reply["transactionId"] == transaction_id(0, P)


def test_events_carry_ids_from_their_record_so_a_replay_writes_the_same_ones() -> None:
    records = Inbound().session()
    first, _ = _plan(records)
    again, _ = _plan(records)  # the worker died before the offsets were committed
    assert [w.value for w in first.events] == [w.value for w in again.events]
    assert [w.value for w in first.changelog] == [w.value for w in again.changelog]
    written = [(w.topic, w.key, w.value) for w in first.events]
    kinds = [
        (topic, None if value is None else decode(value).event_type) for topic, _, value in written
    ]
    assert kinds == [
        (Topic.STATIONS, EventType.STATION_ONLINE),
        (Topic.STATIONS_LATEST, EventType.STATION_ONLINE),  # read models: read_models.py
        (Topic.STATIONS, EventType.STATION_BOOTED),
        (Topic.STATIONS_LATEST, EventType.STATION_BOOTED),
        (Topic.SESSIONS, EventType.TOKEN_AUTHORIZED),
        (Topic.SESSIONS, EventType.SESSION_STARTED),
        (Topic.SESSIONS_OPEN, EventType.SESSION_OPEN),
        (Topic.SESSIONS, EventType.SESSION_UPDATED),
        (Topic.SESSIONS_OPEN, EventType.SESSION_OPEN),
        (Topic.SESSIONS, EventType.SESSION_ENDED),
        (Topic.SESSIONS_OPEN, None),  # a tombstone: the session is no longer open
    ]
    assert [key for topic, key, _ in written if topic == Topic.STATIONS_LATEST] == [
        b"CS-1/online",
        b"CS-1/boot",
    ]
    stop = records[-1]
    ended = decode(first.events[-2].value or b"")
    assert ended.event_id == event_id(stop.topic, stop.partition, stop.offset, 0)
    opened = decode(first.events[8].value or b"")  # after the meter value
    assert opened.payload["energy_wh"] == 500
    assert opened.payload["started_at"] is not None


def test_a_batch_split_differently_ends_in_the_same_state() -> None:
    records = Inbound().session()
    whole, whole_partition = _plan(records)
    partition = _partition()
    halves = [_plan(records[:3], partition)[0], _plan(records[3:], partition)[0]]
    assert partition == whole_partition
    assert [w.value for h in halves for w in h.events] == [w.value for w in whole.events]


def test_an_undecodable_record_is_dead_lettered_with_where_it_came_from() -> None:
    record = Record(Topic.OCPP_INBOUND, P, 7, b"CS-1", b"\xc1 not msgpack")
    effects, partition = _plan([record])
    (dead,) = effects.events
    assert dead.topic == Topic.DEAD_LETTERS
    assert dead.value == record.value
    headers = dict(dead.headers)
    assert headers[Header.SOURCE_OFFSET.value] == b"7"
    assert headers[Header.SOURCE_TOPIC.value] == Topic.OCPP_INBOUND.encode()
    assert effects.counts["undecodable", "dead-lettered"] == 1
    assert effects.undecodable
    assert effects.undecodable[0].startswith(f"{Topic.OCPP_INBOUND}/3/7")
    assert not effects.changelog
    assert not effects.replies
    assert not partition.states


def test_a_call_without_a_reply_route_is_handled_and_counted() -> None:
    inbound = Inbound()
    boot = inbound.call("BootNotification", boot_payload(V16))
    unrouted = Record(boot.topic, boot.partition, boot.offset, boot.key, boot.value, ())
    effects, partition = _plan([unrouted])
    assert not effects.replies
    assert effects.counts["reply", "no-route"] == 1
    assert partition.states["CS-1"].boot_status == "Accepted"


def test_tombstones_and_foreign_event_types_change_nothing() -> None:
    foreign = Envelope(event_type="SomethingElse", schema_version=1, key="CS-1", payload={})
    records = [
        Record(Topic.PRESENCE, P, 1, b"CS-1", None),
        Record(Topic.OCPP_INBOUND, P, 2, b"CS-1", encode(foreign)),
    ]
    effects, partition = _plan(records)
    assert not (effects.events)
    assert not (effects.changelog)
    assert not (effects.replies)
    assert not (partition.states)
    assert effects.counts["SomethingElse", "ignored"] == 1


def test_transaction_ids_are_unique_across_partitions_and_bounded_by_int32() -> None:
    ids = {transaction_id(seq, p) for seq in range(50) for p in range(STATION_PARTITIONS)}
    assert len(ids) == 50 * STATION_PARTITIONS
    assert min(ids) == 1
    last_seq = (INT32_MAX - P - 1) // STATION_PARTITIONS
    assert transaction_id(last_seq, P) <= INT32_MAX
    with pytest.raises(OverflowError):
        transaction_id(last_seq + 1, P)


def test_the_sequence_is_read_under_its_old_key_too() -> None:
    partition = _partition()
    partition.restore(LEGACY_SEQ_KEY, msgpack.packb(41))
    assert partition.seq == 41
    partition.restore(SEQ_KEY, msgpack.packb(42))
    assert partition.seq == 42


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("CS-1", msgpack.packb(7)),  # not a map
        ("CS-1", b"\xc1"),  # not msgpack
        ("CS-1", msgpack.packb({"station_id": "CS-1", "connectors": [{"evse_id": 1}]})),
        ("CS-1/ended", msgpack.packb([{"no": "transaction id"}])),
        (SEQ_KEY, msgpack.packb("seven")),
    ],
)
def test_an_unreadable_changelog_record_raises_what_the_restore_skips(
    key: str, value: bytes
) -> None:
    with pytest.raises(UNREADABLE):  # the shell logs these and goes on with the next record
        _partition().restore(key, value)
