"""Id tokens and their authorization, as 1.6 idTagInfo and 2.0.1 idTokenInfo (pure).

A token is plain data: the TokenDefined payload of sessions.tokens.v1 (docs/events.md), read
by ``TokenInfo.from_dict``. Tokens are looked up by value (the topic's key); the 2.0.1 token
type is recorded but not compared, except that type NoAuthorization needs no token at all.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ocppj.authorization import ID_TOKEN_TYPES, NO_AUTHORIZATION, STATUSES_16, STATUSES_201
from ocppj.timestamps import parse_timestamp, rfc3339

ACCEPTED = "Accepted"
INVALID = "Invalid"
EXPIRED = "Expired"
PARENT_ID_TAG_MAX = 20  # 1.6 IdToken is a CiString20Type
GROUP_ID_TOKEN_MAX = 36  # 2.0.1 IdTokenType.idToken is an identifierString(36)


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenInfo:
    """One id token of the token store."""

    id_token: str
    type: str  # 2.0.1 IdTokenEnumType; 1.6 idTags are all of one kind
    status: str  # 2.0.1 AuthorizationStatusEnumType as the operator set it
    expires_at: datetime | None = None
    group_id: str | None = None  # 1.6 parentIdTag, 2.0.1 groupIdToken

    def to_dict(self) -> dict[str, Any]:
        """The TokenDefined payload."""
        return {
            "id_token": self.id_token,
            "type": self.type,
            "status": self.status,
            "expires_at": self.expires_at,
            "group_id": self.group_id,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "TokenInfo":
        """A TokenDefined payload as a token; ``expires_at`` may be a datetime or RFC 3339.

        Raises:
            KeyError: ``id_token``, ``type`` or ``status`` is missing.
            TypeError: a field has the wrong type.
            ValueError: an unknown type or status, or an unreadable ``expires_at``.
        """
        id_token, token_type, status = data["id_token"], data["type"], data["status"]
        group_id, raw_expiry = data.get("group_id"), data.get("expires_at")
        for name, value in (("id_token", id_token), ("type", token_type), ("status", status)):
            if not isinstance(value, str):
                raise TypeError(f"{name} must be a string, got {type(value).__name__}")
        if group_id is not None and not isinstance(group_id, str):
            raise TypeError(f"group_id must be a string, got {type(group_id).__name__}")
        if token_type not in ID_TOKEN_TYPES:
            raise ValueError(f"type {token_type!r} is not an IdTokenEnumType")
        if status not in STATUSES_201:
            raise ValueError(f"status {status!r} is not an AuthorizationStatusEnumType")
        expires_at = None if raw_expiry is None else parse_timestamp(raw_expiry)
        if raw_expiry is not None and expires_at is None:
            raise ValueError(f"expires_at {raw_expiry!r} is not a date-time")
        return cls(
            id_token=id_token,
            type=token_type,
            status=status,
            expires_at=expires_at,
            group_id=group_id or None,
        )


def authorize(
    tokens: Mapping[str, TokenInfo],
    id_token: str,
    now: datetime,
    *,
    token_type: str | None = None,
) -> str:
    """The authorization status of ``id_token`` at ``now`` (AuthorizationStatusEnumType).

    Unknown -> Invalid; past its expiry -> Expired; 2.0.1 type NoAuthorization -> Accepted
    (the station needs no identification, e.g. free vend).
    """
    if token_type == NO_AUTHORIZATION:
        return ACCEPTED
    token = tokens.get(id_token)
    if token is None:
        return INVALID
    if token.status != ACCEPTED:
        return token.status
    if token.expires_at is not None and token.expires_at <= now:
        return EXPIRED
    return ACCEPTED


def id_tag_info(tokens: Mapping[str, TokenInfo], id_tag: str, now: datetime) -> dict[str, Any]:
    """1.6 IdTagInfo: status, expiryDate (Accepted with an expiry), parentIdTag (the group)."""
    status = authorize(tokens, id_tag, now)
    info: dict[str, Any] = {"status": status if status in STATUSES_16 else INVALID}
    token = tokens.get(id_tag)
    if token is not None:
        if status == ACCEPTED and token.expires_at is not None:
            info["expiryDate"] = rfc3339(token.expires_at)
        if token.group_id is not None and len(token.group_id) <= PARENT_ID_TAG_MAX:
            info["parentIdTag"] = token.group_id
    return info


def id_token_info(
    tokens: Mapping[str, TokenInfo], id_token: Mapping[str, Any], now: datetime
) -> dict[str, Any]:
    """2.0.1 IdTokenInfoType for an IdTokenType ``{idToken, type}``: status,
    cacheExpiryDateTime (Accepted with an expiry), groupIdToken (the group, type Central)."""
    value, token_type = id_token.get("idToken"), id_token.get("type")
    value = value if isinstance(value, str) else ""
    status = authorize(
        tokens, value, now, token_type=token_type if isinstance(token_type, str) else None
    )
    info: dict[str, Any] = {"status": status}
    token = tokens.get(value)
    if token is not None and token_type != NO_AUTHORIZATION:
        if status == ACCEPTED and token.expires_at is not None:
            info["cacheExpiryDateTime"] = rfc3339(token.expires_at)
        if token.group_id is not None and len(token.group_id) <= GROUP_ID_TOKEN_MAX:
            info["groupIdToken"] = {"idToken": token.group_id, "type": "Central"}
    return info
