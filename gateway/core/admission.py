"""Admission of commands to stations: the decision for each, from the durable ledger (pure).

A StationCommand read from this gateway's inbox partition is decided in this order, from its
entry in the command ledger (commands.ledger.v1, contracts/payloads/ledger.py), which every
gateway and API shares:

    Duplicate       it has a final mark: publish that outcome again, never send
    Orphaned        it was sent by an earlier boot of this gateway, or its deadline passed
                    while sent elsewhere, and never ended: end it TimedOut, never send again
    InProgress      it is on a station's wire: drop this copy (the first one's outcome comes)
    Expired         its deadline has passed: never sent
    StationOffline  this gateway held the station recently and it left
    NotHere         this gateway does not hold the station (the sender's presence is stale)
    Send            claim it in the ledger (a sent mark), then put the CALL on the wire

Design "Routing": "The gateway answers a command for a station it does not hold, or one past
its deadline, with an explicit outcome (StationOffline, NotHere, Expired) instead of dropping
it. Every command ends in exactly one outcome on command-results.v1".
"""

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from contracts.envelope import Envelope
from contracts.events import Outcome
from contracts.payloads.commands import StationCommand
from contracts.payloads.ledger import LedgerEntry


@dataclass(frozen=True, slots=True)
class Duplicate:
    """The command id already ended: publish ``earlier``, its CommandCompleted, again."""

    earlier: Envelope


@dataclass(frozen=True, slots=True)
class Orphaned:
    """Sent, and nobody will end it: end it TimedOut (whether the station acted is unknown)."""

    outcome: ClassVar[Outcome] = Outcome.TIMED_OUT
    detail: str


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
    """Claim the command (a sent mark) and, if the claim wins, put the CALL on the wire."""


Unsent = Expired | StationOffline | NotHere | Orphaned  # ends here with ``outcome``, unsent
Decision = Duplicate | InProgress | Unsent | Send


def admit(
    command: StationCommand,
    entry: LedgerEntry | None,
    *,
    holds: bool,
    recently_held: bool,
    now: datetime,
    gateway: int,
    writer: str,
) -> Decision:
    """What to do with ``command``: ``entry`` is its ledger entry, ``holds`` says whether this
    gateway holds the station, ``recently_held`` whether it held it and the station left,
    ``now`` is an aware time, ``gateway`` this gateway's instance and ``writer`` its ledger name
    (``gateway/<k>/<boot>``).

    A queued command is bounded by its deadline too: the session drops it (CallExpired) if its
    turn comes too late (docs/gateway.md).
    """
    if entry is not None and entry.outcome is not None:
        return Duplicate(entry.outcome)
    if entry is not None and entry.sent is not None:
        sent = entry.sent
        own_prefix = f"gateway/{gateway}/"
        if sent.writer.startswith(own_prefix) and sent.writer != writer:
            return Orphaned(f"sent by gateway {gateway} before it restarted; no answer known")
        if command.deadline <= now:
            where = sent.gateway if sent.gateway is not None else "?"
            return Orphaned(f"sent at gateway {where}; no outcome by the deadline")
        return InProgress()
    if command.deadline <= now:
        return Expired()
    if not holds:
        detail = f"gateway {gateway}"
        return StationOffline(detail) if recently_held else NotHere(detail)
    return Send()
