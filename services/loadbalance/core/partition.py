"""The sites of one partition: inputs handled, and the changelog that restores them (pure).

``Partition`` is the load balancing core as the runtime's stateful worker drives it
(runtime/batch.py ``Store``). Inputs, all keyed by site_id and co-partitioned:
loadbalance.sites.v1 (the documents), grid.capacity.v1 (capacities) and loadbalance.inputs.v1
(the station events of each site's stations, re-keyed by router.py). Every input is applied
(inputs.py) and the site allocated again (reconcile.py). Changelog: loadbalance.state.v1, one
record per site after each batch that changed it.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import msgpack

from contracts.envelope import Envelope
from contracts.errors import RecordRejected
from contracts.events import DomainEvent, EventType
from contracts.payloads.charging_limits import (
    ChargingLimitCleared,
    ChargingLimitSet,
    ChargingNeedsReported,
)
from contracts.payloads.commands import CommandCompleted
from contracts.payloads.ocpp import DeferredReply
from contracts.payloads.sessions import SessionEnded, SessionStarted, SessionUpdated
from contracts.payloads.sites import (
    CapacityChanged,
    ForecastPublished,
    GenerationMeasured,
    SiteDefined,
)
from contracts.payloads.stations import StationBooted, StationOnlineChanged
from services.loadbalance.core import inputs
from services.loadbalance.core.boundaries import boundary_passed
from services.loadbalance.core.drawn import demand
from services.loadbalance.core.reconcile import COMMAND_PREFIX, reconcile, retry_due
from services.loadbalance.core.site_state import SiteState


@dataclass(frozen=True, slots=True)
class Handled:
    """What one input gave: events and commands (load balancing answers no station CALL)."""

    events: Sequence[DomainEvent]
    reply: None = None
    deferred: Sequence[DeferredReply] = ()


def parse(envelope: Envelope) -> inputs.Input | None:
    """The inputs load balancing reads; None for anything else."""
    if envelope.event_type == EventType.SITE_DEFINED:
        try:
            return SiteDefined.parse(envelope)
        except RecordRejected:
            return None  # the API writes none such; another writer's record is ignored
    if envelope.event_type == EventType.COMMAND_COMPLETED:
        result = CommandCompleted.parse(envelope)
        return result if result and result.command_id.startswith(COMMAND_PREFIX) else None
    return (
        CapacityChanged.parse(envelope)
        or GenerationMeasured.parse(envelope)
        or ForecastPublished.parse(envelope)
        or ChargingLimitSet.parse(envelope)
        or ChargingLimitCleared.parse(envelope)
        or ChargingNeedsReported.parse(envelope)
        or SessionStarted.parse(envelope)
        or SessionUpdated.parse(envelope)
        or SessionEnded.parse(envelope)
        or StationBooted.parse(envelope)
        or StationOnlineChanged.parse(envelope)
    )


def _token_group(envelope: Envelope) -> str | None:
    """The id token's group the router added to a SessionStarted (router.py)."""
    group = envelope.payload.get("token_group")
    return group if isinstance(group, str) else None


def _changes_allocation(before: SiteState, after: SiteState, message: inputs.Input) -> bool:
    """Whether the site must be allocated again after ``message``: not for a profile accepted
    (nothing the allocation reads changed), nor for meter values that leave what the session
    may draw as the last allocation took it (most of them); for everything else."""
    if isinstance(message, CommandCompleted):
        if message.outcome in inputs.NOT_SENT:
            return True  # it never reached the station: it is sent again if still wanted
        station_id = message.station_id
        return before.station(station_id).refused_at != after.station(station_id).refused_at
    if isinstance(message, SessionUpdated):
        key = next(
            (k for k, s in after.sessions.items() if s.session_id == message.session_id), None
        )
        return key is None or demand(after, key) != after.demands.get(key)
    return True


@dataclass
class Partition:
    """The sites of one assigned partition."""

    partition: int
    # The registry's document of a site: for a site whose SiteDefined this partition never
    # read (its consumer group started at the end of loadbalance.sites.v1).
    documents: Callable[[str], Mapping[str, Any] | None] = lambda site_id: None
    sites: dict[str, SiteState] = field(default_factory=dict)
    _changed: dict[str, None] = field(default_factory=dict, compare=False)  # ordered set

    def handle(self, envelope: Envelope) -> Handled | None:
        message = parse(envelope)
        if message is None:
            return None
        site_id = envelope.key
        before = self.sites.get(site_id) or SiteState(site_id=site_id)
        if before.document is None:
            before = replace(before, document=self.documents(site_id))
        now = envelope.occurred_at
        state = inputs.apply(before, message, now, token_group=_token_group(envelope))
        events: list[DomainEvent] = []
        if (
            _changes_allocation(before, state, message)
            or retry_due(state, now)
            or boundary_passed(state, now)
        ):
            state, events = reconcile(state, now=now, cause=envelope.event_id)
        elif before.lowering and not state.lowering:  # the last decrease accepted
            state, events = reconcile(state, now=now, cause=envelope.event_id, reallocate=False)
        if state is not self.sites.get(site_id):
            self.sites[site_id] = state
            self._changed[site_id] = None
        return Handled(events)

    def changes(self) -> Sequence[tuple[str, bytes | None]]:
        writes: list[tuple[str, bytes | None]] = []
        for key in self._changed:
            state = self.sites.get(key)
            writes.append(
                (key, None if state is None else msgpack.packb(state.to_dict(), datetime=True))
            )
        self._changed = {}
        return writes

    def restore(self, key: str, value: bytes | None) -> None:
        """Raises: ValueError, TypeError, KeyError, AttributeError: an unreadable record."""
        if value is None:
            self.sites.pop(key, None)
        else:
            self.sites[key] = SiteState.from_dict(msgpack.unpackb(value, timestamp=3))
