"""services.sessions.api.outcomes: the records the API writes and reads, and HTTP statuses."""

from datetime import UTC, datetime, timedelta

import pytest

from contracts.codec import decode, encode
from contracts.envelope import Envelope
from contracts.events import EventType, Outcome
from services.sessions.api.outcomes import (
    HTTP_STATUS,
    CommandResult,
    command_completed,
    operator_command,
    result_of,
    station_command,
)

NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


def test_every_outcome_has_an_http_status() -> None:
    assert set(HTTP_STATUS) == set(Outcome)
    assert (
        CommandResult(command_id="c", station_id="S", action=None, outcome="New").http_status == 502
    )
    assert not CommandResult(command_id="c", station_id="S", action=None, outcome="NotHere").final


def test_station_command_is_what_the_gateway_parses() -> None:
    envelope = station_command(
        "CS-1",
        command_id="c1",
        action="Reset",
        payload={"type": "Soft"},
        deadline=NOW,
        causation_id="e0",
    )
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
    result = CommandResult(
        command_id="c1",
        station_id="CS-1",
        action="Reset",
        outcome=Outcome.STATION_OFFLINE,
        detail="presence says CS-1 is not connected",
        gateway=3,
    )
    first = command_completed(result, at=NOW)
    second = command_completed(result, at=NOW + timedelta(seconds=5))
    assert first.event_id == second.event_id  # handled twice: the same event for consumers
    assert (
        first.event_id
        != command_completed(
            CommandResult(command_id="c1", station_id="CS-1", action="Reset", outcome="Expired"),
            at=NOW,
        ).event_id
    )
    assert result_of(decode(encode(first))) == result


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
    result = result_of(envelope)
    assert result is not None
    assert result.final
    assert result.http_status == 200
    assert result.to_json()["response"] == {"status": "Accepted"}
    assert result_of(Envelope(event_type="Other", schema_version=1, key="k", payload={})) is None


def operator(**payload: object) -> Envelope:
    return Envelope(
        event_type=EventType.OPERATOR_COMMAND, schema_version=1, key="CS-1", payload=payload
    )


def test_an_operator_command_is_read() -> None:
    deadline = NOW + timedelta(seconds=60)
    command = operator_command(
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
    command = operator_command(
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
    command = operator_command(operator(**payload), now=NOW, timeout_s=30)
    assert problem in command.problem
    assert command.command_id  # answered under its event id when it has no command id
