"""What waits on a station: accepted remote starts and reservations, held replies, reports
coming in parts (pure)."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from contracts.payloads.ocpp import DeferredReply
from contracts.payloads.station_reports import ReportKind
from ocppj.timestamps import utc
from services.sessions.core.plain import as_dict, read


@dataclass(frozen=True, slots=True, kw_only=True)
class RemoteStart:
    """A remote start the station accepted, waiting for its transaction (remote_start.py)."""

    id_token: str
    id_token_type: str | None = None  # 2.0.1
    remote_start_id: int | None = None  # 2.0.1 remoteStartId
    evse_id: int | None = None  # 2.0.1 evseId; 1.6 connectorId
    transaction_id: str | None = None  # 2.0.1: the station's transaction that already ran
    at: datetime  # when the station's answer was received

    def to_dict(self) -> dict[str, Any]:
        return as_dict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "RemoteStart":
        return cls(**read(cls, data))


@dataclass(frozen=True, slots=True, kw_only=True)
class Reservation:
    """A reservation the station accepted, not yet used or ended (reservations.py)."""

    reservation_id: int
    id_token: str | None = None
    evse_id: int | None = None  # 2.0.1 evseId; 1.6 connectorId (0: any)
    made_at: datetime  # when the station's answer was received
    expires_at: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        return as_dict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Reservation":
        return cls(**read(cls, data))


@dataclass(frozen=True, slots=True, kw_only=True)
class Held:
    """A response that waits for billing's final cost until ``until`` (log time; costs.py)."""

    transaction_id: str  # Transaction.key
    reply: DeferredReply
    until: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "transaction_id": self.transaction_id,
            "reply": self.reply.to_dict(),
            "until": self.until,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Held":
        return cls(
            transaction_id=str(data["transaction_id"]),
            reply=DeferredReply.from_dict(data["reply"]),
            until=utc(data["until"]),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class StagedPart:
    """One part of a report still coming in (reports.py); kept under a changelog key of its
    own, so that a report of many parts is written once, not once per part."""

    kind: ReportKind
    request_id: int
    seq_no: int  # the station's seqNo; arrival order for the reports that have none
    tbc: bool  # more parts follow
    rows: tuple[Mapping[str, Any], ...]
    rows_dropped: int = 0  # rows beyond the report's size bound
    size: int = 0  # about the bytes of ``rows``
    generated_at: datetime | None = None
    received_at: datetime

    @property
    def key(self) -> str:
        """Its changelog key, after ``<station_id>/``."""
        return f"part/{self.kind}/{self.request_id}/{self.seq_no}"

    def to_dict(self) -> dict[str, Any]:
        data = as_dict(self)
        data["kind"] = str(self.kind)
        data["rows"] = [dict(row) for row in self.rows]
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "StagedPart":
        values = read(cls, data)
        values["kind"] = ReportKind(values["kind"])
        values["rows"] = tuple(values.get("rows", ()))
        return cls(**values)


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestedReport:
    """A report a station accepted to send (GetBaseReport, GetReport, ...; reports.py)."""

    kind: ReportKind
    request_id: int
    action: str
    request: Mapping[str, Any]  # the command's payload, camelCase
    at: datetime  # when the station's answer was received

    def to_dict(self) -> dict[str, Any]:
        data = as_dict(self)
        data["kind"] = str(self.kind)
        data["request"] = dict(self.request)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "RequestedReport":
        values = read(cls, data)
        values["kind"] = ReportKind(values["kind"])
        return cls(**values)


@dataclass(frozen=True, slots=True, kw_only=True)
class ClosedReport:
    """A report written lately: a part of it that comes again (a station resending a part
    whose answer it missed) is not a new report (reports.py)."""

    kind: ReportKind
    request_id: int
    at: datetime  # when it was written

    def to_dict(self) -> dict[str, Any]:
        data = as_dict(self)
        data["kind"] = str(self.kind)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "ClosedReport":
        values = read(cls, data)
        values["kind"] = ReportKind(values["kind"])
        return cls(**values)
