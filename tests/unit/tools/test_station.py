"""The station model without an event loop: boot, heartbeats, sessions, schema-valid payloads."""

import itertools
from random import Random

import pytest

from tests.unit.tools.peer import EPOCH_S, Peer, Sent
from tools.simulator.answers import Csms
from tools.simulator.events import (
    CallAborted,
    CallAnswered,
    CallTimedOut,
    LateAnswer,
    MalformedMessage,
    SessionEnded,
    SessionStarted,
)
from tools.simulator.frames import error_text, result_text
from tools.simulator.payloads import Version
from tools.simulator.station import BOOT_RETRY_S, Behaviour, Station

IDLE = Behaviour(sessions=False)
CHARGING = Behaviour(session_length_s=30.0, meter_interval_s=10.0, idle_s=5.0)


def make_station(
    version: Version, behaviour: Behaviour = IDLE, station_id: str = "CS001"
) -> Station:
    return Station(station_id, version, behaviour, Random(7), epoch_s=EPOCH_S)


def connected(version: Version, behaviour: Behaviour = IDLE, **csms: int) -> Peer:
    peer = Peer(make_station(version, behaviour), Csms(**csms))  # type: ignore[arg-type]
    peer.station.connect(0.0)
    peer.pump(0.0)
    return peer


def energy_wh(version: Version, sent: Sent) -> float:
    values = sent.payload["meterValue"][0]["sampledValue"]
    register = next(v for v in values if v["measurand"] == "Energy.Active.Import.Register")
    return float(register["value"])


def power_w(sent: Sent) -> float:
    values = sent.payload["meterValue"][0]["sampledValue"]
    return float(next(v["value"] for v in values if v["measurand"] == "Power.Active.Import"))


@pytest.mark.parametrize("version", list(Version))
def test_boot_then_status_then_heartbeats_at_the_boot_interval(version: Version) -> None:
    peer = connected(version, heartbeat_interval_s=60)

    assert peer.actions() == ["BootNotification", "StatusNotification"]
    assert peer.station.booted
    status = peer.sent[1].payload
    if version is Version.V16:
        assert (status["connectorId"], status["status"]) == (1, "Available")
    else:
        assert (status["evseId"], status["connectorId"], status["connectorStatus"]) == (
            1,
            1,
            "Available",
        )
    heartbeats = peer.run_until(200.0)
    assert [(s.at, s.action) for s in heartbeats] == [
        (60.0, "Heartbeat"),
        (120.0, "Heartbeat"),
        (180.0, "Heartbeat"),
    ]


def test_heartbeat_override_replaces_the_interval_and_zero_disables_it() -> None:
    every_5 = connected(Version.V16, Behaviour(sessions=False, heartbeat_override_s=5.0))
    assert [s.at for s in every_5.run_until(20.0)] == [5.0, 10.0, 15.0, 20.0]
    never = connected(Version.V16, Behaviour(sessions=False, heartbeat_override_s=0.0))
    assert never.run_until(1000.0) == []
    assert never.station.next_deadline() is None


def test_a_charging_session_in_ocpp16() -> None:
    peer = connected(Version.V16, CHARGING, heartbeat_interval_s=3600)
    sent = peer.run_until(80.0)
    actions = peer.actions()
    first_stop = actions.index("StopTransaction")
    assert actions[: first_stop + 3] == [
        "BootNotification",
        "StatusNotification",  # Available
        "StatusNotification",  # Preparing
        "Authorize",
        "StartTransaction",
        "StatusNotification",  # Charging
        *["MeterValues"] * (first_stop - 6),
        "StopTransaction",
        "StatusNotification",  # Finishing
        "StatusNotification",  # Available
    ]
    assert first_stop - 6 >= 2  # a 24-36 s session, a reading every 10 s
    statuses = [s.payload["status"] for s in peer.sent if s.action == "StatusNotification"]
    assert statuses[:6] == [
        "Available",
        "Preparing",
        "Charging",
        "Finishing",
        "Available",
        "Preparing",
    ]
    start = next(s for s in sent if s.action == "StartTransaction").payload
    stop = next(s for s in sent if s.action == "StopTransaction").payload
    authorize = next(s for s in sent if s.action == "Authorize").payload
    assert start["idTag"] == authorize["idTag"] == stop["idTag"]
    assert stop["transactionId"] == 1  # from Csms
    assert stop["reason"] == "Local"
    readings = [s for s in sent if s.action == "MeterValues"][: first_stop - 6]
    assert all(s.payload["transactionId"] == 1 for s in readings)
    energies = [energy_wh(Version.V16, s) for s in readings]
    assert start["meterStart"] < energies[0] < energies[-1] <= stop["meterStop"]
    assert all(6_650 <= power_w(s) <= 23_100 for s in readings)  # 7-22 kW +-5 %
    values = readings[0].payload["meterValue"][0]["sampledValue"]
    assert {v["measurand"]: v["unit"] for v in values} == {
        "Energy.Active.Import.Register": "Wh",
        "Power.Active.Import": "W",
        "Current.Import": "A",
        "SoC": "Percent",
    }
    assert all(isinstance(v["value"], str) for v in values)
    events = peer.station.events_received()
    started = [e for e in events if isinstance(e, SessionStarted)]
    ended = [e for e in events if isinstance(e, SessionEnded)]
    assert started[0].transaction_id == ended[0].transaction_id == "1"
    assert ended[0].energy_wh == pytest.approx(stop["meterStop"] - start["meterStart"], abs=1)


def test_a_charging_session_in_ocpp201() -> None:
    peer = connected(Version.V201, CHARGING, heartbeat_interval_s=3600)
    peer.run_until(80.0)
    events = [s for s in peer.sent if s.action == "TransactionEvent"]
    first = events[0].payload
    transaction_id = first["transactionInfo"]["transactionId"]
    session = [
        e.payload for e in events if e.payload["transactionInfo"]["transactionId"] == transaction_id
    ]
    assert [p["eventType"] for p in session] == [
        "Started",
        *["Updated"] * (len(session) - 2),
        "Ended",
    ]
    assert [p["seqNo"] for p in session] == list(range(len(session)))
    assert first["triggerReason"] == "Authorized"
    assert first["evse"] == {"id": 1, "connectorId": 1}
    authorize = next(s.payload for s in peer.sent if s.action == "Authorize")
    assert first["idToken"] == authorize["idToken"]
    assert {p["triggerReason"] for p in session[1:-1]} == {"MeterValuePeriodic"}
    assert session[-1]["transactionInfo"]["stoppedReason"] == "Local"
    energies = [p["meterValue"][0]["sampledValue"][0]["value"] for p in session]
    assert energies == sorted(energies)
    assert energies[0] < energies[-1]
    assert all(isinstance(v, int | float) for v in energies)
    statuses = [s.payload["connectorStatus"] for s in peer.sent if s.action == "StatusNotification"]
    assert statuses[:3] == ["Available", "Occupied", "Available"]  # no repeats while charging
    started = [e for e in peer.station.events_received() if isinstance(e, SessionStarted)]
    assert started[0].transaction_id == transaction_id


def test_energy_grows_with_power_times_time() -> None:
    peer = connected(Version.V16, Behaviour(session_length_s=10_000, meter_interval_s=60, idle_s=1))
    readings = [s for s in peer.run_until(900.0) if s.action == "MeterValues"]
    assert len(readings) >= 10
    for before, after in itertools.pairwise(readings):
        expected_wh = power_w(before) * (after.at - before.at) / 3600
        assert energy_wh(Version.V16, after) - energy_wh(Version.V16, before) == pytest.approx(
            expected_wh, abs=1.5
        )


@pytest.mark.parametrize("version", list(Version))
@pytest.mark.parametrize("status", ["Pending", "Rejected"])
def test_a_boot_not_accepted_is_retried_after_interval(version: Version, status: str) -> None:
    peer = connected(version, boot_status=status, heartbeat_interval_s=15)  # type: ignore[arg-type]
    assert peer.actions() == ["BootNotification"]  # and nothing else: not booted
    peer.csms.boot_status = "Accepted"
    later = peer.run_until(20.0)
    assert [(s.at, s.action) for s in later] == [
        (15.0, "BootNotification"),
        (15.0, "StatusNotification"),
    ]
    assert peer.station.booted
    assert peer.station.accepted_once


def test_a_boot_error_is_retried_and_nothing_else_is_sent_before_acceptance() -> None:
    peer = Peer(make_station(Version.V201), answering=False)
    peer.station.connect(0.0)
    (boot,) = peer.pump(0.0)
    peer.station.receive_text(error_text(boot.unique_id, "InternalError"), 0.5)
    peer.station.queue_heartbeat()  # waits for the boot
    assert peer.pump(0.5) == []
    peer.station.handle_timer(0.5 + BOOT_RETRY_S)
    (again,) = peer.pump(0.5 + BOOT_RETRY_S)
    assert again.action == "BootNotification"
    assert again.unique_id != boot.unique_id  # 2.0.1: never reuse a message id
    events = peer.station.events_received()
    assert CallAnswered("BootNotification", "InternalError", 0.5, "InternalError") in events


def test_one_call_in_flight_and_a_timeout_lets_the_next_go() -> None:
    peer = Peer(
        make_station(Version.V16, Behaviour(sessions=False, connectors=2, call_timeout_s=30)),
        answering=False,
    )
    peer.station.connect(0.0)
    (boot,) = peer.pump(0.0)
    peer.answer(boot, 0.1)
    (first_status,) = peer.pump(0.1)  # connector 2 waits
    assert first_status.payload["connectorId"] == 1
    peer.station.handle_timer(29.0)
    assert peer.pump(29.0) == []
    assert peer.station.next_deadline() == pytest.approx(30.1)
    peer.station.handle_timer(30.1)
    (second_status,) = peer.pump(30.1)
    assert second_status.payload["connectorId"] == 2
    assert CallTimedOut("StatusNotification") in peer.station.events_received()
    peer.station.receive_text(result_text(first_status.unique_id, {}), 31.0)  # too late
    assert peer.station.events_received() == [LateAnswer(first_status.unique_id)]


def test_garbage_is_reported_not_raised() -> None:
    peer = connected(Version.V16)
    peer.station.receive_text("[2, not json", 1.0)
    peer.station.receive_text('{"an": "object"}', 1.0)
    events = peer.station.events_received()
    assert [type(e) for e in events[-2:]] == [MalformedMessage, MalformedMessage]


@pytest.mark.parametrize("reboot", [True, False])
def test_reconnect_aborts_the_call_in_flight_and_boots_again_if_asked(reboot: bool) -> None:
    behaviour = Behaviour(sessions=False, boot_on_reconnect=reboot, heartbeat_override_s=10)
    peer = Peer(make_station(Version.V16, behaviour), answering=False)
    peer.station.connect(0.0)
    (boot,) = peer.pump(0.0)
    peer.answer(boot, 0.0)
    peer.pump(0.0)  # StatusNotification, left unanswered
    peer.station.disconnect(5.0)
    assert CallAborted("StatusNotification") in peer.station.events_received()
    peer.station.handle_timer(20.0)
    assert peer.pump(20.0) == []  # nothing while disconnected
    peer.station.connect(30.0)
    peer.answering = True
    peer.now = 30.0
    first = peer.run_until(40.0)[0]
    assert (first.at, first.action) == (
        (30.0, "BootNotification") if reboot else (40.0, "Heartbeat")
    )


def test_offered_load_goes_only_to_an_idle_booted_station() -> None:
    peer = Peer(make_station(Version.V201), answering=False)
    assert not peer.station.offer_load("Heartbeat", 0.0)  # not connected
    peer.station.connect(0.0)
    (boot,) = peer.pump(0.0)
    assert not peer.station.offer_load("Heartbeat", 0.0)  # not booted
    peer.answer(boot, 0.0)
    (status,) = peer.pump(0.0)
    assert not peer.station.offer_load("Heartbeat", 0.0)  # busy
    peer.answer(status, 0.0)
    assert peer.station.offer_load("MeterValues", 1.0)
    (load,) = peer.pump(1.0)
    assert load.action == "MeterValues"
    assert load.payload["evseId"] == 1


def test_message_ids_never_repeat_across_connections_or_runs() -> None:
    peer = connected(Version.V201, Behaviour(sessions=False, heartbeat_override_s=1))
    peer.run_until(5.0)
    peer.station.disconnect(5.0)
    peer.station.connect(6.0)
    peer.run_until(10.0)
    ids = [s.unique_id for s in peer.sent]
    assert len(ids) > 10
    assert len(set(ids)) == len(ids)
    assert all(len(i) <= 36 for i in ids)
    next_run = Station("CS001", Version.V201, IDLE, Random(7), epoch_s=EPOCH_S + 60)
    next_run.connect(0.0)
    assert Peer(next_run).pump(0.0)[0].unique_id not in ids
