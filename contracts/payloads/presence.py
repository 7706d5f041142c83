"""StationConnected / StationDisconnected / GatewayAlive on ocpp.presence.v1: which gateway holds
a station, and which gateways live (pure).

Readers apply the rules of docs/events.md, as ``PresenceView`` does: the newest connection of a
station wins; a disconnect applies only if its ``connection_id`` is the station's current one;
an entry written by an older boot of its gateway (``gateway_boot``) is stale, and so is one
whose gateway's lease ran out (no GatewayAlive for ``lease_s``). Any service that routes
commands to stations follows ocpp.presence.v1 into a PresenceView.

Every gateway writes GatewayAlive to every partition of the topic every few seconds, keyed
``gateway/<k>`` (a station id never holds "/"): liveness travels in the same ordered stream as
the presence it judges, so a worker decides "that gateway is gone" from the log alone.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from contracts.envelope import Envelope
from contracts.events import EventType
from contracts.fields import moment, text, whole
from ocppj.versions import OcppVersion, version_named

SCHEMA_VERSION = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientCertificate:
    """The certificate a station connected with (security profile 3), as the gateway verified
    it: its subject's CN, its serial (hex) and when it expires."""

    common_name: str
    serial: str
    expires_at: datetime

    def to_dict(self) -> dict[str, object]:
        return {
            "common_name": self.common_name,
            "serial": self.serial,
            "expires_at": self.expires_at,
        }

    @classmethod
    def from_dict(cls, data: object) -> "ClientCertificate | None":
        if not isinstance(data, Mapping):
            return None
        common_name, serial = text(data, "common_name"), text(data, "serial")
        expires_at = moment(data, "expires_at")
        if common_name is None or serial is None or expires_at is None:
            return None
        return cls(common_name=common_name, serial=serial, expires_at=expires_at)


@dataclass(frozen=True, slots=True, kw_only=True)
class Presence:
    """One connection of a station to a gateway: as it began, and as it ended."""

    station_id: str
    connected: bool  # StationConnected; False: StationDisconnected
    gateway: int | None  # the gateway instance k = its inbox partition
    connection_id: str
    ocpp_version: OcppVersion | None
    gateway_boot: str  # changes at every gateway start: tells stale presence apart
    connected_at: datetime | None
    disconnected_at: datetime | None = None
    reason: str | None = None  # of the disconnect: "1006", "1000 replaced by ..."
    reasserted: bool = False  # a StationConnected written again for compaction's sake
    certificate: ClientCertificate | None = None  # profile 3: what the station connected with

    @property
    def at(self) -> datetime | None:
        """When this record's state began."""
        return self.connected_at if self.connected else self.disconnected_at

    def ended(self, *, at: datetime, reason: str) -> "Presence":
        """The StationDisconnected of this connection."""
        return replace(self, connected=False, disconnected_at=at, reason=reason)

    def envelope(self) -> Envelope:
        """Raises: ValueError: the record has no time (``connected_at``/``disconnected_at``)."""
        at = self.at
        if at is None:
            raise ValueError("a presence record needs the time of its state")
        payload: dict[str, object] = {
            "station_id": self.station_id,
            "ocpp_version": None if self.ocpp_version is None else str(self.ocpp_version),
            "connection_id": self.connection_id,
            "gateway": self.gateway,
            "gateway_boot": self.gateway_boot,
            "connected_at": self.connected_at,
        }
        if not self.connected:
            payload |= {"disconnected_at": self.disconnected_at, "reason": self.reason}
        elif self.reasserted:
            payload["reasserted"] = True
        if self.connected and self.certificate is not None:
            payload["certificate"] = self.certificate.to_dict()
        payload["state"] = "connected" if self.connected else "disconnected"
        return Envelope(
            event_type=(
                EventType.STATION_CONNECTED if self.connected else EventType.STATION_DISCONNECTED
            ),
            schema_version=SCHEMA_VERSION,
            key=self.station_id,
            payload=payload,
            occurred_at=at,
        )

    @classmethod
    def parse(cls, envelope: Envelope) -> "Presence | None":
        """The record's presence; None for other event types or without a connection id. A
        missing time is the record's ``occurred_at``."""
        if envelope.event_type == EventType.STATION_CONNECTED:
            connected = True
        elif envelope.event_type == EventType.STATION_DISCONNECTED:
            connected = False
        else:
            return None
        p = envelope.payload
        station_id, connection_id = text(p, "station_id") or envelope.key, text(p, "connection_id")
        if not station_id or not connection_id:
            return None
        connected_at = moment(p, "connected_at")
        return cls(
            station_id=station_id,
            connected=connected,
            gateway=whole(p, "gateway"),
            connection_id=connection_id,
            ocpp_version=version_named(p.get("ocpp_version")),
            gateway_boot=text(p, "gateway_boot") or "",
            connected_at=connected_at or (envelope.occurred_at if connected else None),
            disconnected_at=(
                None if connected else moment(p, "disconnected_at") or envelope.occurred_at
            ),
            reason=text(p, "reason"),
            reasserted=connected and p.get("reasserted") is True,
            certificate=ClientCertificate.from_dict(p.get("certificate")) if connected else None,
        )


GATEWAY_KEY_PREFIX = "gateway/"


def gateway_key(gateway: int) -> str:
    """The record key of a gateway's GatewayAlive on ocpp.presence.v1."""
    return f"{GATEWAY_KEY_PREFIX}{gateway}"


@dataclass(frozen=True, slots=True, kw_only=True)
class GatewayAlive:
    """A gateway's heartbeat: boot ``boot`` of gateway ``gateway`` lives until ``at + lease_s``.

    A lease of 0 says the gateway stopped cleanly (after writing its disconnects)."""

    gateway: int
    boot: str
    at: datetime
    lease_s: float

    @property
    def until(self) -> datetime:
        return self.at + timedelta(seconds=self.lease_s)

    def envelope(self) -> Envelope:
        return Envelope(
            event_type=EventType.GATEWAY_ALIVE,
            schema_version=SCHEMA_VERSION,
            key=gateway_key(self.gateway),
            payload={"gateway": self.gateway, "boot": self.boot, "lease_s": self.lease_s},
            occurred_at=self.at,
        )

    @classmethod
    def parse(cls, envelope: Envelope) -> "GatewayAlive | None":
        """The heartbeat; None for other event types or without gateway, boot or lease."""
        if envelope.event_type != EventType.GATEWAY_ALIVE:
            return None
        p = envelope.payload
        gateway, boot, lease = whole(p, "gateway"), text(p, "boot"), p.get("lease_s")
        if gateway is None or not boot or isinstance(lease, bool):
            return None
        if not isinstance(lease, int | float) or lease < 0:
            return None
        return cls(gateway=gateway, boot=boot, at=envelope.occurred_at, lease_s=float(lease))


class PresenceView:
    """The current (or last) connection per station, kept equal to ocpp.presence.v1 by
    ``apply``; every entry names its gateway.

    ``clock`` gives "now" for leases (a live reader passes the wall clock); without one, now is
    the newest GatewayAlive in the log, so that a replay decides as the live reader did.
    """

    def __init__(self, clock: Callable[[], datetime] | None = None) -> None:
        self._entries: dict[str, Presence] = {}
        self._boots: dict[int, tuple[datetime, str]] = {}  # gateway -> newest (seen at, boot)
        self._leases: dict[int, GatewayAlive] = {}  # gateway -> its newest heartbeat
        self._log_now: datetime | None = None
        self._clock = clock

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, station_id: object) -> bool:
        return station_id in self._entries

    def get(self, station_id: str) -> Presence | None:
        return self._entries.get(station_id)

    def online(self, station_id: str) -> bool:
        """Connected, written by the newest boot of its gateway that we know of, and that
        gateway's lease (if it ever sent one) not run out."""
        entry = self._entries.get(station_id)
        return entry is not None and entry.connected and not self._stale(entry)

    def lease(self, gateway: int) -> GatewayAlive | None:
        """The gateway's newest heartbeat, if any."""
        return self._leases.get(gateway)

    def _stale(self, entry: Presence) -> bool:
        newest = None if entry.gateway is None else self._boots.get(entry.gateway)
        if newest is not None and bool(entry.gateway_boot) and newest[1] != entry.gateway_boot:
            return True
        lease = None if entry.gateway is None else self._leases.get(entry.gateway)
        now = self._clock() if self._clock is not None else self._log_now
        return lease is not None and now is not None and lease.until < now

    def apply(self, envelope: Envelope) -> bool:
        """Apply one presence record; returns whether it changed the view (False: ignored)."""
        alive = GatewayAlive.parse(envelope)
        if alive is not None:
            return self._alive(alive)
        record = Presence.parse(envelope)
        if record is None or record.gateway is None:
            return False  # not presence, or no route to the station in it
        if record.gateway_boot:
            self._note_boot(record.gateway, record.gateway_boot, envelope.occurred_at)
        current = self._entries.get(record.station_id)
        if record.connected:
            if (
                current is not None
                and current.connection_id != record.connection_id
                and current.connected
                and current.connected_at is not None
                and record.connected_at is not None
                and record.connected_at < current.connected_at
            ):
                return False  # an older socket's record: the newest connection wins
            self._entries[record.station_id] = record
            return True
        if current is None:
            self._entries[record.station_id] = record
            return True
        if current.connection_id != record.connection_id:
            return False  # a late disconnect of an older connection
        self._entries[record.station_id] = replace(
            current,
            connected=False,
            disconnected_at=record.disconnected_at,
            reason=record.reason,
        )
        return True

    def remove(self, key: str) -> None:
        """A tombstone: the station (or the gateway's lease) is forgotten."""
        if key.startswith(GATEWAY_KEY_PREFIX):
            gateway = key.removeprefix(GATEWAY_KEY_PREFIX)
            if gateway.isdecimal():
                self._leases.pop(int(gateway), None)
            return
        self._entries.pop(key, None)

    def _alive(self, alive: GatewayAlive) -> bool:
        self._note_boot(alive.gateway, alive.boot, alive.at)
        if self._log_now is None or alive.at > self._log_now:
            self._log_now = alive.at
        known = self._leases.get(alive.gateway)
        if known is not None and known.at > alive.at:
            return False  # an older heartbeat (from another partition, say)
        self._leases[alive.gateway] = alive
        return True

    def _note_boot(self, gateway: int, boot: str, at: datetime) -> None:
        newest = self._boots.get(gateway)
        if newest is None or at >= newest[0]:
            self._boots[gateway] = (at, boot)

    def station_ids(self) -> list[str]:
        return list(self._entries)
