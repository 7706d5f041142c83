"""contracts.payloads.credentials: CredentialSet written and read, never its hash in a repr."""

import dataclasses
from datetime import UTC, datetime
from typing import Any

import pytest

from contracts.codec import decode, encode
from contracts.envelope import Envelope
from contracts.errors import RecordRejected
from contracts.events import EventType
from contracts.payloads.credentials import CredentialSet

AT = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
HASH = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo"
RECORD = CredentialSet.of("CS-1", HASH, set_at=AT, allowed_profiles=[2, 1])


def wire(envelope: Envelope) -> Envelope:
    return decode(encode(envelope))


def with_payload(envelope: Envelope, **changes: Any) -> Envelope:
    payload = {k: v for k, v in {**envelope.payload, **changes}.items() if v is not ...}
    return dataclasses.replace(envelope, payload=payload)


def test_a_credential_round_trips_with_sorted_profiles() -> None:
    envelope = RECORD.envelope()
    assert (envelope.event_type, envelope.key, envelope.occurred_at) == (
        EventType.CREDENTIAL_SET,
        "CS-1",
        AT,
    )
    assert envelope.payload == {
        "station_id": "CS-1",
        "password_hash": HASH,
        "algorithm": "argon2id",
        "allowed_profiles": [1, 2],
    }
    assert CredentialSet.parse(wire(envelope)) == RECORD
    any_profile = CredentialSet.of("CS-1", HASH, set_at=AT)
    assert CredentialSet.parse(wire(any_profile.envelope())) == any_profile


def test_the_hash_stays_out_of_reprs() -> None:
    assert HASH not in repr(RECORD)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"station_id": "CS-2"}, "is not the key"),
        ({"algorithm": "bcrypt"}, "algorithm 'bcrypt' is not argon2id"),
        ({"password_hash": ...}, "password_hash is missing"),
        ({"allowed_profiles": []}, "allowed_profiles must be a non-empty list"),
        ({"allowed_profiles": [True]}, "allowed_profiles must be a non-empty list"),
        ({"allowed_profiles": "1,2"}, "allowed_profiles must be a non-empty list"),
    ],
)
def test_a_credential_that_cannot_be_trusted_is_refused(
    changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(RecordRejected, match=message) as refused:
        CredentialSet.parse(wire(with_payload(RECORD.envelope(), **changes)))
    assert HASH not in str(refused.value)


def test_another_event_type_or_schema_version_is_refused() -> None:
    other = dataclasses.replace(RECORD.envelope(), event_type=EventType.TOKEN_DEFINED)
    with pytest.raises(RecordRejected, match="not a CredentialSet v1"):
        CredentialSet.parse(other)
    with pytest.raises(RecordRejected, match="v2"):
        CredentialSet.parse(dataclasses.replace(RECORD.envelope(), schema_version=2))
