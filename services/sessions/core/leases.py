"""Which gateways are gone, judged from the GatewayAlive records of one partition (pure).

Every gateway writes GatewayAlive to every partition of ocpp.presence.v1 every few seconds
(docs/gateway.md, "Gateway leases"). A partition's worker sees them in its input stream beside
the presence they judge, so "now" is the time of the newest heartbeat in the log, never the
worker's clock: a replay judges as the first run did. A station connected through a gateway is
lost when that gateway's newest heartbeat is older than its lease, when the gateway came back
with another boot (the old process and its sockets are gone), or when the gateway has not been
heard at all for a whole lease since this partition's first heartbeat (it died while no worker
was reading).
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from contracts.payloads.presence import GatewayAlive


@dataclass
class Leases:
    """The newest heartbeat per gateway in one partition, and what changed since last asked."""

    heard: dict[int, GatewayAlive] = field(default_factory=dict)
    since: datetime | None = None  # time of the first heartbeat this partition's store read
    now: datetime | None = None  # time of the newest heartbeat
    _expired: set[tuple[int, str]] = field(default_factory=set)  # (gateway, boot) past its lease
    _swept: bool = False  # the one look for gateways never heard was taken

    def heartbeat(self, alive: GatewayAlive) -> bool:
        """Note one heartbeat; whether a station somewhere may have been lost by it (a new boot,
        a lease newly run out, or the first look for gateways never heard)."""
        if self.since is None:
            self.since = alive.at
        if self.now is None or alive.at > self.now:
            self.now = alive.at
        changed = False
        known = self.heard.get(alive.gateway)
        if known is None or alive.at >= known.at:
            changed = known is None or known.boot != alive.boot
            self.heard[alive.gateway] = alive
        for gateway, newest in self.heard.items():
            key = (gateway, newest.boot)
            if newest.until < self.now:
                if key not in self._expired:
                    self._expired.add(key)
                    changed = True
            else:
                self._expired.discard(key)
        if not self._swept and self.now - self.since > self._longest_lease():
            self._swept = True
            changed = True
        return changed

    def lost(self, gateway: int | None, boot: str | None) -> str | None:
        """Why a connection through boot ``boot`` of ``gateway`` is gone; None if it may live."""
        if gateway is None or self.now is None:
            return None
        newest = self.heard.get(gateway)
        if newest is None:
            if self._swept:
                return (
                    f"gateway {gateway} sent no GatewayAlive since {self.since:%Y-%m-%dT%H:%M:%SZ}"
                )
            return None
        if boot and newest.boot != boot:
            return f"gateway {gateway} restarted (boot {newest.boot})"
        if newest.until < self.now:
            return f"gateway {gateway} lease ran out at {newest.until:%Y-%m-%dT%H:%M:%SZ}"
        return None

    def _longest_lease(self) -> timedelta:
        return max(
            (timedelta(seconds=alive.lease_s) for alive in self.heard.values()),
            default=timedelta(0),
        )
