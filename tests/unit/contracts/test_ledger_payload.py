"""contracts.payloads.ledger: marks written and read, and the first of each kind wins."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from contracts.codec import decode, encode
from contracts.errors import RecordRejected
from contracts.events import EventType, Outcome
from contracts.payloads.commands import CommandCompleted
from contracts.payloads.ledger import LedgerEntry, LedgerRecord, LedgerView, Mark

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
OUTCOME = CommandCompleted(
    command_id="c-1", station_id="CS-1", action="Reset", outcome=Outcome.ANSWERED, status="Accepted"
).envelope(at=T0, causation_id="cause-1")


def sent(writer: str = "gateway/1/a", command_id: str = "c-1") -> LedgerRecord:
    return LedgerRecord(
        command_id=command_id,
        station_id="CS-1",
        mark=Mark.SENT,
        writer=writer,
        at=T0,
        gateway=1,
        deadline=T0 + timedelta(seconds=30),
    )


def final(writer: str = "gateway/1/a", outcome_id: str | None = None) -> LedgerRecord:
    outcome = OUTCOME if outcome_id is None else replace(OUTCOME, event_id=outcome_id)
    return LedgerRecord(
        command_id="c-1", station_id="CS-1", mark=Mark.FINAL, writer=writer, at=T0, outcome=outcome
    )


def test_marks_round_trip_with_the_outcome_exactly_as_published() -> None:
    for record in (sent(), final()):
        envelope = decode(encode(record.envelope()))
        assert (envelope.event_type, envelope.key) == (EventType.COMMAND_LOGGED, "c-1")
        assert LedgerRecord.parse(envelope) == record
    parsed = LedgerRecord.parse(decode(encode(final().envelope())))
    assert parsed.outcome is not None
    assert parsed.outcome.event_id == OUTCOME.event_id
    assert parsed.outcome.causation_id == "cause-1"
    assert CommandCompleted.parse(parsed.outcome) == CommandCompleted.parse(OUTCOME)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"key": "other"}, "is not the key"),
        ({"payload": {"mark": "maybe"}}, "neither sent nor final"),
        ({"payload": {"writer": None}}, "writer are required"),
        ({"payload": {"outcome": None}}, "needs its outcome"),
        ({"payload": {"outcome": {"event_type": "X"}}}, "not a whole envelope"),
        ({"event_type": EventType.COMMAND_COMPLETED}, "not a CommandLogged"),
    ],
)
def test_malformed_marks_are_rejected(change: dict[str, object], reason: str) -> None:
    envelope = final().envelope()
    payload = {**envelope.payload, **change.pop("payload", {})}  # type: ignore[dict-item]
    with pytest.raises(RecordRejected, match=reason):
        LedgerRecord.parse(replace(envelope, payload=payload, **change))  # type: ignore[arg-type]


def test_the_first_sent_and_the_first_final_win() -> None:
    view = LedgerView()
    assert view.apply(sent("gateway/1/a").envelope())
    assert not view.apply(sent("api/x").envelope())  # a later claim loses
    entry = view.get("c-1")
    assert entry is not None
    assert entry.sent is not None
    assert entry.sent.writer == "gateway/1/a"
    assert view.apply(final("api/x", outcome_id="first").envelope())
    assert not view.apply(final("gateway/1/a", outcome_id="second").envelope())
    entry = view.get("c-1")
    assert entry is not None
    assert entry.final is not None
    assert entry.final.outcome is not None
    assert (entry.final.writer, entry.final.outcome.event_id) == ("api/x", "first")
    assert not view.apply(sent("gateway/2/b").envelope())  # nothing is sent after a final


def test_a_final_without_a_sent_is_an_entry_and_the_view_is_bounded() -> None:
    view = LedgerView(capacity=2)
    view.apply(final().envelope())
    assert view.get("c-1") == LedgerEntry(sent=None, final=final())
    view.apply(sent(command_id="c-2").envelope())
    view.apply(sent(command_id="c-3").envelope())
    assert (view.get("c-1"), len(view)) == (None, 2)
    view.remove("c-2")
    assert view.get("c-2") is None
