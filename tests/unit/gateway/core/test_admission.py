"""gateway.core.admission: every decision for a StationCommand, in its order, from the ledger."""

from datetime import UTC, datetime, timedelta

import pytest

from contracts.envelope import Envelope
from contracts.events import Outcome
from contracts.payloads.commands import CommandCompleted, StationCommand
from contracts.payloads.ledger import LedgerEntry, LedgerRecord, Mark
from gateway.core.admission import (
    Decision,
    Duplicate,
    Expired,
    InProgress,
    NotHere,
    Orphaned,
    Send,
    StationOffline,
    admit,
)

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
GATEWAY = 3
ME = "gateway/3/boot-now"


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


def mark(kind: Mark, writer: str, gateway: int = GATEWAY) -> LedgerRecord:
    return LedgerRecord(
        command_id="cmd-1",
        station_id="CS-1",
        mark=kind,
        writer=writer,
        at=NOW,
        gateway=gateway,
        outcome=EARLIER if kind is Mark.FINAL else None,
    )


EARLIER = outcome("cmd-1")
PAST, LATER = NOW - timedelta(seconds=1), NOW + timedelta(seconds=1)
FINAL = LedgerEntry(sent=mark(Mark.SENT, ME), final=mark(Mark.FINAL, ME))
SENT_HERE = LedgerEntry(sent=mark(Mark.SENT, ME))
SENT_BEFORE_RESTART = LedgerEntry(sent=mark(Mark.SENT, "gateway/3/boot-before"))
SENT_ELSEWHERE = LedgerEntry(sent=mark(Mark.SENT, "gateway/5/b", gateway=5))

# (ledger entry of cmd-1, deadline, holds, recently_held) -> decision. The first rows show the
# order: a final outcome beats everything, then a sent mark, then the deadline, then presence.
CASES = [
    pytest.param(FINAL, LATER, True, False, Duplicate(EARLIER), id="duplicate"),
    pytest.param(FINAL, PAST, False, False, Duplicate(EARLIER), id="duplicate-first"),
    pytest.param(SENT_HERE, LATER, True, False, InProgress(), id="in-progress"),
    pytest.param(SENT_ELSEWHERE, LATER, True, False, InProgress(), id="in-progress-elsewhere"),
    pytest.param(
        SENT_BEFORE_RESTART,
        LATER,
        True,
        False,
        Orphaned("sent by gateway 3 before it restarted; no answer known"),
        id="orphaned-by-a-restart",
    ),
    pytest.param(
        SENT_ELSEWHERE,
        PAST,
        True,
        False,
        Orphaned("sent at gateway 5; no outcome by the deadline"),
        id="orphaned-past-the-deadline",
    ),
    pytest.param(None, PAST, True, False, Expired(), id="expired"),
    pytest.param(None, NOW, True, False, Expired(), id="expired-at-the-deadline"),
    pytest.param(None, PAST, False, True, Expired(), id="expired-before-presence"),
    pytest.param(None, LATER, False, True, StationOffline("gateway 3"), id="station-offline"),
    pytest.param(None, LATER, False, False, NotHere("gateway 3"), id="not-here"),
    pytest.param(None, LATER, True, False, Send(), id="send"),
    pytest.param(None, LATER, True, True, Send(), id="send-when-held"),
]


@pytest.mark.parametrize(("entry", "deadline", "holds", "recently_held", "expected"), CASES)
def test_admit(
    entry: LedgerEntry | None,
    deadline: datetime,
    holds: bool,
    recently_held: bool,
    expected: Decision,
) -> None:
    decision = admit(
        command(deadline=deadline),
        entry,
        holds=holds,
        recently_held=recently_held,
        now=NOW,
        gateway=GATEWAY,
        writer=ME,
    )
    assert decision == expected


@pytest.mark.parametrize(
    ("decision", "outcome", "detail"),
    [
        (Expired(), Outcome.EXPIRED, "deadline passed before sending"),
        (StationOffline("gateway 3"), Outcome.STATION_OFFLINE, "gateway 3"),
        (NotHere("gateway 3"), Outcome.NOT_HERE, "gateway 3"),
        (Orphaned("why"), Outcome.TIMED_OUT, "why"),
    ],
)
def test_unsent_decisions_carry_their_outcome(
    decision: Expired | StationOffline | NotHere | Orphaned, outcome: Outcome, detail: str
) -> None:
    assert (decision.outcome, decision.detail) == (outcome, detail)
