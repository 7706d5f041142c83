"""The gateway shell: station WebSockets in, Kafka out; the code with sockets and clocks (I/O)."""

import asyncio
import logging
import os
import time
import uuid
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from contracts.envelope import Envelope
from contracts.errors import RecordRejected
from contracts.events import EventType, Outcome
from contracts.headers import Header
from contracts.payloads.commands import StationCommand
from contracts.payloads.ocpp import Reply
from contracts.topics import Topic
from gateway import bridge, metrics
from gateway.auth import (
    AuthResult,
    CredentialStore,
    InvalidStationId,
    SecurityProfile,
    check_basic_auth,
    check_station_id,
)
from gateway.commands import CommandLedger
from gateway.kafka import InboxRecord, KafkaBus, PublishFailed
from gateway.limiter import FailureLimiter
from gateway.settings import Settings
from gateway.tls import check_client_certificate
from ocppj.errors import ERROR_CODES, InvalidOutgoing
from ocppj.framing import CallError, CallResult
from ocppj.session import (
    AnswerReceived,
    AnswerTimedOut,
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
from ocppj.versions import OcppVersion, select_subprotocol

log = logging.getLogger("gateway")

MAX_STATION_ID = 48  # 2.0.1 identifierString (reference ocpp.md §1.5)


@dataclass(slots=True, eq=False)
class StationLink:
    """A held station connection: its socket, its session, and the commands in flight on it."""

    info: bridge.Connection
    session: Session
    ws: ServerConnection
    received_at: dict[str, float] = field(default_factory=dict)  # station CALL id -> when
    commands: dict[str, tuple[StationCommand, float]] = field(default_factory=dict)  # by call id


def _remote(connection: ServerConnection) -> str:
    address = connection.remote_address
    return str(address[0]) if address else "?"


class Gateway:
    """Holds station links and moves frames between them and Kafka."""

    def __init__(
        self, settings: Settings, bus: KafkaBus, credentials: CredentialStore | None
    ) -> None:
        self.settings = settings
        self.bus = bus
        self.credentials = credentials
        self.boot = uuid.uuid4().hex
        self.links: dict[str, StationLink] = {}
        self.ledger = CommandLedger()
        # Repeated failures are refused per station id, and per remote address with a higher
        # bound (many stations share one address behind carrier NAT).
        self.station_limiter = FailureLimiter()
        self.address_limiter = FailureLimiter(max_failures=50)
        self._verifiers = ThreadPoolExecutor(os.cpu_count() or 2, thread_name_prefix="argon2")
        self.draining = False
        self._validators = {
            v: Validator(v, lenient=settings.lenient) for v in settings.ocpp_versions
        }
        self._timed: set[StationLink] = set()  # links with a pending deadline
        self._recently_left: OrderedDict[str, None] = OrderedDict()
        self._background: set[asyncio.Task[None]] = set()
        self._server: Server | None = None
        self._known_actions = {v: actions(v) for v in settings.ocpp_versions}

    # -- readiness ------------------------------------------------------------------------------

    def readiness(self) -> tuple[bool, str]:
        if self.draining:
            return False, "draining"
        if not self.bus.assigned:
            return False, "inbox not assigned"
        return True, f"{len(self.links)} stations"

    # -- handshake ------------------------------------------------------------------------------

    def station_id_of(self, path: str) -> str | None:
        """The percent-decoded identity after the prefix, or None if the path is not ours."""
        prefix = self.settings.path_prefix.rstrip("/") + "/"
        path = path.split("?", 1)[0]
        if not path.startswith(prefix):
            return None
        station_id = unquote(path[len(prefix) :], errors="strict")
        if "/" in station_id or len(station_id) > MAX_STATION_ID:
            return None
        try:
            check_station_id(station_id)
        except InvalidStationId:
            return None
        return station_id

    async def process_request(
        self, connection: ServerConnection, request: Request
    ) -> Response | None:
        """Refuse before the upgrade: unknown path 404, failed authentication 401/403/429."""
        if self.draining:
            return connection.respond(HTTPStatus.SERVICE_UNAVAILABLE, "draining\n")
        try:
            station_id = self.station_id_of(request.path)
        except UnicodeDecodeError:
            station_id = None
        if station_id is None:
            return connection.respond(HTTPStatus.NOT_FOUND, "not an OCPP endpoint\n")
        result = await self._authenticate(connection, request, station_id)
        if result.accepted:
            return None
        metrics.AUTH_FAILURES.labels(str(result)).inc()
        log.warning(
            "refused station: %s", result, extra={"station_id": station_id, "action": "handshake"}
        )
        response = connection.respond(result.http_status, f"{result}\n")
        if result.http_status == HTTPStatus.UNAUTHORIZED:
            response.headers["WWW-Authenticate"] = 'Basic realm="ocpp", charset="UTF-8"'
        if result is AuthResult.RATE_LIMITED:
            now, remote = time.monotonic(), _remote(connection)
            retry = max(
                self.station_limiter.retry_after(station_id, now),
                self.address_limiter.retry_after(remote, now),
            )
            response.headers["Retry-After"] = str(max(1, round(retry)))
        return response

    async def _authenticate(
        self, connection: ServerConnection, request: Request, station_id: str
    ) -> AuthResult:
        profile = self.settings.security_profile
        if profile == 0:
            return AuthResult.ACCEPTED_UNKNOWN
        if profile == SecurityProfile.TLS_CLIENT_CERTIFICATE:
            peercert = connection.transport.get_extra_info("peercert")
            if not check_client_certificate(station_id, peercert):
                return AuthResult.CERTIFICATE_MISMATCH
            return AuthResult.ACCEPTED
        assert self.credentials is not None
        now, remote = time.monotonic(), _remote(connection)
        if not (
            self.station_limiter.allow(station_id, now) and self.address_limiter.allow(remote, now)
        ):
            return AuthResult.RATE_LIMITED
        result = await asyncio.get_running_loop().run_in_executor(
            self._verifiers,  # argon2-cffi releases the GIL: one verify per core
            lambda: check_basic_auth(
                station_id,
                request.headers.get("Authorization"),
                self.credentials or CredentialStore(),
                profile=SecurityProfile(profile),
                accept_unknown=self.settings.accept_unknown_stations,
            ),
        )
        if result.is_failure:
            self.address_limiter.record_failure(remote, now)
            if result is not AuthResult.UNKNOWN_STATION:  # random ids must not fill the table
                self.station_limiter.record_failure(station_id, now)
        elif result.accepted:
            self.station_limiter.record_success(station_id)
        return result

    def select_subprotocol(
        self, connection: ServerConnection, offered: Sequence[Subprotocol]
    ) -> Subprotocol | None:
        """The server's preference among what the station offers; None completes the handshake
        without the header, and the handler closes at once (OCPP-J 1.6 §3.1.2, 2.0.1 §3.1.2)."""
        chosen = select_subprotocol(offered, self.settings.ocpp_versions)
        return None if chosen is None else Subprotocol(str(chosen))

    # -- one connection ------------------------------------------------------------------------

    async def handle(self, ws: ServerConnection) -> None:
        assert ws.request is not None  # set once the handshake is complete
        station_id = self.station_id_of(ws.request.path)
        assert station_id is not None  # process_request refused other paths
        if ws.subprotocol is None:
            offered = ws.request.headers.get("Sec-WebSocket-Protocol", "")
            log.warning(
                "no common OCPP version (offered %r): closing",
                offered,
                extra={"station_id": station_id},
            )
            metrics.AUTH_FAILURES.labels("no-subprotocol").inc()
            await ws.close(1002, "no supported OCPP subprotocol")
            return
        version = OcppVersion(ws.subprotocol)
        info = bridge.Connection(
            station_id=station_id,
            connection_id=uuid.uuid4().hex[:16],
            ocpp_version=version,
            gateway=self.settings.instance,
            gateway_boot=self.boot,
            connected_at=datetime.now(UTC),
        )
        session = Session(
            station_id,
            version,
            self._validators[version],
            call_timeout_s=self.settings.call_timeout_s,
            answer_timeout_s=self.settings.answer_timeout_s,
        )
        link = StationLink(info, session, ws)
        previous = self.links.get(station_id)
        self.links[station_id] = link
        self._recently_left.pop(station_id, None)
        metrics.CONNECTIONS.labels(str(version)).inc()
        extra = {"station_id": station_id, "connection_id": info.connection_id}
        log.info("connected with %s", version, extra=extra)
        try:
            await self.bus.publish(Topic.PRESENCE, bridge.presence_connected(info))
            if previous is not None:
                # The newest authenticated connection wins; the old one is closed (issue #3).
                log.info("replacing an older connection", extra=extra)
                self._spawn(previous.ws.close(1000, "replaced by a newer connection"))
            await self._read(link)
        finally:
            await self._disconnected(link, ws)

    async def _read(self, link: StationLink) -> None:
        loop = asyncio.get_running_loop()
        max_chars = self.settings.max_frame_bytes
        try:
            async for message in link.ws:
                text = message if isinstance(message, str) else message.decode("utf-8", "replace")
                now = loop.time()
                if len(text) > max_chars:
                    link.session.reject_oversized(text, max_chars, now)
                else:
                    link.session.receive_text(text, now)
                await self._process(link)
        except ConnectionClosed:
            pass  # otherwise websockets logs "connection handler failed"

    async def _disconnected(self, link: StationLink, ws: ServerConnection) -> None:
        info = link.info
        metrics.CONNECTIONS.labels(str(info.ocpp_version)).dec()
        self._timed.discard(link)
        for command, _ in link.commands.values():
            await self._complete(command, Outcome.TIMED_OUT, detail="station disconnected")
        reason = f"{ws.close_code or 1006} {ws.close_reason or ''}".strip()
        current = self.links.get(info.station_id)
        if current is link:
            del self.links[info.station_id]
            self._recently_left[info.station_id] = None
            while len(self._recently_left) > 100_000:
                self._recently_left.popitem(last=False)
        log.info("disconnected: %s", reason, extra={"station_id": info.station_id})
        try:
            at = datetime.now(UTC)
            await self.bus.publish(
                Topic.PRESENCE, bridge.presence_disconnected(info, at=at, reason=reason)
            )
            if current is not None and current is not link:
                # Compaction may keep only this late disconnect: re-assert the live connection.
                await self.bus.publish(Topic.PRESENCE, bridge.presence_connected(current.info))
        except Exception:  # the handler must end; presence is eventually re-asserted
            log.exception("could not publish the disconnect", extra={"station_id": info.station_id})

    # -- session events ------------------------------------------------------------------------

    async def _process(self, link: StationLink) -> None:
        """Act on the session's events, then put its frames on the wire."""
        for event in link.session.events_received():
            await self._dispatch(link, event)
        await self._flush(link)

    async def _flush(self, link: StationLink) -> None:
        if link.session.next_deadline() is None:
            self._timed.discard(link)
        else:
            self._timed.add(link)
        for text in link.session.data_to_send():
            try:
                await link.ws.send(text)
            except ConnectionClosed:
                return

    def _action_label(self, link: StationLink, action: str) -> str:
        return action if action in self._known_actions[link.info.ocpp_version] else "unknown"

    async def _dispatch(self, link: StationLink, event: Event) -> None:
        info = link.info
        now = asyncio.get_running_loop().time()
        match event:
            case CallReceived(unique_id, action, payload):
                metrics.FRAMES.labels(action, "in", "call").inc()
                at = datetime.now(UTC)
                envelope = bridge.station_call(
                    info, unique_id=unique_id, action=action, payload=payload, at=at
                )
                if action in bridge.LOCAL_ACTIONS:
                    link.session.send_result(unique_id, bridge.heartbeat_result(at), now)
                    self._spawn(self._publish_quietly(Topic.OCPP_INBOUND, envelope))
                else:
                    link.received_at[unique_id] = now
                    await self._forward_call(link, unique_id, envelope)
            case SendReceived(unique_id, action, payload):
                metrics.FRAMES.labels(action, "in", "send").inc()
                envelope = bridge.station_call(
                    info,
                    unique_id=unique_id,
                    action=action,
                    payload=payload,
                    at=datetime.now(UTC),
                    send=True,
                )
                self._spawn(self._publish_quietly(Topic.OCPP_INBOUND, envelope))
            case AnswerReceived(call_id, action, _, answer):
                entry = link.commands.pop(call_id, None)
                if entry is not None:
                    command, sent_at = entry
                    metrics.STATION_ROUND_TRIP.labels(action).observe(now - sent_at)
                    await self._station_answered(link, command, call_id, answer)
            case CallTimedOut(call_id, action, _):
                entry = link.commands.pop(call_id, None)
                if entry is not None:
                    timeout = self.settings.call_timeout_s
                    await self._complete(
                        entry[0], Outcome.TIMED_OUT, detail=f"no answer within {timeout:g} s"
                    )
            case AnswerTimedOut(unique_id, action):
                link.received_at.pop(unique_id, None)
                log.warning(
                    "no service answer to %s in time: sent InternalError",
                    action,
                    extra={"station_id": info.station_id, "action": action},
                )
            case ErrorSent(unique_id, code, reason):
                link.received_at.pop(unique_id, None)
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

    async def _forward_call(self, link: StationLink, unique_id: str, envelope: Envelope) -> None:
        """Publish a station CALL for its service; the reply comes back on our inbox."""
        correlation = bridge.correlation_id(link.info.connection_id, unique_id)
        headers = [
            (Header.REPLY_PARTITION, str(self.settings.instance).encode()),
            (Header.CORRELATION_ID, correlation.encode()),
        ]
        try:
            await self.bus.publish(Topic.OCPP_INBOUND, envelope, headers=headers)
        except PublishFailed as exc:  # Kafka down: tell the station to retry (design rule 4)
            log.error(
                "could not publish %s: %s",
                envelope.payload["action"],
                exc,
                extra={"station_id": link.info.station_id, "correlation_id": correlation},
            )
            now = asyncio.get_running_loop().time()
            link.session.send_error(unique_id, "InternalError", "CSMS unavailable, retry", now)
            metrics.ERRORS.labels("InternalError").inc()

    async def _publish_quietly(self, topic: str, envelope: Envelope) -> None:
        try:
            await self.bus.publish(topic, envelope)
        except Exception:  # a fire-and-forget record: log, never crash the connection
            log.exception("could not publish %s", envelope.event_type, extra={"topic": topic})

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # -- the inbox -----------------------------------------------------------------------------

    async def consume_inbox(self) -> None:
        async for record in self.bus.inbox():
            try:
                await self._inbox_record(record)
            except Exception:  # no exception leaves a read loop (design rule 3)
                log.exception("inbox record %d failed", record.offset)

    async def _inbox_record(self, record: InboxRecord) -> None:
        envelope = record.envelope
        if envelope.event_type in (EventType.OCPP_REPLY, EventType.OCPP_REPLY_ERROR):
            await self._reply(envelope, record.headers.get(Header.CORRELATION_ID, ""))
        elif envelope.event_type == EventType.STATION_COMMAND:
            await self._command(envelope)
        else:
            metrics.INBOX_RECORDS.labels("unknown", "dropped").inc()
            log.warning("unknown inbox event type %s", envelope.event_type)

    async def _reply(self, envelope: Envelope, correlation: str) -> None:
        reply = bridge.inbox_reply(envelope, correlation)
        link = self.links.get(envelope.key)
        if reply is None or link is None or link.info.connection_id != reply.connection_id:
            metrics.INBOX_RECORDS.labels("reply", "no-connection").inc()
            return
        now = asyncio.get_running_loop().time()
        answer = reply.answer
        if isinstance(answer, Reply):
            sent = link.session.send_result(reply.unique_id, answer.payload, now)
        else:
            code = answer.code if answer.code in ERROR_CODES else "InternalError"
            sent = link.session.send_error(reply.unique_id, code, answer.description, now)
        received = link.received_at.pop(reply.unique_id, None)
        if sent and received is not None:
            action = envelope.payload.get("action")
            label = self._action_label(link, action) if isinstance(action, str) else "unknown"
            metrics.SERVICE_ROUND_TRIP.labels(label).observe(now - received)
        metrics.INBOX_RECORDS.labels("reply", "sent" if sent else "late").inc()
        await self._process(link)

    async def _command(self, envelope: Envelope) -> None:
        try:
            command = StationCommand.parse(envelope)
        except RecordRejected as exc:
            metrics.INBOX_RECORDS.labels("command", "invalid").inc()
            log.error("invalid StationCommand: %s", exc, extra={"station_id": envelope.key})
            return
        earlier = self.ledger.outcome_of(command.command_id)
        if earlier is not None:  # a command id seen again gets the earlier outcome
            metrics.INBOX_RECORDS.labels("command", "duplicate").inc()
            await self.bus.publish(command.reply_topic, earlier)
            return
        if self.ledger.in_progress(command.command_id):
            metrics.INBOX_RECORDS.labels("command", "duplicate").inc()
            return
        if command.deadline <= datetime.now(UTC):
            await self._complete(command, Outcome.EXPIRED, detail="deadline passed before sending")
            return
        link = self.links.get(command.station_id)
        if link is None:
            outcome = (
                Outcome.STATION_OFFLINE
                if command.station_id in self._recently_left
                else Outcome.NOT_HERE
            )
            await self._complete(command, outcome, detail=f"gateway {self.settings.instance}")
            return
        now = asyncio.get_running_loop().time()
        try:
            call_id = link.session.send_call(
                command.action, dict(command.payload), now, tag=command.command_id
            )
        except InvalidOutgoing as exc:
            await self._complete(command, Outcome.INVALID, detail=str(exc)[:500])
            return
        metrics.FRAMES.labels(command.action, "out", "call").inc()
        self.ledger.start(command.command_id)
        link.commands[call_id] = (command, now)
        await self._process(link)

    async def _station_answered(
        self,
        link: StationLink,
        command: StationCommand,
        call_id: str,
        answer: CallResult | CallError,
    ) -> None:
        at = datetime.now(UTC)
        if isinstance(answer, CallResult):
            response: dict[str, Any] | None = dict(answer.payload)
            error = None
            outcome = Outcome.ANSWERED
            metrics.FRAMES.labels(command.action, "in", "result").inc()
        else:
            response = None
            error = {
                "code": answer.code,
                "description": answer.description,
                "details": answer.details,
            }
            outcome = Outcome.CALL_ERROR
            metrics.FRAMES.labels(command.action, "in", "error").inc()
        audit = bridge.command_answer(
            link.info, command, unique_id=call_id, at=at, response=response, error=error
        )
        self._spawn(self._publish_quietly(Topic.OCPP_INBOUND, audit))
        await self._complete(command, outcome, response=response, error=error)

    async def _complete(
        self,
        command: StationCommand,
        outcome: Outcome,
        *,
        response: dict[str, Any] | None = None,
        error: dict[str, Any] | None = None,
        detail: str = "",
    ) -> None:
        envelope = bridge.command_outcome(
            command,
            outcome,
            gateway=self.settings.instance,
            at=datetime.now(UTC),
            response=response,
            error=error,
            detail=detail,
        )
        self.ledger.complete(command.command_id, envelope)
        metrics.COMMANDS.labels(str(outcome)).inc()
        log.info(
            "command %s: %s",
            command.action,
            outcome,
            extra={"station_id": command.station_id, "command_id": command.command_id},
        )
        await self._publish_quietly(command.reply_topic, envelope)

    # -- timers, serving, draining -------------------------------------------------------------

    async def run_timers(self) -> None:
        """Fire session deadlines; only links with a pending deadline are looked at."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self.settings.timer_resolution_s)
            now = loop.time()
            for link in list(self._timed):
                deadline = link.session.next_deadline()
                if deadline is not None and deadline <= now:
                    link.session.handle_timer(now)
                    await self._process(link)

    async def serve(self, ssl: Any = None) -> Server:
        self._server = await serve(
            self.handle,
            self.settings.host,
            self.settings.port,
            process_request=self.process_request,
            select_subprotocol=self.select_subprotocol,
            subprotocols=[Subprotocol(str(v)) for v in self.settings.ocpp_versions],
            # Our own limit answers with a CALLERROR; the socket's limit only stops abuse.
            max_size=self.settings.max_frame_bytes * 4,
            ping_interval=self.settings.ping_interval_s,
            ping_timeout=self.settings.ping_interval_s,
            ssl=ssl,
            server_header=None,
        )
        return self._server

    def _in_flight(self) -> int:
        return sum(len(link.received_at) + len(link.commands) for link in self.links.values())

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
        if self._background:
            await asyncio.wait(set(self._background), timeout=5)
