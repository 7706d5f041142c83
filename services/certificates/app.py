"""The certificates service's shell: Kafka in and out, the CA, the renewal clock (I/O).

Reads stations.v1 in a consumer group (CertificateSigningRequested: sign the accepted ones, log
the refused ones with their reasons) and follows ocpp.presence.v1 (which certificate each
station connected with, and whether it is online); writes OperatorCommands to commands.v1, a
signed certificate's with the trace headers of the request it answers (docs/tracing.md).
"""

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from aiokafka import AIOKafkaProducer
from aiokafka.structs import RecordMetadata
from prometheus_client import REGISTRY, CollectorRegistry, Counter

from contracts.envelope import Envelope
from contracts.headers import Headers
from contracts.payloads.certificates import CertificateSigningRequested
from contracts.payloads.commands import OperatorCommand
from contracts.payloads.presence import PresenceView
from contracts.topics import Topic
from contracts.trace import from_headers
from runtime.api import write
from runtime.consumer import GroupConsumer
from runtime.follower import Follower
from runtime.kafka import PublishFailed, reliable_producer, send_acknowledged, start_bounded
from services.certificates.authority import Authority, CsrRefused
from services.certificates.core.commands import Renewal, certificate_signed, renewal, renewal_due

log = logging.getLogger("certificates")


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    bootstrap_servers: str
    group: str = "chargebus-certificates"
    offset_reset: str = "latest"
    ca_cert: Path
    ca_key: Path
    renewal: Renewal = field(default_factory=Renewal)
    check_interval_s: float = 60.0
    connect_timeout_s: float = 15.0


class Certificates:
    def __init__(
        self, settings: Settings, authority: Authority, registry: CollectorRegistry = REGISTRY
    ) -> None:
        self.settings, self.authority = settings, authority
        self.presence = PresenceView(clock=lambda: datetime.now(UTC))
        self._asked: dict[str, datetime] = {}  # station -> when we last asked it to renew
        self._producer: AIOKafkaProducer | None = None
        self.signed = Counter(
            "chargebus_certificates_total",
            "Certificate requests by outcome: signed, refused (by us or the sessions service)",
            ["outcome"],
            registry=registry,
        )
        for outcome in ("signed", "refused"):  # from 0: rate() and alerts see the first one
            self.signed.labels(outcome)
        self.renewals = Counter(
            "chargebus_certificate_renewals_total", "Renewals asked of stations", registry=registry
        )
        self._follower = Follower(
            settings.bootstrap_servers,
            [Topic.PRESENCE],
            self._presence,
            connect_timeout_s=settings.connect_timeout_s,
        )
        self._requests = GroupConsumer(
            settings.bootstrap_servers,
            Topic.STATIONS,
            settings.group,
            self._station_event,
            self._send,
            offset_reset=settings.offset_reset,
            connect_timeout_s=settings.connect_timeout_s,
        )
        self._clock: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Raises: KafkaUnavailable, TopicMissing: the broker or a topic is not there."""
        producer = reliable_producer(self.settings.bootstrap_servers)
        await start_bounded(
            producer, self.settings.bootstrap_servers, self.settings.connect_timeout_s
        )
        self._producer = producer
        await self._follower.start()
        await self._requests.start()
        self._clock = asyncio.create_task(self._renew_every())

    async def stop(self) -> None:
        if self._clock is not None:
            self._clock.cancel()
        await self._requests.stop()
        await self._follower.stop()
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    def readiness(self) -> tuple[bool, str]:
        if self._producer is None:
            return False, "no Kafka producer yet"
        if not self._follower.ready.is_set():
            return False, "reading ocpp.presence.v1"
        if not self._requests.ready.is_set():
            return False, "waiting for stations.v1 partitions"
        return True, f"CA {self.authority.certificate.subject.rfc4514_string()}"

    def _presence(self, topic: str, key: str, envelope: Envelope | None) -> bool:
        if envelope is None:
            self.presence.remove(key)
            return True
        return self.presence.apply(envelope)

    async def _send(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        *,
        partition: int | None = None,
        headers: Sequence[tuple[str, bytes]] | None = None,
    ) -> RecordMetadata:
        """Dead letters of stations.v1 (the GroupConsumer's)."""
        if self._producer is None:
            raise PublishFailed(f"{topic}: not connected to Kafka yet")
        return await send_acknowledged(
            self._producer, topic, key, value, partition=partition, headers=headers
        )

    async def _command(self, command: OperatorCommand, trace: Headers = ()) -> None:
        envelope = command.envelope()
        await write(self._producer, Topic.COMMANDS, command.station_id, envelope, headers=trace)

    async def _station_event(self, envelope: Envelope, headers: Headers) -> None:
        request = CertificateSigningRequested.parse(envelope)
        if request is None:
            return
        extra = {"station_id": request.station_id}
        if not request.accepted:
            self.signed.labels("refused").inc()
            log.warning("CSR refused: %s", "; ".join(request.problems), extra=extra)
            return
        now = datetime.now(UTC)
        try:
            chain = self.authority.sign(request.csr, now)
        except CsrRefused as exc:
            self.signed.labels("refused").inc()
            log.error("CSR accepted upstream but not signed: %s", exc, extra=extra)
            return
        # No span of ours: the request's trace goes on unchanged (docs/tracing.md).
        trace = from_headers(headers)
        await self._command(
            certificate_signed(request, chain, now), () if trace is None else trace.headers()
        )
        self.signed.labels("signed").inc()
        log.info("certificate signed, CertificateSigned sent", extra=extra)

    async def _renew_every(self) -> None:
        while True:
            await asyncio.sleep(self.settings.check_interval_s)
            try:
                await self.renew(datetime.now(UTC))
            except Exception:  # the loop's one broad except: a broker hiccup, try next round
                log.exception("renewal round failed")

    async def renew(self, now: datetime) -> None:
        """Ask every online station whose certificate expires soon for a new CSR."""
        for station_id in self.presence.station_ids():
            presence = self.presence.get(station_id)
            if presence is None or not renewal_due(
                presence,
                online=self.presence.online(station_id),
                now=now,
                asked_at=self._asked.get(station_id),
                policy=self.settings.renewal,
            ):
                continue
            await self._command(renewal(presence, now))
            self._asked[station_id] = now
            self.renewals.inc()
            log.info("certificate expires soon: renewal asked", extra={"station_id": station_id})
