"""The station links this gateway holds, the stations that recently left, and presence (pure).

Design "Routing": the gateway writes ocpp.presence.v1 on connect and disconnect; "a disconnect
only clears a presence entry of the same connection; the newest connection of a station wins".
``LinkTable`` decides which records to publish, in which order, and which older link to close;
the shell (server.py) does it. The table holds any link object that carries its ``Connection``.
"""

from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, Protocol, TypeVar

from contracts.envelope import Envelope
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

    publish: tuple[Envelope, ...]  # its StationDisconnected, then maybe the live StationConnected
    was_current: bool  # False: it had been replaced already


class LinkTable(Generic[L]):
    """The held link per station id, and the last ``remember`` stations that left."""

    def __init__(self, *, remember: int = RECENTLY_LEFT_CAPACITY) -> None:
        self.remember = remember
        self._links: dict[str, L] = {}
        self._recently_left: OrderedDict[str, None] = OrderedDict()  # oldest first

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
        return Connected(presence_connected(link.info), replaced)

    def disconnect(self, link: L, *, at: datetime, reason: str) -> Disconnected:
        """``link`` ended at ``at`` (``reason``: close code and reason). Its StationDisconnected
        is always published: readers apply it only to the same connection id. If a newer link
        replaced it, that one's StationConnected follows, because compaction may keep only the
        late disconnect of the station's key."""
        info = link.info
        current = self._links.get(info.station_id)
        gone = presence_disconnected(info, at=at, reason=reason)
        if current is link:
            del self._links[info.station_id]
            self._recently_left[info.station_id] = None
            while len(self._recently_left) > self.remember:
                self._recently_left.popitem(last=False)
            return Disconnected((gone,), was_current=True)
        if current is None:  # a replacement that has ended already
            return Disconnected((gone,), was_current=False)
        return Disconnected((gone, presence_connected(current.info)), was_current=False)
