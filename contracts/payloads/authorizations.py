"""TokenAuthorized on sessions.v1: an Authorize the sessions service answered (pure)."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from contracts.envelope import Envelope
from contracts.events import DomainEvent, EventType
from contracts.fields import moment, text
from contracts.topics import Topic


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenAuthorized:
    """An Authorize answered (1.6 Authorize, 2.0.1 C01): who wants to charge, and our answer."""

    station_id: str
    id_token: str
    id_token_type: str | None  # 2.0.1 IdTokenEnumType; None for 1.6
    status: str  # the AuthorizationStatus we answered
    group_id: str | None  # the token's group in the token store
    ocpp_version: str | None
    at: datetime

    def event(self) -> DomainEvent:
        payload: dict[str, Any] = {
            "station_id": self.station_id,
            "id_token": self.id_token,
            "id_token_type": self.id_token_type,
            "status": self.status,
            "group_id": self.group_id,
            "ocpp_version": self.ocpp_version,
            "at": self.at,
        }
        return DomainEvent(
            topic=Topic.SESSIONS,
            event_type=EventType.TOKEN_AUTHORIZED,
            key=self.station_id,
            payload=payload,
        )

    @classmethod
    def parse(cls, envelope: Envelope) -> "TokenAuthorized | None":
        p = envelope.payload
        id_token, status = text(p, "id_token"), text(p, "status")
        if envelope.event_type != EventType.TOKEN_AUTHORIZED or not id_token or not status:
            return None
        return cls(
            station_id=text(p, "station_id") or envelope.key,
            id_token=id_token,
            id_token_type=text(p, "id_token_type"),
            status=status,
            group_id=text(p, "group_id"),
            ocpp_version=text(p, "ocpp_version"),
            at=moment(p, "at") or envelope.occurred_at,
        )
