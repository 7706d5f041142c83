"""Id tokens: authorization, idTagInfo and idTokenInfo (the payload: tests/unit/contracts)."""

from datetime import datetime
from typing import Any

import pytest

from contracts.payloads.tokens import Token
from services.sessions.core.tokens import authorize, id_tag_info, id_token_info
from tests.unit.services.sessions.core.station import T0, at

NOW = T0


def token(**changes: Any) -> Token:
    fields: dict[str, Any] = {"id_token": "TAG", "type": "ISO14443", "status": "Accepted"}
    return Token(**(fields | changes))


@pytest.mark.parametrize(
    ("stored", "now", "token_type", "status"),
    [
        (None, NOW, None, "Invalid"),
        (None, NOW, "NoAuthorization", "Accepted"),
        (token(), NOW, None, "Accepted"),
        (token(status="Blocked"), NOW, None, "Blocked"),
        (token(status="Blocked", expires_at=at(-60)), NOW, None, "Blocked"),
        (token(expires_at=at(60)), NOW, None, "Accepted"),
        (token(expires_at=at(0)), NOW, None, "Expired"),
        (token(status="NoCredit"), NOW, "ISO14443", "NoCredit"),
    ],
)
def test_authorize(
    stored: Token | None, now: datetime, token_type: str | None, status: str
) -> None:
    tokens = {} if stored is None else {"TAG": stored}
    assert authorize(tokens, "TAG", now, token_type=token_type) == status


@pytest.mark.parametrize(
    ("stored", "info"),
    [
        (None, {"status": "Invalid"}),
        (token(), {"status": "Accepted"}),
        (
            token(expires_at=at(60), group_id="FLEET"),
            {
                "status": "Accepted",
                "expiryDate": "2026-11-25T08:01:00.000Z",
                "parentIdTag": "FLEET",
            },
        ),
        (
            token(status="Blocked", expires_at=at(60), group_id="FLEET"),
            {"status": "Blocked", "parentIdTag": "FLEET"},
        ),
        (token(group_id="G" * 21), {"status": "Accepted"}),  # parentIdTag is a CiString20
        (token(status="NotAtThisTime"), {"status": "Invalid"}),  # not a 1.6 status
    ],
)
def test_id_tag_info_16(stored: Token | None, info: dict[str, Any]) -> None:
    tokens = {} if stored is None else {"TAG": stored}
    assert id_tag_info(tokens, "TAG", NOW) == info


@pytest.mark.parametrize(
    ("stored", "id_token", "info"),
    [
        (None, {"idToken": "TAG", "type": "ISO14443"}, {"status": "Invalid"}),
        (
            token(expires_at=at(60), group_id="G" * 36),
            {"idToken": "TAG", "type": "ISO14443"},
            {
                "status": "Accepted",
                "cacheExpiryDateTime": "2026-11-25T08:01:00.000Z",
                "groupIdToken": {"idToken": "G" * 36, "type": "Central"},
            },
        ),
        (token(group_id="G" * 37), {"idToken": "TAG", "type": "ISO14443"}, {"status": "Accepted"}),
        (
            token(status="NotAtThisTime"),
            {"idToken": "TAG", "type": "KeyCode"},
            {"status": "NotAtThisTime"},
        ),
        (
            token(status="Blocked"),
            {"idToken": "TAG", "type": "NoAuthorization"},
            {"status": "Accepted"},
        ),
        (None, {"idToken": 5, "type": 6}, {"status": "Invalid"}),
    ],
)
def test_id_token_info_201(
    stored: Token | None, id_token: dict[str, Any], info: dict[str, Any]
) -> None:
    tokens = {} if stored is None else {"TAG": stored}
    assert id_token_info(tokens, id_token, NOW) == info
