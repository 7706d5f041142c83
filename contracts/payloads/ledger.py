"""CommandLogged on commands.ledger.v1: the durable command ledger, and its view (pure).

Key: the command id. Every gateway and every API process writes and reads it (docs/gateway.md,
"Commands exactly once"). Two marks per command:

- ``sent``: written, and read back, before the CALL goes on a station's wire. The first
  ``sent`` in the log wins: a writer that finds another writer's ``sent`` before its own does
  not send, so the station gets the CALL at most once, across gateways and restarts.
- ``final``: the command's one outcome (its CommandCompleted, event id included). The first
  ``final`` in the log wins; only its writer publishes it to command-results.v1, so every
  command ends in exactly one outcome, also when a gateway and an API race to end it.

Compaction keeps the last record of a key: once a command is final, its final record.
"""

from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from contracts.envelope import Envelope
from contracts.errors import RecordRejected
from contracts.events import EventType
from contracts.fields import mapping, moment, text, whole

SCHEMA_VERSION = 1
CAPACITY = 1_000_000  # commands a view remembers (oldest forgotten first)


class Mark(StrEnum):
    SENT = "sent"
    FINAL = "final"


@dataclass(frozen=True, slots=True, kw_only=True)
class LedgerRecord:
    """One mark of one command, and who wrote it."""

    command_id: str
    station_id: str
    mark: Mark
    writer: str  # "gateway/<k>/<boot>" or "api/<id>": who claims the mark
    at: datetime
    gateway: int | None = None  # sent: the gateway whose station link carries the CALL
    deadline: datetime | None = None  # sent: the command's deadline
    outcome: Envelope | None = None  # final: the CommandCompleted, exactly as published

    def envelope(self) -> Envelope:
        payload: dict[str, Any] = {
            "command_id": self.command_id,
            "station_id": self.station_id,
            "mark": str(self.mark),
            "writer": self.writer,
            "gateway": self.gateway,
            "deadline": self.deadline,
        }
        if self.outcome is not None:
            payload["outcome"] = {
                "event_type": self.outcome.event_type,
                "event_id": self.outcome.event_id,
                "causation_id": self.outcome.causation_id,
                "occurred_at": self.outcome.occurred_at,
                "key": self.outcome.key,
                "payload": dict(self.outcome.payload),
            }
        return Envelope(
            event_type=EventType.COMMAND_LOGGED,
            schema_version=SCHEMA_VERSION,
            key=self.command_id,
            payload=payload,
            occurred_at=self.at,
        )

    @classmethod
    def parse(cls, envelope: Envelope) -> "LedgerRecord":
        """Raises: RecordRejected: not a CommandLogged v1 for its key, or a final without its
        outcome."""
        if envelope.event_type != EventType.COMMAND_LOGGED or envelope.schema_version != 1:
            raise RecordRejected(f"not a {EventType.COMMAND_LOGGED} v1: {envelope.event_type}")
        p = envelope.payload
        if p.get("command_id") != envelope.key:
            raise RecordRejected(f"command_id {p.get('command_id')!r} is not the key")
        try:
            mark = Mark(str(p.get("mark")))
        except ValueError:
            raise RecordRejected(f"mark {p.get('mark')!r} is neither sent nor final") from None
        station_id, writer = text(p, "station_id"), text(p, "writer")
        if not station_id or not writer:
            raise RecordRejected("station_id and writer are required")
        outcome = None
        raw = mapping(p, "outcome")
        if raw is not None:
            body, at = mapping(raw, "payload"), moment(raw, "occurred_at")
            event_type, key = text(raw, "event_type"), text(raw, "key")
            event_id = text(raw, "event_id")
            if body is None or at is None or not event_type or not key or not event_id:
                raise RecordRejected("outcome is not a whole envelope")
            outcome = Envelope(
                event_type=event_type,
                schema_version=1,
                key=key,
                payload=dict(body),
                occurred_at=at,
                event_id=event_id,
                causation_id=text(raw, "causation_id"),
            )
        if mark is Mark.FINAL and outcome is None:
            raise RecordRejected("a final mark needs its outcome")
        return cls(
            command_id=envelope.key,
            station_id=station_id,
            mark=mark,
            writer=writer,
            at=envelope.occurred_at,
            gateway=whole(p, "gateway"),
            deadline=moment(p, "deadline"),
            outcome=outcome,
        )


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """A command as the log decides it: the first sent and the first final mark."""

    sent: LedgerRecord | None = None
    final: LedgerRecord | None = None

    @property
    def outcome(self) -> Envelope | None:
        """The command's one outcome (the first final mark's CommandCompleted), once it ended."""
        return None if self.final is None else self.final.outcome


class LedgerView:
    """Every command's entry, kept equal to commands.ledger.v1 by ``apply``; the first mark of
    each kind wins, later ones change nothing."""

    def __init__(self, capacity: int = CAPACITY) -> None:
        self.capacity = capacity
        self._entries: OrderedDict[str, LedgerEntry] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, command_id: str) -> LedgerEntry | None:
        return self._entries.get(command_id)

    def apply(self, envelope: Envelope) -> bool:
        """One record; whether it decided something (a first mark).

        Raises:
            RecordRejected: not a CommandLogged record.
        """
        record = LedgerRecord.parse(envelope)
        entry = self._entries.get(record.command_id) or LedgerEntry()
        if record.mark is Mark.SENT and entry.sent is None and entry.final is None:
            entry = LedgerEntry(sent=record)
        elif record.mark is Mark.FINAL and entry.final is None:
            entry = LedgerEntry(sent=entry.sent, final=record)
        else:
            return False
        self._entries[record.command_id] = entry
        self._entries.move_to_end(record.command_id)
        while len(self._entries) > self.capacity:
            self._entries.popitem(last=False)
        return True

    def remove(self, command_id: str) -> None:
        self._entries.pop(command_id, None)
