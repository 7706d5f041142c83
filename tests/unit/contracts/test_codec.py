"""The envelope codec: exact round trips, one typed error for anything that is not an envelope."""

import os
from datetime import UTC, datetime, timedelta, timezone
from types import MappingProxyType
from typing import Any

import msgpack
import pytest
from hypothesis import given
from hypothesis import strategies as st

from contracts.codec import decode, encode
from contracts.envelope import Envelope, _new_id
from contracts.errors import ContractError, DecodeError, EncodeError

_json_leaves: st.SearchStrategy[object] = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**64 - 1),
    st.text(),
    st.floats(allow_nan=False),
    st.binary(max_size=32),
)
_payloads = st.dictionaries(
    st.text(max_size=20),
    st.recursive(
        _json_leaves,
        lambda children: (
            st.lists(children, max_size=4)
            | st.dictionaries(st.text(max_size=8), children, max_size=4)
        ),
        max_leaves=20,
    ),
    max_size=6,
)
_aware = st.datetimes(
    min_value=datetime(1971, 1, 1),  # noqa: DTZ001 - hypothesis wants naive bounds
    max_value=datetime(2200, 1, 1),  # noqa: DTZ001
    timezones=st.just(UTC),
)

envelopes = st.builds(
    Envelope,
    event_type=st.text(min_size=1, max_size=30),
    schema_version=st.integers(1, 100),
    key=st.text(max_size=48),
    payload=_payloads,
    occurred_at=_aware,
    event_id=st.uuids().map(lambda u: u.hex),
    causation_id=st.none() | st.uuids().map(lambda u: u.hex),
)


@given(envelopes)
def test_round_trip_is_exact(envelope: Envelope) -> None:
    assert decode(encode(envelope)) == envelope


def test_meter_values_example_round_trips() -> None:
    envelope = Envelope(
        event_type="OcppCall",
        schema_version=1,
        key="CS-0001",
        payload={
            "action": "MeterValues",
            "ocpp_version": "ocpp1.6",
            "payload": {"connectorId": 1, "meterValue": [{"sampledValue": [{"value": "12.5"}]}]},
        },
        occurred_at=datetime(2026, 11, 25, 8, 30, 0, 123456, tzinfo=UTC),
    )
    decoded = decode(encode(envelope))
    assert decoded == envelope
    assert decoded.occurred_at.tzinfo is not None
    assert decoded.occurred_at.microsecond == 123456


def test_non_utc_zone_keeps_the_instant() -> None:
    cet = timezone(timedelta(hours=1))
    envelope = Envelope(
        event_type="X",
        schema_version=1,
        key="k",
        payload={},
        occurred_at=datetime(2026, 1, 1, 12, tzinfo=cet),
    )
    assert decode(encode(envelope)).occurred_at == datetime(2026, 1, 1, 11, tzinfo=UTC)


def test_read_only_payload_mappings_encode() -> None:
    envelope = Envelope(
        event_type="X", schema_version=1, key="k", payload=MappingProxyType({"a": {"b": 1}})
    )
    assert decode(encode(envelope)).payload == {"a": {"b": 1}}


def test_integer_map_keys_round_trip() -> None:
    envelope = Envelope(event_type="X", schema_version=1, key="k", payload={"by_evse": {1: 7.5}})
    assert decode(encode(envelope)) == envelope


def test_caused_links_the_new_envelope() -> None:
    cause = Envelope(event_type="OcppCall", schema_version=1, key="CS1", payload={})
    effect = cause.caused("SessionStarted", {"transaction_id": "1"})
    assert effect.causation_id == cause.event_id
    assert effect.key == "CS1"
    assert cause.caused("CdrIssued", {}, key="S1").key == "S1"


@pytest.mark.parametrize(
    "payload",
    [{"when": object()}, {"n": 2**70}, {"d": {1: "int keys are fine"}, "x": object()}],
)
def test_unencodable_payload_raises_encode_error(payload: dict[str, Any]) -> None:
    with pytest.raises(EncodeError):
        encode(Envelope(event_type="X", schema_version=1, key="k", payload=payload))


def test_naive_datetime_raises_encode_error() -> None:
    naive = datetime(2026, 1, 1)  # noqa: DTZ001 - the point of the test
    with pytest.raises(EncodeError, match="timezone-aware"):
        encode(Envelope(event_type="X", schema_version=1, key="k", payload={}, occurred_at=naive))


_VALID = encode(Envelope(event_type="X", schema_version=1, key="k", payload={"a": 1}))


def _packed(**changes: Any) -> bytes:
    fields: dict[str, Any] = msgpack.unpackb(_VALID, timestamp=3)
    fields.update(changes)
    return bytes(msgpack.packb({k: v for k, v in fields.items() if v is not ...}, datetime=True))


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"", id="empty"),
        pytest.param(_VALID[:-3], id="truncated"),
        pytest.param(_VALID + b"\x00", id="extra-data"),
        pytest.param(b"\xc1garbage", id="reserved-byte"),
        pytest.param(b"\x93\x01\x02\x03", id="array-not-map"),
        pytest.param(bytes(msgpack.packb("just a string")), id="string"),
        pytest.param(_packed(payload=[1, 2]), id="payload-not-map"),
        pytest.param(_packed(schema_version="1"), id="version-as-string"),
        pytest.param(_packed(schema_version=True), id="version-as-bool"),
        pytest.param(_packed(occurred_at="2026-01-01"), id="time-as-string"),
        pytest.param(_packed(causation_id=5), id="causation-as-int"),
        pytest.param(_packed(key=...), id="missing-field"),
        pytest.param(_packed(extra=1), id="unknown-field"),
        pytest.param(bytes(msgpack.packb({1: 2})), id="int-keys"),
        pytest.param(b"\x91" * 100_000 + b"\x90", id="deep-nesting"),
        pytest.param(b"\x00" * (9 * 1024 * 1024), id="oversized"),
    ],
)
def test_anything_but_an_envelope_raises_decode_error(data: bytes) -> None:
    with pytest.raises(DecodeError):
        decode(data)


@given(st.binary(max_size=200))
def test_random_bytes_decode_or_raise_decode_error(data: bytes) -> None:
    try:
        envelope = decode(data)
    except ContractError as exc:
        assert type(exc) is DecodeError  # noqa: PT017 - the property is the exception's type
    else:
        assert isinstance(envelope, Envelope)


def test_event_ids_are_32_random_hex_digits_never_repeated() -> None:
    ids = [
        Envelope(event_type="E", schema_version=1, key="k", payload={}).event_id
        for _ in range(3000)
    ]
    assert len(set(ids)) == len(ids)  # across several 4 KiB reads of os.urandom
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids)
    assert len({i[12] for i in ids}) > 1  # not a UUID's fixed version digit: all 128 bits random


def test_a_forked_child_does_not_hand_out_its_parents_ids() -> None:
    _new_id()  # the parent has ids read ahead
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its next id, to the parent
        os.write(writer, _new_id().encode())
        os._exit(0)
    os.close(writer)
    os.waitpid(pid, 0)
    child = os.read(reader, 64).decode()
    os.close(reader)
    assert len(child) == 32
    assert child != _new_id()  # the parent's next one, which a copied buffer would repeat
