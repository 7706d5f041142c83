"""The stations of one partition and their alerts: records in, alerts out, a changelog (pure).

The store the runtime's worker drives (runtime/batch.py ``Store``). Inputs: stations.v1 (the
stations' events) and ocpp.presence.v1, co-partitioned by station id, whose GatewayAlive records
are the partition's clock: on each, the stations whose rules wait on time are looked at
(rules.tick). Changelog alerts.state.v1: one record per station, ``StationAlerts.to_dict``.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import msgpack

from contracts.envelope import Envelope
from contracts.events import DomainEvent
from contracts.payloads.ocpp import DeferredReply, Reply, ReplyError
from contracts.payloads.presence import GatewayAlive
from services.alerts.core import rules
from services.alerts.core.policy import Thresholds
from services.alerts.core.station import StationAlerts


@dataclass(frozen=True, slots=True)
class Step:
    """What one record gave: alerts raised and resolved (the alerts service answers nothing)."""

    events: Sequence[DomainEvent]
    reply: Reply | ReplyError | None = None
    deferred: Sequence[DeferredReply] = ()


@dataclass
class Partition:
    partition: int
    thresholds: Thresholds = field(default_factory=Thresholds)
    states: dict[str, StationAlerts] = field(default_factory=dict)
    ticking: set[str] = field(default_factory=set)  # stations whose rules wait on the clock
    _touched: set[str] = field(default_factory=set)

    def handle(self, envelope: Envelope) -> Step | None:
        alive = GatewayAlive.parse(envelope)
        if alive is not None:
            return Step(events=self._tick(alive.at))
        fact = rules.parse(envelope)
        if fact is None:
            return None
        station_id = fact.station_id
        state = self.states.get(station_id) or StationAlerts(station_id=station_id)
        after, events = rules.observe(state, fact, envelope.occurred_at, self.thresholds)
        self._keep(after, changed=after != state)
        return Step(events=events)

    def _tick(self, now: datetime) -> list[DomainEvent]:
        events: list[DomainEvent] = []
        for station_id in sorted(self.ticking):
            state = self.states[station_id]
            after, given = rules.tick(state, now, self.thresholds)
            events += given
            self._keep(after, changed=after != state)
        return events

    def _keep(self, state: StationAlerts, *, changed: bool) -> None:
        if changed:
            self.states[state.station_id] = state
            self._touched.add(state.station_id)
        if rules.ticking(state):
            self.ticking.add(state.station_id)
        else:
            self.ticking.discard(state.station_id)

    def changes(self) -> list[tuple[str, bytes | None]]:
        writes: list[tuple[str, bytes | None]] = [
            (station_id, msgpack.packb(self.states[station_id].to_dict(), datetime=True))
            for station_id in sorted(self._touched)
        ]
        self._touched = set()
        return writes

    def restore(self, key: str, value: bytes | None) -> None:
        """Raises: ValueError, KeyError, TypeError: an unreadable record."""
        if value is None:
            self.states.pop(key, None)
            self.ticking.discard(key)
            return
        state = StationAlerts.from_dict(msgpack.unpackb(value, timestamp=3))
        self.states[key] = state
        self._keep(state, changed=False)
