"""Reports in parts: assembled in seqNo order, bounded, closed on a timeout (pure)."""

from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta
from typing import Any

import msgpack
import pytest

from contracts.events import DomainEvent, EventType
from contracts.payloads.ocpp import Reply, StationCall
from contracts.payloads.presence import GatewayAlive
from contracts.payloads.station_reports import ReportKind, ReportOutcome, ReportReceived
from contracts.topics import Topic
from services.sessions.core import reports
from services.sessions.core.partition import Partition
from services.sessions.core.policy import BootStatus, Policy
from services.sessions.core.report_rows import CONFIGURATION_16
from services.sessions.core.waiting import RequestedReport
from tests.unit.services.sessions.core.station import T0, V16, V201, Station, at, boot_payload, ts


def variable(component: str, name: str, value: str, **component_fields: Any) -> dict[str, Any]:
    return {
        "component": {"name": component, **component_fields},
        "variable": {"name": name},
        "variableAttribute": [{"value": value, "mutability": "ReadOnly"}],
        "variableCharacteristics": {"dataType": "integer", "supportsMonitoring": True},
    }


def notify_report(
    request_id: int, seq_no: int, rows: Sequence[dict[str, Any]], *, tbc: bool
) -> dict[str, Any]:
    payload: dict[str, Any] = {"requestId": request_id, "generatedAt": ts(seq_no), "seqNo": seq_no}
    if rows:
        payload["reportData"] = list(rows)
    if tbc:
        payload["tbc"] = True
    return payload


def booted() -> Station:
    station = Station(version=V201)
    station.boot()
    return station


def read(events: Sequence[DomainEvent]) -> list[ReportReceived]:
    found = []
    for event in events:
        assert (event.topic, event.event_type) == (Topic.STATIONS, EventType.REPORT_RECEIVED)
        parsed = ReportReceived.parse(event.envelope())
        assert parsed is not None
        found.append(parsed)
    return found


def test_a_full_inventory_in_three_parts_is_one_report_in_seq_order() -> None:
    station = booted()
    request = {"requestId": 41, "reportBase": "FullInventory"}
    assert station.answer("GetBaseReport", request, {"status": "Accepted"}).events == []
    first = station.call("NotifyReport", notify_report(41, 0, [variable("A", "x", "1")], tbc=True))
    assert (first.reply, first.events) == (Reply({}), [])
    second = [variable("B", "y", "2", evse={"id": 1}), variable("C", "z", "3")]
    assert station.call("NotifyReport", notify_report(41, 1, second, tbc=True)).events == []
    assert station.state is not None
    assert len(station.state.staged) == 2
    station.tick(5)
    last = station.call("NotifyReport", notify_report(41, 2, [variable("D", "w", "4")], tbc=False))
    (report,) = read(last.events)
    assert (report.kind, report.request_id, report.outcome) == (
        ReportKind.DEVICE_MODEL,
        41,
        ReportOutcome.COMPLETE,
    )
    assert [row["component"] for row in report.rows] == ["A", "B", "C", "D"]
    assert report.rows[1] == {
        "component": "B",
        "component_instance": None,
        "evse_id": 1,
        "connector_id": None,
        "variable": "y",
        "variable_instance": None,
        "attributes": [
            {
                "type": "Actual",
                "value": "2",
                "mutability": "ReadOnly",
                "persistent": False,
                "constant": False,
            }
        ],
        "characteristics": {
            "unit": None,
            "data_type": "integer",
            "min_limit": None,
            "max_limit": None,
            "values_list": None,
            "supports_monitoring": True,
        },
    }
    assert (report.parts, report.missing_parts, report.rows_dropped) == (3, [], 0)
    assert report.generated_at == at(0)
    assert report.requested == {"action": "GetBaseReport", "request": request}
    assert report.full_inventory
    after = station.state
    assert (after.staged, after.requested_reports, after.inventory_at) == ((), (), at(5))


def test_a_part_sent_twice_counts_once() -> None:
    station = booted()
    part = notify_report(7, 0, [variable("A", "x", "1")], tbc=True)
    station.call("NotifyReport", part)
    again = station.call("NotifyReport", part)
    assert (again.reply, again.events) == (Reply({}), [])
    (report,) = read(
        station.call(
            "NotifyReport", notify_report(7, 1, [variable("B", "y", "2")], tbc=False)
        ).events
    )
    assert [row["component"] for row in report.rows] == ["A", "B"]


def test_a_report_with_a_gap_waits_then_times_out_with_what_arrived() -> None:
    station = booted()
    station.call("NotifyReport", notify_report(9, 0, [variable("A", "x", "1")], tbc=True))
    gap = station.call("NotifyReport", notify_report(9, 2, [variable("C", "z", "3")], tbc=False))
    assert gap.events == []  # part 1 may still come
    assert station.state is not None
    timeout = Policy().report_timeout_s
    early, events = reports.expire(
        station.state, station.now + timedelta(seconds=timeout - 1), timeout
    )
    assert events == []
    assert early == station.state
    closed_at = station.now + timedelta(seconds=timeout)
    state, events = reports.expire(station.state, closed_at, timeout)
    (report,) = read(events)
    assert (report.outcome, report.missing_parts, report.parts) == (ReportOutcome.TIMED_OUT, [1], 2)
    assert [row["component"] for row in report.rows] == ["A", "C"]
    assert report.closed_at == closed_at
    assert not report.full_inventory
    assert state.staged == ()


def test_rows_beyond_the_bound_are_counted_not_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reports, "MAX_REPORT_BYTES", 1000)
    station = booted()
    many = [variable("Component", f"Variable{i}", "x" * 40) for i in range(20)]
    station.call("NotifyReport", notify_report(3, 0, many[:10], tbc=True))
    (report,) = read(station.call("NotifyReport", notify_report(3, 1, many[10:], tbc=False)).events)
    kept = len(report.rows)
    assert 0 < kept < 20
    assert report.rows_dropped == 20 - kept
    assert [row["variable"] for row in report.rows] == [f"Variable{i}" for i in range(kept)]
    assert sum(reports.size(dict(row)) for row in report.rows) <= 1000


def test_a_station_with_too_many_reports_open_has_its_oldest_closed() -> None:
    station = booted()
    for request_id in range(reports.MAX_OPEN):
        station.tick(1)
        part = notify_report(request_id, 0, [variable("A", "x", str(request_id))], tbc=True)
        assert station.call("NotifyReport", part).events == []
    station.tick(1)
    one_more = notify_report(99, 0, [variable("A", "x", "99")], tbc=True)
    (closed,) = read(station.call("NotifyReport", one_more).events)
    assert (closed.request_id, closed.outcome) == (0, ReportOutcome.TIMED_OUT)
    assert station.state is not None
    assert len(station.state.staged) == reports.MAX_OPEN


def test_a_report_with_another_request_id_is_matched_to_the_only_request_open() -> None:
    station = booted()
    station.answer(
        "GetBaseReport", {"requestId": 5, "reportBase": "FullInventory"}, {"status": "Accepted"}
    )
    (report,) = read(
        station.call(
            "NotifyReport", notify_report(0, 0, [variable("A", "x", "1")], tbc=False)
        ).events
    )
    assert report.request_id == 0
    assert report.full_inventory


def test_a_refused_request_awaits_nothing() -> None:
    station = booted()
    station.answer(
        "GetBaseReport",
        {"requestId": 5, "reportBase": "SummaryInventory"},
        {"status": "NotSupported"},
    )
    assert station.state is not None
    assert station.state.requested_reports == ()


def test_the_16_configuration_is_a_device_model_report_of_its_keys() -> None:
    station = Station(version=V16)
    station.boot()
    response = {
        "configurationKey": [
            {"key": "HeartbeatInterval", "readonly": False, "value": "300"},
            {"key": "NumberOfConnectors", "readonly": True, "value": "2"},
            {"key": "AuthorizationKey", "readonly": False},  # write-only: no value
        ],
        "unknownKey": ["Nope"],
    }
    (report,) = read(station.answer("GetConfiguration", {}, response).events)
    assert (report.kind, report.request_id, report.outcome) == (
        ReportKind.DEVICE_MODEL,
        None,
        ReportOutcome.COMPLETE,
    )
    assert [
        (
            r["component"],
            r["variable"],
            r["attributes"][0]["value"],
            r["attributes"][0]["mutability"],
        )
        for r in report.rows
    ] == [
        (CONFIGURATION_16, "HeartbeatInterval", "300", "ReadWrite"),
        (CONFIGURATION_16, "NumberOfConnectors", "2", "ReadOnly"),
        (CONFIGURATION_16, "AuthorizationKey", None, "ReadWrite"),
    ]
    assert report.full_inventory
    assert station.state is not None
    assert station.state.inventory_at == T0
    some_keys = read(
        station.answer("GetConfiguration", {"key": ["HeartbeatInterval"]}, response).events
    )
    assert not some_keys[0].full_inventory


def test_monitors_are_rows_with_their_monitors() -> None:
    station = booted()
    monitor = {
        "component": {"name": "EVSE", "evse": {"id": 1}},
        "variable": {"name": "Power"},
        "variableMonitoring": [
            {"id": 3, "transaction": False, "value": 22000, "type": "UpperThreshold", "severity": 4}
        ],
    }
    payload = {"requestId": 1, "seqNo": 0, "generatedAt": ts(0), "monitor": [monitor]}
    (report,) = read(station.call("NotifyMonitoringReport", payload).events)
    assert report.kind is ReportKind.MONITORS
    (row,) = report.rows
    assert (row["component"], row["evse_id"], row["variable"]) == ("EVSE", 1, "Power")
    assert row["monitors"] == [
        {"id": 3, "transaction": False, "value": 22000, "type": "UpperThreshold", "severity": 4}
    ]


def test_charging_profiles_come_in_parts_without_seq_no() -> None:
    station = booted()
    profile = {
        "id": 1,
        "stackLevel": 0,
        "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Absolute",
        "chargingSchedule": [
            {
                "id": 1,
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0}],
            }
        ],
    }
    first = {
        "requestId": 2,
        "chargingLimitSource": "CSO",
        "evseId": 1,
        "chargingProfile": [profile],
        "tbc": True,
    }
    assert station.call("ReportChargingProfiles", first).events == []
    second = first | {"evseId": 2, "tbc": False, "chargingLimitSource": "EMS"}
    (report,) = read(station.call("ReportChargingProfiles", second).events)
    assert report.kind is ReportKind.CHARGING_PROFILES
    assert report.parts == 2
    assert [(r["evse_id"], r["source"]) for r in report.rows] == [(1, "CSO"), (2, "EMS")]
    assert report.rows[0]["profile"] == profile


def test_customer_information_is_its_parts_texts_in_order() -> None:
    station = booted()
    station.answer(
        "CustomerInformation",
        {"requestId": 8, "report": True, "clear": False, "customerIdentifier": "C-1"},
        {"status": "Accepted"},
    )
    base = {"requestId": 8, "generatedAt": ts(0)}
    station.call("NotifyCustomerInformation", base | {"seqNo": 0, "data": "name: A", "tbc": True})
    (report,) = read(
        station.call("NotifyCustomerInformation", base | {"seqNo": 1, "data": "; card: B"}).events
    )
    assert report.kind is ReportKind.CUSTOMER_INFORMATION
    assert "".join(row["data"] for row in report.rows) == "name: A; card: B"
    assert report.requested is not None
    assert report.requested["action"] == "CustomerInformation"


def test_display_messages_are_rows_of_their_messages() -> None:
    station = booted()
    info = {
        "id": 4,
        "priority": "InFront",
        "state": "Charging",
        "startDateTime": ts(0),
        "message": {"format": "UTF8", "language": "en", "content": "0.30 EUR/kWh"},
        "display": {"name": "Display"},
    }
    (report,) = read(
        station.call("NotifyDisplayMessages", {"requestId": 6, "messageInfo": [info]}).events
    )
    assert report.rows == [
        {
            "id": 4,
            "priority": "InFront",
            "state": "Charging",
            "start_at": ts(0),
            "end_at": None,
            "transaction_id": None,
            "format": "UTF8",
            "language": "en",
            "content": "0.30 EUR/kWh",
            "display": "Display",
        }
    ]


def test_a_pending_station_may_send_its_report() -> None:
    pending = Policy(fetch_inventory=False, unknown_station=BootStatus.PENDING)
    station = Station(version=V201, policy=pending)
    station.boot()
    step = station.call("NotifyReport", notify_report(1, 0, [variable("A", "x", "1")], tbc=False))
    assert step.reply == Reply({})
    assert len(read(step.events)) == 1


# The partition: parts under keys of their own, restored in any order, deleted at the end.


def _call(action: str, payload: dict[str, Any], second: int) -> Any:
    return StationCall(
        station_id="CS-9",
        ocpp_version=V201,
        unique_id=f"u{second}",
        action=action,
        payload=payload,
        connection_id="c1",
        gateway=1,
        received_at=T0 + timedelta(seconds=second),
    ).envelope()


def _restored(writes: list[tuple[str, bytes | None]], *, reverse: bool) -> Partition:
    partition = Partition(0, policy=Policy(fetch_inventory=False))
    for key, value in reversed(writes) if reverse else writes:
        partition.restore(key, value)
    return partition


@pytest.mark.parametrize("reverse", [False, True])
def test_a_report_survives_a_restart_between_its_parts(reverse: bool) -> None:
    partition = Partition(0, policy=Policy(fetch_inventory=False))
    partition.handle(_call("BootNotification", boot_payload(V201), 0))
    partition.handle(
        _call("NotifyReport", notify_report(1, 0, [variable("A", "x", "1")], tbc=True), 1)
    )
    partition.handle(
        _call("NotifyReport", notify_report(1, 1, [variable("B", "y", "2")], tbc=True), 2)
    )
    writes = partition.changes()
    parts = [key for key, value in writes if "/part/" in key]
    assert parts == ["CS-9/part/device_model/1/0", "CS-9/part/device_model/1/1"]
    assert all(value is not None for key, value in writes if key in parts)
    packed = dict(writes)["CS-9"]
    assert packed is not None
    state_record = msgpack.unpackb(packed, timestamp=3)
    assert "staged" not in state_record  # the parts are not written again with every state
    restarted = _restored(writes, reverse=reverse)
    assert restarted.states["CS-9"] == partition.states["CS-9"]
    step = restarted.handle(
        _call("NotifyReport", notify_report(1, 2, [variable("C", "z", "3")], tbc=False), 3)
    )
    assert step is not None
    (report,) = read([e for e in step.events if e.topic == Topic.STATIONS])
    assert [row["component"] for row in report.rows] == ["A", "B", "C"]
    after = restarted.changes()
    assert sorted(k for k, v in after if v is None) == parts  # tombstones for the parts


def test_the_partition_clock_closes_a_report_that_stopped() -> None:
    partition = Partition(0, policy=Policy(fetch_inventory=False, report_timeout_s=60))
    partition.handle(_call("BootNotification", boot_payload(V201), 0))
    partition.handle(
        _call("NotifyReport", notify_report(1, 0, [variable("A", "x", "1")], tbc=True), 1)
    )
    partition.changes()
    alive = GatewayAlive(gateway=1, boot="b1", at=T0 + timedelta(seconds=62), lease_s=30)
    swept = partition.handle(alive.envelope())
    assert swept is not None
    (report,) = read([e for e in swept.events if e.topic == Topic.STATIONS])
    assert report.outcome is ReportOutcome.TIMED_OUT
    assert [k for k, v in partition.changes() if v is None] == ["CS-9/part/device_model/1/0"]


def test_a_part_resent_after_its_report_was_written_is_not_a_new_report() -> None:
    station = booted()
    last = notify_report(4, 0, [variable("A", "x", "1")], tbc=False)
    assert len(read(station.call("NotifyReport", last).events)) == 1
    again = station.call("NotifyReport", last)  # its answer was lost: the station sends again
    assert (again.reply, again.events) == (Reply({}), [])
    request = {"requestId": 4, "reportBase": "FullInventory"}
    station.answer("GetBaseReport", request, {"status": "Accepted"})  # requestId 4 reused
    (anew,) = read(station.call("NotifyReport", last).events)
    assert anew.full_inventory


def test_a_seq_no_beyond_the_bound_closes_the_report_as_it_stands() -> None:
    station = booted()
    station.call("NotifyReport", notify_report(5, 0, [variable("A", "x", "1")], tbc=True))
    huge = {"requestId": 5, "generatedAt": ts(1), "seqNo": 10**12, "reportData": []}
    (report,) = read(station.call("NotifyReport", huge).events)  # no range over 10**12
    assert (report.outcome, report.parts, report.missing_parts) == (ReportOutcome.TIMED_OUT, 1, [])
    beyond = {"requestId": 6, "generatedAt": ts(1), "seqNo": reports.MAX_PARTS}
    alone = station.call("NotifyReport", beyond)
    assert (alone.reply, alone.events) == (Reply({}), [])


def test_the_bound_counts_bytes_not_characters(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reports, "MAX_REPORT_BYTES", 3000)
    station = booted()
    wide = [variable("Display", f"Text{i}", "€" * 100) for i in range(20)]  # 300 bytes each
    (report,) = read(station.call("NotifyReport", notify_report(7, 0, wide, tbc=False)).events)
    assert 0 < len(report.rows) < 10
    assert report.rows_dropped == 20 - len(report.rows)


def test_a_request_nobody_answered_is_forgotten_and_that_is_kept() -> None:
    partition = Partition(0, policy=Policy(fetch_inventory=False, report_timeout_s=60))
    partition.handle(_call("BootNotification", boot_payload(V201), 0))
    state = partition.states["CS-9"]
    request = RequestedReport(
        kind=ReportKind.DEVICE_MODEL,
        request_id=3,
        action="GetBaseReport",
        request={"requestId": 3, "reportBase": "FullInventory"},
        at=T0,
    )
    partition.states["CS-9"] = replace(state, requested_reports=(request,))
    partition.reporting.add("CS-9")
    partition.changes()
    alive = GatewayAlive(gateway=1, boot="b1", at=T0 + timedelta(seconds=61), lease_s=30)
    partition.handle(alive.envelope())
    assert partition.states["CS-9"].requested_reports == ()
    assert [key for key, _ in partition.changes()] == ["CS-9"]  # written, not only in memory
    assert "CS-9" not in partition.reporting
