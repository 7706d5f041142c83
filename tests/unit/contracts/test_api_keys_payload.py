"""ApiKeyIssued written and read, the key ring, roles and names (pure)."""

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from contracts.envelope import Envelope
from contracts.errors import RecordRejected
from contracts.events import EventType
from contracts.payloads.api_keys import (
    ApiKey,
    InvalidKeyName,
    KeyRing,
    Role,
    check_name,
    key_hash,
)

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
SECRET = "cbk_this-is-the-secret-part"


def _key(name: str = "ops", role: Role = Role.OPERATOR, secret: str = SECRET) -> ApiKey:
    return ApiKey(name=name, role=role, key_hash=key_hash(secret), issued_at=T0)


def test_a_key_record_round_trips_without_the_key_itself() -> None:
    key = _key()
    envelope = key.envelope()
    assert envelope.event_type == EventType.API_KEY_ISSUED
    assert envelope.key == "ops"
    assert envelope.payload == {
        "name": "ops",
        "role": "operator",
        "key_hash": key_hash(SECRET),
        "algorithm": "sha256",
    }
    assert SECRET not in repr(envelope.payload)
    assert ApiKey.parse(envelope) == key


def test_the_hash_is_sha256_of_the_utf8_key_and_never_in_a_repr() -> None:
    assert key_hash("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert key_hash(SECRET) not in repr(_key())


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"event_type": EventType.TOKEN_DEFINED}, "not a ApiKeyIssued v1"),
        ({"schema_version": 2}, "not a ApiKeyIssued v1"),
        ({"key": "other"}, "is not the key"),
        ({"payload": {"algorithm": "md5"}}, "algorithm 'md5'"),
        ({"payload": {"key_hash": "x" * 64}}, "not a hex SHA-256"),
        ({"payload": {"key_hash": None}}, "not a hex SHA-256"),
        ({"payload": {"role": "root"}}, "role 'root' is not one of read, operator, admin"),
    ],
)
def test_a_malformed_record_is_rejected_without_quoting_the_hash(
    change: dict[str, object], reason: str
) -> None:
    envelope = _key().envelope()
    payload = {**envelope.payload, **change.pop("payload", {})}  # type: ignore[dict-item]
    broken = replace(envelope, payload=payload, **change)  # type: ignore[arg-type]
    with pytest.raises(RecordRejected, match=reason) as error:
        ApiKey.parse(broken)
    assert key_hash(SECRET) not in str(error.value)


def test_each_role_may_do_what_the_roles_before_it_may() -> None:
    assert Role.READ.permits(Role.READ)
    assert not Role.READ.permits(Role.OPERATOR)
    assert Role.OPERATOR.permits(Role.READ)
    assert not Role.OPERATOR.permits(Role.ADMIN)
    assert all(Role.ADMIN.permits(role) for role in Role)


@pytest.mark.parametrize("name", ["ops", "billing-team", "ci.bot_2", "a" * 64])
def test_good_names(name: str) -> None:
    assert check_name(name) == name


@pytest.mark.parametrize("name", ["", "-lead", "a" * 65, "has space", "émile", "a/b"])
def test_bad_names(name: str) -> None:
    with pytest.raises(InvalidKeyName):
        check_name(name)


def test_the_ring_finds_a_live_key_by_what_is_presented() -> None:
    ring = KeyRing()
    ring.apply(_key().envelope())
    ring.apply(_key("viewer", Role.READ, "cbk_other").envelope())
    found = ring.authenticate(SECRET)
    assert found is not None
    assert (found.name, found.role) == ("ops", Role.OPERATOR)
    assert ring.authenticate("cbk_wrong") is None
    assert ring.authenticate(key_hash(SECRET)) is None  # the hash is not a key
    assert [k.name for k in ring.issued()] == ["ops", "viewer"]
    assert len(ring) == 2


def test_a_new_key_for_a_name_retires_the_old_one() -> None:
    ring = KeyRing()
    ring.apply(_key().envelope())
    ring.apply(_key(secret="cbk_rotated").envelope())
    assert ring.authenticate(SECRET) is None
    assert ring.authenticate("cbk_rotated") is not None
    assert len(ring) == 1


def test_a_tombstone_revokes_and_an_unreadable_record_revokes_too() -> None:
    ring = KeyRing()
    ring.apply(_key().envelope())
    ring.remove("ops")
    assert ring.authenticate(SECRET) is None
    ring.remove("ops")  # twice: nothing to do
    ring.apply(_key().envelope())
    broken = Envelope(
        event_type=EventType.API_KEY_ISSUED,
        schema_version=1,
        key="ops",
        payload={"name": "ops", "role": "operator", "algorithm": "sha256"},
        occurred_at=T0,
    )
    with pytest.raises(RecordRejected):
        ring.apply(broken)
    assert ring.authenticate(SECRET) is None
    assert len(ring) == 0
