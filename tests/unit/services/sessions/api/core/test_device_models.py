"""The device model read model: the whole inventory, newer partial reports laid over it (pure)."""

from datetime import UTC, datetime, timedelta
from typing import Any

from contracts.payloads.firmware import FirmwareKind, FirmwareStatusReported
from contracts.payloads.presence import PresenceView
from contracts.payloads.station_reports import ReportKind, ReportOutcome, ReportReceived
from contracts.payloads.stations import latest
from services.sessions.api.core.device_models import report_json
from services.sessions.api.core.queries import station_document
from services.sessions.api.core.stations import StationsView
from tests.unit.services.sessions.api.test_openapi import response

T0 = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
FULL = {"action": "GetBaseReport", "request": {"requestId": 1, "reportBase": "FullInventory"}}
PARTIAL = {"action": "GetReport", "request": {"requestId": 2}}


def row(component: str, variable: str, value: str, **more: Any) -> dict[str, Any]:
    return {
        "component": component,
        "component_instance": None,
        "evse_id": more.get("evse_id"),
        "connector_id": None,
        "variable": variable,
        "variable_instance": None,
        "attributes": [
            {
                "type": "Actual",
                "value": value,
                "mutability": "ReadWrite",
                "persistent": False,
                "constant": False,
            }
        ],
        "characteristics": None,
    }


def report(
    rows: list[dict[str, Any]],
    *,
    at: datetime,
    requested: dict[str, Any] | None,
    kind: ReportKind = ReportKind.DEVICE_MODEL,
    outcome: ReportOutcome = ReportOutcome.COMPLETE,
) -> ReportReceived:
    return ReportReceived(
        station_id="CS-1",
        kind=kind,
        request_id=1,
        outcome=outcome,
        rows=rows,
        closed_at=at,
        requested=requested,
    )


def apply(view: StationsView, *reports: ReportReceived) -> None:
    """As the API reads them: the stations.latest.v1 copies, in the order given."""
    for r in reports:
        copy = latest(r.event())
        assert copy is not None
        assert view.apply(copy.envelope(occurred_at=r.closed_at))


def test_a_newer_partial_report_lays_its_variables_over_the_whole_inventory() -> None:
    view = StationsView()
    whole = report(
        [
            row("OCPPCommCtrlr", "HeartbeatInterval", "300"),
            row("EVSE", "Power", "22000", evse_id=1),
        ],
        at=T0,
        requested=FULL,
    )
    newer = report(
        [row("ocppcommctrlr", "heartbeatinterval", "60")],
        at=T0 + timedelta(hours=1),
        requested=PARTIAL,
    )
    apply(
        view, newer, whole
    )  # the order of the compacted topic's partitions is not the order of time
    model = view.device_models.device_model("CS-1")
    assert model["inventory_at"] == "2026-11-27T08:00:00.000Z"
    assert model["updated_at"] == "2026-11-27T09:00:00.000Z"
    values = {
        (v["component"].lower(), v["variable"].lower()): v["attributes"][0]["value"]
        for v in model["variables"]
    }
    assert values == {("evse", "power"): "22000", ("ocppcommctrlr", "heartbeatinterval"): "60"}
    response("/stations/{station_id}/device-model", "get", 200, model)
    only = view.device_models.device_model("CS-1", component="EVSE")
    assert [v["variable"] for v in only["variables"]] == ["Power"]


def test_an_older_partial_report_changes_nothing() -> None:
    view = StationsView()
    whole = report([row("A", "x", "new")], at=T0 + timedelta(hours=1), requested=FULL)
    older = report([row("A", "x", "old"), row("B", "y", "gone")], at=T0, requested=PARTIAL)
    apply(view, whole, older)
    model = view.device_models.device_model("CS-1")
    assert [(v["component"], v["attributes"][0]["value"]) for v in model["variables"]] == [
        ("A", "new")
    ]


def test_a_timed_out_inventory_is_not_the_whole_device_model() -> None:
    view = StationsView()
    apply(
        view, report([row("A", "x", "1")], at=T0, requested=FULL, outcome=ReportOutcome.TIMED_OUT)
    )
    model = view.device_models.device_model("CS-1")
    assert model["inventory_at"] is None
    assert [v["component"] for v in model["variables"]] == ["A"]  # still shown, as partial


def test_other_reports_are_kept_newest_first_and_valid_for_the_api() -> None:
    view = StationsView()
    monitors = [
        {
            "component": "EVSE",
            "variable": "Power",
            "monitors": [
                {"id": 1, "transaction": False, "value": 1.0, "type": "Delta", "severity": 5}
            ],
        }
    ]
    old = report(monitors, at=T0, requested=None, kind=ReportKind.MONITORS)
    new = report([], at=T0 + timedelta(seconds=1), requested=None, kind=ReportKind.MONITORS)
    apply(view, new, old)
    kept = view.device_models.report("CS-1", ReportKind.MONITORS)
    assert kept is not None
    assert kept.closed_at == T0 + timedelta(seconds=1)
    response("/stations/{station_id}/reports/{kind}", "get", 200, report_json(old))


def test_customer_information_is_never_copied_to_the_compacted_topic() -> None:
    info = report(
        [{"data": "name: A"}], at=T0, requested=None, kind=ReportKind.CUSTOMER_INFORMATION
    )
    assert latest(info.event()) is None


def test_the_station_document_says_its_newest_firmware_status() -> None:
    view, presence = StationsView(), PresenceView()
    status = FirmwareStatusReported(
        station_id="CS-1",
        kind=FirmwareKind.UPDATE,
        status="InstallationFailed",
        at=T0,
        request_id=3,
    )
    copy = latest(status.event())
    assert copy is not None
    assert copy.key == "CS-1/firmware"
    view.apply(copy.envelope(occurred_at=T0))
    document = station_document("CS-1", presence, view)
    assert document is not None
    assert document["firmware"] == {
        "kind": "update",
        "status": "InstallationFailed",
        "failed": True,
        "request_id": 3,
        "at": "2026-11-27T08:00:00.000Z",
    }
    assert document["log"] is None
    response("/stations/{station_id}", "get", 200, document)
