"""The gateway shell: station WebSockets in, records out through a Publisher (I/O).

It keeps the sockets and the clock, and does what the pure core decides: gateway/core/links.py
holds the links and says what presence to publish and which link to close, bridge.py builds the
records, ocppj/session.py is each connection's sans-I/O OCPP-J session. The handshake is in
handshake.py, commands to stations in commands.py.

Every station CALL starts a trace: its record on ocpp.inbound.v1 carries a new ``traceparent``
(contracts/trace.py), and with span export on (runtime/tracing.py) the CALL is a span until its
answer goes to the station (docs/tracing.md).
"""

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterable, Coroutine
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from contracts.envelope import Envelope
from contracts.events import EventType
from contracts.headers import Header, correlation_id
from contracts.payloads.ocpp import Reply
from contracts.payloads.presence import Presence
from contracts.topics import Topic
from contracts.trace import Roots, context
from gateway import metrics
from gateway.bus import InboxRecord, Publisher, publish_quietly
from gateway.commands import Commands
from gateway.core import bridge
from gateway.core.auth import CredentialStore, SecurityProfile
from gateway.core.binding import CLOSE_CODE as BINDING_CLOSE_CODE
from gateway.core.binding import boot_mismatch
from gateway.core.deadlines import Deadlines
from gateway.core.links import (
    REPLACED_CLOSE_CODE,
    REPLACED_CLOSE_REASON,
    LinkTable,
    Reassert,
    Superseded,
)
from gateway.handshake import Handshake
from gateway.keepalive import Keepalive
from gateway.link import StationLink
from gateway.settings import Settings
from gateway.tls import client_certificate
from ocppj.errors import ERROR_CODES
from ocppj.session import (
    AnswerReceived,
    AnswerTimedOut,
    CallExpired,
    CallReceived,
    CallTimedOut,
    ErrorSent,
    Event,
    LateAnswer,
    MessageIgnored,
    ResultRejected,
    SendReceived,
    Session,
)
from ocppj.validation import Validator, actions
from ocppj.versions import OcppVersion
from runtime.kafka import PublishFailed
from runtime.ledger import Ledger, MemoryLedger
from runtime.tracing import Kind, Spans

log = logging.getLogger("gateway")


def _forget_handshake(ws: ServerConnection) -> None:
    """Drop what the handshake left once the handler has what it needs (the path, the
    subprotocol): the upgrade's headers and our response, which nothing reads again and which
    held 4.5 kB of every idle connection (tracemalloc, 2,000 idle stations), and the bound
    subprotocol selector (below). ``ws.request`` itself stays: websockets takes a connection
    without one for a handshake still to come."""
    assert ws.request is not None
    ws.request.headers.clear()
    ws.response = None
    # websockets binds select_subprotocol to the protocol through a closure over the
    # connection (protocol -> bound method -> closure -> connection -> protocol): a cycle that
    # left every closed connection (30 objects, its buffers) to the garbage collector instead
    # of reference counting. The handshake is over; the class's own method stays.
    vars(ws.protocol).pop("select_subprotocol", None)


class Gateway:
    """Holds station links and moves frames between them and the bus.

    ``publisher`` writes every record; inbox records arrive through ``consume_inbox`` (or
    ``inbox_record``), so that the gateway runs in-process without Kafka in tests; ``ledger`` is
    the durable command ledger (runtime/ledger.py; in memory when not given); ``spans`` exports
    a span per station CALL (None: no export).
    """

    def __init__(
        self,
        settings: Settings,
        publisher: Publisher,
        credentials: CredentialStore | None,
        ledger: Ledger | None = None,
        *,
        boot: str | None = None,
        spans: Spans | None = None,
    ) -> None:
        self.settings = settings
        self.publisher = publisher
        self.spans = spans
        self._roots = Roots(settings.trace_sample_ratio)  # a new trace per station CALL
        self._reply_partition = str(settings.instance).encode()
        self.handshake = Handshake(settings, credentials)
        self.boot = boot or uuid.uuid4().hex
        self.links: LinkTable[StationLink] = LinkTable()
        self.commands = Commands(
            publisher,
            self.links,
            instance=settings.instance,
            writer=f"gateway/{settings.instance}/{self.boot}",
            ledger=ledger or MemoryLedger(),
            call_timeout_s=settings.call_timeout_s,
            process=self._process,
            spawn=self._spawn,
        )
        self.draining = False
        self._validators = {
            v: Validator(v, lenient=settings.lenient) for v in settings.ocpp_versions
        }
        self._timed: Deadlines[StationLink] = Deadlines()  # links with a pending deadline
        self._background: set[asyncio.Task[None]] = set()
        self._server: Server | None = None
        # websockets' keepalive from one task, not a task per connection: 2.0 kB less each
        interval = settings.ping_interval_s
        self._keepalive = None if interval is None else Keepalive(interval, interval, self._spawn)
        self._keepalive_task: asyncio.Task[None] | None = None
        self._known_actions = {v: actions(v) for v in settings.ocpp_versions}

    # -- readiness ------------------------------------------------------------------------------

    def readiness(self, *, inbox_assigned: bool) -> tuple[bool, str]:
        """/readyz: not while draining, nor before the inbox partition is assigned."""
        if self.draining:
            return False, "draining"
        if not inbox_assigned:
            return False, "inbox not assigned"
        if self._server is None:
            return False, "not listening yet"
        return True, f"{len(self.links)} stations"

    # -- handshake ------------------------------------------------------------------------------

    async def process_request(
        self, connection: ServerConnection, request: Request
    ) -> Response | None:
        """Refuse before the upgrade: 503 while draining, else as the handshake decides."""
        if self.draining:
            return connection.respond(HTTPStatus.SERVICE_UNAVAILABLE, "draining\n")
        return await self.handshake.refusal(connection, request)

    # -- one connection ------------------------------------------------------------------------

    async def handle(self, ws: ServerConnection) -> None:
        if self._keepalive is not None:
            self._keepalive.add(ws)  # where websockets would start its keepalive task
        link = await self._open(ws)
        if link is None:
            return  # no common subprotocol: closed
        loop = asyncio.get_running_loop()
        max_chars = self.settings.max_frame_bytes
        try:
            await self._announce(link)
            # The read loop is here rather than in a coroutine of its own: one frame less per
            # idle connection (0.27 kB, tracemalloc); and recv() rather than `async for`, whose
            # async generator each idle connection would hold as well. A close ends it with
            # ConnectionClosed, as it ends `async for` (websockets returns on a normal close).
            while True:
                message = await ws.recv()
                text = message if isinstance(message, str) else message.decode("utf-8", "replace")
                now = loop.time()
                if len(text) > max_chars:
                    link.session.reject_oversized(text, max_chars, now)
                else:
                    link.session.receive_text(text, now)
                await self._process(link)
        except ConnectionClosed:
            pass  # otherwise websockets logs "connection handler failed"
        finally:
            await self._disconnected(link, ws)

    async def _open(self, ws: ServerConnection) -> StationLink | None:
        """The link of a completed handshake, or None once a connection without a common
        subprotocol is closed (1002)."""
        assert ws.request is not None  # set once the handshake is complete
        station_id = self.handshake.station_id_of(ws.request.path)
        assert station_id is not None  # process_request refused other paths
        if ws.subprotocol is None:
            offered = ws.request.headers.get("Sec-WebSocket-Protocol", "")
            log.warning(
                "no common OCPP version (offered %r): closing",
                offered,
                extra={"station_id": station_id},
            )
            metrics.AUTH_FAILURES.labels("no-subprotocol").inc()
            _forget_handshake(ws)
            await ws.close(1002, "no supported OCPP subprotocol")
            return None
        _forget_handshake(ws)
        version = OcppVersion(ws.subprotocol)
        profile_3 = self.settings.security_profile == SecurityProfile.TLS_CLIENT_CERTIFICATE
        certificate = (
            client_certificate(ws.transport.get_extra_info("peercert")) if profile_3 else None
        )
        info = bridge.Connection(
            station_id=station_id,
            connection_id=uuid.uuid4().hex[:16],
            ocpp_version=version,
            gateway=self.settings.instance,
            gateway_boot=self.boot,
            connected_at=datetime.now(UTC),
            certificate=certificate,
        )
        session = Session(
            station_id,
            version,
            self._validators[version],
            call_timeout_s=self.settings.call_timeout_s,
            answer_timeout_s=self.settings.answer_timeout_s,
        )
        return StationLink(info, session, ws)

    async def _announce(self, link: StationLink) -> None:
        """The link becomes its station's: StationConnected, and an older link closed. A
        coroutine of its own, so that what it holds (the presence record, the log context) does
        not stay alive in handle()'s frame as long as the connection: 0.6 kB per connection
        (tracemalloc, 2,000 idle stations)."""
        info = link.info
        connected = self.links.connect(link)
        metrics.connections(str(info.ocpp_version)).inc()
        extra = {"station_id": info.station_id, "connection_id": info.connection_id}
        log.info("connected with %s", info.ocpp_version, extra=extra)
        await self.publisher.publish(Topic.PRESENCE, connected.publish)
        if connected.replaced is not None:
            # The newest authenticated connection wins; the old one is closed (issue #3).
            log.info("replacing an older connection", extra=extra)
            closing = connected.replaced.ws.close(REPLACED_CLOSE_CODE, REPLACED_CLOSE_REASON)
            self._spawn(closing)

    async def _disconnected(self, link: StationLink, ws: ServerConnection) -> None:
        info = link.info
        metrics.connections(str(info.ocpp_version)).dec()
        self._timed.forget(link)
        await self.commands.disconnected(link)
        reason = f"{ws.close_code or 1006} {ws.close_reason or ''}".strip()
        # Only the station's current link writes a disconnect (links.py).
        ended = self.links.disconnect(link, at=datetime.now(UTC), reason=reason)
        log.info("disconnected: %s", reason, extra={"station_id": info.station_id})
        try:
            for envelope in ended.publish:
                await self.publisher.publish(Topic.PRESENCE, envelope)
        except Exception:  # the handler must end; presence is eventually re-asserted
            log.exception("could not publish the disconnect", extra={"station_id": info.station_id})

    # -- presence across gateways --------------------------------------------------------------

    def observe_presence(self, record: Presence) -> None:
        """A record of ocpp.presence.v1 read back (presence.py's follower): close a link that
        another gateway's newer connection superseded, or write a link's presence again."""
        match self.links.observe(record):
            case Superseded(link):
                extra = {"station_id": record.station_id, "connection_id": link.info.connection_id}
                log.info("connected again at gateway %s: closing", record.gateway, extra=extra)
                metrics.SUPERSEDED.inc()
                self._spawn(link.ws.close(REPLACED_CLOSE_CODE, REPLACED_CLOSE_REASON))
            case Reassert(envelope):
                self._spawn(publish_quietly(self.publisher, Topic.PRESENCE, envelope))

    async def reassert_presence(self) -> None:
        """Write every held link's StationConnected again (after the lease lapsed)."""
        for envelope in self.links.reassert_all():
            await publish_quietly(self.publisher, Topic.PRESENCE, envelope)

    # -- session events ------------------------------------------------------------------------

    async def _process(self, link: StationLink) -> None:
        """Act on the session's events, then put its frames on the wire."""
        for event in link.session.events_received():
            await self._dispatch(link, event)
        await self._flush(link)

    async def _flush(self, link: StationLink) -> None:
        self._timed.schedule(link, link.session.next_deadline())
        await link.send_pending()

    def _action_label(self, link: StationLink, action: str) -> str:
        return action if action in self._known_actions[link.info.ocpp_version] else "unknown"

    async def _dispatch(self, link: StationLink, event: Event) -> None:
        info = link.info
        now = asyncio.get_running_loop().time()
        match event:
            case CallReceived(unique_id, action, payload):
                metrics.frames(action, "in", "call").inc()
                if link.refused:
                    return  # closing: a frame read after the refused boot goes nowhere
                if info.certificate is not None:
                    cn = info.certificate.common_name
                    mismatch = boot_mismatch(info.ocpp_version, action, payload, cn)
                    if mismatch is not None:  # B01.FR.12: close the connection
                        log.warning("%s: closing", mismatch, extra={"station_id": info.station_id})
                        metrics.AUTH_FAILURES.labels("boot-serial-mismatch").inc()
                        link.refused = True
                        self._spawn(link.ws.close(BINDING_CLOSE_CODE, mismatch))
                        return
                at = datetime.now(UTC)
                envelope = bridge.station_call(
                    info, unique_id=unique_id, action=action, payload=payload, at=at
                )
                traceparent = self._roots.header()
                if self.spans is not None:
                    self._span_started(link, unique_id, action, traceparent)
                if action in bridge.LOCAL_ACTIONS:
                    link.session.send_result(unique_id, bridge.heartbeat_result(at), now)
                    headers = [(Header.TRACEPARENT.value, traceparent)]
                    publishing = publish_quietly(
                        self.publisher, Topic.OCPP_INBOUND, envelope, headers=headers
                    )
                    self._spawn(publishing)
                    if self.spans is not None:
                        self._span_ended(link, unique_id)
                else:
                    link.received_at[unique_id] = now
                    await self._forward_call(link, unique_id, action, envelope, traceparent)
            case SendReceived(unique_id, action, payload):
                metrics.frames(action, "in", "send").inc()
                envelope = bridge.station_call(
                    info,
                    unique_id=unique_id,
                    action=action,
                    payload=payload,
                    at=datetime.now(UTC),
                    send=True,
                )
                traceparent = self._roots.header()
                if self.spans is not None:
                    self._span_started(link, unique_id, action, traceparent)
                    self._span_ended(link, unique_id)
                headers = [(Header.TRACEPARENT.value, traceparent)]
                publishing = publish_quietly(
                    self.publisher, Topic.OCPP_INBOUND, envelope, headers=headers
                )
                self._spawn(publishing)
            case AnswerReceived(call_id, action, _, answer):
                await self.commands.answered(link, call_id, action, answer, now)
            case CallTimedOut(call_id, _, _):
                await self.commands.timed_out(link, call_id)
            case CallExpired(call_id, _, _):
                await self.commands.expired(link, call_id)
            case AnswerTimedOut(unique_id, action):
                link.received_at.pop(unique_id, None)
                self._span_ended(link, unique_id, error="no service answer in time")
                log.warning(
                    "no service answer to %s in time: sent InternalError",
                    action,
                    extra={"station_id": info.station_id, "action": action},
                )
            case ErrorSent(unique_id, code, reason):
                link.received_at.pop(unique_id, None)
                self._span_ended(link, unique_id, error=code)
                metrics.ERRORS.labels(code).inc()
                log.info(
                    "sent CALLERROR %s: %s",
                    code,
                    reason,
                    extra={"station_id": info.station_id, "correlation_id": unique_id},
                )
            case LateAnswer(unique_id, _):
                log.info(
                    "late answer to %s dropped", unique_id, extra={"station_id": info.station_id}
                )
            case ResultRejected(frame):
                log.warning(
                    "station rejected our CALLRESULT: %s %s",
                    frame.code,
                    frame.description,
                    extra={"station_id": info.station_id},
                )
            case MessageIgnored(unique_id, reason):
                log.info("ignored a frame: %s", reason, extra={"station_id": info.station_id})

    async def _forward_call(
        self,
        link: StationLink,
        unique_id: str,
        action: str,
        envelope: Envelope,
        traceparent: bytes,
    ) -> None:
        """Publish a station CALL for its service; the reply comes back on our inbox."""
        correlation = correlation_id(link.info.connection_id, unique_id)
        headers = [
            (Header.REPLY_PARTITION.value, self._reply_partition),
            (Header.CORRELATION_ID.value, correlation.encode()),
            (Header.TRACEPARENT.value, traceparent),
        ]
        try:
            await self.publisher.publish(Topic.OCPP_INBOUND, envelope, headers=headers)
        except PublishFailed as exc:  # Kafka down: tell the station to retry (design rule 4)
            log.error(
                "could not publish %s: %s",
                action,
                exc,
                extra={"station_id": link.info.station_id, "correlation_id": correlation},
            )
            now = asyncio.get_running_loop().time()
            link.session.send_error(unique_id, "InternalError", "CSMS unavailable, retry", now)
            metrics.ERRORS.labels("InternalError").inc()

    def _span_started(
        self, link: StationLink, unique_id: str, action: str, traceparent: bytes
    ) -> None:
        """Span export on: remember a sampled CALL's trace until it is answered."""
        if traceparent.endswith(b"-01"):  # only the sampled flag is ever set (contracts.trace)
            link.traced[unique_id] = (traceparent, time.time_ns(), action)

    def _span_ended(self, link: StationLink, unique_id: str, error: str | None = None) -> None:
        """The CALL ``unique_id`` was answered (or failed with ``error``): its span, if any."""
        started = link.traced.pop(unique_id, None)
        if started is None or self.spans is None:
            return
        traceparent, start_ns, action = started
        info = link.info
        self.spans.record(
            f"OCPP {action}",
            trace_id=traceparent[3:35].decode(),
            span_id=traceparent[36:52].decode(),
            parent_id=None,
            kind=Kind.SERVER,
            start_ns=start_ns,
            end_ns=time.time_ns(),
            attributes={
                "rpc.system": "ocpp",
                "rpc.method": action,
                "ocpp.version": str(info.ocpp_version),
                "ocpp.station_id": info.station_id,
                "ocpp.connection_id": info.connection_id,
                "chargebus.gateway": info.gateway,
            },
            error=error,
        )

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # -- the inbox -----------------------------------------------------------------------------

    async def consume_inbox(self, records: AsyncIterable[InboxRecord]) -> None:
        """Act on each record of this gateway's inbox partition (KafkaBus.inbox() in production)."""
        async for record in records:
            try:
                await self.inbox_record(record)
            except Exception:  # no exception leaves a read loop (design rule 3)
                log.exception("inbox record %d failed", record.offset)

    async def inbox_record(self, record: InboxRecord) -> None:
        """One inbox record: a service's reply to a station CALL, or a StationCommand."""
        envelope, headers = record.envelope, record.headers
        if log.isEnabledFor(logging.DEBUG):
            log.debug(
                "inbox %s at %d, traceparent %s",
                envelope.event_type,
                record.offset,
                headers.get(Header.TRACEPARENT),
                extra={"station_id": envelope.key},
            )
        if envelope.event_type in (EventType.OCPP_REPLY, EventType.OCPP_REPLY_ERROR):
            await self._reply(envelope, headers.get(Header.CORRELATION_ID, ""))
        elif envelope.event_type == EventType.STATION_COMMAND:
            trace = context(headers.get(Header.TRACEPARENT), headers.get(Header.TRACESTATE))
            await self.commands.receive(envelope, () if trace is None else trace.headers())
        else:
            metrics.inbox_records("unknown", "dropped").inc()
            log.warning("unknown inbox event type %s", envelope.event_type)

    async def _reply(self, envelope: Envelope, correlation: str) -> None:
        reply = bridge.inbox_reply(envelope, correlation)
        link = self.links.get(envelope.key)
        if reply is None or link is None or link.info.connection_id != reply.connection_id:
            metrics.inbox_records("reply", "no-connection").inc()
            return
        now = asyncio.get_running_loop().time()
        answer = reply.answer
        if isinstance(answer, Reply):
            sent = link.session.send_result(reply.unique_id, answer.payload, now)
        else:
            code = answer.code if answer.code in ERROR_CODES else "InternalError"
            sent = link.session.send_error(reply.unique_id, code, answer.description, now)
        received = link.received_at.pop(reply.unique_id, None)
        if self.spans is not None:
            error = None if isinstance(answer, Reply) else answer.code
            self._span_ended(link, reply.unique_id, error=error)
        if sent and received is not None:
            action = reply.action
            label = "unknown" if action is None else self._action_label(link, action)
            metrics.service_round_trip(label).observe(now - received)
        metrics.inbox_records("reply", "sent" if sent else "late").inc()
        await self._process(link)

    # -- timers, serving, draining -------------------------------------------------------------

    async def run_timers(self) -> None:
        """Fire session deadlines; only links whose deadline passed are looked at."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self.settings.timer_resolution_s)
            now = loop.time()
            for link in self._timed.due(now):
                deadline = link.session.next_deadline()
                if deadline is None or deadline > now:  # it moved since it was scheduled
                    self._timed.schedule(link, deadline)
                    continue
                link.session.handle_timer(now)
                await self._process(link)  # schedules its next deadline, if it has one

    async def serve(self, ssl: Any = None) -> Server:
        self._server = await serve(
            self.handle,
            self.settings.host,
            self.settings.port,
            process_request=self.process_request,
            select_subprotocol=self.handshake.select_subprotocol,
            subprotocols=[Subprotocol(str(v)) for v in self.settings.ocpp_versions],
            # Our own limit answers with a CALLERROR; the socket's limit only stops abuse.
            max_size=self.settings.max_frame_bytes * 4,
            backlog=self.settings.listen_backlog,  # a reconnect storm (settings.py)
            ping_interval=None,  # pinged by self._keepalive, every ping_interval_s
            ping_timeout=None,
            ssl=ssl,
            server_header=None,
        )
        if self._keepalive is not None:
            self._keepalive_task = asyncio.get_running_loop().create_task(self._keepalive.run())
        return self._server

    def _in_flight(self) -> int:
        return sum(len(link.received_at) + len(link.commands) for link in self.links)

    async def drain(self) -> None:
        """SIGTERM: stop accepting, let in-flight calls finish (bounded), close with 1001."""
        self.draining = True
        server = self._server
        if server is None:
            return
        server.server.close()  # stop accepting; open sockets stay
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settings.drain_timeout_s
        while self._in_flight() and loop.time() < deadline:  # noqa: ASYNC110 - a derived count
            await asyncio.sleep(0.05)
        log.info("draining: closing %d connections", len(self.links))
        server.close(close_connections=True, code=1001, reason="gateway shutting down")
        await server.wait_closed()
        if self._keepalive_task is not None:
            self._keepalive_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._keepalive_task
        if self._background:
            await asyncio.wait(set(self._background), timeout=5)
