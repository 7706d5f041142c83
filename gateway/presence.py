"""Presence across gateways: heartbeats out, ocpp.presence.v1 followed back (I/O).

``Heartbeats`` writes GatewayAlive to every partition of ocpp.presence.v1 every
``heartbeat_s``; after Kafka was away longer than the lease (readers took this gateway for
gone), the first heartbeat that lands is followed by every held link's StationConnected again.
``PresenceFollower`` reads the topic live and hands each record to the Gateway, whose link table
(core/links.py) decides whether a link was superseded elsewhere or must be written again.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from contracts.envelope import Envelope
from contracts.payloads.presence import GatewayAlive, Presence
from contracts.topics import Topic
from gateway.bus import Publisher
from runtime.follower import Follower
from runtime.kafka import PublishFailed

log = logging.getLogger("gateway")


class Heartbeats:
    """This gateway's lease on ocpp.presence.v1, renewed on every partition."""

    def __init__(
        self,
        publisher: Publisher,
        *,
        gateway: int,
        boot: str,
        partitions: int,
        heartbeat_s: float,
        lease_s: float,
        reassert: Callable[[], Awaitable[None]],
    ) -> None:
        self.publisher = publisher
        self.gateway = gateway
        self.boot = boot
        self.partitions = partitions
        self.heartbeat_s = heartbeat_s
        self.lease_s = lease_s
        self._reassert = reassert
        self._last_landed: float | None = None  # loop time of the last heartbeat on every partition

    async def beat(self, lease_s: float | None = None) -> None:
        """One GatewayAlive to every partition, all acknowledged.

        Raises:
            PublishFailed: a partition did not acknowledge.
        """
        alive = GatewayAlive(
            gateway=self.gateway,
            boot=self.boot,
            at=datetime.now(UTC),
            lease_s=self.lease_s if lease_s is None else lease_s,
        )
        envelope = alive.envelope()
        await asyncio.gather(
            *(
                self.publisher.publish(Topic.PRESENCE, envelope, partition=p)
                for p in range(self.partitions)
            )
        )

    async def run(self) -> None:
        """Renew the lease until cancelled; never raises."""
        loop = asyncio.get_running_loop()
        while True:
            try:
                await self.beat()
                now = loop.time()
                lapsed = self._last_landed is not None and now - self._last_landed > self.lease_s
                self._last_landed = now
                if lapsed:
                    log.warning("the lease had lapsed: writing every station's presence again")
                    await self._reassert()
            except PublishFailed as exc:
                log.warning("heartbeat not acknowledged: %s", exc)
            except Exception:  # the loop's one broad except: the lease must keep being renewed
                log.exception("heartbeat failed")
            await asyncio.sleep(self.heartbeat_s)

    async def stopped(self) -> None:
        """A last heartbeat with lease 0: readers take the gateway for gone at once."""
        try:
            await self.beat(lease_s=0.0)
        except PublishFailed as exc:
            log.warning("the last heartbeat was not acknowledged: %s", exc)


class PresenceFollower(Follower):
    """Reads ocpp.presence.v1 from the end into ``observe`` (station records only)."""

    def __init__(
        self,
        bootstrap_servers: str,
        observe: Callable[[Presence], None],
        *,
        connect_timeout_s: float,
    ) -> None:
        super().__init__(
            bootstrap_servers,
            [Topic.PRESENCE],
            self._apply,
            from_beginning=False,
            connect_timeout_s=connect_timeout_s,
            poll_timeout_ms=500,
        )
        self._observe = observe

    def _apply(self, _: str, __: str, envelope: Envelope | None) -> None:
        record = None if envelope is None else Presence.parse(envelope)
        if record is not None:
            self._observe(record)
