"""Every station-initiated action of OCPP 1.6 and 2.0.1 gets a schema-valid answer."""

import pytest

from contracts.payloads.ocpp import Reply, ReplyError
from ocppj.validation import Validator, station_actions
from ocppj.versions import OcppVersion
from services.sessions.core.handlers import handled_actions
from services.sessions.core.policy import BootStatus, Policy
from tests.unit.services.sessions.core.schema_samples import minimal_request
from tests.unit.services.sessions.core.station import V16, V201, Station

V21 = OcppVersion.V21
ALL = [(version, action) for version in (V16, V201) for action in sorted(station_actions(version))]
# Answered while Pending: what TriggerMessage or GetReport can make a station send.
WHILE_PENDING = {
    "DiagnosticsStatusNotification",
    "FirmwareStatusNotification",
    "LogStatusNotification",
    "MeterValues",
    "NotifyMonitoringReport",
    "NotifyReport",
    "PublishFirmwareStatusNotification",
    "SignCertificate",
    "SignedFirmwareStatusNotification",
    "StatusNotification",
}
# Actions whose answer reflects no state: what we answer, exactly (docs/sessions.md).
FIXED = {
    "DataTransfer": {"status": "UnknownVendorId"},
    "Get15118EVCertificate": {"status": "Failed", "exiResponse": ""},
    "GetCertificateStatus": {"status": "Failed"},
    "NotifyEVChargingNeeds": {"status": "Rejected"},
    "NotifyEVChargingSchedule": {"status": "Accepted"},
}


@pytest.mark.parametrize("version", [V16, V201])
def test_every_station_action_is_handled(version: OcppVersion) -> None:
    assert handled_actions(version) == station_actions(version)


@pytest.mark.parametrize(("version", "action"), ALL)
def test_every_action_gets_a_schema_valid_reply(version: OcppVersion, action: str) -> None:
    station = Station(version=version)
    station.boot()
    step = station.call(action, minimal_request(version, action))  # Station validates replies
    assert isinstance(step.reply, Reply)
    if action in FIXED:
        assert step.reply.payload == FIXED[action]


@pytest.mark.parametrize(
    "action", sorted(station_actions(V21) & station_actions(V201) - {"Heartbeat"})
)
def test_a_21_station_gets_the_201_answers_valid_for_21(action: str) -> None:
    station = Station(version=V201)
    station.boot()
    station.version = V21
    step = station.call(action, minimal_request(V201, action))
    assert isinstance(step.reply, Reply)
    Validator(V21).validate_response(action, step.reply.payload, outgoing=True)


@pytest.mark.parametrize("version", [V16, V201])
def test_heartbeat_answered_by_the_gateway_gets_no_second_answer(version: OcppVersion) -> None:
    station = Station(version=version)
    station.boot()
    station.tick(60)
    step = station.call("Heartbeat", {}, answered_by_gateway=True)
    assert step.reply is None
    assert step.events == []
    assert step.state.last_seen == station.now


@pytest.mark.parametrize("version", [V16, V201])
def test_a_heartbeat_the_gateway_left_unanswered_is_answered(version: OcppVersion) -> None:
    station = Station(version=version)
    step = station.call("Heartbeat", {})  # even before boot: the gateway answers it anyway
    assert step.reply == Reply({"currentTime": "2026-11-25T08:00:00.000Z"})


def test_an_action_of_a_later_version_is_not_supported() -> None:
    station = Station(version=V201)
    station.boot()
    station.version = V21
    step = station.call("NotifyPriorityCharging", {"transactionId": "t", "activated": True})
    assert isinstance(step.reply, ReplyError)
    assert step.reply.code == "NotSupported"


def test_a_201_action_from_a_16_station_is_not_supported() -> None:
    station = Station(version=V16)
    station.boot()
    step = station.call("NotifyEvent", minimal_request(V201, "NotifyEvent"))
    assert step.reply == ReplyError(
        "NotSupported", "NotifyEvent (ocpp1.6) is not handled by the sessions service"
    )


GATED = [(v, a) for v, a in ALL if a not in ("BootNotification", "Heartbeat")]


@pytest.mark.parametrize(("version", "action"), GATED)
def test_before_any_boot_every_call_gets_security_error(version: OcppVersion, action: str) -> None:
    station = Station(version=version)
    step = station.call(action, minimal_request(version, action))
    assert step.reply == ReplyError(
        "SecurityError", f"{action} before BootNotification was Accepted (boot: not received)"
    )
    [asked] = step.events  # and the station is asked for its boot (test_boot_request.py)
    assert asked.payload["action"] == "TriggerMessage"
    assert step.state.transactions == ()


@pytest.mark.parametrize(("version", "action"), GATED)
def test_while_rejected_every_call_gets_security_error(version: OcppVersion, action: str) -> None:
    station = Station(version=version, policy=Policy(unknown_station=BootStatus.REJECTED))
    station.boot()
    step = station.call(action, minimal_request(version, action))
    assert isinstance(step.reply, ReplyError)
    assert step.reply.code == "SecurityError"
    assert "(boot: Rejected)" in step.reply.description


@pytest.mark.parametrize(("version", "action"), GATED)
def test_while_pending_only_triggered_messages_are_answered(
    version: OcppVersion, action: str
) -> None:
    station = Station(version=version, policy=Policy(unknown_station=BootStatus.PENDING))
    station.boot()
    step = station.call(action, minimal_request(version, action))
    if action in WHILE_PENDING:
        assert isinstance(step.reply, Reply)
    else:
        assert isinstance(step.reply, ReplyError)
        assert step.reply.code == "SecurityError"


@pytest.mark.parametrize("version", [V16, V201])
def test_an_accepted_station_stays_accepted_across_reconnects(version: OcppVersion) -> None:
    station = Station(version=version)
    station.presence(connected=True, connection_id="conn-1")
    station.boot()
    station.presence(connected=False, connection_id="conn-1")
    station.presence(connected=True, connection_id="conn-2")
    step = station.call("Authorize", minimal_request(version, "Authorize"))
    assert isinstance(step.reply, Reply)
