"""The per-connection OCPP-J state machine, sans-I/O: no socket, no clock, no lock (pure).

The API copies websockets' (``receive_text``, ``send_*``, ``events_received``, ``data_to_send``)
and aioquic's timers (``next_deadline``, ``handle_timer(now)``); time arrives as ``now``.
Bad station input never raises: it becomes a CALLERROR (with an ``ErrorSent`` event) or, where
the spec says to ignore it, a ``MessageIgnored`` event. Our own misuse raises InvalidOutgoing.
"""

import uuid
from dataclasses import dataclass
from typing import TypeAlias

from ocppj.errors import (
    ERROR_CODES,
    FormatViolation,
    InternalError,
    InvalidOutgoing,
    MessageTypeNotSupported,
    OcppError,
    RpcFrameworkError,
    wire_code,
)
from ocppj.framing import (
    Call,
    CallError,
    CallResult,
    CallResultError,
    MessageTypeId,
    Payload,
    Send,
    parse,
    serialize,
)
from ocppj.validation import Validator
from ocppj.versions import OcppVersion


@dataclass(frozen=True, slots=True)
class CallReceived:
    """A valid station CALL; answer it with send_result or send_error."""

    unique_id: str
    action: str
    payload: Payload


@dataclass(frozen=True, slots=True)
class SendReceived:
    """A valid 2.1 SEND (never answered, 2.1 Part 4 §4.2.4)."""

    unique_id: str
    action: str
    payload: Payload


@dataclass(frozen=True, slots=True)
class AnswerReceived:
    """The station answered our CALL ``call_id``.

    A station's CALLERROR keeps its code as received (errors.canonical_code folds the 1.6
    spellings); an invalid or malformed answer arrives as a CallError with our canonical code.
    """

    call_id: str
    action: str
    tag: str | None
    answer: CallResult | CallError


@dataclass(frozen=True, slots=True)
class CallTimedOut:
    """Our CALL got no answer within call_timeout_s; the next queued CALL went out."""

    call_id: str
    action: str
    tag: str | None


@dataclass(frozen=True, slots=True)
class CallExpired:
    """Our queued CALL reached its ``expires_at`` before it could go on the wire: never sent."""

    call_id: str
    action: str
    tag: str | None


@dataclass(frozen=True, slots=True)
class AnswerTimedOut:
    """No send_result/send_error within answer_timeout_s: the session sent InternalError."""

    unique_id: str
    action: str


@dataclass(frozen=True, slots=True)
class ErrorSent:
    """A CALLERROR (or 2.1 CALLRESULTERROR) the session sent on its own; ``code`` as on the wire."""

    unique_id: str
    code: str
    reason: str


@dataclass(frozen=True, slots=True)
class LateAnswer:
    """An answer to a call id that is not in flight (timed out, or never ours)."""

    unique_id: str
    answer: CallResult | CallError


@dataclass(frozen=True, slots=True)
class ResultRejected:
    """2.1: the station could not process a CALLRESULT we sent (CALLRESULTERROR)."""

    frame: CallResultError


@dataclass(frozen=True, slots=True)
class MessageIgnored:
    """A frame the spec tells us not to answer (unknown MessageTypeId in 1.6/2.1, bad SEND)."""

    unique_id: str | None
    reason: str


Event: TypeAlias = (
    CallReceived
    | SendReceived
    | AnswerReceived
    | CallTimedOut
    | CallExpired
    | AnswerTimedOut
    | ErrorSent
    | LateAnswer
    | ResultRejected
    | MessageIgnored
)


@dataclass(slots=True)
class _OutgoingCall:
    unique_id: str
    action: str
    tag: str | None
    text: str
    deadline: float = 0.0  # set when it goes on the wire
    expires_at: float | None = None  # not sent after this (the command's deadline)


@dataclass(frozen=True, slots=True)
class _StationCall:
    action: str
    deadline: float


class Session:
    """One station connection: frames in, events and frames out."""

    def __init__(
        self,
        station_id: str,
        version: OcppVersion,
        validator: Validator,
        *,
        call_timeout_s: float = 30.0,
        answer_timeout_s: float = 25.0,
    ) -> None:
        if validator.version is not version:
            raise ValueError(f"validator is for {validator.version}, session for {version}")
        self.station_id = station_id
        self.version = version
        self._validator = validator
        self._call_timeout_s = call_timeout_s
        self._answer_timeout_s = answer_timeout_s
        self._events: list[Event] = []
        self._data: list[str] = []
        # Our CALLs waiting for the one in flight; rarely more than one. A list, not a deque:
        # an empty deque is 760 bytes, held by every idle station (docs/benchmarks.md).
        self._queue: list[_OutgoingCall] = []
        self._in_flight: _OutgoingCall | None = None
        self._station_calls: dict[str, _StationCall] = {}

    # -- what the shell feeds in ---------------------------------------------------------------

    def receive_text(self, text: str, now: float) -> None:
        """Handle one WebSocket text message from the station."""
        try:
            frame = parse(text, self.version)
        except OcppError as exc:
            self._reject_frame(exc, now)
            return
        match frame:
            case Call():
                self._receive_call(frame, now)
            case Send():
                self._receive_send(frame)
            case CallResult() | CallError():
                self._receive_answer(frame, now)
            case _:  # 2.1 CALLRESULTERROR: a CALLRESULT of ours was rejected
                self._events.append(ResultRejected(frame))

    def reject_oversized(self, text: str, limit: int, now: float) -> None:
        """Handle a message longer than ``limit`` characters as malformed: never processed.

        A CALL gets the version's FormatViolation with its id (or "-1" if unreadable); an
        answer to our CALL counts as an invalid answer. Neither spec sets a size; ours is
        configurable (gateway --max-frame-bytes).
        """
        try:
            frame = parse(text, self.version)
        except OcppError as exc:
            self._reject_frame(exc, now)
            return
        reason = f"message of {len(text)} characters exceeds the limit of {limit}"
        self._reject_frame(
            FormatViolation(
                reason, unique_id=frame.unique_id, message_type_id=frame.message_type_id
            ),
            now,
        )

    def handle_timer(self, now: float) -> None:
        """Expire our CALL in flight and station CALLs the services did not answer in time."""
        call = self._in_flight
        if call is not None and now >= call.deadline:
            self._in_flight = None
            self._events.append(CallTimedOut(call.unique_id, call.action, call.tag))
            self._send_next_call(now)  # OCPP-J §4.1.1: "responded to or have timed out"
        self._expire_queued(now)
        expired = [uid for uid, pending in self._station_calls.items() if now >= pending.deadline]
        for unique_id in expired:
            action = self._station_calls.pop(unique_id).action
            self._events.append(AnswerTimedOut(unique_id, action))
            # design.md reliability rule 4: InternalError, so that the station retries.
            reason = f"no answer to {action} within {self._answer_timeout_s:g} s"
            self._send_error(unique_id, InternalError.code, reason)

    # -- what the services ask for -------------------------------------------------------------

    def send_call(
        self,
        action: str,
        payload: Payload,
        now: float,
        *,
        tag: str | None = None,
        expires_at: float | None = None,
    ) -> str:
        """Queue a CSMS-initiated CALL; returns its unique_id. One is in flight at a time; a
        queued CALL still waiting at ``expires_at`` is dropped with CallExpired.

        Raises:
            InvalidOutgoing: ``action`` is not CSMS-initiated or ``payload`` is invalid.
        """
        unique_id = uuid.uuid4().hex  # 32 chars, unique across connections (2.x §4.1.4)
        try:
            self._validator.validate_request(action, payload, outgoing=True)
            text = serialize(Call(unique_id, action, payload))
        except (OcppError, ValueError, TypeError) as exc:
            raise InvalidOutgoing(f"{action}: {exc}") from exc
        self._queue.append(_OutgoingCall(unique_id, action, tag, text, expires_at=expires_at))
        self._send_next_call(now)
        return unique_id

    def send_result(self, unique_id: str, payload: Payload, now: float) -> bool:
        """Answer a pending station CALL; False if it is no longer pending (already answered).

        A payload that fails the response schema is not sent: the station gets InternalError
        and an ErrorSent event reports it.
        """
        pending = self._station_calls.pop(unique_id, None)
        if pending is None:
            return False
        try:
            self._validator.validate_response(pending.action, payload, outgoing=True)
            text = serialize(CallResult(unique_id, payload))
        except (OcppError, ValueError, TypeError) as exc:
            self._send_error(unique_id, InternalError.code, f"invalid answer: {exc}")
        else:
            self._data.append(text)
        return True

    def send_error(self, unique_id: str, code: str, description: str, now: float) -> bool:
        """Answer a pending station CALL with a CALLERROR; False if it is no longer pending.

        ``code`` is a version-neutral name (errors.ERROR_CODES); wire_code spells it for the
        connection's version.

        Raises:
            InvalidOutgoing: ``code`` is not an OCPP error code (see errors.ERROR_CODES).
        """
        if code not in ERROR_CODES:
            raise InvalidOutgoing(f"not an OCPP error code: {code!r}")
        if self._station_calls.pop(unique_id, None) is None:
            return False
        error = CallError(unique_id, wire_code(code, self.version), description, {})
        self._data.append(serialize(error))
        return True

    # -- what the shell takes out --------------------------------------------------------------

    def events_received(self) -> list[Event]:
        events, self._events = self._events, []
        return events

    def data_to_send(self) -> list[str]:
        data, self._data = self._data, []
        return data

    def next_deadline(self) -> float | None:
        deadlines = [pending.deadline for pending in self._station_calls.values()]
        if self._in_flight is not None:
            deadlines.append(self._in_flight.deadline)
        deadlines += [c.expires_at for c in self._queue if c.expires_at is not None]
        return min(deadlines, default=None)

    # -- internals -----------------------------------------------------------------------------

    def _receive_call(self, call: Call, now: float) -> None:
        if call.unique_id in self._station_calls:
            if self.version is OcppVersion.V21:  # 2.1 §4.1.4: a retry MAY reuse the id
                self._events.append(MessageIgnored(call.unique_id, "retry of a pending CALL"))
                return
            # 1.6/2.x §4.2.3: "an existing call with the same unique identifier is being
            # handled already" is a CALLERROR; the first CALL is answered by it too.
            del self._station_calls[call.unique_id]
            self._send_error(call.unique_id, RpcFrameworkError.code, "MessageId already in use")
            return
        try:
            self._validator.validate_request(call.action, call.payload)
        except OcppError as exc:  # 2.x §4.1.7: "the server SHALL respond with a CALLERROR"
            self._send_error(call.unique_id, exc.code, str(exc))
            return
        deadline = now + self._answer_timeout_s
        self._station_calls[call.unique_id] = _StationCall(call.action, deadline)
        self._events.append(CallReceived(call.unique_id, call.action, call.payload))

    def _receive_send(self, send: Send) -> None:
        try:
            self._validator.validate_request(send.action, send.payload, send=True)
        except OcppError as exc:  # 2.1 §4.2.4: "SHALL NOT respond to a SEND message"
            self._events.append(MessageIgnored(send.unique_id, str(exc)))
            return
        self._events.append(SendReceived(send.unique_id, send.action, send.payload))

    def _receive_answer(self, answer: CallResult | CallError, now: float) -> None:
        call = self._in_flight
        if call is None or call.unique_id != answer.unique_id:
            self._events.append(LateAnswer(answer.unique_id, answer))  # §1.3: never re-matched
            return
        if isinstance(answer, CallResult):
            try:
                self._validator.validate_response(call.action, answer.payload)
            except OcppError as exc:
                answer = self._invalid_result(answer.unique_id, exc)
        self._in_flight = None
        self._events.append(AnswerReceived(call.unique_id, call.action, call.tag, answer))
        self._send_next_call(now)

    def _invalid_result(self, unique_id: str, exc: OcppError) -> CallError:
        """The CallError that stands for an invalid CALLRESULT; 2.1 also tells the station."""
        if self.version is OcppVersion.V21:  # 2.1 §4.2.3: CALLRESULTERROR, id of the CALLRESULT
            self._send_error(unique_id, exc.code, str(exc), result_error=True)
        return CallError(unique_id, exc.code, f"invalid CALLRESULT: {exc}", {})

    def _reject_frame(self, exc: OcppError, now: float) -> None:
        if exc.ignore:  # 1.6 §4.1.3, 2.1 §4.4: unknown MessageTypeId, "SHALL ignore"
            self._events.append(MessageIgnored(exc.unique_id, str(exc)))
        elif exc.unique_id is None:  # §4.2.3: unreadable MessageId -> "-1" (framing.py)
            code = exc.code if self.version is OcppVersion.V16 else RpcFrameworkError.code
            self._send_error("-1", code, str(exc))
        elif isinstance(exc, MessageTypeNotSupported) or exc.message_type_id == MessageTypeId.CALL:
            self._send_error(exc.unique_id, exc.code, str(exc))  # 2.0.1 §4.4, or a broken CALL
        elif exc.message_type_id == MessageTypeId.CALLRESULT:
            self._receive_answer(self._invalid_result(exc.unique_id, exc), now)
        elif exc.message_type_id == MessageTypeId.CALLERROR:  # an error about an error: no reply
            answer = CallError(exc.unique_id, exc.code, f"invalid CALLERROR: {exc}", {})
            self._receive_answer(answer, now)
        else:  # 2.1 CALLRESULTERROR and SEND are never answered (§4.2.3, §4.2.4)
            self._events.append(MessageIgnored(exc.unique_id, str(exc)))

    def _send_error(
        self, unique_id: str, code: str, reason: str, *, result_error: bool = False
    ) -> None:
        on_wire = wire_code(code, self.version)
        error_type = CallResultError if result_error else CallError
        self._data.append(serialize(error_type(unique_id, on_wire, reason, {})))
        self._events.append(ErrorSent(unique_id, on_wire, reason))

    def _expire_queued(self, now: float) -> None:
        if not self._queue:
            return
        kept: list[_OutgoingCall] = []
        for call in self._queue:
            if call.expires_at is not None and now >= call.expires_at:
                self._events.append(CallExpired(call.unique_id, call.action, call.tag))
            else:
                kept.append(call)
        self._queue = kept

    def _send_next_call(self, now: float) -> None:
        self._expire_queued(now)
        if self._in_flight is None and self._queue:
            call = self._queue.pop(0)
            call.deadline = now + self._call_timeout_s
            self._in_flight = call
            self._data.append(call.text)
