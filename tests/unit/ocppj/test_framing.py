"""OCPP-J framing: frames round-trip, malformed input raises the right OcppError, nothing else."""

import json
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from ocppj.errors import (
    FormatViolation,
    MessageTypeNotSupported,
    OcppError,
    ProtocolError,
)
from ocppj.framing import (
    MAX_DESCRIPTION_LENGTH,
    Call,
    CallError,
    CallResult,
    CallResultError,
    Frame,
    Send,
    parse,
    serialize,
)
from ocppj.versions import SERVER_PREFERENCE, OcppVersion, select_subprotocol

V16, V201, V21 = OcppVersion.V16, OcppVersion.V201, OcppVersion.V21
ID36 = "x" * 36

VALID = [
    ('[2,"19223201","BootNotification",{"a":1}]', Call("19223201", "BootNotification", {"a": 1})),
    ('[3,"19223201",{"status":"Accepted"}]', CallResult("19223201", {"status": "Accepted"})),
    ('[4,"1","NotSupported","",{}]', CallError("1", "NotSupported", "", {})),
    (f'[2,"{ID36}","Heartbeat",{{}}]', Call(ID36, "Heartbeat", {})),
    ('[2,"","Heartbeat",{}]', Call("", "Heartbeat", {})),  # string[36]: empty is not forbidden
    ('[2,"\\ud83d\\ude00","H",{"t":"é"}]', Call("\U0001f600", "H", {"t": "é"})),  # a valid pair
]
VALID_21 = [
    (
        '[5,"7","FormatViolation","bad",{"x":[]}]',
        CallResultError("7", "FormatViolation", "bad", {"x": []}),
    ),
    ('[6,"8","NotifyPeriodicEventStream",{}]', Send("8", "NotifyPeriodicEventStream", {})),
]


@pytest.mark.parametrize("version", list(OcppVersion))
@pytest.mark.parametrize(("text", "frame"), VALID)
def test_valid_frames_parse_and_round_trip(text: str, frame: Frame, version: OcppVersion) -> None:
    assert parse(text, version) == frame
    assert parse(serialize(frame), version) == frame


@pytest.mark.parametrize(("text", "frame"), VALID_21)
def test_callresulterror_and_send_are_2_1_frames(text: str, frame: Frame) -> None:
    assert parse(text, V21) == frame
    assert serialize(frame) == text


# (text, version) -> (error class, unique_id, message_type_id, ignore)
MALFORMED: list[tuple[str, OcppVersion, type[OcppError], str | None, int | None, bool]] = [
    # unreadable MessageId -> unique_id None (the session answers with "-1")
    ("not json", V16, FormatViolation, None, None, False),
    ("", V201, FormatViolation, None, None, False),
    ('[2,"1","A",{}', V21, FormatViolation, None, None, False),  # truncated
    ('[2,"1","A",{"v":NaN}]', V16, FormatViolation, None, None, False),
    ('[2,"1","A",{"v":-Infinity}]', V201, FormatViolation, None, None, False),
    ('[2,"1","A",{"v":1e400}]', V21, FormatViolation, None, None, False),
    ('[2,"\\ud800","A",{}]', V201, FormatViolation, None, None, False),  # lone surrogate
    ('{"2":"1"}', V16, FormatViolation, None, None, False),  # not a list
    ("[]", V201, FormatViolation, None, None, False),
    ('["2","1","A",{}]', V21, FormatViolation, None, None, False),  # type id is a string
    ('[2.0,"1","A",{}]', V16, FormatViolation, None, None, False),
    ('[true,"1",{}]', V201, FormatViolation, None, None, False),
    ("[2]", V16, FormatViolation, None, 2, False),
    ('[2,1,"A",{}]', V201, FormatViolation, None, 2, False),
    ("[3,null,{}]", V21, FormatViolation, None, 3, False),
    (f'[2,"{ID36}y","A",{{}}]', V16, FormatViolation, None, 2, False),  # > 36 characters
    # readable MessageId, wrong number of elements -> ProtocolError with the id
    ('[2,"1"]', V16, ProtocolError, "1", 2, False),
    ('[2,"1","Heartbeat"]', V201, ProtocolError, "1", 2, False),
    ('[2,"1","Heartbeat",{},{}]', V21, ProtocolError, "1", 2, False),
    ('[3,"1"]', V16, ProtocolError, "1", 3, False),
    ('[4,"1","GenericError",""]', V201, ProtocolError, "1", 4, False),
    ('[5,"1","GenericError"]', V21, ProtocolError, "1", 5, False),
    ('[6,"1","NotifyPeriodicEventStream"]', V21, ProtocolError, "1", 6, False),
    # readable MessageId, element of the wrong type -> FormatViolation with the id
    ('[2,"1","Heartbeat",null]', V16, FormatViolation, "1", 2, False),
    ('[2,"1","Heartbeat",[]]', V201, FormatViolation, "1", 2, False),
    ('[2,"1",7,{}]', V21, FormatViolation, "1", 2, False),
    ('[3,"1",null]', V16, FormatViolation, "1", 3, False),
    ('[4,"1",404,"",{}]', V201, FormatViolation, "1", 4, False),
    ('[4,"1","GenericError",null,{}]', V16, FormatViolation, "1", 4, False),
    ('[4,"1","GenericError","",null]', V21, FormatViolation, "1", 4, False),
    ('[5,"1","GenericError","",[]]', V21, FormatViolation, "1", 5, False),
    ('[6,"1",{},{}]', V21, FormatViolation, "1", 6, False),
    # unknown MessageTypeId: 2.0.1 answers (§4.4), 1.6 (§4.1.3) and 2.1 (§4.4) ignore
    ('[7,"1","A",{}]', V16, MessageTypeNotSupported, "1", 7, True),
    ('[7,"1","A",{}]', V201, MessageTypeNotSupported, "1", 7, False),
    ('[7,"1","A",{}]', V21, MessageTypeNotSupported, "1", 7, True),
    ('[5,"1","GenericError","",{}]', V16, MessageTypeNotSupported, "1", 5, True),
    ('[5,"1","GenericError","",{}]', V201, MessageTypeNotSupported, "1", 5, False),
    ('[6,"1","NotifyPeriodicEventStream",{}]', V201, MessageTypeNotSupported, "1", 6, False),
    ("[0]", V201, MessageTypeNotSupported, None, 0, False),
    ('[-1,"1"]', V21, MessageTypeNotSupported, "1", -1, True),
]


@pytest.mark.parametrize(
    ("text", "version", "error", "unique_id", "message_type_id", "ignore"), MALFORMED
)
def test_malformed_input_raises_the_right_error(
    text: str,
    version: OcppVersion,
    error: type[OcppError],
    unique_id: str | None,
    message_type_id: int | None,
    ignore: bool,
) -> None:
    with pytest.raises(OcppError) as info:
        parse(text, version)
    assert type(info.value) is error
    assert (info.value.unique_id, info.value.message_type_id) == (unique_id, message_type_id)
    assert info.value.ignore is ignore
    assert str(info.value)  # always a description


@pytest.mark.parametrize(
    "text",
    [
        "[" * 100_000,
        '{"a":' * 100_000,
        '[2,"1","A",' + '{"a":' * 100_000 + "1" + "}" * 100_000 + "]",
    ],
)
@pytest.mark.parametrize("version", list(OcppVersion))
def test_deep_nesting_is_a_format_violation(text: str, version: OcppVersion) -> None:
    with pytest.raises(FormatViolation) as info:
        parse(text, version)
    assert info.value.unique_id is None
    assert isinstance(info.value.__cause__, RecursionError | ValueError)


@pytest.mark.parametrize("version", list(OcppVersion))
def test_moderate_nesting_still_parses(version: OcppVersion) -> None:
    payload = '{"a":' * 50 + "[]" + "}" * 50
    frame = parse(f'[2,"1","DataTransfer",{payload}]', version)
    assert isinstance(frame, Call)
    assert parse(serialize(frame), version) == frame


def test_serialize_is_compact_utf8_json() -> None:
    text = serialize(Call("1", "DataTransfer", {"vendorId": "é", "data": "€ ok"}))
    assert text == '[2,"1","DataTransfer",{"vendorId":"é","data":"€ ok"}]'


@pytest.mark.parametrize("frame_type", [CallError, CallResultError])
def test_serialize_truncates_error_descriptions_to_255_characters(
    frame_type: type[CallError] | type[CallResultError],
) -> None:
    frame = frame_type("1", "GenericError", "é" * 300, {})
    sent = json.loads(serialize(frame))
    assert sent[3] == "é" * MAX_DESCRIPTION_LENGTH
    short = frame_type("1", "GenericError", "é" * 255, {})
    assert json.loads(serialize(short))[3] == short.description


@pytest.mark.parametrize(
    ("payload", "error"),
    [
        ({"v": float("nan")}, ValueError),
        ({"v": float("inf")}, ValueError),
        ({"v": {1j}}, TypeError),
    ],
)
def test_serialize_refuses_what_json_cannot_carry(
    payload: dict[str, Any], error: type[Exception]
) -> None:
    with pytest.raises(error):
        serialize(CallResult("1", payload))


# -- property: any text parses and round-trips, or raises an OcppError, never anything else ------

_json: st.SearchStrategy[Any] = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)
    ),
    max_leaves=12,
)
_ids = st.text(max_size=40) | st.integers() | st.none()
_frames = st.one_of(
    st.tuples(st.integers(0, 8), _ids, st.text(max_size=30), _json),
    st.tuples(st.sampled_from([2, 3, 4, 5, 6]), _ids, _json),
    st.tuples(st.sampled_from([4, 5]), _ids, st.text(), st.text(), _json),
    st.tuples(st.sampled_from([2, 6]), _ids, st.text(), st.dictionaries(st.text(), _json)),
    st.tuples(
        st.sampled_from([4, 5]), _ids, st.text(), st.text(), st.dictionaries(st.text(), _json)
    ),
    st.tuples(st.just(3), _ids, st.dictionaries(st.text(), _json)),
).map(lambda parts: json.dumps(list(parts)))


def _round_trips(text: str, version: OcppVersion) -> None:
    try:
        frame = parse(text, version)
    except OcppError:
        return
    again = parse(serialize(frame), version)
    assert serialize(again) == serialize(frame)
    if not isinstance(frame, CallError | CallResultError) or len(frame.description) <= 255:
        assert again == frame


@given(st.text() | _frames, st.sampled_from(list(OcppVersion)))
@example('[2,"1","A",{"v":1.0e308}]', V16)
@example('[4,"1","X","' + "d" * 300 + '",{}]', V201)
def test_any_text_parses_and_round_trips_or_raises_an_ocpp_error(
    text: str, version: OcppVersion
) -> None:
    _round_trips(text, version)


# -- subprotocol negotiation (versions.py) ---------------------------------------------------------


@pytest.mark.parametrize(
    ("offered", "enabled", "expected"),
    [
        (["ocpp1.6", "ocpp2.0.1"], SERVER_PREFERENCE, V201),  # the server's order wins
        (["ocpp2.1", "ocpp1.6"], SERVER_PREFERENCE, V21),
        (["ocpp1.6"], SERVER_PREFERENCE, V16),
        (["ocpp2.0", "OCPP1.6"], SERVER_PREFERENCE, None),  # 2.0 unsupported; names are exact
        ([], SERVER_PREFERENCE, None),
        (["ocpp2.1", "ocpp1.6"], (V201, V16), V16),  # 2.1 not enabled
    ],
)
def test_select_subprotocol(
    offered: list[str], enabled: tuple[OcppVersion, ...], expected: OcppVersion | None
) -> None:
    assert select_subprotocol(offered, enabled) == expected


def test_versions_are_the_subprotocol_names() -> None:
    assert [str(v) for v in SERVER_PREFERENCE] == ["ocpp2.1", "ocpp2.0.1", "ocpp1.6"]
