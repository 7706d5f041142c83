"""Command records: StationCommand, our outcomes, OperatorCommand, HTTP statuses (pure)."""

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from contracts.envelope import Envelope
from contracts.events import EventType, Outcome
from contracts.fields import jsonable, moment, text, whole
from contracts.topics import Topic

# NotHere asks the requester to look the station up again (docs/events.md): every other
# outcome is final.
FINAL_OUTCOMES = frozenset(Outcome) - {Outcome.NOT_HERE}
# The outcome of a command as the HTTP status of POST /stations/{id}/commands/{command}.
HTTP_STATUS: Mapping[str, int] = {
    Outcome.ANSWERED: 200,  # the station answered; its status (Accepted, Rejected...) is inside
    Outcome.CALL_ERROR: 200,  # the station answered with a CALLERROR: see `error`
    Outcome.STATION_OFFLINE: 409,  # no connection now: try again when it is online
    Outcome.NOT_HERE: 503,  # presence kept pointing at a gateway that does not hold it
    Outcome.TIMED_OUT: 504,
    Outcome.EXPIRED: 504,
    Outcome.INVALID: 400,
}
_OUTCOME_IDS = uuid.UUID("6c1d4f0e-8e1b-4b7e-9a63-2f6f1b0d8c11")  # uuid5 namespace


@dataclass(frozen=True, slots=True, kw_only=True)
class CommandResult:
    """What a CommandCompleted says, or what the API says when none came in time."""

    command_id: str
    station_id: str
    action: str | None
    outcome: str
    status: str | None = None
    response: Mapping[str, Any] | None = None
    error: Mapping[str, Any] | None = None
    detail: str = ""
    gateway: int | None = None

    @property
    def final(self) -> bool:
        return self.outcome in FINAL_OUTCOMES

    @property
    def http_status(self) -> int:
        return HTTP_STATUS.get(self.outcome, 502)

    def to_json(self) -> dict[str, Any]:
        return {
            "command_id": self.command_id,
            "station_id": self.station_id,
            "action": self.action,
            "outcome": self.outcome,
            "status": self.status,
            "response": None if self.response is None else jsonable(self.response),
            "error": None if self.error is None else jsonable(self.error),
            "detail": self.detail,
            "gateway": self.gateway,
        }


def result_of(envelope: Envelope) -> CommandResult | None:
    """The result a CommandCompleted record carries, or None if it is not one."""
    p = envelope.payload
    command_id, outcome = text(p, "command_id"), text(p, "outcome")
    if envelope.event_type != EventType.COMMAND_COMPLETED or not command_id or not outcome:
        return None
    response, error = p.get("response"), p.get("error")
    return CommandResult(
        command_id=command_id,
        station_id=text(p, "station_id") or envelope.key,
        action=text(p, "action"),
        outcome=outcome,
        status=text(p, "status"),
        response=response if isinstance(response, Mapping) else None,
        error=error if isinstance(error, Mapping) else None,
        detail=text(p, "detail") or "",
        gateway=whole(p, "gateway"),
    )


def station_command(
    station_id: str,
    *,
    command_id: str,
    action: str,
    payload: Mapping[str, Any],
    deadline: datetime,
    causation_id: str | None = None,
) -> Envelope:
    """StationCommand for ocpp.gateway-inbox.v1 (docs/events.md)."""
    return Envelope(
        event_type=EventType.STATION_COMMAND,
        schema_version=1,
        key=station_id,
        payload={
            "command_id": command_id,
            "action": action,
            "payload": dict(payload),
            "deadline": deadline,
            "reply_topic": str(Topic.COMMAND_RESULTS),
        },
        causation_id=causation_id,
    )


def command_completed(
    result: CommandResult, *, at: datetime, causation_id: str | None = None
) -> Envelope:
    """A CommandCompleted the API writes itself (StationOffline, Invalid, Expired).

    The event id is derived from the command id and the outcome, so a command handled twice
    (at-least-once) gives records that consumers deduplicate on ``event_id``.
    """
    payload: dict[str, Any] = {
        "command_id": result.command_id,
        "station_id": result.station_id,
        "action": result.action,
        "outcome": result.outcome,
        "gateway": result.gateway,
        "detail": result.detail,
    }
    return Envelope(
        event_type=EventType.COMMAND_COMPLETED,
        schema_version=1,
        key=result.station_id,
        payload=payload,
        occurred_at=at,
        event_id=uuid.uuid5(_OUTCOME_IDS, f"{result.command_id}\n{result.outcome}").hex,
        causation_id=causation_id,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class OperatorCommand:
    """An OperatorCommand from commands.v1; ``problem`` says why it cannot be carried out."""

    command_id: str
    station_id: str
    command: str
    arguments: Mapping[str, Any] = field(default_factory=dict)
    deadline: datetime
    event_id: str
    problem: str = ""


def operator_command(envelope: Envelope, *, now: datetime, timeout_s: float) -> OperatorCommand:
    """Read an OperatorCommand (docs/events.md); a missing deadline is ``now + timeout_s``.

    Never raises: a record without a command id is answered under its event id, and whatever
    else is wrong is in ``problem`` (it becomes an ``Invalid`` outcome).
    """
    p = envelope.payload
    command_id = text(p, "command_id") or envelope.event_id
    station_id = text(p, "station_id") or envelope.key
    command = text(p, "command") or ""
    arguments = p.get("arguments", {})
    deadline = moment(p, "deadline") if p.get("deadline") is not None else now
    problems = []
    if envelope.event_type != EventType.OPERATOR_COMMAND:
        problems.append(f"event type {envelope.event_type} is not OperatorCommand")
    if not text(p, "command_id"):
        problems.append("command_id is missing")
    if station_id != envelope.key:
        problems.append(f"station_id {station_id!r} is not the record key {envelope.key!r}")
    if not command:
        problems.append("command is missing")
    if not isinstance(arguments, Mapping):
        problems.append("arguments must be a map")
        arguments = {}
    arguments = {str(k): jsonable(v) for k, v in arguments.items()}  # timestamps as RFC 3339
    if deadline is None:
        problems.append("deadline must be a timestamp")
    elif p.get("deadline") is None:
        deadline = now + timedelta(seconds=timeout_s)
    return OperatorCommand(
        command_id=command_id,
        station_id=station_id,
        command=command,
        arguments=arguments,
        deadline=deadline or now,
        event_id=envelope.event_id,
        problem="; ".join(problems),
    )


@dataclass(slots=True, kw_only=True)
class Job:
    """One command on its way: who asked, for which station, until when."""

    station_id: str
    name: str  # the canonical command name
    arguments: Mapping[str, Any]
    command_id: str
    deadline: datetime
    source: str  # "http" or "topic"
    cause: str | None = None  # the OperatorCommand's event id


def timed_out(job: Job, action: str, gateway: int, waited_s: float) -> CommandResult:
    return CommandResult(
        command_id=job.command_id,
        station_id=job.station_id,
        action=action,
        outcome=Outcome.TIMED_OUT,
        detail=(
            f"no outcome within {waited_s:.3g}s; gateway {gateway} still owns the command: "
            f"its outcome will be on command-results.v1 and at GET /commands/{job.command_id}"
        ),
        gateway=gateway,
    )
