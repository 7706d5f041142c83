"""Abandoned transactions: closed by the CSMS with what we knew, corrected once by a late end."""

from contracts.codec import decode, encode
from contracts.events import DomainEvent, EventType
from contracts.payloads.sessions import SessionEnded
from contracts.topics import Topic
from tests.unit.services.sessions.core.station import V16, V201, Station, at, kinds, ts
from tests.unit.services.sessions.core.test_transaction_events import TOKENS as TOKENS_201
from tests.unit.services.sessions.core.test_transaction_events import energy, event
from tests.unit.services.sessions.core.test_transactions_16 import TOKENS as TOKENS_16
from tests.unit.services.sessions.core.test_transactions_16 import meter_value, start

ENERGY_16 = {"measurand": "Energy.Active.Import.Register", "value": "2000"}


def _sessions(events: list[DomainEvent]) -> list[DomainEvent]:
    return [e for e in events if e.topic == Topic.SESSIONS]


def _read(event: DomainEvent) -> SessionEnded:
    parsed = SessionEnded.parse(decode(encode(event.envelope())))
    assert parsed is not None
    return parsed


def _station_16_charging() -> Station:
    station = Station(version=V16, tokens=dict(TOKENS_16))
    station.boot()
    start(station)  # transaction 100 at t=20 with meterStart 1520
    station.call(
        "MeterValues",
        {"connectorId": 1, "transactionId": 100, "meterValue": [meter_value(300, ENERGY_16)]},
    )
    return station


def test_a_reboot_closes_the_open_transaction_with_the_last_reading_then_its_stop_corrects() -> (
    None
):
    station = _station_16_charging()
    station.tick(600)
    boot = station.boot()
    assert kinds(boot.events) == [EventType.SESSION_ENDED, EventType.STATION_BOOTED]
    ended = _read(boot.events[0])
    assert (ended.transaction_id, ended.energy_wh, ended.ended_at) == ("100", 480.0, at(300))
    assert (ended.stop_reason, ended.closed_by_csms, ended.corrected) == (
        "ClosedByCsms",
        "Rebooted",
        False,
    )
    assert ended.duration_s == 280.0
    assert boot.state.transactions == ()
    # The station's queued StopTransaction comes after its boot: accepted, one correction.
    stop = {"transactionId": 100, "meterStop": 2500, "timestamp": ts(450), "reason": "PowerLoss"}
    late = station.call("StopTransaction", stop)
    assert late.reply is not None
    [corrected] = late.events
    assert corrected.event_type == EventType.SESSION_CORRECTED
    fixed = _read(corrected)
    assert (fixed.energy_wh, fixed.ended_at, fixed.stop_reason) == (980.0, at(450), "PowerLoss")
    assert (fixed.closed_by_csms, fixed.corrected, fixed.duration_s) == ("Rebooted", True, 430.0)
    assert station.call("StopTransaction", stop).events == []  # a resend: nothing more
    ends = [e.event_type for e in _sessions(station.events) if "Ended" in e.event_type]
    assert ends == [EventType.SESSION_ENDED]  # never a second SessionEnded


def test_a_start_on_the_same_connector_closes_the_older_one() -> None:
    station = _station_16_charging()
    later = start(station, t=900)
    assert kinds(later.events) == [
        EventType.ANOMALY_DETECTED,
        EventType.SESSION_ENDED,
        EventType.SESSION_STARTED,
    ]
    assert _read(later.events[1]).closed_by_csms == "NewTransaction"
    assert [t.transaction_id for t in later.state.transactions] == [101]


def test_a_boot_without_open_transactions_closes_nothing() -> None:
    station = Station(version=V16)
    station.boot()
    assert kinds(station.boot().events) == [EventType.STATION_BOOTED]


def _station_201_charging() -> Station:
    station = Station(version=V201, tokens=dict(TOKENS_201))
    station.boot()
    started = event("Started", 0, 10, meter=[energy(10, 1000)], evse={"id": 1, "connectorId": 1})
    station.call("TransactionEvent", started)
    station.call("TransactionEvent", event("Updated", 1, 70, meter=[energy(70, 1400)]))
    return station


def test_a_201_start_on_the_same_evse_closes_the_older_one_and_its_late_end_corrects() -> None:
    station = _station_201_charging()
    newer = event(
        "Started", 0, 200, transaction_id="tx-2", meter=[energy(200, 5000)], evse={"id": 1}
    )
    step = station.call("TransactionEvent", newer)
    assert kinds(step.events) == [EventType.SESSION_ENDED, EventType.SESSION_STARTED]
    closed = _read(step.events[0])
    assert (closed.transaction_id, closed.energy_wh, closed.ended_at) == ("tx-1", 400.0, at(70))
    assert closed.closed_by_csms == "NewTransaction"
    # An Updated of the closed one changes no totals; its Ended corrects, once.
    assert (
        _sessions(
            station.call(
                "TransactionEvent", event("Updated", 2, 80, meter=[energy(80, 1450)])
            ).events
        )
        == []
    )
    ended = event(
        "Ended", 3, 90, meter=[energy(90, 1500)], info={"stoppedReason": "EVDisconnected"}
    )
    [corrected] = station.call("TransactionEvent", ended).events
    fixed = _read(corrected)
    assert (fixed.corrected, fixed.energy_wh, fixed.ended_at) == (True, 500.0, at(90))
    assert fixed.stop_reason == "EVDisconnected"
    assert station.call("TransactionEvent", event("Ended", 4, 95)).events == []


def test_a_late_start_of_an_older_transaction_closes_nothing() -> None:
    station = _station_201_charging()  # tx-1 started at 10, open
    older = event("Started", 0, 5, transaction_id="tx-0", evse={"id": 1})
    step = station.call("TransactionEvent", older)
    assert EventType.SESSION_ENDED not in kinds(step.events)
    assert "tx-1" in [t.key for t in step.state.transactions]


def test_a_reboot_announces_a_transaction_seen_only_in_updates_with_estimates() -> None:
    station = Station(version=V201, tokens=dict(TOKENS_201))
    station.boot()
    station.call("TransactionEvent", event("Updated", 5, 50, meter=[energy(50, 300)]))
    station.tick(100)
    step = station.boot()
    assert kinds(step.events) == [
        EventType.SESSION_STARTED,  # with estimates: its Started never came
        EventType.SESSION_UPDATED,
        EventType.SESSION_ENDED,
        EventType.STATION_BOOTED,
    ]
    assert _read(step.events[2]).ended_at == at(50)


def test_a_boot_read_again_after_a_crash_closes_nothing_that_began_after_it() -> None:
    station = Station(version=V16, tokens=dict(TOKENS_16))
    first_boot_at = station.now
    station.boot()
    start(station)  # begun after the boot
    station.now = first_boot_at  # the worker restarts and reads the boot record again
    replayed = station.boot()
    assert kinds(replayed.events) == [EventType.STATION_BOOTED]
    assert [t.transaction_id for t in replayed.state.transactions] == [100]
