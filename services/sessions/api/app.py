"""The API's shell: read models fed from Kafka, token writes, the command router (I/O).

Every instance follows the compacted ocpp.presence.v1, stations.latest.v1, sessions.tokens.v1,
api.keys.v1 and commands.ledger.v1 from the beginning into its views, sessions.open.v1 once and
sessions.v1 from a recent window, and command-results.v1 live; a consumer group shares
commands.v1 among the instances. Commands are router.py's business.
"""

import asyncio
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web
from aiokafka import AIOKafkaProducer
from aiokafka.structs import RecordMetadata
from prometheus_client import REGISTRY, CollectorRegistry

from contracts.envelope import Envelope
from contracts.payloads.api_keys import KeyRing
from contracts.payloads.presence import GATEWAY_KEY_PREFIX, PresenceView
from contracts.payloads.sessions import session_id
from contracts.payloads.tokens import Token
from contracts.topics import Topic
from runtime.api import PRODUCE_TIMEOUT_S, readiness, write
from runtime.api_keys import API_KEY, KeyFollower
from runtime.consumer import GroupConsumer
from runtime.follower import Follower
from runtime.kafka import PublishFailed, reliable_producer, send_acknowledged, start_bounded
from runtime.ledger import DurableLedger
from runtime.tracing import from_environment
from services.sessions.api.core.alerts import AlertsView, alert_json
from services.sessions.api.core.errors import TokenNotFound
from services.sessions.api.core.live import Changes, RecentEvents, batch
from services.sessions.api.core.queries import station_document
from services.sessions.api.core.sessions import SessionsView
from services.sessions.api.core.stations import StationsView
from services.sessions.api.core.tokens import TokensView
from services.sessions.api.live import LiveFeed
from services.sessions.api.metrics import Metrics
from services.sessions.api.router import CommandRouter
from services.sessions.api.settings import Settings


class SessionsApi:
    """What the HTTP routes use: the views, token writes and the command router."""

    def __init__(self, settings: Settings, registry: CollectorRegistry = REGISTRY) -> None:
        self.settings = settings
        self.registry = registry
        self.metrics = Metrics(registry)
        self.presence = PresenceView(clock=lambda: datetime.now(UTC))  # gateway leases
        self.stations = StationsView()
        self.sessions = SessionsView(settings.recent_sessions)
        self.tokens = TokensView()
        self.alerts = AlertsView()
        self.changes = Changes()  # what the console's live feed sends next (core/live.py)
        self.recent = RecentEvents()
        self.live = LiveFeed(self.changes, self.render_changes, self._key_still_live)
        self.keys = KeyRing()
        for name, view in (
            ("presence", self.presence),
            ("stations", self.stations),
            ("sessions", self.sessions),
            ("tokens", self.tokens),
            ("api_keys", self.keys),
        ):
            self.metrics.view_size.labels(name).set_function(view.__len__)
        self.metrics.open_sessions.set_function(lambda: self.sessions.open_count)
        connect = settings.connect_timeout_s
        self.ledger = DurableLedger(
            settings.bootstrap_servers,
            lambda topic, key, value: self._send(topic, key, value),
            connect_timeout_s=connect,
        )
        self.router = CommandRouter(
            settings,
            self.presence,
            self.stations,
            self.tokens.type_of,
            self._send,
            self.metrics,
            self.ledger,
            writer=f"api/{uuid.uuid4().hex[:12]}",
            spans=from_environment("chargebus-sessions-api"),  # None unless OTEL_* ask for it
        )
        self._keys = KeyFollower(settings.bootstrap_servers, self.keys, connect_timeout_s=connect)
        # Compacted topics, all of them, then live; sessions.v1 only from the recent window, on
        # top of the open sessions as they stand (sessions.open.v1, read once): the start takes
        # as long as the fleet is big, not as long as its history (docs/api.md, "Start").
        self._views = Follower(
            settings.bootstrap_servers,
            [Topic.PRESENCE, Topic.STATIONS_LATEST, Topic.TOKENS, Topic.ALERTS_OPEN],
            self._apply,
            from_beginning=True,
            connect_timeout_s=connect,
            on_rejected=self._rejected,
        )
        window = timedelta(seconds=settings.sessions_window_s)
        self._session_log = Follower(
            settings.bootstrap_servers,
            [Topic.SESSIONS, Topic.ALERTS],
            self._apply,
            from_beginning=False,  # a window of 0: from the end, only what happens from now on
            start_at=(lambda: datetime.now(UTC) - window) if settings.sessions_window_s else None,
            connect_timeout_s=connect,
            on_rejected=self._rejected,
        )
        self._open_sessions = Follower(
            settings.bootstrap_servers,
            [Topic.SESSIONS_OPEN],
            self._apply,
            from_beginning=True,
            connect_timeout_s=connect,
            on_rejected=self._rejected,
        )
        self._results = Follower(
            settings.bootstrap_servers,
            [Topic.COMMAND_RESULTS],
            self.router.on_result,
            from_beginning=False,
            connect_timeout_s=connect,
            on_rejected=self._rejected,
        )
        self._commands = GroupConsumer(
            settings.bootstrap_servers,
            Topic.COMMANDS,
            settings.commands_group,
            self.router.on_operator_command,
            self._send,
            offset_reset=settings.commands_offset_reset,
            connect_timeout_s=connect,
            on_undecodable=self._undecodable,
        )
        self._producer: AIOKafkaProducer | None = None
        self._snapshot_read: asyncio.Task[None] | None = None

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Raises: KafkaUnavailable, TopicMissing: the broker or a topic is not there."""
        producer = reliable_producer(self.settings.bootstrap_servers)
        await start_bounded(
            producer, self.settings.bootstrap_servers, self.settings.connect_timeout_s
        )
        self._producer = producer
        await self._keys.start()
        await self.ledger.start()
        await self._results.start()  # before anything is sent: no outcome is missed
        await self._session_log.start()  # positioned before the snapshot is read: no gap
        await self._open_sessions.start()
        await self._views.start()
        await self._commands.start()
        self.live.start()
        self._snapshot_read = asyncio.create_task(self._read_snapshot_once())

    async def _read_snapshot_once(self) -> None:
        """sessions.open.v1 is read to its end once; sessions.v1 carries every change after."""
        await self._open_sessions.ready.wait()
        await self._open_sessions.stop()

    async def stop(self) -> None:
        await self.live.stop()
        await self.router.stop()
        if self.router.spans is not None:
            await asyncio.to_thread(self.router.spans.close)  # what is queued is exported
        await self._commands.stop()
        await self._views.stop()
        await self._session_log.stop()
        await self._open_sessions.stop()
        if self._snapshot_read is not None:
            self._snapshot_read.cancel()
        await self._results.stop()
        await self._keys.stop()
        await self.ledger.stop()
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    def readiness(self) -> tuple[bool, str]:
        return readiness(
            (
                ("kafka producer", self._producer is not None),
                ("api.keys.v1", self._keys.ready.is_set()),
                ("commands.ledger.v1", self.ledger.ready.is_set()),
                ("presence, stations.latest.v1, tokens, open alerts", self._views.ready.is_set()),
                ("sessions.open.v1", self._open_sessions.ready.is_set()),
                ("the recent window of sessions.v1, alerts.v1", self._session_log.ready.is_set()),
                ("command-results.v1 assignment", self._results.ready.is_set()),
                ("commands.v1 assignment", self._commands.ready.is_set()),
            )
        )

    # -- read models -----------------------------------------------------------------------

    def _apply(self, topic: str, key: str, envelope: Envelope | None) -> bool:
        views: dict[str, PresenceView | StationsView | SessionsView | TokensView | AlertsView] = {
            Topic.PRESENCE: self.presence,
            Topic.STATIONS_LATEST: self.stations,
            Topic.SESSIONS: self.sessions,
            Topic.SESSIONS_OPEN: self.sessions,
            Topic.TOKENS: self.tokens,
            Topic.ALERTS_OPEN: self.alerts,
            Topic.ALERTS: self.alerts,
        }
        view = views[topic]
        if envelope is None:
            if isinstance(view, SessionsView):
                # sessions.open.v1, read once at start: that session ended (sessions.v1 says how)
                applied = topic == Topic.SESSIONS_OPEN and view.forget_open(key)
            elif isinstance(view, StationsView):
                station_id, _, fact = key.partition("/")
                applied = fact == "boot"  # a station forgotten: its boot record deleted
                if applied:
                    view.remove(station_id)
            else:
                view.remove(key)
                applied = True
        else:
            applied = view.apply(envelope)
        self.metrics.records.labels(topic, "applied" if applied else "ignored").inc()
        if applied and topic == Topic.PRESENCE:
            self.router.presence_moved()
        if applied:
            self._mark(topic, key, envelope)
        return applied

    def _mark(self, topic: str, key: str, envelope: Envelope | None) -> None:
        """What the console's live feed must send again (core/live.py)."""
        if topic in (Topic.PRESENCE, Topic.STATIONS_LATEST):
            station_id = key.partition("/")[0]
            if not key.startswith(GATEWAY_KEY_PREFIX):
                self.changes.stations.add(station_id)
                if envelope is not None and topic == Topic.STATIONS_LATEST:
                    self.recent.note(station_id, envelope)
        elif topic in (Topic.SESSIONS, Topic.SESSIONS_OPEN):
            if envelope is None:
                self.changes.sessions.add(key)
                return
            station_id = str(envelope.payload.get("station_id") or key)
            transaction_id = envelope.payload.get("transaction_id")
            if transaction_id is not None:
                self.changes.sessions.add(session_id(station_id, str(transaction_id)))
            if topic == Topic.SESSIONS:
                self.recent.note(station_id, envelope)
        elif topic in (Topic.ALERTS, Topic.ALERTS_OPEN):
            station_id = key.partition("/")[0]
            if envelope is not None:
                station_id = str(envelope.payload.get("station_id") or station_id)
                if topic == Topic.ALERTS:
                    self.recent.note(station_id, envelope)
            self.changes.alerts.add(station_id)

    def _key_still_live(self, request: web.Request) -> bool:
        key = request.get(API_KEY)
        return key is None or self.keys.live(key)

    def render_changes(self, changed: Changes) -> bytes:
        """The live feed's message for what changed: each station's document, each session,
        each station's open alerts (the same JSON as their GET routes)."""
        items: list[tuple[str, Any]] = []
        for station_id in sorted(changed.stations):
            document = station_document(station_id, self.presence, self.stations)
            if document is not None:
                items.append(("station", document))
        for sid in sorted(changed.sessions):
            session = self.sessions.get(sid)
            if session is not None:
                items.append(("session", session.to_json()))
        for station_id in sorted(changed.alerts):
            open_alerts = [alert_json(a) for a in self.alerts.open_of(station_id)]
            items.append(("alerts", {"station_id": station_id, "items": open_alerts}))
        return batch(items)

    def _undecodable(self, topic: str) -> None:
        self.metrics.records.labels(topic, "undecodable").inc()

    def _rejected(self, topic: str, _: str | None) -> None:
        self._undecodable(topic)

    # -- tokens ----------------------------------------------------------------------------

    async def put_token(self, token: Token) -> bool:
        """Write TokenDefined (acks=all); returns whether the token is new."""
        created = token.id_token not in self.tokens
        await write(
            self._producer, Topic.TOKENS, token.id_token, token.envelope(), read_back=self._views
        )
        return created

    async def delete_token(self, id_token: str) -> None:
        """Write a tombstone. Raises: TokenNotFound: if the store has no such token."""
        if id_token not in self.tokens:
            raise TokenNotFound(f"no token {id_token!r} in the token store")
        await write(self._producer, Topic.TOKENS, id_token, None, read_back=self._views)

    async def _send(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        *,
        partition: int | None = None,
        headers: Sequence[tuple[str, bytes]] | None = None,
    ) -> RecordMetadata:
        """Raises: PublishFailed: the broker did not acknowledge in time, or the API has no
        producer yet (not started: /readyz says so)."""
        if self._producer is None:
            raise PublishFailed(f"{topic}: not connected to Kafka yet")
        return await send_acknowledged(
            self._producer,
            topic,
            key,
            value,
            partition=partition,
            headers=headers,
            timeout_s=PRODUCE_TIMEOUT_S,
        )
