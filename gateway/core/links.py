"""The station links this gateway holds, the stations that recently left, and presence (pure).

Design "Routing": the gateway writes ocpp.presence.v1 on connect and disconnect; "a disconnect
only clears a presence entry of the same connection; the newest connection of a station wins".
``LinkTable`` decides which records to publish, in which order, and which older link to close;
the shell (server.py) does it. The table holds any link object that carries its ``Connection``.

Across gateways the log of ocpp.presence.v1 decides (docs/gateway.md, "Presence across
gateways"): every gateway follows the topic, and once it has read its own link's
StationConnected, a later StationConnected of another connection means the station connected
again elsewhere, so the link is superseded and closed (OCPP allows one connection per station).
A superseded link writes no StationDisconnected: only records about the station's newest
connection are written, so that compaction, which keeps the last record of a key, keeps the
right one. A later record about another connection that does not supersede (a late disconnect,
an older connection written again) is answered by writing the link's StationConnected again.
"""

from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, Protocol, TypeVar

from contracts.envelope import Envelope
from contracts.payloads.presence import Presence
from gateway.core.bridge import Connection, presence_connected, presence_disconnected

RECENTLY_LEFT_CAPACITY = 100_000  # docs/gateway.md: "the gateway remembers the last 100,000"
REPLACED_CLOSE_CODE = 1000
REPLACED_CLOSE_REASON = "replaced by a newer connection"  # docs/gateway.md, "A second connection"


class HeldLink(Protocol):
    """A station connection as the table sees it: only its ``Connection``."""

    @property
    def info(self) -> Connection: ...


L = TypeVar("L", bound=HeldLink)


@dataclass(frozen=True, slots=True)
class Connected(Generic[L]):
    """What a new link asks of the shell: publish ``publish``, then close ``replaced`` (if any)
    with 1000 "replaced by a newer connection"."""

    publish: Envelope  # the new link's StationConnected
    replaced: L | None  # the station's older link, which the new one replaces


@dataclass(frozen=True, slots=True)
class Disconnected:
    """What a link's end asks of the shell: publish ``publish`` in order."""

    publish: tuple[Envelope, ...]  # its StationDisconnected; nothing for a superseded link
    was_current: bool  # False: it had been replaced already


@dataclass(frozen=True, slots=True)
class Superseded(Generic[L]):
    """The station connected again at another gateway: close ``link`` (1000), publish nothing."""

    link: L


@dataclass(frozen=True, slots=True)
class Reassert:
    """Publish the held link's StationConnected again: the log's last word on the station was
    about another connection."""

    publish: Envelope


class LinkTable(Generic[L]):
    """The held link per station id, and the last ``remember`` stations that left."""

    def __init__(self, *, remember: int = RECENTLY_LEFT_CAPACITY) -> None:
        self.remember = remember
        self._links: dict[str, L] = {}
        self._recently_left: OrderedDict[str, None] = OrderedDict()  # oldest first
        self._seen_own: set[str] = set()  # stations whose link's StationConnected was read back

    def get(self, station_id: str) -> L | None:
        return self._links.get(station_id)

    def recently_left(self, station_id: str) -> bool:
        """Whether the station was held here and left (an outcome of StationOffline, not
        NotHere, for commands to it)."""
        return station_id in self._recently_left

    def __len__(self) -> int:
        return len(self._links)

    def __iter__(self) -> Iterator[L]:
        return iter(list(self._links.values()))

    def connect(self, link: L) -> Connected[L]:
        """``link`` becomes its station's link: the newest authenticated connection wins, and
        the older one, if any, must be closed."""
        station_id = link.info.station_id
        replaced = self._links.get(station_id)
        self._links[station_id] = link
        self._recently_left.pop(station_id, None)
        self._seen_own.discard(station_id)
        return Connected(presence_connected(link.info), replaced)

    def disconnect(self, link: L, *, at: datetime, reason: str) -> Disconnected:
        """``link`` ended at ``at`` (``reason``: close code and reason). Only the station's
        current link publishes its StationDisconnected; a replaced or superseded one publishes
        nothing, since the log's last word on the station must be about its newest
        connection."""
        info = link.info
        if self._links.get(info.station_id) is not link:
            return Disconnected((), was_current=False)
        del self._links[info.station_id]
        self._seen_own.discard(info.station_id)
        self._recently_left[info.station_id] = None
        while len(self._recently_left) > self.remember:
            self._recently_left.popitem(last=False)
        gone = presence_disconnected(info, at=at, reason=reason)
        return Disconnected((gone,), was_current=True)

    def observe(self, record: Presence) -> "Superseded[L] | Reassert | None":
        """A record read back from ocpp.presence.v1 (any gateway's): what it asks of this one.

        Records about a station not held here, and records older than the held link's own
        StationConnected, ask nothing. After it: another connection's StationConnected (not one
        written again) supersedes the link, which leaves the table; any other record about
        another connection asks for the link's StationConnected again.
        """
        link = self._links.get(record.station_id)
        if link is None:
            return None
        if record.connection_id == link.info.connection_id:
            self._seen_own.add(record.station_id)
            return None
        if record.station_id not in self._seen_own:
            return None  # written before our own StationConnected: an older connection's
        if record.connected and not record.reasserted:
            del self._links[record.station_id]
            self._seen_own.discard(record.station_id)
            return Superseded(link)
        return Reassert(presence_connected(link.info, reasserted=True))

    def reassert_all(self) -> list[Envelope]:
        """Every held link's StationConnected, written again (after Kafka was away so long that
        readers took this gateway for gone)."""
        return [presence_connected(link.info, reasserted=True) for link in self._links.values()]
