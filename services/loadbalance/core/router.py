"""The station events load balancing needs, re-keyed by the site of their station (pure).

A site's allocation needs every station of the site in one place, but sessions.v1,
stations.v1 and command-results.v1 are keyed by station. The router (a stateless service in
the runtime's worker) reads them and writes the events of stations that belong to a site to
loadbalance.inputs.v1 under the site's id, unchanged otherwise: same event type, payload (a
SessionStarted gains ``token_group``, its id token's group), time; the event id derives from
the source record's. Events of stations in no site, meter
values included, stop here. A station's events keep their order: one station, one site, one
partition.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from contracts.envelope import Envelope
from contracts.events import DomainEvent, EventType
from contracts.payloads.ocpp import DeferredReply
from contracts.topics import Topic
from services.loadbalance.core.reconcile import COMMAND_PREFIX

FORWARDED = frozenset(
    {
        EventType.SESSION_STARTED,
        EventType.SESSION_UPDATED,
        EventType.SESSION_ENDED,
        EventType.STATION_BOOTED,
        EventType.STATION_ONLINE,
        EventType.STATION_OFFLINE,
        EventType.CHARGING_LIMIT_SET,
        EventType.CHARGING_LIMIT_CLEARED,
        EventType.CHARGING_NEEDS_REPORTED,
    }
)


@dataclass(frozen=True, slots=True)
class Routed:
    """The re-keyed event, or none."""

    events: Sequence[DomainEvent]
    reply: None = None
    deferred: Sequence[DeferredReply] = ()


@dataclass
class Router:
    """One partition of the station topics; ``site_of`` says which site a station is in,
    ``group_of`` which group an id token is in (sessions.tokens.v1)."""

    site_of: Callable[[str], str | None]
    group_of: Callable[[str], str | None] = lambda id_token: None

    def handle(self, envelope: Envelope) -> Routed | None:
        kind = envelope.event_type
        if kind == EventType.COMMAND_COMPLETED:
            command_id = envelope.payload.get("command_id")
            if not isinstance(command_id, str) or not command_id.startswith(COMMAND_PREFIX):
                return None
        elif kind not in FORWARDED:
            return None
        site_id = self.site_of(envelope.key)
        if site_id is None:
            return None
        payload = {"station_id": envelope.key, **envelope.payload}
        id_token = payload.get("id_token")
        if kind == EventType.SESSION_STARTED and isinstance(id_token, str):
            payload["token_group"] = self.group_of(id_token)  # a site may rank its groups
        return Routed([DomainEvent(topic=Topic.SITE_INPUTS, event_type=kind, key=site_id,
                                   payload=payload)])  # fmt: skip

    def changes(self) -> Sequence[tuple[str, bytes | None]]:
        return ()

    def restore(self, key: str, value: bytes | None) -> None:
        raise ValueError("the router keeps no state")
