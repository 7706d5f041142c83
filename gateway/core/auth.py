"""Station authentication: identity, password hashes, HTTP Basic, credential store (pure).

AuthError
 ├── InvalidCredential        a credential record we refuse to store (shape, algorithm, cost)
 ├── InvalidStationId         a station id that cannot be an HTTP Basic user-id
 └── PasswordPolicyViolation  a new password outside OCPP's length rules (A00.FR.205)

Nothing here does I/O or reads a clock: time arrives as ``now`` (monotonic seconds) or as an
aware ``datetime``. Verifying a password costs one Argon2id computation (~17 ms on this project's
2-core machine, docs/security.md): the gateway runs ``check_basic_auth`` in a worker thread
(argon2-cffi releases the GIL) and consults the ``FailureLimiter`` (limiter.py) first.
"""

import base64
import binascii
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum, StrEnum
from typing import Final
from urllib.parse import unquote

from argon2 import PasswordHasher, Type, extract_parameters
from argon2.exceptions import InvalidHashError, VerificationError

from contracts.envelope import Envelope
from contracts.errors import RecordRejected
from contracts.payloads.credentials import CredentialSet


class AuthError(Exception):
    """Base class of the authentication errors."""


class InvalidCredential(AuthError, RecordRejected):
    """A credential record (envelope on ocpp.credentials.v1) that we refuse to store."""


class InvalidStationId(AuthError):
    """A station id that cannot be an HTTP Basic user-id (empty, ':' or control characters)."""


class PasswordPolicyViolation(AuthError):
    """A new password that OCPP does not allow (too short or too long)."""


# --- Password hashing ----------------------------------------------------------------------

# OWASP's first Argon2id setting (m=19 MiB, t=2, p=1): 17 ms per verify here; two threads
# verify ~100 passwords/s on 2 cores (measured, docs/security.md "Password hashes").
TIME_COST: Final = 2
MEMORY_COST_KIB: Final = 19 * 1024
_HASHER: Final = PasswordHasher(
    time_cost=TIME_COST, memory_cost=MEMORY_COST_KIB, parallelism=1, salt_len=16, type=Type.ID
)  # hash_len: the default 32 bytes
# A verify uses the parameters inside the stored hash: bound them, so that a bad record cannot
# make every reconnect of a station cost seconds or gigabytes.
MAX_MEMORY_COST_KIB: Final = 64 * 1024
MAX_TIME_COST: Final = 8
MAX_PARALLELISM: Final = 8

# OCPP 1.6 security whitepaper A00.FR.205: the AuthorizationKey is "Minimal 16-bytes long ...
# Hexadecimal represented (20 bytes maximum, represented as a string of up to 40 hexadecimal
# digits)". Some stations send the raw bytes, some the hex string (reference ocpp.md §1.6).
_HEX_AUTHORIZATION_KEY = re.compile(rb"(?:[0-9A-Fa-f]{2}){16,20}")


def canonical_password(password: bytes) -> bytes:
    """The form that is hashed: a 32-40 digit hex string becomes its 16-20 bytes.

    Raw 1.6 keys are 16-20 bytes long and hex spellings 32-40 characters, so the two forms never
    collide; both map to the same bytes. A 2.0.1 password that happens to be 32-40 hex digits
    is canonicalized on both sides too (it only becomes case-insensitive).
    """
    if _HEX_AUTHORIZATION_KEY.fullmatch(password):
        return bytes.fromhex(password.decode("ascii"))
    return password


def hash_password(password: bytes) -> str:
    """An encoded Argon2id hash (``$argon2id$v=19$m=...``) of the canonical password."""
    return _HASHER.hash(canonical_password(password))


def verify_password(encoded_hash: str, password: bytes) -> bool:
    """Whether ``password`` (raw or hex 1.6 key, or 2.0.1 UTF-8) matches; never raises."""
    try:
        return _HASHER.verify(encoded_hash, canonical_password(password))
    except (VerificationError, InvalidHashError):  # VerifyMismatchError is a VerificationError
        return False


def check_station_id(station_id: str) -> None:
    """Raises: InvalidStationId: if the id cannot be a Basic user-id (RFC 7617, A00.FR.204)."""
    if not station_id or len(station_id) > 255:
        raise InvalidStationId(f"station id must be 1-255 characters, got {len(station_id)}")
    if ":" in station_id or any(ord(c) < 0x20 or ord(c) == 0x7F for c in station_id):
        raise InvalidStationId(f"station id {station_id!r} contains ':' or a control character")


MAX_STATION_ID: Final = 48  # 2.0.1 identifierString (reference ocpp.md §1.5)


def station_id_from_path(path: str, prefix: str) -> str | None:
    """The percent-decoded identity after ``prefix`` (``/ocpp/{station_id}``), or None if the
    path is not one of ours: another prefix, a further ``/``, more than 48 characters, bytes
    that are not UTF-8, or an id that cannot be a Basic user-id."""
    prefix = prefix.rstrip("/") + "/"
    path = path.split("?", 1)[0]
    if not path.startswith(prefix):
        return None
    try:
        station_id = unquote(path[len(prefix) :], errors="strict")
        check_station_id(station_id)
    except (UnicodeDecodeError, InvalidStationId):
        return None
    if "/" in station_id or len(station_id) > MAX_STATION_ID:
        return None
    return station_id


def check_new_password(password: bytes) -> None:
    """Raises: PasswordPolicyViolation: unless the password has 16 to 64 bytes.

    1.6 (A00.FR.205): 16-20 bytes, or their 32-40 hex digits. 2.0.1 (A00.FR.205, errata
    2025-01): 16 characters up to BasicAuthPassword's maxLimit, "at least 40 ... and at most 64".
    """
    if not password:
        raise PasswordPolicyViolation("the password is empty")
    if not 16 <= len(password) <= 64:
        raise PasswordPolicyViolation(
            f"the password has {len(password)} bytes; OCPP allows 16 to 64 (A00.FR.205)"
        )


# --- Credential records ----------------------------------------------------------------------


class SecurityProfile(IntEnum):
    """OCPP security profiles (1.6 security whitepaper and 2.0.1 Part 2, A00)."""

    BASIC_AUTH = 1  # ws:// + HTTP Basic: trusted networks only (A00.FR.201)
    TLS_BASIC_AUTH = 2  # wss:// + HTTP Basic
    TLS_CLIENT_CERTIFICATE = 3  # wss:// + client certificate (mTLS)


@dataclass(frozen=True, slots=True, kw_only=True)
class Credential:
    """What the gateway knows about one station's password; never the password itself."""

    station_id: str
    # Kept out of reprs, hence out of logs. None: a record we could not read; the station is
    # refused (fail closed) until a valid record replaces it.
    password_hash: str | None = field(repr=False)
    allowed_profiles: frozenset[SecurityProfile] | None = None  # None: any profile
    set_at: datetime | None = None


def credential_envelope(
    station_id: str,
    password_hash: str,
    *,
    set_at: datetime,
    allowed_profiles: Iterable[SecurityProfile] | None = None,
) -> Envelope:
    """The ocpp.credentials.v1 record value (key: station_id) for a new password hash."""
    profiles = None if allowed_profiles is None else (int(p) for p in allowed_profiles)
    record = CredentialSet.of(station_id, password_hash, set_at=set_at, allowed_profiles=profiles)
    return record.envelope()


def credential_from_envelope(envelope: Envelope) -> Credential:
    """Raises: InvalidCredential: if the envelope is not a CredentialSet v1 we can verify."""
    try:
        record = CredentialSet.parse(envelope)
    except RecordRejected as exc:
        raise InvalidCredential(str(exc)) from exc
    _check_hash_cost(record.password_hash)
    return Credential(
        station_id=record.station_id,
        password_hash=record.password_hash,
        allowed_profiles=_profiles(record.allowed_profiles),
        set_at=record.set_at,
    )


def _check_hash_cost(password_hash: str) -> None:
    try:
        parameters = extract_parameters(password_hash)
    except (InvalidHashError, ValueError) as exc:
        raise InvalidCredential("password_hash is not an encoded Argon2 hash") from exc
    if parameters.type is not Type.ID:
        raise InvalidCredential(f"password_hash is {parameters.type.name}, not argon2id")
    if (
        parameters.memory_cost > MAX_MEMORY_COST_KIB
        or parameters.time_cost > MAX_TIME_COST
        or parameters.parallelism > MAX_PARALLELISM
    ):
        raise InvalidCredential(
            f"password_hash costs m={parameters.memory_cost} t={parameters.time_cost} "
            f"p={parameters.parallelism}, above the bounds m={MAX_MEMORY_COST_KIB} "
            f"t={MAX_TIME_COST} p={MAX_PARALLELISM}"
        )


def _profiles(value: tuple[int, ...] | None) -> frozenset[SecurityProfile] | None:
    if value is None:
        return None
    valid = {int(p) for p in SecurityProfile}
    if any(p not in valid for p in value):
        raise InvalidCredential(f"allowed_profiles must be a non-empty list of 1-3: {value!r}")
    return frozenset(SecurityProfile(p) for p in value)


class CredentialStore:
    """station_id -> Credential, as last read from ocpp.credentials.v1."""

    def __init__(self) -> None:
        self._credentials: dict[str, Credential] = {}

    def apply(self, record: Envelope | Credential) -> Credential:
        """Store (or replace) a station's credential.

        Raises:
            InvalidCredential: if an envelope is not a CredentialSet v1 we can verify.
        """
        credential = record if isinstance(record, Credential) else credential_from_envelope(record)
        self._credentials[credential.station_id] = credential
        return credential

    def invalidate(self, station_id: str) -> None:
        """Refuse the station until a valid record arrives (its latest record is unreadable).

        Keeping the previous password would let a replaced (maybe leaked) one in; forgetting the
        station would let anyone in under ``accept_unknown``.
        """
        self._credentials[station_id] = Credential(station_id=station_id, password_hash=None)

    def remove(self, station_id: str) -> None:
        """Forget a station (a tombstone on the compacted topic); unknown ids are ignored."""
        self._credentials.pop(station_id, None)

    def lookup(self, station_id: str) -> Credential | None:
        return self._credentials.get(station_id)

    def __len__(self) -> int:
        return len(self._credentials)

    def __contains__(self, station_id: object) -> bool:
        return station_id in self._credentials


# --- HTTP Basic ------------------------------------------------------------------------------


class AuthResult(StrEnum):
    """The outcome of authenticating one WebSocket upgrade request."""

    ACCEPTED = "accepted"
    ACCEPTED_UNKNOWN = "accepted-unknown"  # unknown station let in: --accept-unknown-stations
    UNKNOWN_STATION = "unknown-station"
    MISSING_HEADER = "missing-header"
    MALFORMED_HEADER = "malformed-header"
    USERNAME_MISMATCH = "username-mismatch"  # A00.FR.204: user-id must be the URL's identity
    BAD_PASSWORD = "bad-password"
    PROFILE_NOT_ALLOWED = "profile-not-allowed"  # e.g. a TLS-only station on plain ws://
    RATE_LIMITED = "rate-limited"
    CERTIFICATE_MISMATCH = "certificate-mismatch"  # A00.FR.405: CN is not this station

    @property
    def accepted(self) -> bool:
        return self in (AuthResult.ACCEPTED, AuthResult.ACCEPTED_UNKNOWN)

    @property
    def is_failure(self) -> bool:
        """Whether to ``record_failure`` (RATE_LIMITED is the limiter's own answer)."""
        return not self.accepted and self is not AuthResult.RATE_LIMITED

    @property
    def http_status(self) -> int:
        """The upgrade's answer: 101, or the refusal status (reference ocpp.md §1.5)."""
        return _HTTP_STATUS[self]


_HTTP_STATUS: Final = {
    AuthResult.ACCEPTED: 101,
    AuthResult.ACCEPTED_UNKNOWN: 101,
    AuthResult.UNKNOWN_STATION: 404,  # "Unknown identity: HTTP 404 SHOULD be returned"
    AuthResult.MISSING_HEADER: 401,  # with WWW-Authenticate: Basic realm="ocpp", charset="UTF-8"
    AuthResult.MALFORMED_HEADER: 401,
    AuthResult.USERNAME_MISMATCH: 401,
    AuthResult.BAD_PASSWORD: 401,
    AuthResult.PROFILE_NOT_ALLOWED: 403,
    AuthResult.RATE_LIMITED: 429,  # with Retry-After: FailureLimiter.retry_after()
    AuthResult.CERTIFICATE_MISMATCH: 403,
}

# A header longer than this is refused before decoding (user-id, ':' and a 64-byte password).
_MAX_HEADER_CHARS: Final = 1024


def parse_basic_auth(header_value: str) -> tuple[str, bytes] | None:
    """(user-id, password) from an ``Authorization: Basic ...`` value, or None if malformed.

    RFC 7617: the scheme is case-insensitive; the user-id must be UTF-8 and cannot contain ':'
    (the first ':' splits); the password stays bytes, since 1.6 stations may send the raw
    AuthorizationKey (OCPP-J 1.6 §6.2.2). Missing '=' padding is tolerated.
    """
    if len(header_value) > _MAX_HEADER_CHARS:
        return None
    scheme, _, token = header_value.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "basic" or not token:
        return None
    try:
        decoded = base64.b64decode(token + "=" * (-len(token) % 4), validate=True)
    except (binascii.Error, ValueError):  # ValueError: non-ASCII characters in the token
        return None
    user, colon, password = decoded.partition(b":")
    if not colon:
        return None
    try:
        return user.decode("utf-8"), password
    except UnicodeDecodeError:
        return None


def check_basic_auth(
    station_id: str,
    header: str | None,
    store: CredentialStore,
    *,
    profile: SecurityProfile = SecurityProfile.BASIC_AUTH,
    accept_unknown: bool = False,
) -> AuthResult:
    """Authenticate an upgrade request for ``station_id`` (the identity from the URL).

    Costs one Argon2id verify when the header is well-formed for a known station: call it in a
    worker thread, after ``FailureLimiter.allow``. ``profile`` is the one the connection uses
    (2 on a TLS listener); it defaults to the weakest so that forgetting it fails closed.
    """
    credential = store.lookup(station_id)
    if credential is None:
        return AuthResult.ACCEPTED_UNKNOWN if accept_unknown else AuthResult.UNKNOWN_STATION
    if credential.allowed_profiles is not None and profile not in credential.allowed_profiles:
        return AuthResult.PROFILE_NOT_ALLOWED  # A00.FR.001-003: one profile per connection
    if header is None:
        return AuthResult.MISSING_HEADER  # A00.FR.203: credentials with every connection
    parsed = parse_basic_auth(header)
    if parsed is None:
        return AuthResult.MALFORMED_HEADER
    user, password = parsed
    if user != station_id:
        return AuthResult.USERNAME_MISMATCH  # A00.FR.204 / A00.FR.303
    if credential.password_hash is not None and verify_password(credential.password_hash, password):
        return AuthResult.ACCEPTED
    return AuthResult.BAD_PASSWORD
