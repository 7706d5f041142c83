"""TokenDefined on sessions.tokens.v1: one id token of the token store (pure)."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from contracts.envelope import Envelope
from contracts.errors import RecordRejected
from contracts.events import EventType
from ocppj.authorization import ID_TOKEN_TYPES, STATUSES_201
from ocppj.timestamps import parse_timestamp

SCHEMA_VERSION = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class Token:
    """One id token (RFID card, app id); the record's key is ``id_token``."""

    id_token: str
    type: str  # 2.0.1 IdTokenEnumType; 1.6 idTags are all of one kind
    status: str  # 2.0.1 AuthorizationStatusEnumType as the operator set it
    expires_at: datetime | None = None
    group_id: str | None = None  # 1.6 parentIdTag, 2.0.1 groupIdToken

    def payload(self) -> dict[str, Any]:
        """The TokenDefined payload (``expires_at`` a datetime: a msgpack timestamp)."""
        return {
            "id_token": self.id_token,
            "type": self.type,
            "status": self.status,
            "expires_at": self.expires_at,
            "group_id": self.group_id,
        }

    def envelope(self) -> Envelope:
        return Envelope(
            event_type=EventType.TOKEN_DEFINED,
            schema_version=SCHEMA_VERSION,
            key=self.id_token,
            payload=self.payload(),
        )

    @classmethod
    def parse(cls, envelope: Envelope) -> "Token":
        """A TokenDefined record; ``expires_at`` may be a datetime or RFC 3339 text.

        Raises:
            RecordRejected: another event type, an ``id_token`` that is not the record key, a
                missing or mistyped field, a type that is not
                an IdTokenEnumType, a status that is not an AuthorizationStatusEnumType, or an
                unreadable ``expires_at``.
        """
        if envelope.event_type != EventType.TOKEN_DEFINED:
            raise RecordRejected(f"not a {EventType.TOKEN_DEFINED}: {envelope.event_type}")
        data = envelope.payload
        id_token, token_type, status = data.get("id_token"), data.get("type"), data.get("status")
        group_id, raw_expiry = data.get("group_id"), data.get("expires_at")
        if not isinstance(id_token, str):
            raise RecordRejected("invalid token record: id_token must be a string")
        if id_token != envelope.key:  # a tombstone of the key would not delete it
            raise RecordRejected("invalid token record: id_token is not the record key")
        if group_id is not None and not isinstance(group_id, str):
            raise RecordRejected("invalid token record: group_id must be a string")
        if not isinstance(token_type, str) or token_type not in ID_TOKEN_TYPES:
            raise RecordRejected(f"invalid token record: type {token_type!r} is unknown")
        if not isinstance(status, str) or status not in STATUSES_201:
            raise RecordRejected(f"invalid token record: status {status!r} is unknown")
        expires_at = None if raw_expiry is None else parse_timestamp(raw_expiry)
        if raw_expiry is not None and expires_at is None:
            raise RecordRejected(f"invalid token record: expires_at {raw_expiry!r} is no date")
        return cls(
            id_token=id_token,
            type=token_type,
            status=status,
            expires_at=expires_at,
            group_id=group_id or None,
        )
