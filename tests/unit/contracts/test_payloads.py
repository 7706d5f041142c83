"""Payloads: builders write docs/events.md's fields, parsers read them back tolerantly."""

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contracts.codec import decode, encode
from contracts.envelope import Envelope
from contracts.errors import RecordRejected
from contracts.events import DomainEvent, EventType, Outcome
from contracts.headers import MAX_ERROR_CHARS, Header, dead_letter_headers, header_text
from contracts.payloads.commands import (
    CommandCompleted,
    OperatorCommand,
    StationCommand,
    status_of,
)
from contracts.payloads.ocpp import (
    Reply,
    ReplyError,
    StationAnswer,
    StationCall,
    parse_reply,
    reply_action,
    reply_to,
    station_answer,
)
from contracts.payloads.presence import Presence
from contracts.payloads.sessions import (
    AnomalyDetected,
    SessionEnded,
    SessionStarted,
    SessionUpdated,
    session_id,
)
from contracts.payloads.stations import StationBooted, StationOnlineChanged, StationStatusChanged
from contracts.payloads.tokens import Token
from contracts.topics import Topic
from ocppj.authorization import ID_TOKEN_TYPES, STATUSES_201
from ocppj.versions import OcppVersion

Parser = Callable[[Envelope], object]

AT = datetime(2026, 11, 25, 8, 30, 0, 123000, tzinfo=UTC)  # the time inside a payload
OCCURRED = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)  # the envelope's: a missing time's fallback
EVENT_ID = "9f1c" * 8


def _record(built: Envelope | DomainEvent) -> Envelope:
    """The envelope a builder's output travels in (a worker wraps a DomainEvent like this)."""
    if isinstance(built, Envelope):
        return built
    return Envelope(
        event_type=built.event_type,
        schema_version=1,
        key=built.key,
        payload=built.payload,
        occurred_at=OCCURRED,
        event_id=EVENT_ID,
    )


def _wire(built: Envelope | DomainEvent) -> Envelope:
    """Through the codec, as a consumer receives it."""
    return decode(encode(_record(built)))


def _with(envelope: Envelope, /, **changes: Any) -> Envelope:
    """``envelope`` with payload fields changed; ``...`` removes one."""
    payload = {**envelope.payload, **changes}
    return dataclasses.replace(
        envelope, payload={name: value for name, value in payload.items() if value is not ...}
    )


CALL = StationCall(
    station_id="CS-0001",
    ocpp_version=OcppVersion.V16,
    unique_id="19223201",
    action="StartTransaction",
    payload={"connectorId": 1, "idTag": "04A2B3C4", "meterStart": 1520},
    connection_id="6d29a5881b924856",
    gateway=3,
    received_at=AT,
)
SEND = dataclasses.replace(
    CALL, ocpp_version=OcppVersion.V21, action="NotifyPeriodicEventStream", send=True
)
HEARTBEAT = dataclasses.replace(CALL, action="Heartbeat", payload={}, answered_by_gateway=True)
CONNECTED = Presence(
    station_id="CS-0001",
    connected=True,
    gateway=3,
    connection_id="6d29a5881b924856",
    ocpp_version=OcppVersion.V201,
    gateway_boot="1e0b",
    connected_at=AT,
)
DISCONNECTED = CONNECTED.ended(at=AT + timedelta(minutes=5), reason="1006")
COMMAND = StationCommand(
    command_id="cmd-77",
    station_id="CS-0001",
    action="Reset",
    payload={"type": "Soft"},
    deadline=AT,
    reply_topic="replies.test",
    event_id=EVENT_ID,
)
ANSWERED = CommandCompleted(
    command_id="cmd-77",
    station_id="CS-0001",
    action="Reset",
    outcome=Outcome.ANSWERED,
    status="Accepted",
    response={"status": "Accepted"},
    gateway=3,
)
CALL_ERROR = CommandCompleted(
    command_id="cmd-78",
    station_id="CS-0001",
    action="Reset",
    outcome=Outcome.CALL_ERROR,
    error={"code": "NotSupported", "description": "no", "details": {}},
    detail="station said no",
    gateway=3,
)
OPERATOR = OperatorCommand(
    command_id="cmd-77",
    station_id="CS-0001",
    command="RemoteStart",
    arguments={"evse_id": 1, "id_token": "04A2B3C4"},
    deadline=AT,
    event_id=EVENT_ID,
)
TOKEN = Token(
    id_token="04A2B3C4D5", type="ISO14443", status="Accepted", expires_at=AT, group_id="FLEET-7"
)
BOOTED = StationBooted(
    station_id="CS-0001",
    vendor="ACME",
    model="Wallbox 22",
    serial_number="SN-1",
    firmware_version="1.2.3",
    ocpp_version="ocpp2.0.1",
    boot_status="Accepted",
)
STATUS = StationStatusChanged(
    station_id="CS-0001", evse_id=1, connector_id=2, status="Faulted", error_code="X", at=AT
)
ONLINE = StationOnlineChanged(
    station_id="CS-0001", online=True, gateway=3, connection_id="6d29", at=AT
)
OFFLINE = dataclasses.replace(ONLINE, online=False, gateway=None, connection_id=None)
STARTED = SessionStarted(
    session_id="CS-0001/17",
    station_id="CS-0001",
    transaction_id="17",
    evse_id=1,
    connector_id=1,
    id_token="04A2B3C4",
    meter_start_wh=1520.0,
    started_at=AT,
    ocpp_version="ocpp1.6",
)
UPDATED = SessionUpdated(
    session_id="CS-0001/17",
    station_id="CS-0001",
    transaction_id="17",
    energy_wh=2520.5,
    power_w=11000.0,
    current_a=16.0,
    soc_percent=None,
    at=AT,
)
ENDED = SessionEnded(
    session_id="CS-0001/17",
    station_id="CS-0001",
    transaction_id="17",
    energy_wh=3000.0,
    duration_s=3600.0,
    id_token="04A2B3C4",
    stop_reason="Local",
    ended_at=AT,
)
ANOMALY = AnomalyDetected(
    station_id="CS-0001",
    reason="UnknownTransaction",
    detail="no open session",
    action="MeterValues",
    transaction_id="18",
    at=AT,
)

CALL_RECORD = CALL.envelope()
COMMAND_RECORD = dataclasses.replace(COMMAND.envelope(), event_id=EVENT_ID)
OPERATOR_RECORD = dataclasses.replace(OPERATOR.envelope(), event_id=EVENT_ID)
REPLY = Reply({"status": "Accepted", "currentTime": "2026-11-25T08:30:00Z", "interval": 300})
REPLY_ERROR = ReplyError("NotSupported", "vendor id unknown")


@pytest.mark.parametrize(
    ("built", "parse", "expected"),
    [
        pytest.param(CALL.envelope(), StationCall.parse, CALL, id="OcppCall"),
        pytest.param(SEND.envelope(), StationCall.parse, SEND, id="OcppSend"),
        pytest.param(HEARTBEAT.envelope(), StationCall.parse, HEARTBEAT, id="OcppCall-Heartbeat"),
        pytest.param(reply_to(CALL_RECORD, REPLY), parse_reply, REPLY, id="OcppReply"),
        pytest.param(
            reply_to(CALL_RECORD, REPLY_ERROR), parse_reply, REPLY_ERROR, id="OcppReplyError"
        ),
        pytest.param(CONNECTED.envelope(), Presence.parse, CONNECTED, id="StationConnected"),
        pytest.param(
            DISCONNECTED.envelope(), Presence.parse, DISCONNECTED, id="StationDisconnected"
        ),
        pytest.param(COMMAND_RECORD, StationCommand.parse, COMMAND, id="StationCommand"),
        pytest.param(
            ANSWERED.envelope(at=AT), CommandCompleted.parse, ANSWERED, id="CommandCompleted"
        ),
        pytest.param(
            CALL_ERROR.envelope(at=AT), CommandCompleted.parse, CALL_ERROR, id="CommandCallError"
        ),
        pytest.param(TOKEN.envelope(), Token.parse, TOKEN, id="TokenDefined"),
        pytest.param(BOOTED.event(), StationBooted.parse, BOOTED, id="StationBooted"),
        pytest.param(STATUS.event(), StationStatusChanged.parse, STATUS, id="StatusChanged"),
        pytest.param(ONLINE.event(), StationOnlineChanged.parse, ONLINE, id="StationOnline"),
        pytest.param(OFFLINE.event(), StationOnlineChanged.parse, OFFLINE, id="StationOffline"),
        pytest.param(STARTED.event(), SessionStarted.parse, STARTED, id="SessionStarted"),
        pytest.param(UPDATED.event(), SessionUpdated.parse, UPDATED, id="SessionUpdated"),
        pytest.param(ENDED.event(), SessionEnded.parse, ENDED, id="SessionEnded"),
        pytest.param(ANOMALY.event(), AnomalyDetected.parse, ANOMALY, id="AnomalyDetected"),
    ],
)
def test_builder_codec_parser_round_trip(
    built: Envelope | DomainEvent, parse: Parser, expected: object
) -> None:
    assert parse(_wire(built)) == expected


def test_operator_command_round_trips() -> None:
    parsed = OperatorCommand.parse(_wire(OPERATOR_RECORD), now=OCCURRED, timeout_s=60)
    assert parsed == OPERATOR
    assert parsed.problem == ""


_CALL_FIELDS = {"station_id", "ocpp_version", "connection_id", "gateway", "unique_id", "action"}
_PRESENCE_FIELDS = _CALL_FIELDS - {"unique_id", "action"} | {"gateway_boot", "connected_at"}
_COMPLETED_FIELDS = {"command_id", "station_id", "action", "gateway", "outcome", "detail"}


# The field lists transcribe docs/events.md: a builder that drifts from the contract fails here.
@pytest.mark.parametrize(
    ("built", "event_type", "fields"),
    [
        (CALL.envelope(), "OcppCall", _CALL_FIELDS | {"answered_by_gateway", "payload"}),
        (SEND.envelope(), "OcppSend", _CALL_FIELDS | {"answered_by_gateway", "payload"}),
        (
            station_answer(
                CONNECTED,
                unique_id="5b0e",
                action="Reset",
                command_id="cmd-77",
                at=AT,
                causation_id=EVENT_ID,
                response={"status": "Accepted"},
            ),
            "OcppCallResult",
            _CALL_FIELDS | {"command_id", "request", "payload"},
        ),
        (
            station_answer(
                CONNECTED,
                unique_id="5b0e",
                action="Reset",
                command_id="cmd-77",
                at=AT,
                causation_id=EVENT_ID,
                error={"code": "NotSupported", "description": "", "details": {}},
            ),
            "OcppCallError",
            _CALL_FIELDS | {"command_id", "request", "error"},
        ),
        (reply_to(CALL_RECORD, REPLY), "OcppReply", {"action", "payload"}),
        (reply_to(CALL_RECORD, REPLY_ERROR), "OcppReplyError", {"action", "code", "description"}),
        (
            COMMAND.envelope(),
            "StationCommand",
            {"command_id", "action", "payload", "deadline", "reply_topic"},
        ),
        (ANSWERED.envelope(at=AT), "CommandCompleted", _COMPLETED_FIELDS | {"status", "response"}),
        (CALL_ERROR.envelope(at=AT), "CommandCompleted", _COMPLETED_FIELDS | {"error"}),
        (CONNECTED.envelope(), "StationConnected", _PRESENCE_FIELDS | {"state"}),
        (
            DISCONNECTED.envelope(),
            "StationDisconnected",
            _PRESENCE_FIELDS | {"state", "disconnected_at", "reason"},
        ),
        (
            TOKEN.envelope(),
            "TokenDefined",
            {"id_token", "type", "status", "expires_at", "group_id"},
        ),
        (
            OPERATOR.envelope(),
            "OperatorCommand",
            {"command_id", "station_id", "command", "arguments", "deadline"},
        ),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_gateway_and_command_records_have_the_documented_fields(
    built: Envelope, event_type: str, fields: set[str]
) -> None:
    assert built.event_type == event_type
    assert built.payload.keys() == fields
    assert built.schema_version == 1


@pytest.mark.parametrize(
    ("built", "key"),
    [
        (CALL.envelope(), CALL.station_id),
        (CONNECTED.envelope(), CONNECTED.station_id),
        (COMMAND.envelope(), COMMAND.station_id),
        (ANSWERED.envelope(at=AT), ANSWERED.station_id),
        (OPERATOR.envelope(), OPERATOR.station_id),
        (TOKEN.envelope(), TOKEN.id_token),
    ],
)
def test_records_are_keyed_as_documented(built: Envelope, key: str) -> None:
    assert built.key == key


@pytest.mark.parametrize(
    ("built", "topic", "event_type", "fields"),
    [
        (
            BOOTED.event(),
            Topic.STATIONS,
            "StationBooted",
            "station_id, vendor, model, serial_number, firmware_version, ocpp_version, boot_status",
        ),
        (
            STATUS.event(),
            Topic.STATIONS,
            "StationStatusChanged",
            "station_id, evse_id, connector_id, status, error_code, at",
        ),
        (
            ONLINE.event(),
            Topic.STATIONS,
            "StationOnline",
            "station_id, gateway, connection_id, at",
        ),
        (
            OFFLINE.event(),
            Topic.STATIONS,
            "StationOffline",
            "station_id, gateway, connection_id, at",
        ),
        (
            STARTED.event(),
            Topic.SESSIONS,
            "SessionStarted",
            "session_id, station_id, transaction_id, ocpp_version, reservation_id, reserved_at,"
            " evse_id, connector_id, id_token, id_token_type, id_token_source, charging_state,"
            " meter_start_wh, started_at",
        ),
        (
            UPDATED.event(),
            Topic.SESSIONS,
            "SessionUpdated",
            "session_id, station_id, transaction_id, evse_id, connector_id, energy_wh, power_w,"
            " current_a, current_total_a, soc_percent, charging_state, at",
        ),
        (
            ENDED.event(),
            Topic.SESSIONS,
            "SessionEnded",
            "session_id, station_id, transaction_id, energy_wh, duration_s, id_token,"
            " id_token_type, id_token_source, stop_reason, ended_at",
        ),
        (
            ANOMALY.event(),
            Topic.SESSIONS,
            "AnomalyDetected",
            "station_id, reason, detail, action, transaction_id, at",
        ),
    ],
    ids=lambda value: value if isinstance(value, str) and "," not in value else None,
)
def test_domain_events_have_the_documented_fields(
    built: DomainEvent, topic: Topic, event_type: str, fields: str
) -> None:
    assert (built.topic, built.event_type, built.key) == (topic, event_type, "CS-0001")
    assert built.payload.keys() == set(fields.split(", "))


# --- tolerant parsing: a wrong type reads as None, a missing time as the record's occurred_at


@pytest.mark.parametrize(
    ("built", "parse", "expected", "name", "value"),
    [
        (CALL.envelope(), StationCall.parse, CALL, "gateway", "3"),
        (CALL.envelope(), StationCall.parse, CALL, "gateway", True),
        (CONNECTED.envelope(), Presence.parse, CONNECTED, "gateway", 3.0),
        (CONNECTED.envelope(), Presence.parse, CONNECTED, "ocpp_version", "ocpp9.9"),
        (CONNECTED.envelope(), Presence.parse, CONNECTED, "ocpp_version", 16),
        (DISCONNECTED.envelope(), Presence.parse, DISCONNECTED, "reason", 1006),
        (DISCONNECTED.envelope(), Presence.parse, DISCONNECTED, "connected_at", "yesterday"),
        (ANSWERED.envelope(at=AT), CommandCompleted.parse, ANSWERED, "action", 7),
        (ANSWERED.envelope(at=AT), CommandCompleted.parse, ANSWERED, "status", True),
        (ANSWERED.envelope(at=AT), CommandCompleted.parse, ANSWERED, "response", ["Accepted"]),
        (ANSWERED.envelope(at=AT), CommandCompleted.parse, ANSWERED, "gateway", "3"),
        (CALL_ERROR.envelope(at=AT), CommandCompleted.parse, CALL_ERROR, "error", "NotSupported"),
        (BOOTED.event(), StationBooted.parse, BOOTED, "vendor", 1),
        (BOOTED.event(), StationBooted.parse, BOOTED, "model", ["Wallbox"]),
        (BOOTED.event(), StationBooted.parse, BOOTED, "serial_number", 12345),
        (BOOTED.event(), StationBooted.parse, BOOTED, "firmware_version", 1.2),
        (BOOTED.event(), StationBooted.parse, BOOTED, "ocpp_version", {"v": 1}),
        (BOOTED.event(), StationBooted.parse, BOOTED, "boot_status", False),
        (STATUS.event(), StationStatusChanged.parse, STATUS, "evse_id", "1"),
        (STATUS.event(), StationStatusChanged.parse, STATUS, "connector_id", 2.0),
        (STATUS.event(), StationStatusChanged.parse, STATUS, "connector_id", True),
        (STATUS.event(), StationStatusChanged.parse, STATUS, "error_code", 3),
        (ONLINE.event(), StationOnlineChanged.parse, ONLINE, "gateway", "3"),
        (ONLINE.event(), StationOnlineChanged.parse, ONLINE, "connection_id", 6),
        (STARTED.event(), SessionStarted.parse, STARTED, "evse_id", "1"),
        (STARTED.event(), SessionStarted.parse, STARTED, "connector_id", 1.5),
        (STARTED.event(), SessionStarted.parse, STARTED, "id_token", 4),
        (STARTED.event(), SessionStarted.parse, STARTED, "meter_start_wh", "1520"),
        (STARTED.event(), SessionStarted.parse, STARTED, "meter_start_wh", True),
        (UPDATED.event(), SessionUpdated.parse, UPDATED, "energy_wh", "2520.5"),
        (UPDATED.event(), SessionUpdated.parse, UPDATED, "power_w", [11000]),
        (UPDATED.event(), SessionUpdated.parse, UPDATED, "current_a", False),
        (UPDATED.event(), SessionUpdated.parse, UPDATED, "soc_percent", {"value": 80}),
        (ENDED.event(), SessionEnded.parse, ENDED, "energy_wh", "3000"),
        (ENDED.event(), SessionEnded.parse, ENDED, "duration_s", True),
        (ENDED.event(), SessionEnded.parse, ENDED, "id_token", 4),
        (ENDED.event(), SessionEnded.parse, ENDED, "stop_reason", 0),
        (ANOMALY.event(), AnomalyDetected.parse, ANOMALY, "transaction_id", 1.5),
    ],
    ids=lambda value: value if isinstance(value, str) and value.islower() else None,
)
def test_a_wrong_type_reads_as_none(
    built: Envelope | DomainEvent, parse: Parser, expected: Any, name: str, value: object
) -> None:
    parsed = parse(_wire(_with(_record(built), **{name: value})))
    assert parsed == dataclasses.replace(expected, **{name: None})


@pytest.mark.parametrize(
    ("built", "parse", "name"),
    [
        (STATUS.event(), StationStatusChanged.parse, "at"),
        (ONLINE.event(), StationOnlineChanged.parse, "at"),
        (OFFLINE.event(), StationOnlineChanged.parse, "at"),
        (STARTED.event(), SessionStarted.parse, "started_at"),
        (UPDATED.event(), SessionUpdated.parse, "at"),
        (ENDED.event(), SessionEnded.parse, "ended_at"),
        (ANOMALY.event(), AnomalyDetected.parse, "at"),
    ],
)
@pytest.mark.parametrize("value", [..., None, 1764059400, "2026-11-25T08:30:00", "soon"])
def test_a_missing_or_unreadable_time_is_the_records_occurred_at(
    built: DomainEvent, parse: Parser, name: str, value: object
) -> None:
    parsed = parse(_wire(_with(_record(built), **{name: value})))
    assert getattr(parsed, name) == OCCURRED


@pytest.mark.parametrize(
    ("parse", "built", "name"),
    [
        (StationStatusChanged.parse, STATUS.event(), "at"),
        (SessionStarted.parse, STARTED.event(), "started_at"),
        (SessionEnded.parse, ENDED.event(), "ended_at"),
    ],
)
def test_a_time_may_be_rfc3339_text_with_a_zone(
    parse: Parser, built: DomainEvent, name: str
) -> None:
    record = _with(_record(built), **{name: "2026-11-25T10:30:00.123+02:00"})
    assert getattr(parse(_wire(record)), name) == AT


@pytest.mark.parametrize(
    ("built", "parse"),
    [
        (STARTED.event(), SessionStarted.parse),
        (UPDATED.event(), SessionUpdated.parse),
        (ENDED.event(), SessionEnded.parse),
    ],
)
def test_an_integer_transaction_id_is_its_text(built: DomainEvent, parse: Parser) -> None:
    record = _with(_record(built), transaction_id=17, session_id=...)
    parsed: Any = parse(_wire(record))
    assert (parsed.transaction_id, parsed.session_id) == ("17", "CS-0001/17")


@pytest.mark.parametrize(
    ("built", "parse"),
    [
        (STARTED.event(), SessionStarted.parse),
        (UPDATED.event(), SessionUpdated.parse),
        (ENDED.event(), SessionEnded.parse),
    ],
)
@pytest.mark.parametrize(
    ("changes", "session", "station"),
    [
        ({"session_id": ...}, "CS-0001/17", "CS-0001"),
        ({"session_id": 5}, "CS-0001/17", "CS-0001"),
        ({"session_id": ..., "station_id": ...}, "KEY-1/17", "KEY-1"),
        ({"session_id": "S-9"}, "S-9", "CS-0001"),
    ],
)
def test_session_id_defaults_to_station_slash_transaction(
    built: DomainEvent,
    parse: Parser,
    changes: dict[str, Any],
    session: str,
    station: str,
) -> None:
    record = dataclasses.replace(_with(_record(built), **changes), key="KEY-1")
    parsed: Any = parse(_wire(record))
    assert (parsed.session_id, parsed.station_id) == (session, station)


@pytest.mark.parametrize(
    ("built", "parse"),
    [
        (STARTED.event(), SessionStarted.parse),
        (UPDATED.event(), SessionUpdated.parse),
        (ENDED.event(), SessionEnded.parse),
    ],
)
@pytest.mark.parametrize("transaction_id", [..., None, True, 17.0, ["17"]])
def test_a_session_without_a_usable_transaction_id_is_none(
    built: DomainEvent, parse: Parser, transaction_id: object
) -> None:
    assert parse(_wire(_with(_record(built), transaction_id=transaction_id))) is None


@pytest.mark.parametrize(
    ("built", "parse", "other"),
    [
        (CALL.envelope(), StationCall.parse, "OcppCallResult"),
        (CONNECTED.envelope(), Presence.parse, "StationOnline"),
        (reply_to(CALL_RECORD, REPLY), parse_reply, "OcppCall"),
        (ANSWERED.envelope(at=AT), CommandCompleted.parse, "StationCommand"),
        (BOOTED.event(), StationBooted.parse, "StationStatusChanged"),
        (STATUS.event(), StationStatusChanged.parse, "StationBooted"),
        (ONLINE.event(), StationOnlineChanged.parse, "StationConnected"),
        (STARTED.event(), SessionStarted.parse, "SessionUpdated"),
        (UPDATED.event(), SessionUpdated.parse, "SessionEnded"),
        (ENDED.event(), SessionEnded.parse, "SessionStarted"),
        (ANOMALY.event(), AnomalyDetected.parse, "SessionEnded"),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_other_event_types_parse_as_none(
    built: Envelope | DomainEvent, parse: Parser, other: str
) -> None:
    assert parse(_wire(dataclasses.replace(_record(built), event_type=other))) is None


@pytest.mark.parametrize(
    ("built", "parse", "name"),
    [
        (STATUS.event(), StationStatusChanged.parse, "status"),
        (ANOMALY.event(), AnomalyDetected.parse, "reason"),
        (ANSWERED.envelope(at=AT), CommandCompleted.parse, "command_id"),
        (ANSWERED.envelope(at=AT), CommandCompleted.parse, "outcome"),
    ],
)
@pytest.mark.parametrize("value", [..., None, 3])
def test_a_record_without_its_required_text_is_none(
    built: Envelope | DomainEvent, parse: Parser, name: str, value: object
) -> None:
    assert parse(_wire(_with(_record(built), **{name: value}))) is None


@pytest.mark.parametrize(
    ("built", "parse", "expected"),
    [
        pytest.param(CALL.envelope(), StationCall.parse, CALL, id="OcppCall"),
        pytest.param(CONNECTED.envelope(), Presence.parse, CONNECTED, id="StationConnected"),
        pytest.param(ANSWERED.envelope(at=AT), CommandCompleted.parse, ANSWERED, id="Completed"),
        pytest.param(BOOTED.event(), StationBooted.parse, BOOTED, id="StationBooted"),
        pytest.param(STATUS.event(), StationStatusChanged.parse, STATUS, id="StatusChanged"),
        pytest.param(ONLINE.event(), StationOnlineChanged.parse, ONLINE, id="StationOnline"),
        pytest.param(ANOMALY.event(), AnomalyDetected.parse, ANOMALY, id="AnomalyDetected"),
    ],
)
def test_a_missing_station_id_is_the_record_key(
    built: Envelope | DomainEvent, parse: Parser, expected: Any
) -> None:
    record = dataclasses.replace(_with(_record(built), station_id=...), key="KEY-1")
    assert parse(_wire(record)) == dataclasses.replace(expected, station_id="KEY-1")


# --- OCPP traffic


@pytest.mark.parametrize(
    "changes",
    [
        {"unique_id": ...},
        {"unique_id": ""},
        {"unique_id": 19223201},
        {"action": ...},
        {"action": ""},
        {"ocpp_version": ...},
        {"ocpp_version": "ocpp9.9"},
        {"ocpp_version": "1.6"},  # only the subprotocol name the gateway writes
        {"ocpp_version": None},
        {"payload": ...},
        {"payload": [1, "StartTransaction"]},
        {"payload": "{}"},
        {"station_id": ""},
    ],
    ids=repr,
)
def test_station_call_rejects_an_unusable_call(changes: dict[str, Any]) -> None:
    record = dataclasses.replace(_with(CALL_RECORD, **changes), key="")
    assert StationCall.parse(_wire(record)) is None


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"ocpp_version": "ocpp2.0.1"}, dataclasses.replace(CALL, ocpp_version=OcppVersion.V201)),
        ({"connection_id": ...}, dataclasses.replace(CALL, connection_id="")),
        ({"answered_by_gateway": "true"}, CALL),
        ({"answered_by_gateway": 1}, CALL),
        ({"answered_by_gateway": True}, dataclasses.replace(CALL, answered_by_gateway=True)),
    ],
    ids=repr,
)
def test_station_call_reads_leniently(changes: dict[str, Any], expected: StationCall) -> None:
    assert StationCall.parse(_wire(_with(CALL_RECORD, **changes))) == expected


def test_station_call_is_received_at_the_records_time_in_utc() -> None:
    cet = timezone(timedelta(hours=1))
    record = dataclasses.replace(CALL_RECORD, occurred_at=AT.astimezone(cet))
    call = StationCall.parse(record)
    assert call is not None
    assert call.received_at == AT
    assert call.received_at.utcoffset() == timedelta(0)


@pytest.mark.parametrize("reply", [REPLY, REPLY_ERROR], ids=["reply", "error"])
def test_reply_to_answers_the_call(reply: Reply | ReplyError) -> None:
    answer = reply_to(CALL_RECORD, reply)
    assert answer.payload["action"] == "StartTransaction"
    assert answer.causation_id == CALL_RECORD.event_id
    assert answer.event_id != CALL_RECORD.event_id
    assert answer.key == CALL_RECORD.key
    assert answer.event_type == (
        EventType.OCPP_REPLY if isinstance(reply, Reply) else EventType.OCPP_REPLY_ERROR
    )


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"action": "X", "description": "lost"}, ReplyError("InternalError", "lost")),
        ({"action": "X", "code": "", "description": "lost"}, ReplyError("InternalError", "lost")),
        ({"action": "X", "code": 500}, ReplyError("InternalError", "")),
        ({"code": "NotSupported", "description": 1}, ReplyError("NotSupported", "")),
    ],
    ids=repr,
)
def test_a_reply_error_without_a_usable_code_is_an_internal_error(
    payload: dict[str, Any], expected: ReplyError
) -> None:
    record = Envelope(event_type="OcppReplyError", schema_version=1, key="CS", payload=payload)
    assert parse_reply(_wire(record)) == expected


@pytest.mark.parametrize("payload", [{"action": "X"}, {"payload": None}, {"payload": [1]}])
def test_a_reply_without_a_payload_map_is_none(payload: dict[str, Any]) -> None:
    record = Envelope(event_type="OcppReply", schema_version=1, key="CS", payload=payload)
    assert parse_reply(_wire(record)) is None


@pytest.mark.parametrize(
    ("response", "error", "event_type", "body"),
    [
        ({"status": "Accepted"}, None, "OcppCallResult", {"payload": {"status": "Accepted"}}),
        (None, None, "OcppCallResult", {"payload": {}}),
        (None, {"code": "NotSupported"}, "OcppCallError", {"error": {"code": "NotSupported"}}),
    ],
)
def test_station_answer_records_the_stations_answer(
    response: dict[str, Any] | None,
    error: dict[str, Any] | None,
    event_type: str,
    body: dict[str, Any],
) -> None:
    presence = dataclasses.replace(CONNECTED, ocpp_version=None, gateway=None)
    answer = _wire(
        station_answer(
            presence,
            unique_id="5b0e",
            action="Reset",
            command_id="cmd-77",
            at=AT,
            causation_id=EVENT_ID,
            response=response,
            error=error,
        )
    )
    assert (answer.event_type, answer.key) == (event_type, "CS-0001")
    assert (answer.occurred_at, answer.causation_id) == (AT, EVENT_ID)
    assert answer.payload == {
        "station_id": "CS-0001",
        "ocpp_version": None,
        "connection_id": "6d29a5881b924856",
        "gateway": None,
        "unique_id": "5b0e",
        "action": "Reset",
        "command_id": "cmd-77",
        "request": {},
        **body,
    }


_REQUEST = {"idToken": {"idToken": "04A2", "type": "ISO14443"}, "remoteStartId": 7}


@pytest.mark.parametrize(
    ("response", "error", "parsed"),
    [
        ({"status": "Accepted"}, None, {"status": "Accepted"}),
        (None, {"code": "NotSupported"}, None),
    ],
)
def test_a_station_answer_reads_back_with_its_request(
    response: dict[str, Any] | None, error: dict[str, Any] | None, parsed: dict[str, Any] | None
) -> None:
    built = station_answer(
        CONNECTED,
        unique_id="5b0e",
        action="RequestStartTransaction",
        command_id="cmd-77",
        at=AT,
        causation_id=EVENT_ID,
        request=_REQUEST,
        response=response,
        error=error,
    )
    answer = StationAnswer.parse(_wire(built))
    assert answer is not None
    assert (answer.station_id, answer.action, answer.command_id) == (
        "CS-0001",
        "RequestStartTransaction",
        "cmd-77",
    )
    assert (answer.request, answer.response, answer.at) == (_REQUEST, parsed, AT)


def test_a_station_answer_before_requests_were_recorded_reads_with_an_empty_request() -> None:
    built = station_answer(
        CONNECTED, unique_id="5b0e", action="Reset", command_id="c", at=AT, causation_id=EVENT_ID
    )
    answer = StationAnswer.parse(_wire(_with(built, request=...)))
    assert answer is not None
    assert answer.request == {}


@pytest.mark.parametrize(
    "envelope",
    [
        CALL.envelope(),
        dataclasses.replace(_with(CALL.envelope(), action=...), event_type="OcppCallResult"),
        dataclasses.replace(_with(CALL.envelope(), request=[1]), event_type="OcppCallResult"),
    ],
)
def test_other_records_are_no_station_answer(envelope: Envelope) -> None:
    assert StationAnswer.parse(_wire(envelope)) is None


# --- presence


@pytest.mark.parametrize("connection_id", [..., None, "", 6])
@pytest.mark.parametrize("presence", [CONNECTED, DISCONNECTED], ids=["connected", "disconnected"])
def test_presence_needs_a_connection_id(presence: Presence, connection_id: object) -> None:
    assert Presence.parse(_wire(_with(presence.envelope(), connection_id=connection_id))) is None


@pytest.mark.parametrize(
    ("presence", "changes", "connected_at", "disconnected_at"),
    [
        (CONNECTED, {}, AT, None),
        (CONNECTED, {"connected_at": ...}, OCCURRED, None),
        (CONNECTED, {"connected_at": "2026-11-25T10:30:00.123+02:00"}, AT, None),
        (CONNECTED, {"disconnected_at": AT}, AT, None),
        (DISCONNECTED, {}, AT, DISCONNECTED.disconnected_at),
        (DISCONNECTED, {"connected_at": ...}, None, DISCONNECTED.disconnected_at),
        (DISCONNECTED, {"disconnected_at": ...}, AT, OCCURRED),
        (DISCONNECTED, {"disconnected_at": "later"}, AT, OCCURRED),
    ],
)
def test_presence_times(
    presence: Presence,
    changes: dict[str, Any],
    connected_at: datetime | None,
    disconnected_at: datetime | None,
) -> None:
    record = dataclasses.replace(_with(presence.envelope(), **changes), occurred_at=OCCURRED)
    parsed = Presence.parse(_wire(record))
    assert parsed is not None
    assert (parsed.connected_at, parsed.disconnected_at) == (connected_at, disconnected_at)
    assert parsed.at == (connected_at if presence.connected else disconnected_at)


def test_presence_envelope_is_stamped_with_the_time_of_its_state() -> None:
    assert CONNECTED.envelope().occurred_at == CONNECTED.connected_at
    assert DISCONNECTED.envelope().occurred_at == DISCONNECTED.disconnected_at
    assert CONNECTED.envelope().payload["state"] == "connected"
    assert DISCONNECTED.envelope().payload["state"] == "disconnected"


def test_presence_ended_keeps_the_connection_and_records_why() -> None:
    ended = CONNECTED.ended(at=AT + timedelta(minutes=5), reason="1006")
    assert ended == dataclasses.replace(
        CONNECTED, connected=False, disconnected_at=AT + timedelta(minutes=5), reason="1006"
    )
    assert (ended.at, CONNECTED.at) == (AT + timedelta(minutes=5), AT)


@pytest.mark.parametrize(
    "presence",
    [
        dataclasses.replace(CONNECTED, connected_at=None),
        dataclasses.replace(DISCONNECTED, disconnected_at=None),
    ],
    ids=["connected", "disconnected"],
)
def test_presence_without_the_time_of_its_state_cannot_be_written(presence: Presence) -> None:
    with pytest.raises(ValueError, match="time"):
        presence.envelope()


def test_presence_missing_fields_read_as_defaults() -> None:
    record = _with(CONNECTED.envelope(), gateway_boot=..., gateway=..., ocpp_version=...)
    assert Presence.parse(_wire(record)) == dataclasses.replace(
        CONNECTED, gateway_boot="", gateway=None, ocpp_version=None
    )


# --- commands


@pytest.mark.parametrize("outcome", [*Outcome, "AnOutcomeAddedLater"])
def test_only_not_here_is_not_final(outcome: str) -> None:
    completed = dataclasses.replace(ANSWERED, outcome=outcome)
    assert completed.final is (outcome != Outcome.NOT_HERE)


def test_an_anomaly_reads_an_integer_transaction_id_as_text() -> None:
    record = _with(_record(ANOMALY.event()), transaction_id=17)
    parsed = AnomalyDetected.parse(_wire(record))
    assert parsed is not None
    assert parsed.transaction_id == "17"


@pytest.mark.parametrize(
    ("changes", "optional"),
    [
        ({}, set()),
        ({"status": "Accepted"}, {"status"}),
        ({"response": {}}, {"response"}),
        ({"error": {"code": "X"}}, {"error"}),
        ({"status": "Rejected", "response": {"status": "Rejected"}}, {"status", "response"}),
    ],
    ids=repr,
)
def test_command_completed_writes_status_response_and_error_only_when_set(
    changes: dict[str, Any], optional: set[str]
) -> None:
    completed = CommandCompleted(
        command_id="c", station_id="CS", action=None, outcome=Outcome.TIMED_OUT, **changes
    )
    record = completed.envelope(at=AT)
    assert record.payload.keys() == _COMPLETED_FIELDS | optional
    assert CommandCompleted.parse(_wire(record)) == completed


def test_command_completed_keeps_a_given_event_id() -> None:
    given_id = ANSWERED.envelope(at=AT, causation_id="cause", event_id="fixed")
    fresh = ANSWERED.envelope(at=AT)
    assert (given_id.event_id, given_id.causation_id, given_id.occurred_at) == (
        "fixed",
        "cause",
        AT,
    )
    assert len(fresh.event_id) == 32
    assert fresh.event_id != ANSWERED.envelope(at=AT).event_id


@pytest.mark.parametrize(
    ("response", "status"),
    [({"status": "Accepted"}, "Accepted"), ({"status": 1}, None), ({"currentTime": "x"}, None)],
)
def test_status_of_a_response(response: dict[str, Any], status: str | None) -> None:
    assert status_of(response) == status


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("command_id", ...),
        ("command_id", 77),
        ("action", ...),
        ("action", None),
        ("payload", ...),
        ("payload", [{"type": "Soft"}]),
        ("deadline", ...),
        ("deadline", "2026-11-25T08:30:00Z"),
        ("deadline", 1764059400),
        ("reply_topic", 5),
        ("reply_topic", None),
    ],
    ids=repr,
)
def test_station_command_rejects_a_missing_or_mistyped_field(name: str, value: object) -> None:
    record = _wire(_with(COMMAND_RECORD, **{name: value}))
    with pytest.raises(RecordRejected, match=f"StationCommand.{name} "):
        StationCommand.parse(record)


def test_station_command_answers_on_command_results_by_default() -> None:
    parsed = StationCommand.parse(_wire(_with(COMMAND_RECORD, reply_topic=...)))
    assert parsed.reply_topic == "command-results.v1"
    assert COMMAND.envelope(causation_id="cause").causation_id == "cause"


def test_station_command_is_addressed_by_the_record() -> None:
    record = dataclasses.replace(COMMAND_RECORD, key="CS-0002", event_id="e2")
    parsed = StationCommand.parse(_wire(record))
    assert (parsed.station_id, parsed.event_id) == ("CS-0002", "e2")


def _operator(
    event_type: str = "OperatorCommand", key: str = "CS-0001", **changes: Any
) -> Envelope:
    return _wire(
        dataclasses.replace(_with(OPERATOR_RECORD, **changes), event_type=event_type, key=key)
    )


@pytest.mark.parametrize(
    ("record", "problem"),
    [
        (_operator("SessionStarted"), "event type SessionStarted is not OperatorCommand"),
        (_operator(command_id=...), "command_id is missing"),
        (_operator(command_id=7), "command_id is missing"),
        (_operator(key="CS-0002"), "station_id 'CS-0001' is not the record key 'CS-0002'"),
        (_operator(command=...), "command is missing"),
        (_operator(command=["Reset"]), "command is missing"),
        (_operator(arguments=[1, 2]), "arguments must be a map"),
        (_operator(arguments=None), "arguments must be a map"),
        (_operator(deadline="soon"), "deadline must be a timestamp"),
        (_operator(deadline="2026-11-25T08:30:00"), "deadline must be a timestamp"),
        (_operator(deadline=1764059400), "deadline must be a timestamp"),
    ],
    ids=repr,
)
def test_operator_command_names_its_problem(record: Envelope, problem: str) -> None:
    assert OperatorCommand.parse(record, now=OCCURRED, timeout_s=60).problem == problem


def test_operator_command_collects_every_problem() -> None:
    record = _operator(
        "Nonsense",
        key="CS-0002",
        command_id=...,
        command=...,
        arguments="none",
        deadline="tomorrow",
    )
    parsed = OperatorCommand.parse(record, now=OCCURRED, timeout_s=60)
    assert parsed.problem.split("; ") == [
        "event type Nonsense is not OperatorCommand",
        "command_id is missing",
        "station_id 'CS-0001' is not the record key 'CS-0002'",
        "command is missing",
        "arguments must be a map",
        "deadline must be a timestamp",
    ]
    assert (parsed.command_id, parsed.event_id) == (EVENT_ID, EVENT_ID)  # answered under it
    assert (parsed.command, parsed.arguments, parsed.deadline) == ("", {}, OCCURRED)


def test_operator_command_without_a_station_id_is_for_the_record_key() -> None:
    parsed = OperatorCommand.parse(_operator(station_id=...), now=OCCURRED, timeout_s=60)
    assert (parsed.station_id, parsed.problem) == ("CS-0001", "")


def test_operator_command_arguments_become_json() -> None:
    record = _operator(
        arguments={
            "from": AT,
            "window": {"until": AT.astimezone(timezone(timedelta(hours=2)))},
            "times": [AT, 3],
            7: "int key",
        }
    )
    parsed = OperatorCommand.parse(record, now=OCCURRED, timeout_s=60)
    assert parsed.arguments == {
        "from": "2026-11-25T08:30:00.123Z",
        "window": {"until": "2026-11-25T08:30:00.123Z"},
        "times": ["2026-11-25T08:30:00.123Z", 3],
        "7": "int key",
    }
    assert parsed.problem == ""


@pytest.mark.parametrize(
    ("deadline", "expected"),
    [
        (..., OCCURRED + timedelta(seconds=90)),
        (None, OCCURRED + timedelta(seconds=90)),
        (AT, AT),
        ("2026-11-25T10:30:00.123+02:00", AT),
    ],
    ids=repr,
)
def test_operator_command_deadline(deadline: object, expected: datetime) -> None:
    parsed = OperatorCommand.parse(_operator(deadline=deadline), now=OCCURRED, timeout_s=90)
    assert (parsed.deadline, parsed.problem) == (expected, "")


def test_operator_command_builder_writes_no_deadline_as_nil() -> None:
    record = _wire(dataclasses.replace(OPERATOR, deadline=None).envelope())
    assert record.payload["deadline"] is None
    parsed = OperatorCommand.parse(record, now=OCCURRED, timeout_s=30)
    assert parsed.deadline == OCCURRED + timedelta(seconds=30)


# --- tokens


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"id_token": ...}, "id_token must be a string"),
        ({"id_token": 4}, "id_token must be a string"),
        ({"id_token": "ANOTHER-TAG"}, "id_token is not the record key"),
        ({"group_id": 7}, "group_id must be a string"),
        ({"type": "Magic"}, "type 'Magic' is unknown"),
        ({"type": ...}, "type None is unknown"),
        ({"type": "iso14443"}, "type 'iso14443' is unknown"),
        ({"status": "Maybe"}, "status 'Maybe' is unknown"),
        ({"status": 1}, "status 1 is unknown"),
        ({"expires_at": "someday"}, "expires_at 'someday' is no date"),
        ({"expires_at": 1764059400}, "expires_at 1764059400 is no date"),
    ],
    ids=repr,
)
def test_token_rejects_a_bad_record(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(RecordRejected, match=message):
        Token.parse(_wire(_with(TOKEN.envelope(), **changes)))


def test_token_rejects_other_event_types() -> None:
    with pytest.raises(RecordRejected, match="not a TokenDefined: SessionStarted"):
        Token.parse(_wire(dataclasses.replace(TOKEN.envelope(), event_type="SessionStarted")))


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"expires_at": "2026-11-25T10:30:00.123+02:00"}, TOKEN),
        ({"expires_at": "2026-11-25T08:30:00.123Z"}, TOKEN),
        ({"expires_at": None}, dataclasses.replace(TOKEN, expires_at=None)),
        ({"expires_at": ...}, dataclasses.replace(TOKEN, expires_at=None)),
        ({"group_id": ""}, dataclasses.replace(TOKEN, group_id=None)),
        ({"group_id": ...}, dataclasses.replace(TOKEN, group_id=None)),
    ],
    ids=repr,
)
def test_token_reads_expiry_text_and_optional_fields(
    changes: dict[str, Any], expected: Token
) -> None:
    token = Token.parse(_wire(_with(TOKEN.envelope(), **changes)))
    assert token == expected
    assert token.expires_at is None or token.expires_at.utcoffset() == timedelta(0)


_times = st.datetimes(
    min_value=datetime(1971, 1, 1),  # noqa: DTZ001 - hypothesis wants naive bounds
    max_value=datetime(2200, 1, 1),  # noqa: DTZ001
    timezones=st.just(UTC),
)


@given(
    id_token=st.text(min_size=1, max_size=36),
    token_type=st.sampled_from(sorted(ID_TOKEN_TYPES)),
    status=st.sampled_from(sorted(STATUSES_201)),
    expires_at=st.none() | _times,
    group_id=st.none() | st.text(min_size=1, max_size=36),
)
def test_any_valid_token_round_trips(
    id_token: str, token_type: str, status: str, expires_at: datetime | None, group_id: str | None
) -> None:
    token = Token(
        id_token=id_token, type=token_type, status=status, expires_at=expires_at, group_id=group_id
    )
    assert Token.parse(_wire(token.envelope())) == token


# --- sessions

_measurements = st.none() | st.floats(allow_nan=False) | st.integers(-(2**53), 2**53)


@given(
    station_id=st.text(max_size=24),
    transaction_id=st.text(max_size=36),
    energy_wh=_measurements,
    power_w=_measurements,
    current_a=_measurements,
    soc_percent=_measurements,
    at=_times,
)
def test_any_session_update_round_trips(
    station_id: str,
    transaction_id: str,
    energy_wh: float | None,
    power_w: float | None,
    current_a: float | None,
    soc_percent: float | None,
    at: datetime,
) -> None:
    update = SessionUpdated(
        session_id=session_id(station_id, transaction_id),
        station_id=station_id,
        transaction_id=transaction_id,
        energy_wh=energy_wh,
        power_w=power_w,
        current_a=current_a,
        soc_percent=soc_percent,
        at=at,
    )
    parsed = SessionUpdated.parse(_wire(update.event()))
    assert parsed == update


# --- dead letters and headers


@pytest.mark.parametrize(
    ("error", "written"),
    [
        ("", ""),
        ("x" * MAX_ERROR_CHARS, "x" * MAX_ERROR_CHARS),
        ("x" * MAX_ERROR_CHARS + "y", "x" * MAX_ERROR_CHARS),
        ("é" * 600, "é" * MAX_ERROR_CHARS),
    ],
    ids=["empty", "at-limit", "over-limit", "multibyte"],
)
def test_dead_letter_headers(error: str, written: str) -> None:
    headers = dead_letter_headers("sessions.v1", 7, 123456789, error)
    assert headers == [
        ("source-topic", b"sessions.v1"),
        ("source-partition", b"7"),
        ("source-offset", b"123456789"),
        ("error", written.encode()),
    ]
    assert header_text(headers, Header.ERROR) == written
    assert MAX_ERROR_CHARS == 500


@pytest.mark.parametrize(
    ("headers", "name", "expected"),
    [
        ([("correlation-id", b"6d29/1922")], "correlation-id", "6d29/1922"),
        ([("reply-partition", b"3"), ("correlation-id", b"c")], "reply-partition", "3"),
        ([("correlation-id", b"first"), ("correlation-id", b"second")], "correlation-id", "first"),
        ([("correlation-id", b"\xff")], "correlation-id", "\ufffd"),
        ([("reply-partition", b"3")], "correlation-id", None),
        ([], "correlation-id", None),
        (None, "correlation-id", None),
    ],
)
def test_header_text(
    headers: list[tuple[str, bytes]] | None, name: str, expected: str | None
) -> None:
    assert header_text(headers, name) == expected


def test_header_text_finds_the_source_topic_of_a_dead_letter() -> None:
    headers = dead_letter_headers("ocpp.inbound.v1", 0, 0, "not msgpack")
    assert header_text(headers, Header.SOURCE_TOPIC) == "ocpp.inbound.v1"
    assert header_text(headers, Header.SOURCE_OFFSET) == "0"
    assert header_text(headers, Header.CORRELATION_ID) is None


def test_a_reply_names_the_action_it_answers() -> None:
    call = StationCall(
        station_id="CS-1",
        ocpp_version=OcppVersion.V16,
        unique_id="u1",
        action="Authorize",
        payload={"idTag": "T"},
        connection_id="c1",
        received_at=AT,
    ).envelope()
    assert reply_action(_wire(reply_to(call, Reply({"idTagInfo": {"status": "Accepted"}})))) == (
        "Authorize"
    )
    assert reply_action(_with(call, action=7)) is None
