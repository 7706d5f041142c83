"""DataTransferReceived on stations.v1: a vendor's DataTransfer from a station (pure).

1.6 §4.3 and 2.0.1 P01: ``vendorId`` names the vendor's extension, ``messageId`` the message,
``data`` is free (1.6: text; 2.0.1: any JSON). No extension is registered, so the station gets
UnknownVendorId; the data still reaches whoever subscribes, as sent.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from contracts.envelope import Envelope
from contracts.events import DomainEvent, EventType
from contracts.fields import moment, text
from contracts.topics import Topic


@dataclass(frozen=True, slots=True, kw_only=True)
class DataTransferReceived:
    station_id: str
    vendor_id: str
    at: datetime  # when it was received
    message_id: str | None = None
    data: Any = None
    ocpp_version: str = ""

    def event(self) -> DomainEvent:
        payload: dict[str, Any] = {
            "station_id": self.station_id,
            "vendor_id": self.vendor_id,
            "message_id": self.message_id,
            "data": self.data,
            "at": self.at,
            "ocpp_version": self.ocpp_version,
        }
        return DomainEvent(
            topic=Topic.STATIONS,
            event_type=EventType.DATA_TRANSFER_RECEIVED,
            key=self.station_id,
            payload=payload,
        )

    @classmethod
    def parse(cls, envelope: Envelope) -> "DataTransferReceived | None":
        p = envelope.payload
        vendor_id = text(p, "vendor_id")
        if envelope.event_type != EventType.DATA_TRANSFER_RECEIVED or vendor_id is None:
            return None
        return cls(
            station_id=text(p, "station_id") or envelope.key,
            vendor_id=vendor_id,
            at=moment(p, "at") or envelope.occurred_at,
            message_id=text(p, "message_id"),
            data=p.get("data"),
            ocpp_version=text(p, "ocpp_version") or "",
        )
