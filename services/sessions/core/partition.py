"""The stations of one partition: records handled, and the changelog that restores them (pure).

``Partition`` is the sessions core as the runtime's stateful worker drives it (runtime/batch.py
``Store``): ``handle`` parses one input record and calls ``handle(state, message, context)``;
``changes`` gives what the batch changed, for partition p of sessions.state.v1; ``restore``
reads that changelog back after a restart or a rebalance.

Changelog records of a partition (docs/sessions.md "State"):

- ``/transaction-seq``: how many 1.6 transaction ids the partition handed out; written first,
  so a persisted state never comes with a lost sequence and no id is handed out twice;
- ``<station_id>/ended``: the station's last ended transactions, only when they changed, before
  the state (a restore that finds the state also finds what it ended);
- ``<station_id>/part/<kind>/<request_id>/<seq_no>``: a part of a report still coming in
  (reports.py), written once when it comes, deleted (a tombstone) when its report is written;
- ``<station_id>``: the station's state without its ended transactions and report parts, once
  per batch, as it is after the batch's last record of that station.

A station id never holds "/" (the gateway takes it from one URL path segment), so the keys
cannot clash.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar

import msgpack

from contracts.envelope import Envelope
from contracts.events import DomainEvent
from contracts.payloads.billing import CostQuoted, PriceAnnounced
from contracts.payloads.ocpp import DeferredReply, Reply, ReplyError
from contracts.payloads.presence import GatewayAlive
from contracts.payloads.sessions import Closure
from contracts.payloads.tokens import Token
from contracts.topics import STATION_PARTITIONS
from services.sessions.core import costs, reports, reservations
from services.sessions.core import domain_events as de
from services.sessions.core.abandoned import close_open, silent
from services.sessions.core.copying import replace
from services.sessions.core.handlers import handle
from services.sessions.core.leases import Leases
from services.sessions.core.messages import parse
from services.sessions.core.policy import Policy
from services.sessions.core.read_models import with_read_models
from services.sessions.core.state import StationState, Transaction, ended_from_list
from services.sessions.core.step import Context, Step
from services.sessions.core.waiting import StagedPart

_Out = TypeVar("_Out")
INT32_MAX = 2**31 - 1
SILENCE_CHECK = timedelta(minutes=1)  # of log time, between looks for abandoned transactions
SEQ_KEY = "/transaction-seq"  # per changelog partition: 1.6 transaction ids handed out
ENDED_SUFFIX = "/ended"  # station_id + ENDED_SUFFIX: the station's ended transactions
PART = "part/"  # station_id/PART...: a staged part of a report (StagedPart.key)
LEGACY_SEQ_KEY = "__transaction_seq"  # SEQ_KEY before 2026-11-25, still read


def transaction_id(seq: int, partition: int) -> int:
    """The seq-th 1.6 transaction id of a partition: unique across partitions and workers.

    Raises:
        OverflowError: the partition used up its int32 ids (268 million with 8 partitions).
    """
    value = seq * STATION_PARTITIONS + partition + 1
    if value > INT32_MAX:
        raise OverflowError(f"partition {partition} ran out of 1.6 transaction ids")
    return value


@dataclass(frozen=True, slots=True)
class Swept:
    """What a GatewayAlive did: StationOffline for the stations its judgement found lost."""

    events: Sequence[DomainEvent]
    reply: Reply | ReplyError | None = None  # a heartbeat is never answered
    deferred: tuple[DeferredReply, ...] = ()  # answers that waited too long for their cost


@dataclass
class Partition:
    """The states of one assigned partition, as restored and kept up to date."""

    partition: int
    policy: Policy = field(default_factory=Policy)
    tokens: Mapping[str, Token] = field(default_factory=dict)  # the token store, read only
    states: dict[str, StationState] = field(default_factory=dict)
    seq: int = 0
    leases: Leases = field(default_factory=Leases)  # the gateways' heartbeats (memory only)
    silence_checked: datetime | None = field(default=None, compare=False)
    holding: set[str] = field(default_factory=set, compare=False)  # stations with held replies
    reserving: set[str] = field(default_factory=set, compare=False)  # ... with reservations
    reporting: set[str] = field(default_factory=set, compare=False)  # ... with reports coming
    # Since the last changes(): each touched station as the changelog has it, and whether the
    # sequence moved.
    _before: dict[str, StationState | None] = field(default_factory=dict, compare=False)
    _seq_used: bool = field(default=False, compare=False)

    def handle(self, envelope: Envelope) -> Step | Swept | None:
        """Handle one input record; None if it is not a message of ours.

        Raises:
            OverflowError: the partition ran out of 1.6 transaction ids.
        """
        alive = GatewayAlive.parse(envelope)
        if alive is not None:
            return self._heartbeat(alive)
        message = parse(envelope)
        billing = isinstance(message, CostQuoted | PriceAnnounced)
        if message is None or (billing and envelope.key not in self.states):
            return None  # billing's word about a station makes no station
        context = Context(
            policy=self.policy,
            tokens=self.tokens,
            now=envelope.occurred_at,
            new_transaction_id=transaction_id(self.seq, self.partition),
        )
        state = self.states.get(envelope.key)
        step = handle(state, message, context)
        if step.used_transaction_id:
            self.seq += 1
            self._seq_used = True
        if step.state is state and not step.events:  # nothing changed (a 1.6 quote, say)
            return step
        self.states[envelope.key] = step.state
        self._note_held(step.state)
        self._before.setdefault(envelope.key, state)
        # After the state is stored: the read models show the sessions as the step left them.
        return replace(step, events=with_read_models(step.events, self._transaction))

    def _note_held(self, state: StationState) -> None:
        """Keep the indexes of the stations a heartbeat must look at."""
        for index, has in (
            (self.holding, bool(state.held)),
            (self.reserving, bool(state.reservations)),
            (self.reporting, reports.waiting(state)),
        ):
            if has:
                index.add(state.station_id)
            else:
                index.discard(state.station_id)

    def _heartbeat(self, alive: GatewayAlive) -> Swept:
        """A gateway's heartbeat, the partition's clock: responses that waited long enough for
        their cost go without it (costs.py); stations connected through a gateway now judged
        gone go offline (leases.py), looked at only when the judgement changed; once a minute,
        the open transactions of silent stations are closed (abandoned.py)."""
        deferred = self._overdue(alive.at)
        events = self._expired(alive.at) + self._reports_due(alive.at) + self._silence(alive.at)
        if not self.leases.heartbeat(alive):
            return Swept(
                events=with_read_models(events, self._transaction), deferred=tuple(deferred)
            )
        for station_id, state in self.states.items():
            reason = self.leases.lost(state.gateway, state.gateway_boot) if state.online else None
            if reason is None:
                continue
            offline = replace(state, online=False, presence_at=alive.at)
            self._before.setdefault(station_id, state)
            self.states[station_id] = offline
            connection_id = state.connection_id or ""
            events.append(
                de.presence(
                    offline, online=False, connection_id=connection_id, at=alive.at, reason=reason
                )
            )
        return Swept(events=with_read_models(events, self._transaction), deferred=tuple(deferred))

    def _overdue(self, now: datetime) -> list[DeferredReply]:
        """Responses that waited long enough for their cost, sent without it (costs.py)."""
        return self._each(self.holding, lambda state: costs.overdue(state, now))

    def _expired(self, now: datetime) -> list[DomainEvent]:
        """Reservations past their expiry (1.6 stations do not say), ended."""
        return self._each(self.reserving, lambda state: reservations.expire(state, now))

    def _reports_due(self, now: datetime) -> list[DomainEvent]:
        """Reports whose parts stopped coming, written with what arrived (reports.py)."""
        timeout = self.policy.report_timeout_s
        return self._each(self.reporting, lambda state: reports.expire(state, now, timeout))

    def _each(
        self,
        stations: set[str],
        change: Callable[[StationState], tuple[StationState, Sequence[_Out]]],
    ) -> list[_Out]:
        """``change`` applied to the states of ``stations`` (an index), the changed ones kept
        for the changelog and the indexes; what it gave, in station order."""
        out: list[_Out] = []
        for station_id in sorted(stations):
            state = self.states[station_id]
            after, given = change(state)
            if given or after is not state:  # a change without an output is kept too
                self._before.setdefault(station_id, state)
                self.states[station_id] = after
                self._note_held(after)
                out += given
        return out

    def _silence(self, now: datetime) -> list[DomainEvent]:
        after = timedelta(seconds=self.policy.abandon_after_s)
        checked = self.silence_checked
        if not after or (checked is not None and now - checked < SILENCE_CHECK):
            return []
        self.silence_checked = now
        events: list[DomainEvent] = []
        for station_id, state in list(self.states.items()):
            if not silent(state, now=now, after=after):
                continue
            closed, written = close_open(
                state, Closure.SILENCE, action="GatewayAlive", at=now, quiet_before=now - after
            )
            if written:
                self._before.setdefault(station_id, state)
                self.states[station_id] = closed
                events += written
        return events

    def _transaction(self, station_id: str, transaction_id: str) -> Transaction | None:
        state = self.states.get(station_id)
        if state is None:
            return None
        return next(
            (t for t in (*state.transactions, *state.ended) if t.key == transaction_id), None
        )

    def changes(self) -> list[tuple[str, bytes | None]]:
        """The changelog records since the last call, in the order they must land."""
        writes: list[tuple[str, bytes | None]] = []
        if self._seq_used:
            writes.append((SEQ_KEY, msgpack.packb(self.seq)))
        for station_id, old in self._before.items():
            state = self.states[station_id]
            if state.ended_changed(old):
                ended = msgpack.packb(state.ended_to_list(), datetime=True)
                writes.append((station_id + ENDED_SUFFIX, ended))
            for key, part in state.staged_changes(old):
                value = None if part is None else msgpack.packb(part.to_dict(), datetime=True)
                writes.append((f"{station_id}/{key}", value))
            writes.append(
                (station_id, msgpack.packb(state.to_dict(with_ended=False), datetime=True))
            )
        self._before, self._seq_used = {}, False
        return writes

    def restore(self, key: str, value: bytes | None) -> None:
        """One record of this partition's changelog, oldest first. A station's state and its
        ended transactions are two keys that may come in either order.

        Raises:
            ValueError, TypeError, KeyError, AttributeError: an unreadable record.
        """
        if key in (SEQ_KEY, LEGACY_SEQ_KEY):
            self.seq = int(msgpack.unpackb(value)) if value is not None else 0
            return
        station_id, _, suffix = key.partition("/")
        known = self.states.get(station_id)
        if suffix.startswith(PART):
            self._restore_part(station_id, suffix, value)
        elif suffix:
            if suffix == ENDED_SUFFIX[1:]:
                data = msgpack.unpackb(value, timestamp=3) if value is not None else []
                known = known or StationState(station_id=station_id)
                self.states[station_id] = replace(known, ended=ended_from_list(data))
        elif value is None:
            self.states.pop(station_id, None)
            self.holding.discard(station_id)
            self.reserving.discard(station_id)
            self.reporting.discard(station_id)
        else:
            ended = known.ended if known is not None else ()
            staged = known.staged if known is not None else ()
            data = msgpack.unpackb(value, timestamp=3)
            self.states[station_id] = StationState.from_dict(data, ended=ended, staged=staged)
            self._note_held(self.states[station_id])

    def _restore_part(self, station_id: str, key: str, value: bytes | None) -> None:
        """A report's part (or its tombstone), which may come before or after the state."""
        known = self.states.get(station_id) or StationState(station_id=station_id)
        others = tuple(part for part in known.staged if part.key != key)
        if value is not None:
            others += (StagedPart.from_dict(msgpack.unpackb(value, timestamp=3)),)
        self.states[station_id] = replace(known, staged=reports.in_order(others))
        self._note_held(self.states[station_id])
