"""OCPP-J frames: the dataclasses, ``parse(text, version)`` and ``serialize(frame)`` (pure).

Per-version rules for a frame that cannot be parsed (OCPP-J 1.6 §4.1.3/§4.2.3; 2.0.1 and 2.1
Part 4 §4.1.3/§4.2.3/§4.4). parse raises; the session turns the error into an answer:

- Unreadable MessageId (not JSON, NaN/Infinity, a lone surrogate escape, nesting too deep, not
  a list, no integer MessageTypeId, MessageId missing/not a string/over 36 characters):
  FormatViolation with unique_id None. 2.x §4.2.3: "When also the MessageId cannot be read,
  the CALLERROR SHALL contain "-1"", so the session sends [4, "-1", "RpcFrameworkError", ...]
  (§4.3: "for example: MessageId could not be read"). 1.6 has neither rule nor code: the
  session sends [4, "-1", "FormationViolation", ...] (§4.2.3 "syntactically incorrect").
  An over-long MessageId counts as unreadable: echoing it would put an invalid id on the wire.
- Readable MessageId, known MessageTypeId, wrong number of elements: ProtocolError with the id
  (1.6 "Payload for Action is incomplete", 2.x "not conform the PDU structure").
- Readable MessageId, known MessageTypeId, an element of the wrong type (action not a string,
  payload not an object, e.g. null): FormatViolation with the id.
- Unknown MessageTypeId (including 5 and 6 before 2.1): MessageTypeNotSupported. 2.0.1 §4.4
  "SHALL respond with a CALLERROR"; 1.6 §4.1.3 and 2.1 §4.4 "SHALL ignore": ``ignore=True``.
"""

import json
import math
import re
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, ClassVar, NoReturn, TypeAlias

from ocppj.errors import FormatViolation, MessageTypeNotSupported, ProtocolError
from ocppj.versions import OcppVersion

Payload: TypeAlias = dict[str, Any]  # a JSON object

MAX_UNIQUE_ID_LENGTH = 36  # OCPP-J 1.6 §4.1.4, 2.x §4.1.4: messageId is string[36]
MAX_DESCRIPTION_LENGTH = 255  # 2.x §4.2.3 Table 7: ErrorDescription is string[255]


class MessageTypeId(IntEnum):
    """OCPP-J §4.1.3 Message Type Numbers."""

    CALL = 2
    CALLRESULT = 3
    CALLERROR = 4
    CALLRESULTERROR = 5  # 2.1 only
    SEND = 6  # 2.1 only


_KNOWN_TYPES: dict[OcppVersion, frozenset[int]] = {
    OcppVersion.V16: frozenset({2, 3, 4}),
    OcppVersion.V201: frozenset({2, 3, 4}),
    OcppVersion.V21: frozenset(MessageTypeId),
}
_ELEMENTS = {2: 4, 3: 3, 4: 5, 5: 5, 6: 4}  # array length per MessageTypeId


@dataclass(frozen=True, slots=True)
class Call:
    """[2, unique_id, action, payload]: a request."""

    message_type_id: ClassVar[int] = MessageTypeId.CALL
    unique_id: str
    action: str
    payload: Payload


@dataclass(frozen=True, slots=True)
class CallResult:
    """[3, unique_id, payload]: the answer to a CALL, matched by unique_id."""

    message_type_id: ClassVar[int] = MessageTypeId.CALLRESULT
    unique_id: str
    payload: Payload


@dataclass(frozen=True, slots=True)
class CallError:
    """[4, unique_id, code, description, details]: a CALL could not be handled."""

    message_type_id: ClassVar[int] = MessageTypeId.CALLERROR
    unique_id: str
    code: str
    description: str
    details: Payload


@dataclass(frozen=True, slots=True)
class CallResultError:
    """[5, unique_id, code, description, details]: 2.1, a CALLRESULT could not be processed."""

    message_type_id: ClassVar[int] = MessageTypeId.CALLRESULTERROR
    unique_id: str
    code: str
    description: str
    details: Payload


@dataclass(frozen=True, slots=True)
class Send:
    """[6, unique_id, action, payload]: 2.1, an unconfirmed message that is never answered."""

    message_type_id: ClassVar[int] = MessageTypeId.SEND
    unique_id: str
    action: str
    payload: Payload


Frame: TypeAlias = Call | CallResult | CallError | CallResultError | Send

# A JSON "\uD800"-"\uDFFF" escape: json.loads turns a lone one into a str that is not UTF-8.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON (RFC 8259 §6)")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):  # 1e400 parses to inf, which no JSON text can carry back
        raise ValueError(f"number out of range: {text[:20]}")
    return value


# Built once: json.loads with arguments builds a decoder for every call, a fifth of the time
# it took to parse a MeterValues CALL (11.0 against 8.9 µs, docs/benchmarks.md, issue 14).
_DECODER = json.JSONDecoder(parse_float=_finite_float, parse_constant=_reject_constant)


def _load(text: str) -> Any:
    try:
        message = _DECODER.decode(text)
        if _SURROGATE_ESCAPE.search(text):  # rare: only then pay for the full check
            json.dumps(message, ensure_ascii=False).encode()
    # UnicodeEncodeError is a ValueError; deep nesting ("[" * 100_000) -> RecursionError.
    except (ValueError, RecursionError) as exc:
        # OCPP-J 1.6 §4.1.2 / 2.x §4.1.2: the message MUST be valid JSON encoded as UTF-8.
        raise FormatViolation(f"not JSON: {str(exc)[:100]}") from exc
    return message


def _unique_id(message: list[Any]) -> str | None:
    if len(message) > 1 and isinstance(message[1], str):
        return message[1] if len(message[1]) <= MAX_UNIQUE_ID_LENGTH else None
    return None


def parse(text: str, version: OcppVersion) -> Frame:
    """Parse one WebSocket text message of a ``version`` connection into a Frame.

    Raises:
        OcppError: FormatViolation, ProtocolError or MessageTypeNotSupported, as in the
            module docstring; ``unique_id`` and ``message_type_id`` say what could be read.
    """
    message = _load(text)
    if not (isinstance(message, list) and message and type(message[0]) is int):
        raise FormatViolation("not an OCPP-J frame: expected [MessageTypeId, MessageId, ...]")
    type_id: int = message[0]
    unique_id = _unique_id(message)
    if type_id not in _KNOWN_TYPES[version]:
        raise MessageTypeNotSupported(
            f"MessageTypeId {type_id} is not supported by {version}",
            unique_id=unique_id,
            message_type_id=type_id,
            ignore=version is not OcppVersion.V201,  # 1.6 §4.1.3, 2.1 §4.4: SHALL ignore
        )
    if unique_id is None:
        raise FormatViolation(
            f"MessageId is not a string of at most {MAX_UNIQUE_ID_LENGTH} characters",
            message_type_id=type_id,
        )
    match message:
        case [2, _, str(action), dict(payload)]:
            return Call(unique_id, action, payload)
        case [3, _, dict(payload)]:
            return CallResult(unique_id, payload)
        case [4, _, str(code), str(description), dict(details)]:
            return CallError(unique_id, code, description, details)
        case [5, _, str(code), str(description), dict(details)]:
            return CallResultError(unique_id, code, description, details)
        case [6, _, str(action), dict(payload)]:
            return Send(unique_id, action, payload)
    name = MessageTypeId(type_id).name
    if len(message) != _ELEMENTS[type_id]:
        raise ProtocolError(
            f"a {name} has {_ELEMENTS[type_id]} elements, not {len(message)}",
            unique_id=unique_id,
            message_type_id=type_id,
        )
    raise FormatViolation(
        f"a {name} element has the wrong type (action/code are strings, payload is an object)",
        unique_id=unique_id,
        message_type_id=type_id,
    )


def serialize(frame: Frame) -> str:
    """Compact JSON for one WebSocket text message.

    Error descriptions are cut to 255 characters (2.x §4.2.3; harmless in 1.6).

    Raises:
        ValueError: if a payload holds NaN or infinity (not JSON).
        TypeError: if a payload holds a value JSON cannot carry.
    """
    message: list[Any]
    if isinstance(frame, CallResult):
        message = [frame.message_type_id, frame.unique_id, frame.payload]
    elif isinstance(frame, Call | Send):
        message = [frame.message_type_id, frame.unique_id, frame.action, frame.payload]
    else:  # CallError, CallResultError
        description = frame.description[:MAX_DESCRIPTION_LENGTH]
        message = [frame.message_type_id, frame.unique_id, frame.code, description, frame.details]
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
