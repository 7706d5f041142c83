"""MeterValuesReported on stations.v1: meter values that belong to no transaction (pure).

2.0.1 MeterValues (J01) is never about a transaction (those come in TransactionEvent): evseId 0
is the station's main meter. A 1.6 MeterValues without a transactionId on a connector with no
open transaction (connectorId 0: the main meter) is the same. Every sampledValue becomes one
sample, whatever its measurand; a value that is not a number (1.6 SignedData) is left out.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from contracts.envelope import Envelope
from contracts.events import DomainEvent, EventType
from contracts.fields import text, whole
from contracts.topics import Topic


@dataclass(frozen=True, slots=True, kw_only=True)
class MeterValuesReported:
    """``samples``: {at, measurand, value (a number, the unit's multiplier applied), unit,
    phase, location, context}; a field the station left out is its OCPP default (measurand
    Energy.Active.Import.Register, context Sample.Periodic, location Outlet) or None."""

    station_id: str
    evse_id: int  # 1.6 connectorId; 0: the station's main meter
    samples: Sequence[Mapping[str, Any]]
    ocpp_version: str = ""

    def event(self) -> DomainEvent:
        payload: dict[str, Any] = {
            "station_id": self.station_id,
            "evse_id": self.evse_id,
            "samples": [dict(s) for s in self.samples],
            "ocpp_version": self.ocpp_version,
        }
        return DomainEvent(
            topic=Topic.STATIONS,
            event_type=EventType.METER_VALUES_REPORTED,
            key=self.station_id,
            payload=payload,
        )

    @classmethod
    def parse(cls, envelope: Envelope) -> "MeterValuesReported | None":
        p = envelope.payload
        evse_id, samples = whole(p, "evse_id"), p.get("samples")
        if envelope.event_type != EventType.METER_VALUES_REPORTED or evse_id is None:
            return None
        return cls(
            station_id=text(p, "station_id") or envelope.key,
            evse_id=evse_id,
            samples=[s for s in samples if isinstance(s, Mapping)]
            if isinstance(samples, list)
            else [],
            ocpp_version=text(p, "ocpp_version") or "",
        )
