"""Commands to stations and their outcomes: StationCommand, CommandCompleted, OperatorCommand.

A command reaches a station as a StationCommand on the partition of ocpp.gateway-inbox.v1 that
the station's gateway reads, and ends in exactly one final CommandCompleted on its reply topic
(design "Routing"). Other teams ask for commands with an OperatorCommand on commands.v1. Pure.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from contracts.envelope import Envelope
from contracts.errors import RecordRejected
from contracts.events import DomainEvent, EventType, Outcome
from contracts.fields import jsonable, moment, text, whole
from contracts.topics import Topic

SCHEMA_VERSION = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class StationCommand:
    """StationCommand (ocpp.gateway-inbox.v1): send this CALL to the station, before
    ``deadline``, and write its outcome to ``reply_topic``."""

    command_id: str
    station_id: str
    action: str  # the OCPP action, already translated for the station's version
    payload: Mapping[str, Any]
    deadline: datetime
    reply_topic: str = Topic.COMMAND_RESULTS
    event_id: str = ""  # of the envelope it was read from: the causation of the outcome

    def envelope(self, *, causation_id: str | None = None) -> Envelope:
        return Envelope(
            event_type=EventType.STATION_COMMAND,
            schema_version=SCHEMA_VERSION,
            key=self.station_id,
            payload={
                "command_id": self.command_id,
                "action": self.action,
                "payload": dict(self.payload),
                "deadline": self.deadline,
                "reply_topic": str(self.reply_topic),
            },
            causation_id=causation_id,
        )

    @classmethod
    def parse(cls, envelope: Envelope) -> "StationCommand":
        """Raises: RecordRejected: a required field is missing or has the wrong type."""
        p = envelope.payload
        required = {"command_id": str, "action": str, "payload": dict, "deadline": datetime}
        for name, expected in required.items():
            if not isinstance(p.get(name), expected):
                raise RecordRejected(f"StationCommand.{name} must be {expected.__name__}")
        reply_topic = p.get("reply_topic", str(Topic.COMMAND_RESULTS))
        if not isinstance(reply_topic, str):
            raise RecordRejected("StationCommand.reply_topic must be str")
        return cls(
            command_id=p["command_id"],
            station_id=envelope.key,
            action=p["action"],
            payload=p["payload"],
            deadline=p["deadline"],
            reply_topic=reply_topic,
            event_id=envelope.event_id,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class CommandCompleted:
    """CommandCompleted (command-results.v1): how a command ended; ``outcome`` is an Outcome."""

    command_id: str
    station_id: str
    action: str | None
    outcome: str
    status: str | None = None  # the response's status, when it has one (Accepted, ...)
    response: Mapping[str, Any] | None = None  # the station's CALLRESULT payload
    error: Mapping[str, Any] | None = None  # the station's CALLERROR: code, description, details
    detail: str = ""
    gateway: int | None = None

    @property
    def final(self) -> bool:
        """Every outcome but NotHere ends the command, also one added after this code."""
        return self.outcome != Outcome.NOT_HERE

    def envelope(
        self, *, at: datetime, causation_id: str | None = None, event_id: str | None = None
    ) -> Envelope:
        payload: dict[str, Any] = {
            "command_id": self.command_id,
            "station_id": self.station_id,
            "action": self.action,
            "outcome": self.outcome,
            "gateway": self.gateway,
            "detail": self.detail,
        }
        if self.response is not None:
            payload["response"] = self.response
        if self.status is not None:
            payload["status"] = self.status
        if self.error is not None:
            payload["error"] = self.error
        envelope = Envelope(
            event_type=EventType.COMMAND_COMPLETED,
            schema_version=SCHEMA_VERSION,
            key=self.station_id,
            payload=payload,
            occurred_at=at,
            causation_id=causation_id,
        )
        return envelope if event_id is None else replace(envelope, event_id=event_id)

    @classmethod
    def parse(cls, envelope: Envelope) -> "CommandCompleted | None":
        """The outcome a CommandCompleted carries, or None if it is not one."""
        p = envelope.payload
        command_id, outcome = text(p, "command_id"), text(p, "outcome")
        if envelope.event_type != EventType.COMMAND_COMPLETED or not command_id or not outcome:
            return None
        response, error = p.get("response"), p.get("error")
        return cls(
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


def status_of(response: Mapping[str, Any]) -> str | None:
    """The ``status`` of a CALLRESULT payload, when it has one (most answers do)."""
    status = response.get("status")
    return status if isinstance(status, str) else None


@dataclass(frozen=True, slots=True, kw_only=True)
class OperatorCommand:
    """OperatorCommand (commands.v1): another team asks for a command; ``problem`` says why
    it cannot be carried out (it then ends ``Invalid``)."""

    command_id: str
    station_id: str
    command: str  # the version-neutral name (ocppj.commands): RemoteStart, Reset, ...
    arguments: Mapping[str, Any] = field(default_factory=dict)
    deadline: datetime | None = None
    event_id: str = ""
    problem: str = ""

    def event(self) -> DomainEvent:
        """The record for commands.v1, for a service's worker to write."""
        envelope = self.envelope()
        return DomainEvent(
            topic=Topic.COMMANDS,
            event_type=EventType.OPERATOR_COMMAND,
            key=self.station_id,
            payload=dict(envelope.payload),
        )

    def envelope(self) -> Envelope:
        return Envelope(
            event_type=EventType.OPERATOR_COMMAND,
            schema_version=SCHEMA_VERSION,
            key=self.station_id,
            payload={
                "command_id": self.command_id,
                "station_id": self.station_id,
                "command": self.command,
                "arguments": dict(self.arguments),
                "deadline": self.deadline,
            },
        )

    @classmethod
    def parse(cls, envelope: Envelope, *, now: datetime, timeout_s: float) -> "OperatorCommand":
        """Read an OperatorCommand; a missing deadline is ``now + timeout_s``.

        Never raises: a record without a command id is answered under its event id, and
        whatever else is wrong is in ``problem``.
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
        return cls(
            command_id=command_id,
            station_id=station_id,
            command=command,
            arguments=arguments,
            deadline=deadline or now,
            event_id=envelope.event_id,
            problem="; ".join(problems),
        )
