"""gateway.core.auth and limiter: hashes, 1.6 key forms, HTTP Basic, the store, the limiter."""

import base64
from datetime import UTC, datetime
from typing import Any

import pytest
from argon2 import PasswordHasher, Type, extract_parameters

from contracts.codec import decode, encode
from contracts.envelope import Envelope
from gateway.core.auth import (
    MEMORY_COST_KIB,
    TIME_COST,
    AuthResult,
    Credential,
    CredentialStore,
    InvalidCredential,
    InvalidStationId,
    PasswordPolicyViolation,
    SecurityProfile,
    canonical_password,
    check_basic_auth,
    check_new_password,
    check_station_id,
    credential_envelope,
    credential_from_envelope,
    hash_password,
    parse_basic_auth,
    station_id_from_path,
    verify_password,
)
from gateway.core.limiter import FailureLimiter

# OCPP-J 1.6 §6.2.2's example: identity "AL1000", authorization key
# 0001020304050607FFFFFFCCCCCCCCCCCC (17 bytes), header "Basic QUwxMDAwOgABAgMEBQYH////zMzMzMzM".
KEY_16 = bytes.fromhex("0001020304050607FFFFFFCCCCCCCCCCCC")
SPEC_HEADER_16 = "Basic QUwxMDAwOgABAgMEBQYH////zMzMzMzM"
KEY_16_HEX = KEY_16.hex().encode()
PASSWORD_201 = b"Zx8-p@ssw0rd:with:colons"  # a 2.0.1 passwordString, sent as UTF-8
SET_AT = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)


def basic(user: bytes, password: bytes) -> str:
    return "Basic " + base64.b64encode(user + b":" + password).decode()


@pytest.fixture(scope="module")
def hash_16() -> str:
    return hash_password(KEY_16_HEX)


@pytest.fixture(scope="module")
def hash_201() -> str:
    return hash_password(PASSWORD_201)


# --- hashing ---------------------------------------------------------------------------------


def test_hash_is_argon2id_with_the_chosen_cost(hash_201: str) -> None:
    parameters = extract_parameters(hash_201)
    assert parameters.type is Type.ID
    assert (parameters.memory_cost, parameters.time_cost) == (MEMORY_COST_KIB, TIME_COST)
    assert hash_201.startswith("$argon2id$")
    assert hash_password(PASSWORD_201) != hash_201  # salted


def test_verify_accepts_the_password_and_refuses_others(hash_201: str) -> None:
    assert verify_password(hash_201, PASSWORD_201)
    assert not verify_password(hash_201, PASSWORD_201 + b"x")
    assert not verify_password(hash_201, b"")


@pytest.mark.parametrize("garbage", ["", "plain", "$argon2id$v=19$m=1", "$2b$12$bcrypt"])
def test_verify_never_raises_on_a_broken_hash(garbage: str) -> None:
    assert not verify_password(garbage, PASSWORD_201)


@pytest.mark.parametrize(
    "sent",
    [KEY_16, KEY_16_HEX, KEY_16_HEX.upper()],
    ids=["raw-bytes", "hex", "upper-hex"],
)
def test_a_1_6_key_set_as_hex_verifies_in_every_form(hash_16: str, sent: bytes) -> None:
    # 1.6 whitepaper A00.FR.205 / reference ocpp.md §1.6: stations send raw bytes or hex.
    assert verify_password(hash_16, sent)


def test_the_ocpp_j_1_6_example_header_is_accepted(hash_16: str) -> None:
    # OCPP-J 1.6 §6.2.2: the raw key bytes follow "AL1000:" inside the base64.
    assert parse_basic_auth(SPEC_HEADER_16) == ("AL1000", KEY_16)
    store = CredentialStore()
    store.apply(Credential(station_id="AL1000", password_hash=hash_16))
    assert check_basic_auth("AL1000", SPEC_HEADER_16, store) is AuthResult.ACCEPTED


def test_a_1_6_key_set_as_raw_bytes_verifies_in_every_form() -> None:
    encoded = hash_password(KEY_16)
    assert verify_password(encoded, KEY_16)
    assert verify_password(encoded, KEY_16_HEX)


def test_a_non_printable_raw_1_6_key_verifies_as_bytes_and_hex() -> None:
    key = bytes(range(0x80, 0x94))  # 20 bytes, not UTF-8
    encoded = hash_password(key.hex().encode())
    assert verify_password(encoded, key)
    assert verify_password(encoded, key.hex().encode())
    assert not verify_password(encoded, key[:-1])


@pytest.mark.parametrize(
    ("password", "canonical"),
    [
        (KEY_16_HEX, KEY_16),
        (KEY_16_HEX[:32], KEY_16[:16]),  # 16 bytes, the whitepaper's minimum
        (KEY_16_HEX[:30], KEY_16_HEX[:30]),  # 15 bytes: not an AuthorizationKey
        (KEY_16_HEX + b"010203", KEY_16 + b"\x01\x02\x03"),  # 20 bytes, the maximum
        (KEY_16_HEX + b"01020304", KEY_16_HEX + b"01020304"),  # 21 bytes: not a key
        (KEY_16_HEX[:33], KEY_16_HEX[:33]),  # odd length
        (b"0123456789abcdefghij", b"0123456789abcdefghij"),  # a 20-byte raw key stays raw
        (PASSWORD_201, PASSWORD_201),
        (b" " + KEY_16_HEX, b" " + KEY_16_HEX),  # bytes.fromhex would skip spaces: we do not
    ],
)
def test_canonical_password(password: bytes, canonical: bytes) -> None:
    assert canonical_password(password) == canonical


# --- new credentials ---------------------------------------------------------------------------


@pytest.mark.parametrize("station_id", ["CS001", "RDAM 123", "x" * 255, "Ladesäule-7"])
def test_check_station_id_accepts(station_id: str) -> None:
    check_station_id(station_id)


@pytest.mark.parametrize("station_id", ["", "a:b", "x" * 256, "CS\n001", "CS\x7f"])
def test_check_station_id_refuses(station_id: str) -> None:
    with pytest.raises(InvalidStationId):
        check_station_id(station_id)


@pytest.mark.parametrize("password", [KEY_16, KEY_16_HEX, b"x" * 16, b"x" * 64])
def test_check_new_password_accepts(password: bytes) -> None:
    check_new_password(password)


@pytest.mark.parametrize("password", [b"", b"x" * 15, b"x" * 65])
def test_check_new_password_refuses(password: bytes) -> None:
    with pytest.raises(PasswordPolicyViolation):
        check_new_password(password)


# --- HTTP Basic ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (basic(b"CS001", b"secret"), ("CS001", b"secret")),
        (basic(b"CS001", b"a:b:c"), ("CS001", b"a:b:c")),  # only the first ':' splits
        (basic(b"CS001", b""), ("CS001", b"")),
        (basic(b"", b"secret"), ("", b"secret")),
        (basic(b"CS001", KEY_16 + b"\xff\x00"), ("CS001", KEY_16 + b"\xff\x00")),  # raw bytes
        (basic("Ladesäule".encode(), b"pw"), ("Ladesäule", b"pw")),  # RFC 7617 charset=UTF-8
        ("basic " + basic(b"CS001", b"pw")[6:], ("CS001", b"pw")),  # scheme is case-insensitive
        ("BASIC   " + basic(b"CS001", b"pw")[6:] + "  ", ("CS001", b"pw")),
        ("  " + basic(b"CS001", b"pw"), ("CS001", b"pw")),
        ("Basic " + basic(b"CS001", b"pw1")[6:].rstrip("="), ("CS001", b"pw1")),  # no padding
    ],
)
def test_parse_basic_auth(header: str, expected: tuple[str, bytes]) -> None:
    assert parse_basic_auth(header) == expected


@pytest.mark.parametrize(
    "header",
    [
        "",
        "Basic",
        "Basic ",
        "Bearer " + basic(b"CS001", b"pw")[6:],
        "Basic !!!not-base64!!!",
        "Basic Q1MwMDE6cHc=extra",  # data after the padding
        "Basic Q1MwMDE6c",  # length 4n+1 cannot be base64
        "Basic " + base64.b64encode(b"CS001-no-colon").decode(),  # missing colon
        "Basic " + base64.b64encode(b"\xff\xfe:pw").decode(),  # user-id not UTF-8
        "Basic Q1MwMDE6cHcé",  # non-ASCII in the token
        "Basic Q1Mw MDE6cHc=",  # whitespace inside the token
        basic(b"CS001", b"x" * 2000),  # oversized
    ],
)
def test_parse_basic_auth_refuses_malformed(header: str) -> None:
    assert parse_basic_auth(header) is None


@pytest.fixture(scope="module")
def store(hash_16: str, hash_201: str) -> CredentialStore:
    store = CredentialStore()
    store.apply(Credential(station_id="CS16", password_hash=hash_16))
    store.apply(Credential(station_id="CS201", password_hash=hash_201))
    store.apply(
        Credential(
            station_id="CS-TLS",
            password_hash=hash_201,
            allowed_profiles=frozenset({SecurityProfile.TLS_BASIC_AUTH}),
        )
    )
    return store


@pytest.mark.parametrize(
    ("station_id", "header", "expected"),
    [
        ("CS201", basic(b"CS201", PASSWORD_201), AuthResult.ACCEPTED),
        ("CS16", basic(b"CS16", KEY_16), AuthResult.ACCEPTED),
        ("CS16", basic(b"CS16", KEY_16_HEX), AuthResult.ACCEPTED),
        ("CS201", basic(b"CS201", b"wrong-password-16"), AuthResult.BAD_PASSWORD),
        ("CS201", basic(b"CS16", KEY_16), AuthResult.USERNAME_MISMATCH),  # A00.FR.204
        ("CS201", basic(b"cs201", PASSWORD_201), AuthResult.USERNAME_MISMATCH),
        ("CS201", None, AuthResult.MISSING_HEADER),
        ("CS201", "Basic ???", AuthResult.MALFORMED_HEADER),
        ("CS404", basic(b"CS404", PASSWORD_201), AuthResult.UNKNOWN_STATION),
        ("CS404", None, AuthResult.UNKNOWN_STATION),
        ("CS-TLS", basic(b"CS-TLS", PASSWORD_201), AuthResult.PROFILE_NOT_ALLOWED),
    ],
)
def test_check_basic_auth(
    store: CredentialStore, station_id: str, header: str | None, expected: AuthResult
) -> None:
    assert check_basic_auth(station_id, header, store) is expected


def test_check_basic_auth_on_the_allowed_profile(store: CredentialStore) -> None:
    header = basic(b"CS-TLS", PASSWORD_201)
    result = check_basic_auth("CS-TLS", header, store, profile=SecurityProfile.TLS_BASIC_AUTH)
    assert result is AuthResult.ACCEPTED


def test_check_basic_auth_lets_unknown_stations_in_when_onboarding(store: CredentialStore) -> None:
    result = check_basic_auth("CS404", None, store, accept_unknown=True)
    assert result is AuthResult.ACCEPTED_UNKNOWN
    assert result.accepted
    # Known stations still need their password.
    header = basic(b"CS201", b"wrong-password-16")
    assert check_basic_auth("CS201", header, store, accept_unknown=True) is AuthResult.BAD_PASSWORD


def test_auth_result_properties() -> None:
    assert {r for r in AuthResult if r.accepted} == {
        AuthResult.ACCEPTED,
        AuthResult.ACCEPTED_UNKNOWN,
    }
    assert not AuthResult.RATE_LIMITED.is_failure
    assert AuthResult.BAD_PASSWORD.is_failure
    assert AuthResult.UNKNOWN_STATION.http_status == 404  # reference ocpp.md §1.5
    assert AuthResult.BAD_PASSWORD.http_status == 401
    assert AuthResult.RATE_LIMITED.http_status == 429
    assert AuthResult.CERTIFICATE_MISMATCH.http_status == 403
    assert all(r.http_status == 101 for r in AuthResult if r.accepted)


# --- credential records and the store -----------------------------------------------------------


def test_a_credential_envelope_round_trips_through_the_codec(hash_201: str) -> None:
    envelope = credential_envelope(
        "CS201",
        hash_201,
        set_at=SET_AT,
        allowed_profiles=[SecurityProfile.TLS_BASIC_AUTH, SecurityProfile.BASIC_AUTH],
    )
    assert (envelope.event_type, envelope.schema_version, envelope.key) == (
        "CredentialSet",
        1,
        "CS201",
    )
    assert envelope.payload == {
        "station_id": "CS201",
        "password_hash": hash_201,
        "algorithm": "argon2id",
        "allowed_profiles": [1, 2],
    }
    credential = credential_from_envelope(decode(encode(envelope)))
    assert credential == Credential(
        station_id="CS201",
        password_hash=hash_201,
        allowed_profiles=frozenset({SecurityProfile.BASIC_AUTH, SecurityProfile.TLS_BASIC_AUTH}),
        set_at=SET_AT,
    )


def test_the_hash_stays_out_of_the_repr(hash_201: str) -> None:
    credential = Credential(station_id="CS201", password_hash=hash_201)
    assert hash_201 not in repr(credential)
    assert "argon2" not in repr(credential)


def _envelope(
    hash_201: str, *, event_type: str = "CredentialSet", schema_version: int = 1, **payload: object
) -> Envelope:
    return Envelope(
        event_type=event_type,
        schema_version=schema_version,
        key="CS201",
        payload={
            "station_id": "CS201",
            "password_hash": hash_201,
            "algorithm": "argon2id",
            "allowed_profiles": None,
        }
        | payload,
        occurred_at=SET_AT,
    )


@pytest.mark.parametrize(
    "changes",
    [
        {"event_type": "CredentialRevoked"},
        {"schema_version": 2},
        {"station_id": "CS202"},  # payload disagrees with the key
        {"algorithm": "bcrypt"},
        {"password_hash": None},
        {"password_hash": "not-a-hash"},
        {"password_hash": PasswordHasher(type=Type.I).hash("x")},  # argon2i, not argon2id
        {"password_hash": PasswordHasher(memory_cost=65 * 1024).hash("x")},  # too costly
        {"password_hash": PasswordHasher(time_cost=9).hash("x")},
        {"password_hash": PasswordHasher(parallelism=9).hash("x")},
        {"allowed_profiles": []},
        {"allowed_profiles": [4]},
        {"allowed_profiles": [True]},
        {"allowed_profiles": [[1]]},
        {"allowed_profiles": "2"},
    ],
    ids=repr,
)
def test_invalid_credential_records_are_refused(hash_201: str, changes: dict[str, Any]) -> None:
    store = CredentialStore()
    with pytest.raises(InvalidCredential):
        store.apply(_envelope(hash_201, **changes))
    assert len(store) == 0


def test_store_apply_replace_remove(hash_16: str, hash_201: str) -> None:
    store = CredentialStore()
    store.apply(_envelope(hash_201))
    assert "CS201" in store
    assert store.lookup("CS201") == Credential(
        station_id="CS201", password_hash=hash_201, set_at=SET_AT
    )
    store.apply(_envelope(hash_16))  # a new password replaces the old (A01.FR.03)
    credential = store.lookup("CS201")
    assert credential is not None
    assert credential.password_hash == hash_16
    store.remove("CS201")
    assert store.lookup("CS201") is None
    store.remove("CS201")  # removing an unknown station is fine (tombstones replay)
    assert len(store) == 0


def test_an_invalidated_station_is_refused_even_when_onboarding(hash_201: str) -> None:
    store = CredentialStore()
    store.apply(_envelope(hash_201))
    store.invalidate("CS201")  # its latest record could not be read
    header = basic(b"CS201", PASSWORD_201)
    assert check_basic_auth("CS201", header, store) is AuthResult.BAD_PASSWORD
    assert check_basic_auth("CS201", header, store, accept_unknown=True) is AuthResult.BAD_PASSWORD
    store.apply(_envelope(hash_201))  # a valid record restores it
    assert check_basic_auth("CS201", header, store) is AuthResult.ACCEPTED


# --- failure limiter -------------------------------------------------------------------------


def test_limiter_allows_until_max_failures_then_blocks_for_the_cooldown() -> None:
    limiter = FailureLimiter(max_failures=3, window_s=60, base_cooldown_s=2, max_cooldown_s=300)
    for now in (0.0, 1.0):
        limiter.record_failure("CS001", now)
        assert limiter.allow("CS001", now)
    limiter.record_failure("CS001", 2.0)  # the third failure
    assert not limiter.allow("CS001", 2.0)
    assert not limiter.allow("CS001", 3.9)
    assert limiter.retry_after("CS001", 3.0) == pytest.approx(1.0)
    assert limiter.allow("CS001", 4.0)
    assert limiter.allow("CS002", 2.0)  # other keys are not affected


def test_limiter_cooldown_doubles_and_is_capped() -> None:
    limiter = FailureLimiter(max_failures=1, window_s=10, base_cooldown_s=1, max_cooldown_s=8)
    now, cooldowns = 0.0, []
    for _ in range(6):
        limiter.record_failure("k", now)
        cooldowns.append(limiter.retry_after("k", now))
        now += cooldowns[-1]  # fail again as soon as allowed
    assert cooldowns == [1, 2, 4, 8, 8, 8]


def test_limiter_forgets_a_key_after_a_quiet_window() -> None:
    limiter = FailureLimiter(max_failures=2, window_s=60, base_cooldown_s=10)
    limiter.record_failure("k", 0.0)
    limiter.record_failure("k", 1.0)  # blocked until 11.0
    assert not limiter.allow("k", 5.0)
    limiter.record_failure("k", 71.0)  # quiet since 11.0 for 60 s: a fresh start
    assert limiter.allow("k", 71.0)
    limiter.record_failure("k", 72.0)  # second failure of the new window
    assert limiter.retry_after("k", 72.0) == pytest.approx(10.0)


def test_limiter_success_resets_the_key() -> None:
    limiter = FailureLimiter(max_failures=2)
    limiter.record_failure("k", 0.0)
    limiter.record_success("k")
    limiter.record_failure("k", 1.0)
    assert limiter.allow("k", 1.0)
    assert limiter.retry_after("k", 1.0) == 0.0
    limiter.record_success("never-failed")


def test_limiter_memory_is_bounded() -> None:
    limiter = FailureLimiter(max_failures=1, window_s=60, base_cooldown_s=1, max_keys=100)
    for i in range(1000):
        limiter.record_failure(f"10.0.{i // 256}.{i % 256}", now=0.0)
    assert len(limiter) == 100
    assert not limiter.allow("10.0.3.231", 0.5)  # the most recent keys are kept
    assert limiter.allow("10.0.0.0", 0.5)  # the oldest were evicted


def test_limiter_evicts_stale_keys_as_time_passes() -> None:
    limiter = FailureLimiter(max_failures=5, window_s=60)
    for i in range(50):
        limiter.record_failure(f"old-{i}", now=0.0)
    limiter.record_failure("new", now=61.0)
    assert len(limiter) == 1


def test_limiter_survives_a_huge_failure_count() -> None:
    limiter = FailureLimiter(max_failures=1, window_s=1e9, base_cooldown_s=1, max_cooldown_s=5)
    for i in range(2000):
        limiter.record_failure("k", float(i))
    assert limiter.retry_after("k", 1999.0) == pytest.approx(5.0)


def test_limiter_refuses_nonsense_settings() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        FailureLimiter(max_failures=0)


@pytest.mark.parametrize(
    ("path", "prefix", "expected"),
    [
        ("/ocpp/CS-1", "/ocpp", "CS-1"),
        ("/ocpp/CS-1", "/ocpp/", "CS-1"),
        ("/ocpp/CS-1?token=x", "/ocpp", "CS-1"),
        ("/ocpp/CS%201", "/ocpp", "CS 1"),  # percent-decoded
        ("/ocpp/" + "x" * 48, "/ocpp", "x" * 48),  # 2.0.1 identifierString: at most 48
        ("/ocpp/" + "x" * 49, "/ocpp", None),
        ("/other/CS-1", "/ocpp", None),
        ("/ocpp", "/ocpp", None),
        ("/ocpp/", "/ocpp", None),
        ("/ocpp/site/CS-1", "/ocpp", None),
        ("/ocpp/site%2FCS-1", "/ocpp", None),
        ("/ocpp/CS%3A1", "/ocpp", None),  # ':' cannot be a Basic user-id
        ("/ocpp/CS%0A1", "/ocpp", None),
        ("/ocpp/%FF", "/ocpp", None),  # not UTF-8
    ],
)
def test_station_id_from_path(path: str, prefix: str, expected: str | None) -> None:
    assert station_id_from_path(path, prefix) == expected
