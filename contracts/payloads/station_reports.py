"""ReportReceived on stations.v1: a station's report, its parts assembled, version-neutral (pure).

Six messages answer a request of the CSMS with a report that may come in parts (``requestId``,
``seqNo`` from 0, ``tbc`` "to be continued"): 2.0.1 NotifyReport (B07/B08, the device model),
NotifyMonitoringReport (N02), ReportChargingProfiles (K09), NotifyCustomerInformation (N09) and
NotifyDisplayMessages (O04); 1.6 answers GetConfiguration (§5.8) in one CALLRESULT. The sessions
service assembles the parts (services/sessions/core/reports.py) and writes one ReportReceived
per report, when its last part arrives without a gap or when it timed out with what arrived.
``rows`` are version-neutral and their shape depends on ``kind`` (docs/events.md).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from contracts.envelope import Envelope
from contracts.events import DomainEvent, EventType
from contracts.fields import mapping, moment, text, whole
from contracts.payloads.stations import whole_device_model
from contracts.topics import Topic


class ReportKind(StrEnum):
    """What a report holds; the OCPP message it came in."""

    DEVICE_MODEL = "device_model"  # 2.0.1 NotifyReport; 1.6 GetConfiguration's answer
    MONITORS = "monitors"  # 2.0.1 NotifyMonitoringReport
    CHARGING_PROFILES = "charging_profiles"  # 2.0.1 ReportChargingProfiles
    CUSTOMER_INFORMATION = "customer_information"  # 2.0.1 NotifyCustomerInformation
    DISPLAY_MESSAGES = "display_messages"  # 2.0.1 NotifyDisplayMessages


class ReportOutcome(StrEnum):
    """How a report was closed."""

    COMPLETE = "complete"  # the part without tbc came, and seqNo 0..last without a gap
    TIMED_OUT = "timed_out"  # no part for the timeout: closed with what arrived


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportReceived:
    """One report of one station; ``requested`` is the request that asked for it, when the
    station's answer to it was seen (its action and arguments, camelCase as sent)."""

    station_id: str
    kind: ReportKind
    request_id: int | None  # None: 1.6 GetConfiguration, which has none
    outcome: ReportOutcome
    rows: Sequence[Mapping[str, Any]]
    generated_at: datetime | None = None  # the first part's generatedAt
    closed_at: datetime  # when it was complete, or timed out (log time)
    parts: int = 1
    missing_parts: Sequence[int] = ()  # seqNo that never came
    rows_dropped: int = 0  # beyond the size bound (reports.MAX_REPORT_BYTES)
    requested: Mapping[str, Any] | None = None  # {"action": ..., "request": {...}}

    @property
    def full_inventory(self) -> bool:
        """A complete report of everything the station has: 2.0.1 GetBaseReport
        FullInventory, or 1.6 GetConfiguration without keys (stations.whole_device_model)."""
        return whole_device_model(
            {
                "kind": str(self.kind),
                "outcome": str(self.outcome),
                "rows_dropped": self.rows_dropped,
                "requested": self.requested,
            }
        )

    def event(self) -> DomainEvent:
        payload: dict[str, Any] = {
            "station_id": self.station_id,
            "kind": str(self.kind),
            "request_id": self.request_id,
            "outcome": str(self.outcome),
            "generated_at": self.generated_at,
            "closed_at": self.closed_at,
            "parts": self.parts,
            "missing_parts": list(self.missing_parts),
            "rows_dropped": self.rows_dropped,
            "requested": None if self.requested is None else dict(self.requested),
            "rows": [dict(row) for row in self.rows],
        }
        return DomainEvent(
            topic=Topic.STATIONS,
            event_type=EventType.REPORT_RECEIVED,
            key=self.station_id,
            payload=payload,
        )

    @classmethod
    def parse(cls, envelope: Envelope) -> "ReportReceived | None":
        if envelope.event_type != EventType.REPORT_RECEIVED:
            return None
        p = envelope.payload
        kind, outcome, rows = text(p, "kind"), text(p, "outcome"), p.get("rows")
        if kind not in set(ReportKind) or outcome not in set(ReportOutcome):
            return None
        missing = p.get("missing_parts")
        return cls(
            station_id=text(p, "station_id") or envelope.key,
            kind=ReportKind(kind),
            request_id=whole(p, "request_id"),
            outcome=ReportOutcome(outcome),
            rows=[row for row in rows if isinstance(row, Mapping)]
            if isinstance(rows, list)
            else [],
            generated_at=moment(p, "generated_at"),
            closed_at=moment(p, "closed_at") or envelope.occurred_at,
            parts=whole(p, "parts") or 1,
            missing_parts=[n for n in missing if isinstance(n, int)]
            if isinstance(missing, list)
            else [],
            rows_dropped=whole(p, "rows_dropped") or 0,
            requested=mapping(p, "requested"),
        )
