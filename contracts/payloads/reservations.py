"""ReservationEnded on sessions.v1: a reservation that ended without a session (pure)."""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from contracts.envelope import Envelope
from contracts.events import DomainEvent, EventType
from contracts.fields import moment, text, whole
from contracts.topics import Topic


class ReservationEnd(StrEnum):
    """How a reservation ended without a session (ReservationEnded.reason)."""

    EXPIRED = "Expired"  # its expiry passed (2.0.1 ReservationStatusUpdate Expired, or our clock)
    CANCELLED = "Cancelled"  # CancelReservation accepted, or 2.0.1 ReservationStatusUpdate Removed


def reservation_session_id(station_id: str, reservation_id: int, reserved_at: datetime) -> str:
    """The id billing gives a reservation that never became a session (its CDR's session)."""
    return f"{station_id}/reservation/{reservation_id}/{int(reserved_at.timestamp())}"


@dataclass(frozen=True, slots=True, kw_only=True)
class ReservationEnded:
    """A reservation the station accepted ended without a charging session."""

    station_id: str
    reservation_id: int
    id_token: str | None
    evse_id: int | None  # 2.0.1 evseId; 1.6 connectorId (0 or None: any)
    reserved_at: datetime  # the station accepted ReserveNow then
    ended_at: datetime
    reason: str  # a ReservationEnd

    @property
    def session_id(self) -> str:
        return reservation_session_id(self.station_id, self.reservation_id, self.reserved_at)

    def event(self) -> DomainEvent:
        payload: dict[str, Any] = {
            "session_id": self.session_id,
            "station_id": self.station_id,
            "reservation_id": self.reservation_id,
            "id_token": self.id_token,
            "evse_id": self.evse_id,
            "reserved_at": self.reserved_at,
            "ended_at": self.ended_at,
            "reason": self.reason,
        }
        return DomainEvent(
            topic=Topic.SESSIONS,
            event_type=EventType.RESERVATION_ENDED,
            key=self.station_id,
            payload=payload,
        )

    @classmethod
    def parse(cls, envelope: Envelope) -> "ReservationEnded | None":
        p = envelope.payload
        reservation_id, reserved_at = whole(p, "reservation_id"), moment(p, "reserved_at")
        ended_at, reason = moment(p, "ended_at"), text(p, "reason")
        if envelope.event_type != EventType.RESERVATION_ENDED or reservation_id is None:
            return None
        if reserved_at is None or ended_at is None or reason is None:
            return None
        return cls(
            station_id=text(p, "station_id") or envelope.key,
            reservation_id=reservation_id,
            id_token=text(p, "id_token"),
            evse_id=whole(p, "evse_id"),
            reserved_at=reserved_at,
            ended_at=ended_at,
            reason=reason,
        )
