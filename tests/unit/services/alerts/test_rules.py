"""Alerts open once and close once: each rule, the clock, and the partition's changelog (pure)."""

from datetime import UTC, datetime, timedelta

import msgpack

from contracts.events import DomainEvent, EventType
from contracts.payloads.alerts import Alert, AlertKind, Severity
from contracts.payloads.firmware import (
    FirmwareKind,
    FirmwareStatusReported,
    LogKind,
    LogStatusReported,
)
from contracts.payloads.monitoring_events import MonitoringEventReported
from contracts.payloads.presence import GatewayAlive
from contracts.payloads.security_events import SecurityEventReported
from contracts.payloads.stations import StationBooted, StationOnlineChanged, StationStatusChanged
from contracts.topics import Topic
from services.alerts.core import rules
from services.alerts.core.partition import Partition
from services.alerts.core.policy import Thresholds

T0 = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
CS = "CS-1"


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


class Clock:
    """A partition fed records as the worker feeds it, each at its time."""

    def __init__(self, thresholds: Thresholds | None = None) -> None:
        self.partition = Partition(0, thresholds=thresholds or Thresholds())

    def send(self, event: DomainEvent, seconds: float) -> list[DomainEvent]:
        step = self.partition.handle(event.envelope(occurred_at=at(seconds)))
        assert step is not None
        return list(step.events)

    def tick(self, seconds: float) -> list[DomainEvent]:
        alive = GatewayAlive(gateway=1, boot="b1", at=at(seconds), lease_s=30)
        step = self.partition.handle(alive.envelope())
        assert step is not None
        return list(step.events)


def raised(events: list[DomainEvent]) -> list[Alert]:
    found = []
    for event in events:
        if event.event_type == EventType.ALERT_RAISED:
            assert event.topic == Topic.ALERTS
            alert = Alert.parse(event.envelope())
            assert alert is not None
            found.append(alert)
    return found


def resolved(events: list[DomainEvent]) -> list[Alert]:
    found = []
    for event in events:
        if event.event_type == EventType.ALERT_RESOLVED:
            alert = Alert.parse(event.envelope())
            assert alert is not None
            found.append(alert)
    return found


def open_records(events: list[DomainEvent]) -> list[tuple[str, bool]]:
    """(key, tombstone) of the alerts.open.v1 records."""
    return [(e.key, e.tombstone) for e in events if e.topic == Topic.ALERTS_OPEN]


def offline(seconds: float) -> DomainEvent:
    return StationOnlineChanged(
        station_id=CS, online=False, gateway=1, connection_id="c1", at=at(seconds), reason=None
    ).event()


def online(seconds: float) -> DomainEvent:
    return StationOnlineChanged(
        station_id=CS, online=True, gateway=1, connection_id="c2", at=at(seconds), reason=None
    ).event()


def status(value: str, seconds: float, error_code: str | None = None) -> DomainEvent:
    return StationStatusChanged(
        station_id=CS,
        evse_id=1,
        connector_id=1,
        status=value,
        error_code=error_code,
        at=at(seconds),
    ).event()


def test_a_station_offline_past_the_threshold_raises_once_and_online_resolves() -> None:
    clock = Clock(Thresholds(offline_after_s=300))
    assert clock.send(offline(0), 0) == []
    assert clock.tick(299) == []  # a reconnect within the threshold would raise nothing
    (alert,) = raised(events := clock.tick(300))
    assert (alert.alert_id, alert.kind, alert.severity, alert.raised_at) == (
        "CS-1/StationOffline",
        AlertKind.STATION_OFFLINE,
        Severity.MAJOR,
        at(0),
    )
    assert open_records(events) == [("CS-1/StationOffline", False)]
    assert clock.tick(600) == []  # no duplicate while open
    assert clock.send(offline(650), 650) == []
    back = clock.send(online(700), 700)
    (done,) = resolved(back)
    assert (done.resolved_at, done.resolution) == (at(700), "online again")
    assert open_records(back) == [("CS-1/StationOffline", True)]


def test_a_short_outage_raises_nothing() -> None:
    clock = Clock(Thresholds(offline_after_s=300))
    clock.send(offline(0), 0)
    assert clock.send(online(100), 100) == []
    assert clock.tick(1000) == []
    assert clock.partition.ticking == set()


def test_a_faulted_connector_raises_and_leaving_faulted_resolves() -> None:
    clock = Clock()
    (alert,) = raised(clock.send(status("Faulted", 0, "GroundFailure"), 0))
    assert alert.alert_id == "CS-1/ConnectorFaulted/1/1"
    assert alert.summary == "EVSE 1 connector 1 is Faulted (GroundFailure)"
    assert clock.send(status("Faulted", 5, "GroundFailure"), 5) == []  # still open: no duplicate
    (done,) = resolved(clock.send(status("Available", 60), 60))
    assert done.resolution == "status Available"
    assert clock.send(status("Charging", 70), 70) == []  # nothing open, nothing to resolve


def test_a_component_problem_is_raised_and_cleared_by_the_station() -> None:
    clock = Clock()

    def problem(value: str, cleared: bool, seconds: float) -> DomainEvent:
        return MonitoringEventReported(
            station_id=CS,
            event_id=int(seconds),
            at=at(seconds),
            trigger="Alerting",
            notification_type="HardWiredNotification",
            component="PowerModule",
            component_instance="2",
            variable="Problem",
            actual_value=value,
            cleared=cleared,
            tech_code="PM07",
            evse_id=1,
        ).event()

    (alert,) = raised(clock.send(problem("true", False, 0), 0))
    assert alert.alert_id == "CS-1/ComponentProblem/PowerModule.2/1/0"
    assert alert.details["tech_code"] == "PM07"
    (done,) = resolved(clock.send(problem("false", True, 30), 30))
    assert done.resolved_at == at(30)


def test_a_critical_security_event_counts_its_repeats_and_resolves_when_quiet() -> None:
    clock = Clock(Thresholds(security_quiet_s=3600))

    def event(kind: str, critical: bool, seconds: float) -> DomainEvent:
        return SecurityEventReported(
            station_id=CS, type=kind, reported_type=kind, critical=critical, at=at(seconds)
        ).event()

    assert clock.send(event("FailedToAuthenticateAtCsms", False, 0), 0) == []
    (alert,) = raised(clock.send(event("TamperDetectionActivated", True, 0), 0))
    assert (alert.severity, alert.alert_id) == (
        Severity.CRITICAL,
        "CS-1/CriticalSecurityEvent/TamperDetectionActivated",
    )
    again = clock.send(event("TamperDetectionActivated", True, 600), 600)
    assert raised(again) == []  # counted, not raised again
    (record,) = [e for e in again if e.topic == Topic.ALERTS_OPEN]
    assert record.payload["details"]["count"] == 2
    assert clock.tick(600 + 3599) == []
    (done,) = resolved(clock.tick(600 + 3600))
    assert done.details["count"] == 2


def test_failed_firmware_and_uploads_raise_and_a_success_resolves() -> None:
    clock = Clock()
    firmware = FirmwareStatusReported(
        station_id=CS, kind=FirmwareKind.UPDATE, status="InstallationFailed", at=at(0), request_id=9
    )
    (alert,) = raised(clock.send(firmware.event(), 0))
    assert (alert.kind, alert.summary) == (AlertKind.FIRMWARE_FAILED, "firmware InstallationFailed")
    installing = FirmwareStatusReported(
        station_id=CS, kind=FirmwareKind.UPDATE, status="Installing", at=at(10)
    )
    assert clock.send(installing.event(), 10) == []
    installed = FirmwareStatusReported(
        station_id=CS, kind=FirmwareKind.UPDATE, status="Installed", at=at(20)
    )
    assert len(resolved(clock.send(installed.event(), 20))) == 1
    upload = LogStatusReported(station_id=CS, kind=LogKind.LOG, status="UploadFailure", at=at(30))
    (log_alert,) = raised(clock.send(upload.event(), 30))
    assert log_alert.severity is Severity.MINOR


def test_boots_again_and_again_raise_a_reboot_loop_that_quiet_resolves() -> None:
    clock = Clock(Thresholds(reboots=3, reboot_window_s=3600, reboot_quiet_s=7200))
    boot = StationBooted(
        station_id=CS,
        vendor="V",
        model="M",
        serial_number=None,
        firmware_version="1",
        ocpp_version="ocpp1.6",
        boot_status="Accepted",
    ).event()
    assert clock.send(boot, 0) == []
    assert clock.send(boot, 4000) == []  # the first one is out of the window by now
    assert clock.send(boot, 5000) == []
    (alert,) = raised(clock.send(boot, 6000))
    assert alert.details["boots"] == 3
    assert clock.send(boot, 6100) == []
    assert clock.tick(6100 + 7199) == []
    (done,) = resolved(clock.tick(6100 + 7200))
    assert done.kind is AlertKind.REBOOT_LOOP


def test_the_changelog_restores_the_open_alerts_and_the_clock() -> None:
    clock = Clock(Thresholds(offline_after_s=300))
    clock.send(status("Faulted", 0), 0)
    clock.send(offline(10), 10)
    writes = clock.partition.changes()
    assert [key for key, _ in writes] == [CS]
    restored = Partition(0, thresholds=Thresholds(offline_after_s=300))
    for key, value in writes:
        restored.restore(key, value)
    assert restored.states == clock.partition.states
    assert restored.ticking == {CS}
    step = restored.handle(GatewayAlive(gateway=1, boot="b", at=at(310), lease_s=30).envelope())
    assert step is not None
    (alert,) = raised(list(step.events))
    assert alert.kind is AlertKind.STATION_OFFLINE
    assert clock.partition.changes() == []  # nothing since
    packed = restored.changes()[0][1]
    assert packed is not None
    assert len(msgpack.unpackb(packed, timestamp=3)["open"]) == 2


def test_a_pending_station_booting_on_its_interval_is_no_reboot_loop() -> None:
    clock = Clock(Thresholds(reboots=3, reboot_window_s=3600))
    pending = StationBooted(
        station_id=CS,
        vendor="V",
        model="M",
        serial_number=None,
        firmware_version="1",
        ocpp_version="ocpp1.6",
        boot_status="Pending",
    ).event()
    for minute in range(10):
        assert clock.send(pending, minute * 60) == []


def test_a_station_with_many_problems_has_a_bounded_number_of_alerts_open() -> None:
    clock = Clock()
    for n in range(rules.MAX_OPEN + 10):
        problem = MonitoringEventReported(
            station_id=CS,
            event_id=n,
            at=at(n),
            trigger="Alerting",
            notification_type="HardWiredNotification",
            component=f"Module{n}",
            variable="Problem",
            actual_value="true",
        ).event()
        clock.send(problem, n)
    assert len(clock.partition.states[CS].open) == rules.MAX_OPEN


def test_a_late_security_event_is_quiet_from_when_we_heard_it() -> None:
    clock = Clock(Thresholds(security_quiet_s=3600))
    old = SecurityEventReported(
        station_id=CS,
        type="ResetOrReboot",
        reported_type="ResetOrReboot",
        critical=True,
        at=at(-86400),
    ).event()  # queued a day ago at the station, heard now
    assert len(raised(clock.send(old, 0))) == 1
    assert clock.tick(60) == []  # not resolved at once: the quiet time counts from now
    assert len(resolved(clock.tick(3600))) == 1
