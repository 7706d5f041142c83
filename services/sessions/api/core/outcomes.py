"""Command outcomes as the API shows them: HTTP statuses, result documents, jobs (pure).

The records themselves (StationCommand, CommandCompleted, OperatorCommand) are contracts'
(contracts/payloads/commands.py); here is what only the API adds to them.
"""

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from contracts.envelope import Envelope
from contracts.events import Outcome
from contracts.fields import jsonable
from contracts.payloads.commands import CommandCompleted
from contracts.trace import TraceContext

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


def http_status(result: CommandCompleted) -> int:
    """The HTTP status of a command's outcome; 502 for an outcome this API does not know."""
    return HTTP_STATUS.get(result.outcome, 502)


def result_json(result: CommandCompleted) -> dict[str, Any]:
    """The command result document (openapi.json: CommandResult)."""
    return {
        "command_id": result.command_id,
        "station_id": result.station_id,
        "action": result.action,
        "outcome": result.outcome,
        "status": result.status,
        "response": None if result.response is None else jsonable(result.response),
        "error": None if result.error is None else jsonable(result.error),
        "detail": result.detail,
        "gateway": result.gateway,
    }


def completed_here(
    result: CommandCompleted, *, at: datetime, causation_id: str | None = None
) -> Envelope:
    """A CommandCompleted the API writes itself (StationOffline, Invalid, Expired).

    The event id is derived from the command id and the outcome, so a command handled twice
    (at-least-once) gives records that consumers deduplicate on ``event_id``.
    """
    event_id = uuid.uuid5(_OUTCOME_IDS, f"{result.command_id}\n{result.outcome}").hex
    return result.envelope(at=at, causation_id=causation_id, event_id=event_id)


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
    # The trace of what the API writes for it (docs/tracing.md): a child of the request's or the
    # OperatorCommand record's traceparent, else a new trace; and the span it continues, if any.
    trace: TraceContext | None = None
    caller_span: str | None = None


def timed_out(job: Job, action: str, gateway: int | None, waited_s: float) -> CommandCompleted:
    """What the API answers when no outcome came within the wait while a live gateway still owns
    the command (it is not published: that gateway publishes the command's one outcome)."""
    return CommandCompleted(
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
