"""The site registry and the token groups followed into memory: each site's document, each
station's site, each id token's group (I/O)."""

from collections.abc import Mapping
from typing import Any

from contracts.envelope import Envelope
from contracts.payloads.sites import SiteDefined
from contracts.payloads.tokens import Token
from contracts.topics import Topic
from runtime.follower import Follower
from runtime.kafka import DEFAULT_CONNECT_TIMEOUT_S


class StationSites(Follower):
    """loadbalance.sites.v1 and sessions.tokens.v1: the router asks which site a station is in
    and which group an id token is in, the load balancer for the document of a site it has
    not seen defined (a consumer group that starts at the end)."""

    def __init__(
        self, bootstrap_servers: str, *, connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S
    ) -> None:
        self.stations: dict[str, str] = {}
        self.sites: dict[str, tuple[str, ...]] = {}
        self.documents: dict[str, Mapping[str, Any]] = {}
        self.groups: dict[str, str] = {}  # id token -> its group
        super().__init__(
            bootstrap_servers,
            [Topic.SITES, Topic.TOKENS],
            self._apply,
            connect_timeout_s=connect_timeout_s,
            poll_timeout_ms=200,
            describe=lambda: (
                f"{Topic.SITES}: {len(self.sites)} sites; {Topic.TOKENS}: "
                f"{len(self.groups)} tokens in groups"
            ),
        )

    def site_of(self, station_id: str) -> str | None:
        return self.stations.get(station_id)

    def document(self, site_id: str) -> Mapping[str, Any] | None:
        return self.documents.get(site_id)

    def group_of(self, id_token: str) -> str | None:
        return self.groups.get(id_token)

    def _apply(self, topic: str, key: str, envelope: Envelope | None) -> None:
        if topic == Topic.TOKENS:
            self.groups.pop(key, None)
            group = None if envelope is None else Token.parse(envelope).group_id
            if group is not None:
                self.groups[key] = group
            return
        self.documents.pop(key, None)
        for station_id in self.sites.pop(key, ()):
            if self.stations.get(station_id) == key:
                del self.stations[station_id]
        if envelope is None:
            return
        defined = SiteDefined.parse(envelope)  # raises RecordRejected
        self.sites[key] = defined.stations
        if defined.document is not None:
            self.documents[key] = defined.document
        for station_id in defined.stations:
            self.stations[station_id] = key
