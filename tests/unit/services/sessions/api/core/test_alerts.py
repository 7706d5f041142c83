"""The alerts read model: open from alerts.open.v1, resolved from alerts.v1, filtered (pure)."""

from datetime import UTC, datetime, timedelta

import pytest

from contracts.http_api import InvalidRequest, Query
from contracts.payloads.alerts import Alert, AlertKind, Severity
from services.sessions.api.core.alerts import AlertsView
from tests.unit.services.sessions.api.test_openapi import response

T0 = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)


def alert(station_id: str, kind: AlertKind, severity: Severity, minutes: int) -> Alert:
    return Alert(
        alert_id=f"{station_id}/{kind}",
        station_id=station_id,
        kind=kind,
        severity=severity,
        raised_at=T0 + timedelta(minutes=minutes),
        summary=f"{kind} at {station_id}",
        details={"since": T0},
    )


def fed(*alerts: Alert) -> AlertsView:
    view = AlertsView()
    for a in alerts:
        for event in a.raised():
            view.apply(event.envelope())
    return view


def test_open_alerts_most_severe_then_newest_first() -> None:
    offline = alert("CS-1", AlertKind.STATION_OFFLINE, Severity.MAJOR, 0)
    tamper = alert("CS-2", AlertKind.CRITICAL_SECURITY_EVENT, Severity.CRITICAL, 1)
    faulted = alert("CS-1", AlertKind.CONNECTOR_FAULTED, Severity.MAJOR, 5)
    view = fed(offline, tamper, faulted)
    page = view.query(Query({}))
    assert [a["alert_id"] for a in page["items"]] == [
        tamper.alert_id,
        faulted.alert_id,
        offline.alert_id,
    ]
    assert page["total"] == 3
    response("/alerts", "get", 200, page)
    only = view.query(Query({"station_id": "CS-1", "kind": "StationOffline"}))
    assert [a["alert_id"] for a in only["items"]] == [offline.alert_id]
    assert view.query(Query({"severity": "critical"}))["total"] == 1


def test_a_resolved_alert_leaves_the_open_ones_and_is_listed_as_resolved() -> None:
    faulted = alert("CS-1", AlertKind.CONNECTOR_FAULTED, Severity.MAJOR, 0)
    view = fed(faulted)
    _, events = faulted.resolved(T0 + timedelta(minutes=9), "status Available")
    for event in events:
        if event.tombstone:
            view.remove(event.key)  # as the API's follower hands a tombstone on
        else:
            assert view.apply(event.envelope())
    assert view.query(Query({}))["total"] == 0
    resolved = view.query(Query({"state": "resolved"}))
    (item,) = resolved["items"]
    assert (item["resolved_at"], item["resolution"]) == (
        "2026-11-27T08:09:00.000Z",
        "status Available",
    )
    response("/alerts", "get", 200, resolved)


def test_an_unknown_filter_value_is_a_bad_request() -> None:
    with pytest.raises(InvalidRequest):
        AlertsView().query(Query({"kind": "Nope"}))
