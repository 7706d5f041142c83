"""CredentialSet on ocpp.credentials.v1: a station's password hash, never the password (pure).

Key: the station id; a tombstone revokes the station. The gateway verifies the hash's algorithm
and cost before it trusts one (gateway/core/auth.py); this module only reads and writes it.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from contracts.envelope import Envelope
from contracts.errors import RecordRejected
from contracts.events import EventType

SCHEMA_VERSION = 1
ALGORITHM = "argon2id"


@dataclass(frozen=True, slots=True, kw_only=True)
class CredentialSet:
    """A new password hash for one station, and the security profiles it may use."""

    station_id: str
    password_hash: str = field(repr=False)  # kept out of reprs, hence out of logs
    allowed_profiles: tuple[int, ...] | None = None  # OCPP security profiles; None: any
    set_at: datetime

    @classmethod
    def of(
        cls,
        station_id: str,
        password_hash: str,
        *,
        set_at: datetime,
        allowed_profiles: Iterable[int] | None = None,
    ) -> "CredentialSet":
        """The record for a new hash; the profiles are written sorted."""
        profiles = None if allowed_profiles is None else tuple(sorted(allowed_profiles))
        return cls(
            station_id=station_id,
            password_hash=password_hash,
            allowed_profiles=profiles,
            set_at=set_at,
        )

    def envelope(self) -> Envelope:
        profiles = None if self.allowed_profiles is None else list(self.allowed_profiles)
        return Envelope(
            event_type=EventType.CREDENTIAL_SET,
            schema_version=SCHEMA_VERSION,
            key=self.station_id,
            payload={
                "station_id": self.station_id,
                "password_hash": self.password_hash,
                "algorithm": ALGORITHM,
                "allowed_profiles": profiles,
            },
            occurred_at=self.set_at,
        )

    @classmethod
    def parse(cls, envelope: Envelope) -> "CredentialSet":
        """Raises: RecordRejected: not a CredentialSet v1 for its key with an argon2id hash, or
        ``allowed_profiles`` not a non-empty list of integers (messages never quote the hash)."""
        if envelope.event_type != EventType.CREDENTIAL_SET or envelope.schema_version != 1:
            raise RecordRejected(
                f"not a {EventType.CREDENTIAL_SET} v1: "
                f"{envelope.event_type} v{envelope.schema_version}"
            )
        p = envelope.payload
        station_id = p.get("station_id")
        if station_id != envelope.key:
            raise RecordRejected(f"payload station_id {station_id!r} is not the key")
        if p.get("algorithm") != ALGORITHM:
            raise RecordRejected(f"algorithm {p.get('algorithm')!r} is not {ALGORITHM}")
        password_hash = p.get("password_hash")
        if not isinstance(password_hash, str):
            raise RecordRejected("password_hash is missing")
        profiles = p.get("allowed_profiles")
        if profiles is not None and (
            not isinstance(profiles, list)
            or not profiles
            or any(type(profile) is not int for profile in profiles)  # bool is not a profile
        ):
            raise RecordRejected(f"allowed_profiles must be a non-empty list: {profiles!r}")
        return cls(
            station_id=envelope.key,
            password_hash=password_hash,
            allowed_profiles=None if profiles is None else tuple(profiles),
            set_at=envelope.occurred_at,
        )
