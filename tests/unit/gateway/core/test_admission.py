"""gateway.core.admission: every decision for a StationCommand, in its order, and the ledger."""

from datetime import UTC, datetime, timedelta

import pytest

from contracts.envelope import Envelope
from contracts.events import Outcome
from contracts.payloads.commands import CommandCompleted, StationCommand
from gateway.core.admission import (
    CommandLedger,
    Decision,
    Duplicate,
    Expired,
    InProgress,
    NotHere,
    Send,
    StationOffline,
    admit,
)

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
GATEWAY = 3


def command(
    command_id: str = "cmd-1", *, deadline: datetime = NOW + timedelta(seconds=30)
) -> StationCommand:
    return StationCommand(
        command_id=command_id,
        station_id="CS-1",
        action="Reset",
        payload={"type": "Soft"},
        deadline=deadline,
        event_id="event-1",
    )


def outcome(command_id: str, result: Outcome = Outcome.ANSWERED) -> Envelope:
    completed = CommandCompleted(
        command_id=command_id, station_id="CS-1", action="Reset", outcome=result, gateway=GATEWAY
    )
    return completed.envelope(at=NOW)


EARLIER = outcome("cmd-1")
PAST, LATER = NOW - timedelta(seconds=1), NOW + timedelta(seconds=1)

# (ledger state of cmd-1, deadline, holds, recently_held) -> decision. The first rows show the
# order: a known outcome beats everything, then in progress, then the deadline, then presence.
CASES = [
    pytest.param("completed", LATER, True, False, Duplicate(EARLIER), id="duplicate"),
    pytest.param("completed", PAST, False, False, Duplicate(EARLIER), id="duplicate-first"),
    pytest.param("started", LATER, True, False, InProgress(), id="in-progress"),
    pytest.param("started", PAST, False, True, InProgress(), id="in-progress-before-deadline"),
    pytest.param("new", PAST, True, False, Expired(), id="expired"),
    pytest.param("new", NOW, True, False, Expired(), id="expired-at-the-deadline"),
    pytest.param("new", PAST, False, True, Expired(), id="expired-before-presence"),
    pytest.param("new", LATER, False, True, StationOffline("gateway 3"), id="station-offline"),
    pytest.param("new", LATER, False, False, NotHere("gateway 3"), id="not-here"),
    pytest.param("new", LATER, True, False, Send(), id="send"),
    pytest.param("new", LATER, True, True, Send(), id="send-when-held"),
]


@pytest.mark.parametrize(("state", "deadline", "holds", "recently_held", "expected"), CASES)
def test_admit(
    state: str, deadline: datetime, holds: bool, recently_held: bool, expected: Decision
) -> None:
    ledger = CommandLedger()
    if state == "started":
        ledger.start("cmd-1")
    elif state == "completed":
        ledger.complete("cmd-1", EARLIER)
    decision = admit(
        command(deadline=deadline),
        ledger,
        holds=holds,
        recently_held=recently_held,
        now=NOW,
        gateway=GATEWAY,
    )
    assert decision == expected


@pytest.mark.parametrize(
    ("decision", "outcome", "detail"),
    [
        (Expired(), Outcome.EXPIRED, "deadline passed before sending"),
        (StationOffline("gateway 3"), Outcome.STATION_OFFLINE, "gateway 3"),
        (NotHere("gateway 3"), Outcome.NOT_HERE, "gateway 3"),
    ],
)
def test_unsent_decisions_carry_their_outcome(
    decision: Expired | StationOffline | NotHere, outcome: Outcome, detail: str
) -> None:
    assert (decision.outcome, decision.detail) == (outcome, detail)


def test_other_command_ids_are_not_duplicates() -> None:
    ledger = CommandLedger()
    ledger.start("cmd-2")
    ledger.complete("cmd-3", outcome("cmd-3"))
    decision = admit(command(), ledger, holds=True, recently_held=False, now=NOW, gateway=0)
    assert decision == Send()


def test_admitting_does_not_start_a_command() -> None:
    """The shell starts it once the CALL is queued: an invalid CALL never is in progress."""
    ledger = CommandLedger()
    admit(command(), ledger, holds=True, recently_held=False, now=NOW, gateway=0)
    assert not ledger.in_progress("cmd-1")


def test_completing_ends_the_progress_and_keeps_the_outcome() -> None:
    ledger = CommandLedger()
    ledger.start("cmd-1")
    assert ledger.in_progress("cmd-1")
    ledger.complete("cmd-1", EARLIER)
    assert not ledger.in_progress("cmd-1")
    assert ledger.outcome_of("cmd-1") is EARLIER
    assert len(ledger) == 1


def test_the_ledger_forgets_the_least_recently_used_outcome() -> None:
    ledger = CommandLedger(capacity=2)
    first, second, third = outcome("a"), outcome("b"), outcome("c")
    ledger.complete("a", first)
    ledger.complete("b", second)
    assert ledger.outcome_of("a") is first  # a retry of "a" keeps it
    ledger.complete("c", third)
    assert (ledger.outcome_of("a"), ledger.outcome_of("b"), ledger.outcome_of("c")) == (
        first,
        None,
        third,
    )
    assert len(ledger) == 2


def test_the_ledger_remembers_100000_outcomes_by_default() -> None:
    ledger = CommandLedger()
    for n in range(100_001):
        ledger.complete(str(n), EARLIER)
    assert len(ledger) == 100_000
    assert ledger.outcome_of("0") is None
    assert ledger.outcome_of("1") is EARLIER
