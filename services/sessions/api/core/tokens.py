"""The token store's read model from sessions.tokens.v1, and strict PUT /tokens input (pure)."""

import re
from collections.abc import Mapping
from typing import Any

from contracts.envelope import Envelope
from contracts.errors import RecordRejected
from contracts.fields import jsonable
from contracts.payloads.tokens import Token
from ocppj.authorization import ID_TOKEN_TYPES
from ocppj.commands.arguments import Arguments
from ocppj.timestamps import parse_zoned
from services.sessions.api.core.errors import InvalidToken

TOKEN_STATUSES = frozenset({"Accepted", "Blocked", "Expired", "Invalid"})
# OCPP 2.0.1 IdTokenType.idToken is a CiString36 (printable ASCII); no spaces, so nothing hides.
_ID_TOKEN = re.compile(r"[\x21-\x7e]{1,36}")
MAX_GROUP_ID = 36


def token_json(token: Token) -> dict[str, Any]:
    """The token document: the TokenDefined payload with ``expires_at`` as RFC 3339 text."""
    return {name: jsonable(value) for name, value in token.payload().items()}


def check_id_token(id_token: str) -> str:
    """Raises: InvalidToken: unless ``id_token`` is 1-36 printable ASCII characters."""
    if not _ID_TOKEN.fullmatch(id_token):
        raise InvalidToken(
            f"id_token must be 1-36 printable ASCII characters without spaces "
            f"(OCPP CiString36), got {id_token[:40]!r}"
        )
    return id_token


def parse_definition(id_token: str, body: object) -> Token:
    """The token a PUT /tokens/{id_token} body defines: ``type`` and ``status`` required,
    ``expires_at`` (RFC 3339 with a zone) and ``group_id`` optional, nothing else.

    Raises:
        InvalidToken: with a message that names the field at fault.
    """
    check_id_token(id_token)
    if not isinstance(body, Mapping):
        raise InvalidToken("the body must be a JSON object")
    a = Arguments("token", body, InvalidToken)
    token_type = a.choice("type", ID_TOKEN_TYPES)
    status = a.choice("status", TOKEN_STATUSES)
    expires = a.timestamp("expires_at", required=False)
    group_id = a.string("group_id", required=False, max_length=MAX_GROUP_ID)
    if "id_token" in body:
        a.ignore("id_token")
        if body["id_token"] != id_token:
            raise InvalidToken("token: id_token in the body differs from the one in the path")
    a.done()
    return Token(
        id_token=id_token,
        type=token_type,
        status=status,
        expires_at=None if expires is None else parse_zoned(expires),
        group_id=group_id,
    )


class TokensView:
    """The token store as sessions.tokens.v1 holds it; a tombstone deletes a token."""

    def __init__(self) -> None:
        self._tokens: dict[str, Token] = {}

    def __len__(self) -> int:
        return len(self._tokens)

    def __contains__(self, id_token: object) -> bool:
        return id_token in self._tokens

    def get(self, id_token: str) -> Token | None:
        return self._tokens.get(id_token)

    def type_of(self, id_token: str) -> str | None:
        token = self._tokens.get(id_token)
        return None if token is None else token.type

    def all(self) -> list[Token]:
        return sorted(self._tokens.values(), key=lambda t: t.id_token)

    def apply(self, envelope: Envelope) -> bool:
        """Apply one TokenDefined; returns whether it was taken. A record that is not a valid
        TokenDefined for its key deletes the key's token, as the sessions worker does (an
        unreadable token is Invalid there), and counts as ignored."""
        try:
            token = Token.parse(envelope)
        except RecordRejected:
            self._tokens.pop(envelope.key, None)
            return False
        self._tokens[token.id_token] = token
        return True

    def remove(self, id_token: str) -> None:
        """A tombstone: the token is deleted (an unknown token is Invalid)."""
        self._tokens.pop(id_token, None)
