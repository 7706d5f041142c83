"""The load balancing API's shell: the site registry followed from Kafka, site and capacity
writes (I/O).

Every instance follows loadbalance.sites.v1 and api.keys.v1 from the beginning, and
loadbalance.limits.v1 from ``--history-hours`` ago (each site's allocation and its history). A
site write returns once this instance's view shows it (read your writes).
"""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from aiokafka import AIOKafkaProducer
from prometheus_client import REGISTRY, CollectorRegistry

from contracts.envelope import Envelope
from contracts.events import DomainEvent
from contracts.payloads.api_keys import KeyRing
from contracts.payloads.sites import CapacityChanged, SiteDefined
from contracts.topics import Topic
from runtime.api import HttpMetrics, readiness, write
from runtime.api_keys import KeyFollower
from runtime.follower import Follower
from runtime.kafka import reliable_producer, start_bounded
from services.loadbalance.api.core.errors import SiteNotFound
from services.loadbalance.api.core.history import History
from services.loadbalance.api.core.registry import Registry
from services.loadbalance.api.settings import Settings
from services.loadbalance.core.topology import Site


class LoadbalanceApi:
    """What the HTTP routes use: the site registry, and writes to the site and capacity topics."""

    def __init__(self, settings: Settings, registry: CollectorRegistry = REGISTRY) -> None:
        self.settings = settings
        self.registry = registry
        self.metrics = HttpMetrics("loadbalance_api", registry)
        self.keys = KeyRing()
        self.sites = Registry()
        connect = settings.connect_timeout_s
        self._keys = KeyFollower(settings.bootstrap_servers, self.keys, connect_timeout_s=connect)
        self._sites = Follower(
            settings.bootstrap_servers,
            [Topic.SITES],
            lambda _, key, envelope: self.sites.apply(key, envelope),
            connect_timeout_s=connect,
            on_rejected=lambda topic, _: self.metrics.records.labels(topic, "undecodable").inc(),
        )
        keep = timedelta(hours=settings.history_hours)
        self.history = History(keep=keep)
        self._limits = Follower(
            settings.bootstrap_servers,
            [Topic.LIMITS],
            lambda _, key, envelope: self.history.apply(envelope),
            from_beginning=False,
            start_at=lambda: datetime.now(UTC) - keep,
            connect_timeout_s=connect,
            on_rejected=lambda topic, _: self.metrics.records.labels(topic, "undecodable").inc(),
        )
        self.metrics.view_size.labels("sites").set_function(lambda: len(self.sites.sites))
        self.metrics.view_size.labels("allocations").set_function(
            lambda: sum(len(kept) for kept in self.history.sites.values())
        )
        self.metrics.view_size.labels("api_keys").set_function(self.keys.__len__)
        self._producer: AIOKafkaProducer | None = None

    async def start(self) -> None:
        """Raises: KafkaUnavailable, TopicMissing: the broker or a topic is not there."""
        producer = reliable_producer(self.settings.bootstrap_servers)
        await start_bounded(
            producer, self.settings.bootstrap_servers, self.settings.connect_timeout_s
        )
        self._producer = producer
        await self._keys.start()
        await self._sites.start()
        await self._limits.start()

    async def stop(self) -> None:
        await self._limits.stop()
        await self._sites.stop()
        await self._keys.stop()
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    def readiness(self) -> tuple[bool, str]:
        return readiness(
            (
                ("kafka producer", self._producer is not None),
                ("api.keys.v1", self._keys.ready.is_set()),
                ("loadbalance.sites.v1", self._sites.ready.is_set()),
                ("loadbalance.limits.v1", self._limits.ready.is_set()),
            )
        )

    async def put_site(self, defined: SiteDefined) -> bool:
        """Write SiteDefined; returns whether the site is new."""
        created = defined.site_id not in self.sites.sites
        await self._write(defined.site_id, defined.envelope())
        return created

    async def delete_site(self, site_id: str) -> None:
        """Raises: SiteNotFound."""
        if site_id not in self.sites.sites:
            raise SiteNotFound(f"no site {site_id!r}")
        await self._write(site_id, None)

    async def change_capacity(self, change: CapacityChanged) -> None:
        """Raises: SiteNotFound."""
        await self.signal(change.site_id, change.envelope())

    async def signal(self, site_id: str, envelope: Envelope) -> None:
        """A site's signal (capacity, generation, forecast) on grid.capacity.v1.

        Raises: SiteNotFound."""
        self.site(site_id)
        await write(self._producer, Topic.GRID_CAPACITY, site_id, envelope)

    async def session_needs(self, site_id: str, needs: DomainEvent) -> None:
        """A session's needs straight to the load balancer, as its router would pass on a
        station's (loadbalance.inputs.v1, keyed by the site)."""
        envelope = needs.envelope()
        await write(self._producer, Topic.SITE_INPUTS, site_id, replace(envelope, key=site_id))

    def site(self, site_id: str) -> Site:
        """Raises: SiteNotFound."""
        site = self.sites.sites.get(site_id)
        if site is None:
            raise SiteNotFound(f"no site {site_id!r}")
        return site

    async def _write(self, site_id: str, envelope: Envelope | None) -> None:
        """A site write, read back. Raises: PublishFailed."""
        await write(self._producer, Topic.SITES, site_id, envelope, read_back=self._sites)
