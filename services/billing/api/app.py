"""The billing API's shell: tariffs and CDRs followed from Kafka, tariff writes (I/O).

Every instance follows billing.tariffs.v1 and api.keys.v1 from the beginning and
billing.cdrs.v1 from a recent window. A write returns once this instance's view shows it
(read your writes).
"""

from datetime import UTC, datetime, timedelta

from aiokafka import AIOKafkaProducer
from prometheus_client import REGISTRY, CollectorRegistry

from contracts.envelope import Envelope
from contracts.payloads.api_keys import KeyRing
from contracts.payloads.billing import TariffAssigned, TariffDefined, tariff_key
from contracts.topics import Topic
from runtime.api import HttpMetrics, readiness, write
from runtime.api_keys import KeyFollower
from runtime.follower import Follower
from runtime.kafka import reliable_producer, start_bounded
from services.billing.api.core.cdrs import CdrsView
from services.billing.api.core.errors import AssignmentNotFound, TariffInUse, TariffNotFound
from services.billing.api.core.requests import assigned_to
from services.billing.api.settings import Settings
from services.billing.tariff_follower import TariffFollower


class BillingApi:
    """What the HTTP routes use: the tariff book, the CDRs, and writes to the tariff topic."""

    def __init__(self, settings: Settings, registry: CollectorRegistry = REGISTRY) -> None:
        self.settings = settings
        self.registry = registry
        self.metrics = HttpMetrics("billing_api", registry)
        self.keys = KeyRing()
        self.cdrs = CdrsView(settings.recent_cdrs)
        connect = settings.connect_timeout_s
        self._keys = KeyFollower(settings.bootstrap_servers, self.keys, connect_timeout_s=connect)
        self._tariffs = TariffFollower(settings.bootstrap_servers, connect_timeout_s=connect)
        self.book = self._tariffs.book
        window = timedelta(seconds=settings.cdrs_window_s)
        self._cdrs = Follower(
            settings.bootstrap_servers,
            [Topic.CDRS],
            self._apply_cdr,
            from_beginning=False,
            start_at=(lambda: datetime.now(UTC) - window) if settings.cdrs_window_s else None,
            connect_timeout_s=connect,
            on_rejected=lambda topic, _: self.metrics.records.labels(topic, "undecodable").inc(),
        )
        for name, size in (
            ("tariffs", lambda: len(self.book.tariffs)),
            ("assignments", lambda: len(self.book.assignments)),
            ("cdrs", self.cdrs.__len__),
            ("api_keys", self.keys.__len__),
        ):
            self.metrics.view_size.labels(name).set_function(size)
        self._producer: AIOKafkaProducer | None = None

    async def start(self) -> None:
        """Raises: KafkaUnavailable, TopicMissing: the broker or a topic is not there."""
        producer = reliable_producer(self.settings.bootstrap_servers)
        await start_bounded(
            producer, self.settings.bootstrap_servers, self.settings.connect_timeout_s
        )
        self._producer = producer
        await self._keys.start()
        await self._tariffs.start()
        await self._cdrs.start()

    async def stop(self) -> None:
        await self._cdrs.stop()
        await self._tariffs.stop()
        await self._keys.stop()
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    def readiness(self) -> tuple[bool, str]:
        return readiness(
            (
                ("kafka producer", self._producer is not None),
                ("api.keys.v1", self._keys.ready.is_set()),
                ("billing.tariffs.v1", self._tariffs.ready.is_set()),
                ("the recent window of billing.cdrs.v1", self._cdrs.ready.is_set()),
            )
        )

    def _apply_cdr(self, topic: str, _: str, envelope: Envelope | None) -> None:
        applied = envelope is not None and self.cdrs.apply(envelope)
        self.metrics.records.labels(topic, "applied" if applied else "ignored").inc()

    # -- writes ----------------------------------------------------------------------------

    async def put_tariff(self, defined: TariffDefined) -> bool:
        """Write TariffDefined; returns whether the tariff is new."""
        created = defined.tariff_id not in self.book.tariffs
        await self._write(defined.envelope().key, defined.envelope())
        return created

    async def delete_tariff(self, tariff_id: str) -> None:
        """Raises: TariffNotFound; TariffInUse: an assignment still lists it."""
        if tariff_id not in self.book.tariffs:
            raise TariffNotFound(f"no tariff {tariff_id!r}")
        users = assigned_to(self.book, tariff_id)
        if users:
            raise TariffInUse(f"tariff {tariff_id!r} is listed by {', '.join(users)}")
        await self._write(tariff_key(tariff_id), None)

    async def put_assignment(self, assigned: TariffAssigned) -> bool:
        created = assigned.key not in self.book.assignments
        await self._write(assigned.key, assigned.envelope())
        return created

    async def delete_assignment(self, key: str) -> None:
        if key not in self.book.assignments:
            raise AssignmentNotFound(f"no assignment {key!r}")
        await self._write(key, None)

    async def _write(self, key: str, envelope: Envelope | None) -> None:
        """Raises: PublishFailed: the broker did not acknowledge in time, or not connected."""
        await write(self._producer, Topic.TARIFFS, key, envelope, read_back=self._tariffs)
