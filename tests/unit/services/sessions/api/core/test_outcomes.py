"""services.sessions.api.core.outcomes, and the contracts' command records as the API uses them."""

from datetime import UTC, datetime, timedelta

import pytest

from contracts.codec import decode, encode
from contracts.envelope import Envelope
from contracts.events import EventType, Outcome
from contracts.payloads.commands import CommandCompleted, OperatorCommand, StationCommand
from services.sessions.api.core.outcomes import (
    HTTP_STATUS,
    completed_here,
    http_status,
    result_json,
)

NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


def test_every_outcome_has_an_http_status() -> None:
    assert set(HTTP_STATUS) == set(Outcome)
    assert (
        http_status(CommandCompleted(command_id="c", station_id="S", action=None, outcome="New"))
        == 502
    )
    assert not CommandCompleted(
        command_id="c", station_id="S", action=None, outcome="NotHere"
    ).final


def test_station_command_is_what_the_gateway_parses() -> None:
    envelope = StationCommand(
        command_id="c1",
        station_id="CS-1",
        action="Reset",
        payload={"type": "Soft"},
        deadline=NOW,
    ).envelope(causation_id="e0")
    again = decode(encode(envelope))
    assert again.event_type == EventType.STATION_COMMAND
    assert again.key == "CS-1"
    assert again.payload == {
        "command_id": "c1",
        "action": "Reset",
        "payload": {"type": "Soft"},
        "deadline": NOW,
        "reply_topic": "command-results.v1",
    }
    assert again.causation_id == "e0"


def test_our_outcomes_are_deduplicable_and_read_back() -> None:
    result = CommandCompleted(
        command_id="c1",
        station_id="CS-1",
        action="Reset",
        outcome=Outcome.STATION_OFFLINE,
        detail="presence says CS-1 is not connected",
        gateway=3,
    )
    first = completed_here(result, at=NOW, causation_id="e0")
    second = completed_here(result, at=NOW + timedelta(seconds=5))
    assert first.event_id == second.event_id  # handled twice: the same event for consumers
    assert (
        first.event_id
        != completed_here(
            CommandCompleted(command_id="c1", station_id="CS-1", action="Reset", outcome="Expired"),
            at=NOW,
        ).event_id
    )
    again = decode(encode(first))
    assert (again.occurred_at, again.causation_id) == (NOW, "e0")
    assert CommandCompleted.parse(again) == result


def test_a_gateway_outcome_is_read() -> None:
    envelope = Envelope(
        event_type=EventType.COMMAND_COMPLETED,
        schema_version=1,
        key="CS-1",
        payload={
            "command_id": "c1",
            "station_id": "CS-1",
            "action": "Reset",
            "gateway": 3,
            "outcome": "Answered",
            "status": "Accepted",
            "response": {"status": "Accepted"},
            "detail": "",
        },
    )
    result = CommandCompleted.parse(envelope)
    assert result is not None
    assert result.final
    assert http_status(result) == 200
    assert result_json(result) == {
        "command_id": "c1",
        "station_id": "CS-1",
        "action": "Reset",
        "outcome": "Answered",
        "status": "Accepted",
        "response": {"status": "Accepted"},
        "error": None,
        "detail": "",
        "gateway": 3,
    }
    other = Envelope(event_type="Other", schema_version=1, key="k", payload={})
    assert CommandCompleted.parse(other) is None


def operator(**payload: object) -> Envelope:
    return Envelope(
        event_type=EventType.OPERATOR_COMMAND, schema_version=1, key="CS-1", payload=payload
    )


def test_an_operator_command_is_read() -> None:
    deadline = NOW + timedelta(seconds=60)
    command = OperatorCommand.parse(
        operator(
            command_id="c1",
            station_id="CS-1",
            command="ReserveNow",
            arguments={"reservation_id": 1, "expires_at": deadline},
            deadline=deadline,
        ),
        now=NOW,
        timeout_s=30,
    )
    assert command.problem == ""
    assert command.deadline == deadline
    assert command.arguments == {"reservation_id": 1, "expires_at": "2026-11-25T08:01:00.000Z"}


def test_an_operator_command_without_a_deadline_gets_the_default() -> None:
    command = OperatorCommand.parse(
        operator(command_id="c1", station_id="CS-1", command="ClearCache"), now=NOW, timeout_s=30
    )
    assert command.deadline == NOW + timedelta(seconds=30)
    assert command.arguments == {}


@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        ({"station_id": "CS-1", "command": "Reset"}, "command_id is missing"),
        ({"command_id": "c", "station_id": "CS-2", "command": "Reset"}, "is not the record key"),
        ({"command_id": "c", "command": ""}, "command is missing"),
        ({"command_id": "c", "command": "Reset", "arguments": [1]}, "arguments must be a map"),
        ({"command_id": "c", "command": "Reset", "deadline": "soon"}, "deadline must be"),
    ],
)
def test_a_broken_operator_command_says_why(payload: dict[str, object], problem: str) -> None:
    command = OperatorCommand.parse(operator(**payload), now=NOW, timeout_s=30)
    assert problem in command.problem
    assert command.command_id  # answered under its event id when it has no command id
