"""The per-connection session: answers, queues and timers, without an event loop."""

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ocppj.errors import InvalidOutgoing
from ocppj.framing import CallError, CallResult, CallResultError, parse
from ocppj.session import (
    AnswerReceived,
    AnswerTimedOut,
    CallExpired,
    CallReceived,
    CallTimedOut,
    ErrorSent,
    LateAnswer,
    MessageIgnored,
    ResultRejected,
    SendReceived,
    Session,
)
from ocppj.validation import Validator
from ocppj.versions import OcppVersion

V16, V201, V21 = OcppVersion.V16, OcppVersion.V201, OcppVersion.V21
TS = "2024-05-01T12:00:00Z"
BOOT: dict[OcppVersion, dict[str, Any]] = {
    V16: {"chargePointVendor": "VendorX", "chargePointModel": "M1"},
    V201: {"reason": "PowerUp", "chargingStation": {"model": "M1", "vendorName": "VendorX"}},
    V21: {"reason": "PowerUp", "chargingStation": {"model": "M1", "vendorName": "VendorX"}},
}
RESET: dict[OcppVersion, dict[str, Any]] = {
    V16: {"type": "Hard"},
    V201: {"type": "Immediate"},
    V21: {"type": "Immediate"},
}
RESET_OK = {"status": "Accepted"}
BOOT_OK = {"status": "Accepted", "currentTime": TS, "interval": 300}
VALIDATORS = {version: Validator(version) for version in OcppVersion}


def session(version: OcppVersion = V201, **kwargs: Any) -> Session:
    return Session("CS001", version, VALIDATORS[version], **kwargs)


def sent(s: Session) -> list[list[Any]]:
    return [json.loads(text) for text in s.data_to_send()]


def call_text(unique_id: str, action: str, payload: dict[str, Any]) -> str:
    return json.dumps([2, unique_id, action, payload])


# -- station CALLs ---------------------------------------------------------------------------------


@pytest.mark.parametrize("version", list(OcppVersion))
def test_station_call_is_reported_then_answered(version: OcppVersion) -> None:
    s = session(version)
    s.receive_text(call_text("b1", "BootNotification", BOOT[version]), now=0.0)
    assert s.events_received() == [CallReceived("b1", "BootNotification", BOOT[version])]
    assert s.data_to_send() == []
    assert s.next_deadline() == 25.0
    assert s.send_result("b1", BOOT_OK, now=1.0) is True
    assert sent(s) == [[3, "b1", BOOT_OK]]
    assert s.send_result("b1", BOOT_OK, now=1.0) is False  # answered once only
    assert (s.next_deadline(), s.data_to_send(), s.events_received()) == (None, [], [])


def test_invalid_result_becomes_internal_error() -> None:
    s = session(V16)
    s.receive_text(call_text("b1", "BootNotification", BOOT[V16]), now=0.0)
    s.events_received()
    assert s.send_result("b1", {"status": "Accepted"}, now=1.0) is True
    [[_, unique_id, code, description, details]] = sent(s)
    assert (unique_id, code, details) == ("b1", "InternalError", {})
    [event] = s.events_received()
    assert isinstance(event, ErrorSent)
    assert (event.unique_id, event.code) == ("b1", "InternalError")
    assert "BootNotificationResponse" in event.reason
    assert description == event.reason


def test_result_that_json_cannot_carry_becomes_internal_error() -> None:
    s = session(V201)
    s.receive_text(call_text("d1", "DataTransfer", {"vendorId": "x"}), now=0.0)
    assert s.send_result("d1", {"status": "Accepted", "data": float("nan")}, now=0.0)
    assert sent(s)[0][:3] == [4, "d1", "InternalError"]


@pytest.mark.parametrize(
    ("version", "code", "on_wire"),
    [
        (V16, "SecurityError", "SecurityError"),
        (V16, "FormatViolation", "FormationViolation"),
        (V201, "OccurrenceConstraintViolation", "ProtocolError"),
        (V21, "OccurrenceConstraintViolation", "OccurrenceConstraintViolation"),
    ],
)
def test_send_error_uses_the_wire_code_of_the_version(
    version: OcppVersion, code: str, on_wire: str
) -> None:
    s = session(version)
    s.receive_text(call_text("h1", "Heartbeat", {}), now=0.0)
    assert s.send_error("h1", code, "boot first", now=0.0) is True
    assert sent(s) == [[4, "h1", on_wire, "boot first", {}]]
    assert s.send_error("h1", code, "again", now=0.0) is False
    assert s.events_received() == [CallReceived("h1", "Heartbeat", {})]  # no ErrorSent: asked


def test_send_error_rejects_unknown_codes() -> None:
    s = session(V16)
    with pytest.raises(InvalidOutgoing, match="not an OCPP error code"):
        s.send_error("h1", "FormationViolation", "", now=0.0)


def test_unanswered_station_call_times_out_with_internal_error() -> None:
    s = session(V16, answer_timeout_s=10.0)
    s.receive_text(call_text("h1", "Heartbeat", {}), now=5.0)
    s.events_received()
    s.handle_timer(now=14.9)
    assert (s.events_received(), s.data_to_send()) == ([], [])
    s.handle_timer(now=15.0)
    events = s.events_received()
    assert events[0] == AnswerTimedOut("h1", "Heartbeat")
    assert isinstance(events[1], ErrorSent)
    assert (events[1].unique_id, events[1].code) == ("h1", "InternalError")
    assert sent(s) == [[4, "h1", "InternalError", "no answer to Heartbeat within 10 s", {}]]
    assert s.send_result("h1", {"currentTime": TS}, now=16.0) is False  # late: dropped
    assert (s.data_to_send(), s.next_deadline()) == ([], None)


# -- station input the session answers itself: (text, version) -> what goes on the wire ----------

BAD_INPUT: list[tuple[str, OcppVersion, list[Any] | None]] = [
    # unreadable MessageId: "-1" (2.x §4.2.3); 2.x RpcFrameworkError, 1.6 FormationViolation
    ("not json", V16, [4, "-1", "FormationViolation"]),
    ("not json", V201, [4, "-1", "RpcFrameworkError"]),
    ("not json", V21, [4, "-1", "RpcFrameworkError"]),
    ("[" * 100_000, V16, [4, "-1", "FormationViolation"]),
    ("[" * 100_000, V201, [4, "-1", "RpcFrameworkError"]),
    ('{"a":1}', V21, [4, "-1", "RpcFrameworkError"]),
    ('[2,12345,"Heartbeat",{}]', V16, [4, "-1", "FormationViolation"]),
    (f'[2,"{"x" * 37}","Heartbeat",{{}}]', V201, [4, "-1", "RpcFrameworkError"]),
    ("[0]", V201, [4, "-1", "RpcFrameworkError"]),
    # readable id, broken CALL
    ('[2,"c1","Heartbeat"]', V16, [4, "c1", "ProtocolError"]),
    ('[2,"c1","Heartbeat",null]', V16, [4, "c1", "FormationViolation"]),
    ('[2,"c1","Heartbeat",null]', V201, [4, "c1", "FormatViolation"]),
    ('[2,"c1","Heartbeat",{},1]', V21, [4, "c1", "ProtocolError"]),
    # schema and action errors (OCPP-J 1.6 §4.2.3, 2.x Part 4 §4.3)
    ('[2,"c1","FooBar",{}]', V16, [4, "c1", "NotImplemented"]),
    ('[2,"c1","FooBar",{}]', V21, [4, "c1", "NotImplemented"]),
    ('[2,"c1","Reset",{"type":"Hard"}]', V16, [4, "c1", "NotSupported"]),
    ('[2,"c1","Heartbeat",{"x":1}]', V16, [4, "c1", "FormationViolation"]),
    ('[2,"c1","Heartbeat",{"x":1}]', V201, [4, "c1", "FormatViolation"]),
    ('[2,"c1","Authorize",{}]', V16, [4, "c1", "OccurenceConstraintViolation"]),
    ('[2,"c1","Authorize",{}]', V201, [4, "c1", "ProtocolError"]),
    ('[2,"c1","Authorize",{}]', V21, [4, "c1", "ProtocolError"]),
    ('[2,"c1","Authorize",{"idTag":7}]', V16, [4, "c1", "TypeConstraintViolation"]),
    (
        '[2,"c1","Authorize",{"idTag":"' + "T" * 21 + '"}]',
        V16,
        [4, "c1", "PropertyConstraintViolation"],
    ),
    # unknown MessageTypeId: 2.0.1 answers (§4.4); 1.6 (§4.1.3) and 2.1 (§4.4) ignore
    ('[7,"c1","Heartbeat",{}]', V201, [4, "c1", "MessageTypeNotSupported"]),
    ('[7,"c1","Heartbeat",{}]', V16, None),
    ('[7,"c1","Heartbeat",{}]', V21, None),
    ('[6,"c1","NotifyPeriodicEventStream",{}]', V16, None),
    ('[6,"c1","NotifyPeriodicEventStream",{}]', V201, [4, "c1", "MessageTypeNotSupported"]),
    ('[5,"c1","GenericError","",{}]', V201, [4, "c1", "MessageTypeNotSupported"]),
    # 2.1 SEND and CALLRESULTERROR are never answered (§4.2.4, §4.2.3)
    ('[6,"s1","NotifyPeriodicEventStream",{}]', V21, None),
    ('[6,"s1","Heartbeat",{}]', V21, None),
    ('[6,"s1","NotifyPeriodicEventStream"]', V21, None),
    ('[5,"s1","GenericError"]', V21, None),
]


@pytest.mark.parametrize(("text", "version", "expected"), BAD_INPUT)
def test_bad_station_input_gets_the_right_answer(
    text: str, version: OcppVersion, expected: list[Any] | None
) -> None:
    s = session(version)
    s.receive_text(text, now=0.0)
    events = s.events_received()
    if expected is None:
        assert s.data_to_send() == []
        [event] = events
        assert isinstance(event, MessageIgnored)
        return
    [frame] = sent(s)
    assert frame[:3] == expected
    assert len(frame[3]) <= 255
    assert frame[4] == {}
    assert events == [ErrorSent(frame[1], frame[2], frame[3])]
    assert s.next_deadline() is None  # nothing pending


def test_long_error_descriptions_are_cut_to_255_characters() -> None:
    s = session(V16)
    bad = {"connectorId": 1, "errorCode": "Broken", "status": "Faulted"}
    s.receive_text(call_text("c1", "StatusNotification", bad), now=0.0)
    [frame] = sent(s)
    [event] = s.events_received()
    assert isinstance(event, ErrorSent)
    assert len(event.reason) > 255  # the enum error lists all 16 allowed values
    assert frame[3] == event.reason[:255]


@pytest.mark.parametrize(("version", "code"), [(V16, "GenericError"), (V201, "RpcFrameworkError")])
def test_a_second_call_with_a_pending_id_is_an_error(version: OcppVersion, code: str) -> None:
    """OCPP-J §4.2.3: "an existing call with the same unique identifier is being handled"."""
    s = session(version)
    s.receive_text(call_text("h1", "Heartbeat", {}), now=0.0)
    s.receive_text(call_text("h1", "Heartbeat", {}), now=1.0)
    assert sent(s) == [[4, "h1", code, "MessageId already in use", {}]]
    assert s.send_result("h1", {"currentTime": TS}, now=2.0) is False  # already answered


def test_2_1_retry_may_reuse_the_pending_id() -> None:
    s = session(V21)
    s.receive_text(call_text("h1", "Heartbeat", {}), now=0.0)
    s.receive_text(call_text("h1", "Heartbeat", {}), now=1.0)
    assert s.events_received() == [
        CallReceived("h1", "Heartbeat", {}),
        MessageIgnored("h1", "retry of a pending CALL"),
    ]
    assert s.send_result("h1", {"currentTime": TS}, now=2.0) is True
    assert sent(s) == [[3, "h1", {"currentTime": TS}]]


def test_2_1_send_and_callresulterror_are_reported() -> None:
    s = session(V21)
    stream = {"id": 1, "pending": 0, "basetime": TS, "data": [{"t": 0, "v": "230.4"}]}
    s.receive_text(json.dumps([6, "s1", "NotifyPeriodicEventStream", stream]), now=0.0)
    s.receive_text('[5,"b1","FormatViolation","bad interval",{}]', now=0.0)
    assert s.events_received() == [
        SendReceived("s1", "NotifyPeriodicEventStream", stream),
        ResultRejected(CallResultError("b1", "FormatViolation", "bad interval", {})),
    ]
    assert s.data_to_send() == []


def test_lenient_validator_accepts_station_deviations() -> None:
    s = Session("CS001", V16, Validator(V16, lenient=True))
    boot = {**BOOT[V16], "chargePointSerialNumber": "S" * 30}
    s.receive_text(call_text("b1", "BootNotification", boot), now=0.0)
    assert s.events_received() == [CallReceived("b1", "BootNotification", boot)]
    with pytest.raises(InvalidOutgoing):  # what we send stays strict
        s.send_call("Reset", {"type": "Hard", "x": 1}, now=0.0)


# -- CSMS CALLs: one in flight, FIFO queue, timeouts ---------------------------------------------


def test_send_call_goes_out_and_is_answered() -> None:
    s = session(V201)
    call_id = s.send_call("Reset", RESET[V201], now=0.0, tag="cmd-1")
    assert len(call_id) <= 36
    assert sent(s) == [[2, call_id, "Reset", RESET[V201]]]
    assert s.next_deadline() == 30.0
    s.receive_text(json.dumps([3, call_id, RESET_OK]), now=1.0)
    assert s.events_received() == [
        AnswerReceived(call_id, "Reset", "cmd-1", CallResult(call_id, RESET_OK))
    ]
    assert s.next_deadline() is None


def test_one_call_in_flight_others_queued_fifo() -> None:
    s = session(V16)
    first = s.send_call("Reset", RESET[V16], now=0.0)
    second = s.send_call("ClearCache", {}, now=0.5, tag="t2")
    third = s.send_call("Reset", {"type": "Soft"}, now=0.6)
    assert len({first, second, third}) == 3
    assert [frame[1] for frame in sent(s)] == [first]  # OCPP-J §4.1.1
    s.receive_text(json.dumps([4, first, "NotSupported", "no", {}]), now=2.0)
    assert s.events_received() == [
        AnswerReceived(first, "Reset", None, CallError(first, "NotSupported", "no", {}))
    ]
    assert sent(s) == [[2, second, "ClearCache", {}]]
    assert s.next_deadline() == 32.0
    s.receive_text(json.dumps([3, second, {"status": "Accepted"}]), now=3.0)
    s.events_received()
    assert [frame[1] for frame in sent(s)] == [third]


def test_call_timeout_sends_the_next_queued_call() -> None:
    s = session(V201)
    reset = s.send_call("Reset", RESET[V201], now=0.0, tag="r")
    clear = s.send_call("ClearCache", {}, now=0.0)
    s.data_to_send()
    s.handle_timer(now=29.9)
    assert s.events_received() == []
    s.handle_timer(now=30.0)
    assert s.events_received() == [CallTimedOut(reset, "Reset", "r")]
    assert sent(s) == [[2, clear, "ClearCache", {}]]
    assert s.next_deadline() == 60.0
    # The late answer to the timed-out call is never matched to the next one (ocpp.md §1.3).
    s.receive_text(json.dumps([3, reset, RESET_OK]), now=31.0)
    assert s.events_received() == [LateAnswer(reset, CallResult(reset, RESET_OK))]
    assert s.next_deadline() == 60.0


def test_a_queued_call_is_dropped_at_its_expiry_never_sent() -> None:
    s = session(V201)
    reset = s.send_call("Reset", RESET[V201], now=0.0, tag="r")
    clear = s.send_call("ClearCache", {}, now=0.0, tag="c", expires_at=10.0)
    later = s.send_call("ClearCache", {}, now=0.0, tag="l", expires_at=100.0)
    assert [frame[1] for frame in sent(s)] == [reset]
    assert s.next_deadline() == 10.0  # the queued call's expiry, before the call timeout
    s.handle_timer(now=10.0)
    assert s.events_received() == [CallExpired(clear, "ClearCache", "c")]
    assert sent(s) == []  # the Reset is still in flight
    s.receive_text(json.dumps([3, reset, RESET_OK]), now=11.0)
    s.events_received()
    assert sent(s) == [[2, later, "ClearCache", {}]]
    # An expiry that passed while waiting is checked when its turn comes, too.
    s.receive_text(json.dumps([3, later, {"status": "Accepted"}]), now=12.0)
    s.events_received()
    s.send_call("Reset", RESET[V201], now=12.0)
    gone = s.send_call("ClearCache", {}, now=12.0, expires_at=13.0)
    s.receive_text(json.dumps([3, sent(s)[0][1], RESET_OK]), now=20.0)
    assert CallExpired(gone, "ClearCache", None) in s.events_received()
    assert sent(s) == []


def test_answer_without_call_in_flight_is_late() -> None:
    s = session(V16)
    s.receive_text('[4,"x","GenericError","",{}]', now=0.0)
    assert s.events_received() == [LateAnswer("x", CallError("x", "GenericError", "", {}))]
    assert s.data_to_send() == []


def test_custom_call_timeout_and_both_deadlines() -> None:
    s = session(V16, call_timeout_s=5.0, answer_timeout_s=8.0)
    s.receive_text(call_text("h1", "Heartbeat", {}), now=0.0)
    s.send_call("ClearCache", {}, now=1.0)
    assert s.next_deadline() == 6.0
    s.handle_timer(now=6.0)
    assert s.next_deadline() == 8.0


@pytest.mark.parametrize(
    ("action", "payload", "match"),
    [
        ("FooBar", {}, "unknown action"),
        ("BootNotification", BOOT[V16], "not initiated by the CSMS"),
        ("Reset", {"type": "Warm"}, "Reset: ResetRequest: payload.type"),
    ],
)
def test_invalid_outgoing_call_is_our_bug(action: str, payload: dict[str, Any], match: str) -> None:
    s = session(V16)
    with pytest.raises(InvalidOutgoing, match=match):
        s.send_call(action, payload, now=0.0)
    assert (s.data_to_send(), s.next_deadline()) == ([], None)


def test_outgoing_call_that_json_cannot_carry_is_our_bug() -> None:
    s = session(V201)
    with pytest.raises(InvalidOutgoing, match="JSON compliant"):
        s.send_call("DataTransfer", {"vendorId": "x", "data": float("nan")}, now=0.0)
    assert s.data_to_send() == []


@pytest.mark.parametrize(
    ("version", "result_error"),
    [(V16, None), (V201, None), (V21, [5, "CALLID", "PropertyConstraintViolation"])],
)
def test_invalid_callresult_is_an_error_answer(
    version: OcppVersion, result_error: list[Any] | None
) -> None:
    s = session(version)
    call_id = s.send_call("Reset", RESET[version], now=0.0, tag="r")
    s.data_to_send()
    s.receive_text(json.dumps([3, call_id, {"status": "Maybe"}]), now=1.0)
    events = s.events_received()
    answer = events[-1]
    assert isinstance(answer, AnswerReceived)
    assert isinstance(answer.answer, CallError)
    assert (answer.call_id, answer.tag, answer.answer.code) == (
        call_id,
        "r",
        "PropertyConstraintViolation",
    )
    assert answer.answer.description.startswith("invalid CALLRESULT: ResetResponse")
    frames = sent(s)
    if result_error is None:  # 1.6 / 2.0.1: a CALLRESULT is never answered
        assert (frames, len(events)) == ([], 1)
    else:  # 2.1 §4.2.3: CALLRESULTERROR with the id of the CALLRESULT
        assert [frames[0][0], frames[0][1], frames[0][2]] == [5, call_id, result_error[2]]
        assert isinstance(events[0], ErrorSent)
    assert s.next_deadline() is None


@pytest.mark.parametrize(
    ("version", "template", "code", "answered"),
    [
        (V16, '[3,"{}"]', "ProtocolError", False),
        (V21, '[3,"{}"]', "ProtocolError", True),
        (V201, '[3,"{}",null]', "FormatViolation", False),
        (V201, '[4,"{}","GenericError"]', "ProtocolError", False),
        (V21, '[4,"{}",1,"",{{}}]', "FormatViolation", False),
    ],
)
def test_malformed_answer_ends_the_call(
    version: OcppVersion, template: str, code: str, answered: bool
) -> None:
    s = session(version)
    call_id = s.send_call("ClearCache", {}, now=0.0)
    s.data_to_send()
    s.receive_text(template.format(call_id), now=1.0)
    answer = s.events_received()[-1]
    assert isinstance(answer, AnswerReceived)
    assert isinstance(answer.answer, CallError)
    assert answer.answer.code == code
    assert [frame[0] for frame in sent(s)] == ([5] if answered else [])
    assert s.next_deadline() is None


def test_malformed_answer_for_an_unknown_id_is_late() -> None:
    s = session(V16)
    s.receive_text('[3,"nobody"]', now=0.0)
    [event] = s.events_received()
    assert isinstance(event, LateAnswer)
    assert event.unique_id == "nobody"
    assert isinstance(event.answer, CallError)
    assert event.answer.code == "ProtocolError"


# -- plumbing -------------------------------------------------------------------------------------


def test_validator_must_match_the_version() -> None:
    with pytest.raises(ValueError, match=r"validator is for ocpp1\.6"):
        Session("CS001", V201, VALIDATORS[V16])


def test_session_identity() -> None:
    s = session(V21)
    assert (s.station_id, s.version) == ("CS001", V21)


@given(st.text(max_size=200) | st.sampled_from([text for text, _, _ in BAD_INPUT]))
def test_receive_text_never_raises_and_only_sends_valid_frames(text: str) -> None:
    for version in OcppVersion:
        s = session(version)
        s.receive_text(text, now=0.0)
        s.handle_timer(now=100.0)
        for data in s.data_to_send():
            frame = parse(data, version)
            assert isinstance(frame, CallError | CallResultError)
            assert len(frame.unique_id) <= 36
            assert len(frame.description) <= 255


@pytest.mark.parametrize(
    ("version", "text", "expected"),
    [
        (
            OcppVersion.V16,
            '[2, "big", "Heartbeat", {"x": "yyyy"}]',
            [4, "big", "FormationViolation"],
        ),
        (OcppVersion.V201, '[2, "big", "Heartbeat", {"x": "yyyy"}]', [4, "big", "FormatViolation"]),
        (OcppVersion.V201, '[2, "big", "Heartbeat"' + "x" * 30, [4, "-1", "RpcFrameworkError"]),
    ],
)
def test_an_oversized_message_is_answered_not_processed(
    version: OcppVersion, text: str, expected: list[object]
) -> None:
    session = Session("CS1", version, Validator(version))
    session.reject_oversized(text, 10, now=0.0)
    (sent,) = session.data_to_send()
    assert json.loads(sent)[:3] == expected
    assert "exceeds the limit of 10" in json.loads(sent)[3] or expected[1] == "-1"
    assert not [e for e in session.events_received() if isinstance(e, CallReceived)]


def test_an_oversized_answer_to_our_call_is_an_invalid_answer() -> None:
    session = Session("CS1", OcppVersion.V16, Validator(OcppVersion.V16))
    call_id = session.send_call("Reset", {"type": "Soft"}, now=0.0)
    session.data_to_send()
    session.reject_oversized(json.dumps([3, call_id, {"status": "Accepted"}]), 10, now=1.0)
    (event,) = session.events_received()
    assert isinstance(event, AnswerReceived)
    assert isinstance(event.answer, CallError)
    assert "exceeds the limit" in event.answer.description
