"""Admission of commands to stations: the ledger of commands and the decision for each (pure).

A StationCommand read from this gateway's inbox partition is decided in this order:

    Duplicate       its command id already ended here: publish the earlier outcome again
    InProgress      its command id is on the wire: drop this copy (the first one's outcome comes)
    Expired         its deadline has passed: never sent
    StationOffline  this gateway held the station recently and it left
    NotHere         this gateway does not hold the station (the sender's presence is stale)
    Send            put the CALL on the station's connection

Design "Routing": "The gateway answers a command for a station it does not hold, or one past
its deadline, with an explicit outcome (StationOffline, NotHere, Expired) instead of dropping
it. Every command ends in exactly one outcome on command-results.v1".
"""

from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from contracts.envelope import Envelope
from contracts.events import Outcome
from contracts.payloads.commands import StationCommand

COMPLETED_CAPACITY = 100_000  # docs/gateway.md: "the last 100,000 outcomes are remembered"


class CommandLedger:
    """Which commands are in progress, and how the last ``capacity`` ended (LRU).

    "A command id seen again gets the earlier outcome instead of being sent twice"
    (docs/gateway.md); the window covers a requester that retries with the same command id.
    """

    def __init__(self, capacity: int = COMPLETED_CAPACITY) -> None:
        self._capacity = capacity
        self._in_progress: set[str] = set()
        self._completed: OrderedDict[str, Envelope] = OrderedDict()

    def outcome_of(self, command_id: str) -> Envelope | None:
        """The outcome already published for this command id, if any (and marks it used)."""
        outcome = self._completed.get(command_id)
        if outcome is not None:
            self._completed.move_to_end(command_id)
        return outcome

    def in_progress(self, command_id: str) -> bool:
        return command_id in self._in_progress

    def start(self, command_id: str) -> None:
        """The command's CALL was queued on a connection."""
        self._in_progress.add(command_id)

    def complete(self, command_id: str, outcome: Envelope) -> None:
        """The command ended with ``outcome`` (its CommandCompleted)."""
        self._in_progress.discard(command_id)
        self._completed[command_id] = outcome
        self._completed.move_to_end(command_id)
        while len(self._completed) > self._capacity:
            self._completed.popitem(last=False)

    def __len__(self) -> int:
        return len(self._completed)


@dataclass(frozen=True, slots=True)
class Duplicate:
    """The command id already ended: publish ``earlier``, its CommandCompleted, again."""

    earlier: Envelope


@dataclass(frozen=True, slots=True)
class InProgress:
    """The command id is on the wire: drop this copy."""


@dataclass(frozen=True, slots=True)
class Expired:
    """The deadline passed before the command could be sent."""

    outcome: ClassVar[Outcome] = Outcome.EXPIRED
    detail: str = "deadline passed before sending"


@dataclass(frozen=True, slots=True)
class StationOffline:
    """The station was connected here and left (docs/gateway.md, "Decisions worth knowing")."""

    outcome: ClassVar[Outcome] = Outcome.STATION_OFFLINE
    detail: str


@dataclass(frozen=True, slots=True)
class NotHere:
    """This gateway does not hold the station and did not recently: look it up again."""

    outcome: ClassVar[Outcome] = Outcome.NOT_HERE
    detail: str


@dataclass(frozen=True, slots=True)
class Send:
    """Send the CALL on the station's connection; ``CommandLedger.start`` once it is queued."""


Unsent = Expired | StationOffline | NotHere  # the command ends here with ``outcome``, unsent
Decision = Duplicate | InProgress | Unsent | Send


def admit(
    command: StationCommand,
    ledger: CommandLedger,
    *,
    holds: bool,
    recently_held: bool,
    now: datetime,
    gateway: int,
) -> Decision:
    """What to do with ``command``: ``holds`` says whether this gateway holds the station,
    ``recently_held`` whether it held it and the station left, ``now`` is an aware time,
    ``gateway`` this gateway's instance (it names the gateway in the outcome's detail).

    The deadline is checked on arrival only: "once queued behind another CALL it is bounded by
    the call timeout, not the deadline" (docs/gateway.md).
    """
    earlier = ledger.outcome_of(command.command_id)
    if earlier is not None:
        return Duplicate(earlier)
    if ledger.in_progress(command.command_id):
        return InProgress()
    if command.deadline <= now:
        return Expired()
    if not holds:
        detail = f"gateway {gateway}"
        return StationOffline(detail) if recently_held else NotHere(detail)
    return Send()
