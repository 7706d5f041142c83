"""The device model read model: each station's reports from stations.latest.v1, merged (pure).

stations.latest.v1 keeps, per station, the newest whole device model (a complete GetBaseReport
FullInventory, or 1.6 GetConfiguration of every key), the newest other device model report (a
GetReport, say) and the newest report of monitors, charging profiles and display messages
(contracts.payloads.stations.report_fact). The device model a station has is its whole device
model with the variables of a newer partial report laid over it: a variable the partial report
names takes its values from there. Reports are kept as they came (rows as decoded), so memory
grows with the fleet's device models: 1.2 kB per variable held (docs/api.md, "Not done yet").
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from contracts.envelope import Envelope
from contracts.fields import jsonable
from contracts.payloads.station_reports import ReportKind, ReportReceived

Address = tuple[str, str | None, int | None, int | None, str, str | None]


def address(row: Mapping[str, Any]) -> Address:
    """Where a variable is: component (name, instance, EVSE, connector) and variable (name,
    instance); OCPP compares names without regard to case."""
    return (
        str(row.get("component", "")).lower(),
        row.get("component_instance"),
        row.get("evse_id"),
        row.get("connector_id"),
        str(row.get("variable", "")).lower(),
        row.get("variable_instance"),
    )


@dataclass(slots=True)
class StationReports:
    """The newest reports of one station."""

    whole: ReportReceived | None = None  # the newest whole device model
    partial: ReportReceived | None = None  # the newest other device model report
    other: dict[ReportKind, ReportReceived] = field(default_factory=dict)


def _newer(report: ReportReceived, than: ReportReceived | None) -> bool:
    return than is None or report.closed_at >= than.closed_at


class DeviceModelsView:
    """Per station, the newest reports; ``apply`` keeps it current."""

    def __init__(self) -> None:
        self._stations: dict[str, StationReports] = {}

    def apply(self, envelope: Envelope) -> bool:
        """Apply one record; returns whether it was a report (and so applied)."""
        report = ReportReceived.parse(envelope)
        if report is None or report.kind is ReportKind.CUSTOMER_INFORMATION:
            return False
        held = self._stations.setdefault(report.station_id, StationReports())
        if report.kind is not ReportKind.DEVICE_MODEL:
            if _newer(report, held.other.get(report.kind)):
                held.other[report.kind] = report
        elif report.full_inventory:
            if _newer(report, held.whole):
                held.whole = report
        elif _newer(report, held.partial):
            held.partial = report
        return True

    def remove(self, station_id: str) -> None:
        self._stations.pop(station_id, None)

    def report(self, station_id: str, kind: ReportKind) -> ReportReceived | None:
        """The newest report of ``kind`` (device_model: the newest whole device model)."""
        held = self._stations.get(station_id)
        if held is None:
            return None
        if kind is ReportKind.DEVICE_MODEL:
            return held.whole
        return held.other.get(kind)

    def device_model(
        self, station_id: str, *, component: str | None = None, variable: str | None = None
    ) -> dict[str, Any]:
        """The station's variables (openapi.json: DeviceModel), each with when it was reported;
        ``component``/``variable`` keep those of that name (any case)."""
        held = self._stations.get(station_id) or StationReports()
        rows: dict[Address, dict[str, Any]] = {}
        for report in (held.whole, held.partial):
            if report is None or (report is held.partial and not _newer(report, held.whole)):
                continue
            for row in report.rows:
                rows[address(row)] = {**row, "reported_at": jsonable(report.closed_at)}
        wanted = [
            row
            for key, row in sorted(rows.items(), key=lambda item: _sortable(item[0]))
            if (component is None or key[0] == component.lower())
            and (variable is None or key[4] == variable.lower())
        ]
        whole = held.whole
        return {
            "station_id": station_id,
            "inventory_at": None if whole is None else jsonable(whole.closed_at),
            "updated_at": _latest(held.whole, held.partial),
            "variables": wanted,
        }


def _sortable(key: Address) -> tuple[str, str, int, int, str, str]:
    component, component_instance, evse, connector, name, instance = key
    return (component, component_instance or "", evse or 0, connector or 0, name, instance or "")


def _latest(*reports: ReportReceived | None) -> str | None:
    times: list[datetime] = [r.closed_at for r in reports if r is not None]
    return jsonable(max(times)) if times else None


def report_json(report: ReportReceived) -> dict[str, Any]:
    """A report as its event says it (openapi.json: Report)."""
    return {
        "station_id": report.station_id,
        "kind": str(report.kind),
        "request_id": report.request_id,
        "outcome": str(report.outcome),
        "generated_at": jsonable(report.generated_at),
        "closed_at": jsonable(report.closed_at),
        "parts": report.parts,
        "missing_parts": list(report.missing_parts),
        "rows_dropped": report.rows_dropped,
        "requested": None if report.requested is None else dict(report.requested),
        "rows": [jsonable(dict(row)) for row in report.rows],
    }
