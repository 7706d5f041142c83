"""Id tokens and their authorization, as 1.6 idTagInfo and 2.0.1 idTokenInfo (pure).

A token is plain data: the TokenDefined payload of sessions.tokens.v1 (contracts/payloads/
tokens.py). Tokens are looked up by value (the topic's key); the 2.0.1 token type is recorded
but not compared, except that type NoAuthorization needs no token at all.
"""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from contracts.payloads.tokens import Token
from ocppj.authorization import NO_AUTHORIZATION, STATUSES_16
from ocppj.timestamps import rfc3339

ACCEPTED = "Accepted"
INVALID = "Invalid"
EXPIRED = "Expired"
PARENT_ID_TAG_MAX = 20  # 1.6 IdToken is a CiString20Type
GROUP_ID_TOKEN_MAX = 36  # 2.0.1 IdTokenType.idToken is an identifierString(36)


def authorize(
    tokens: Mapping[str, Token],
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


def id_tag_info(tokens: Mapping[str, Token], id_tag: str, now: datetime) -> dict[str, Any]:
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
    tokens: Mapping[str, Token], id_token: Mapping[str, Any], now: datetime
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
