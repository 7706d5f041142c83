"""ApiKeyIssued on api.keys.v1: an operator API key's name, role and hash, and the key ring (pure).

Key: the key's name; a tombstone revokes it. The key itself is 256 random bits shown once to
whoever created it; the topic holds only its SHA-256 (a fast hash is enough for a random
256-bit secret, where a password needs Argon2: nothing is left to guess by brute force, and
every HTTP request pays the hash). docs/security.md says how keys are made and checked.
"""

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from contracts.envelope import Envelope
from contracts.errors import RecordRejected
from contracts.events import EventType

SCHEMA_VERSION = 1
ALGORITHM = "sha256"
PREFIX = "cbk_"  # every key starts so: secret scanners and people can tell what it is
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


class Role(StrEnum):
    """What a key may do; each role may do what the roles before it may."""

    READ = "read"  # every GET
    OPERATOR = "operator"  # plus commands to stations and writes (tokens, tariffs, sites)
    ADMIN = "admin"  # plus managing API keys

    def permits(self, needed: "Role") -> bool:
        order = list(Role)
        return order.index(self) >= order.index(needed)


class InvalidKeyName(ValueError):
    """A key name that is not 1-64 of letters, digits, '.', '_' and '-'."""


def check_name(name: str) -> str:
    """Raises: InvalidKeyName."""
    if not NAME.fullmatch(name):
        raise InvalidKeyName(
            f"a key name is 1-64 letters, digits, '.', '_' or '-' (not first): {name!r}"
        )
    return name


def key_hash(key: str) -> str:
    """The hash the topic keeps for ``key``: hex SHA-256 of its UTF-8 bytes."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True, kw_only=True)
class ApiKey:
    """One API key as the topic holds it: never the key, only its hash."""

    name: str
    role: Role
    key_hash: str = field(repr=False)  # kept out of reprs, hence out of logs
    issued_at: datetime

    def envelope(self) -> Envelope:
        return Envelope(
            event_type=EventType.API_KEY_ISSUED,
            schema_version=SCHEMA_VERSION,
            key=self.name,
            payload={
                "name": self.name,
                "role": str(self.role),
                "key_hash": self.key_hash,
                "algorithm": ALGORITHM,
            },
            occurred_at=self.issued_at,
        )

    @classmethod
    def parse(cls, envelope: Envelope) -> "ApiKey":
        """Raises: RecordRejected: not an ApiKeyIssued v1 for its key with a known role and a
        SHA-256 hash (messages never quote the hash)."""
        if envelope.event_type != EventType.API_KEY_ISSUED or envelope.schema_version != 1:
            raise RecordRejected(
                f"not a {EventType.API_KEY_ISSUED} v1: "
                f"{envelope.event_type} v{envelope.schema_version}"
            )
        p = envelope.payload
        if p.get("name") != envelope.key:
            raise RecordRejected(f"payload name {p.get('name')!r} is not the key")
        if p.get("algorithm") != ALGORITHM:
            raise RecordRejected(f"algorithm {p.get('algorithm')!r} is not {ALGORITHM}")
        digest = p.get("key_hash")
        if not isinstance(digest, str) or not re.fullmatch(r"[0-9a-f]{64}", digest):
            raise RecordRejected("key_hash is not a hex SHA-256")
        try:
            role = Role(str(p.get("role")))
        except ValueError:
            roles = ", ".join(Role)
            raise RecordRejected(f"role {p.get('role')!r} is not one of {roles}") from None
        return cls(name=envelope.key, role=role, key_hash=digest, issued_at=envelope.occurred_at)


class KeyRing:
    """Every live API key by name and by hash, as api.keys.v1 says."""

    def __init__(self) -> None:
        self._by_name: dict[str, ApiKey] = {}
        self._by_hash: dict[str, ApiKey] = {}

    def __len__(self) -> int:
        return len(self._by_name)

    def issued(self) -> list[ApiKey]:
        """Every key, by name."""
        return [self._by_name[name] for name in sorted(self._by_name)]

    def apply(self, envelope: Envelope) -> None:
        """A key issued (a new name, or a new key for a name: the old key stops working).

        Raises:
            RecordRejected: the record is not an ApiKeyIssued; the name's old key is revoked
                all the same, since a record that cannot be read may be its replacement.
        """
        self.remove(envelope.key)
        key = ApiKey.parse(envelope)
        self._by_name[key.name] = key
        self._by_hash[key.key_hash] = key

    def remove(self, name: str) -> None:
        """A tombstone: the key is revoked."""
        old = self._by_name.pop(name, None)
        if old is not None:
            self._by_hash.pop(old.key_hash, None)

    def live(self, key: ApiKey) -> bool:
        """Whether ``key`` (as authenticated earlier) still works: not revoked, not replaced."""
        return self._by_name.get(key.name) == key

    def authenticate(self, presented: str) -> ApiKey | None:
        """The live key whose hash is that of ``presented``, if any."""
        return self._by_hash.get(key_hash(presented))
