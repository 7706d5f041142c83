"""Operator commands on their way: routing by presence, StationCommands, outcomes, hops (I/O).

A command: look the station up in presence, translate it for the station's OCPP version, write
a StationCommand to partition k of ocpp.gateway-inbox.v1 (k = the station's gateway) and wait for
its CommandCompleted on command-results.v1, which one shared follower reads live and hands to
``on_result`` (listeners by command id, registered before sending). An offline station gets
``StationOffline`` at once, which we also write to command-results.v1. ``NotHere`` (stale
presence) waits up to ``reroute_wait_s`` for presence to move, then sends once more: at most two
hops (design "Routing"; reference/kafka.md §4.3).

Each command is a span of the API's (docs/tracing.md): a child of the HTTP request's or the
OperatorCommand record's ``traceparent``, else a new trace. Its StationCommands and the outcomes
written here carry it; with span export on (runtime/tracing.py) it is exported once it ends.
"""

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from contracts import codec
from contracts.envelope import Envelope
from contracts.events import Outcome
from contracts.headers import Headers
from contracts.payloads.commands import CommandCompleted, OperatorCommand, StationCommand
from contracts.payloads.ledger import LedgerRecord, Mark
from contracts.payloads.presence import Presence, PresenceView
from contracts.topics import Topic
from contracts.trace import TraceContext, from_headers, new_root
from ocppj.commands.arguments import InvalidCommand
from ocppj.commands.context import TokenTypes
from ocppj.commands.translate import OutgoingCall, canonical, translate
from ocppj.versions import OcppVersion
from runtime.kafka import PublishFailed, Sender
from runtime.ledger import Ledger
from runtime.tracing import Kind, Spans
from services.sessions.api.core.errors import StationNotFound
from services.sessions.api.core.outcomes import Job, completed_here, timed_out
from services.sessions.api.core.queries import known_station
from services.sessions.api.core.stations import StationsView
from services.sessions.api.metrics import Metrics
from services.sessions.api.settings import MAX_TIMEOUT_S, Settings

log = logging.getLogger("sessions.api")

MAX_HOPS = 2  # a command is sent at most twice: to the gateway presence names, then once more
_STILL = object()  # presence did not move while we waited


class CommandRouter:
    """Carries out commands from HTTP and from commands.v1; remembers recent outcomes."""

    def __init__(
        self,
        settings: Settings,
        presence: PresenceView,
        stations: StationsView,
        token_types: TokenTypes,
        sender: Sender,
        metrics: Metrics,
        ledger: Ledger,
        writer: str,
        spans: Spans | None = None,
    ) -> None:
        self.ledger = ledger
        self.spans = spans  # None: no span export
        self.writer = writer  # this instance's name in the command ledger: api/<id>
        self.presence = presence
        self.stations = stations
        self.metrics = metrics
        self._token_types = token_types
        self._sender = sender
        self._capacity = settings.recent_outcomes
        self._default_timeout_s = settings.command_timeout_s
        self._reroute_wait_s = settings.reroute_wait_s
        self._outcomes: OrderedDict[str, tuple[CommandCompleted, Envelope]] = OrderedDict()
        self._listeners: dict[str, list[asyncio.Queue[CommandCompleted]]] = {}
        self._inflight: dict[str, asyncio.Task[CommandCompleted]] = {}
        self._presence_moved = asyncio.Event()

    def presence_moved(self) -> None:
        """Presence changed: wakes the commands waiting for a NotHere station to move."""
        self._presence_moved.set()
        self._presence_moved = asyncio.Event()

    async def stop(self) -> None:
        for task in list(self._inflight.values()):
            task.cancel()
        await asyncio.gather(*self._inflight.values(), return_exceptions=True)

    def version_of(self, station_id: str) -> OcppVersion | None:
        """The station's OCPP version: from presence, else from its last boot."""
        entry, record = self.presence.get(station_id), self.stations.get(station_id)
        if entry is not None and entry.ocpp_version is not None:
            return entry.ocpp_version
        return None if record is None else record.ocpp_version

    def _route(self, station_id: str) -> Presence | None:
        return self.presence.get(station_id) if self.presence.online(station_id) else None

    def outcome(self, command_id: str) -> CommandCompleted | None:
        """The final outcome of ``command_id``: the command ledger's (7 days, every instance),
        else one this instance saw."""
        entry = self.ledger.view.get(command_id)
        decided = (
            None
            if entry is None or entry.outcome is None
            else CommandCompleted.parse(entry.outcome)
        )
        if decided is not None:
            return decided
        known = self._outcomes.get(command_id)
        return None if known is None else known[0]

    def _sent_elsewhere(self, command_id: str) -> bool:
        """A gateway put the command on a station's wire and its outcome is still to come."""
        entry = self.ledger.view.get(command_id)
        return entry is not None and entry.sent is not None and entry.sent.gateway is not None

    def _translate(self, job: Job, version: OcppVersion) -> OutgoingCall:
        return translate(
            job.name,
            job.arguments,
            version,
            command_id=job.command_id,
            token_types=self._token_types,
        )

    async def run_command(
        self,
        station_id: str,
        command: str,
        arguments: Mapping[str, Any],
        *,
        command_id: str,
        timeout_s: float,
        trace: TraceContext | None = None,
    ) -> CommandCompleted:
        """Carry out a command and return its outcome (a command id seen before: its outcome);
        ``trace``: the request's trace context, which the command's span continues.

        Raises:
            StationNotFound: neither presence nor stations.v1 knows the station.
            InvalidCommand: the command cannot be translated for the station's version.
            PublishFailed: the broker did not acknowledge the StationCommand.
        """
        earlier = self.outcome(command_id)
        if earlier is not None:
            return earlier
        running = self._inflight.get(command_id)
        if running is None:
            if not known_station(station_id, self.presence, self.stations):
                raise StationNotFound(
                    f"no station {station_id!r}: it never connected and stations.v1 has no record"
                )
            job = Job(
                station_id=station_id,
                name=canonical(command),
                arguments=arguments,
                command_id=command_id,
                deadline=datetime.now(UTC) + timedelta(seconds=timeout_s),
                source="http",
                trace=_continued(trace),
                caller_span=None if trace is None else trace.parent.parent_id,
            )
            version = self.version_of(station_id)
            if version is not None:
                self._translate(job, version)  # InvalidCommand -> 400 before anything is sent
            # A retry after a restart of this API: a gateway has it already, wait for its end.
            running = self._spawn(job, watch_only=self._sent_elsewhere(command_id))
        return await asyncio.shield(running)

    def _spawn(
        self, job: Job, sent: asyncio.Future[None] | None = None, *, watch_only: bool = False
    ) -> asyncio.Task[CommandCompleted]:
        task = asyncio.create_task(
            self._execute(job, sent, watch_only=watch_only), name=f"command {job.command_id}"
        )
        self._inflight[job.command_id] = task

        def done(finished: asyncio.Task[CommandCompleted]) -> None:
            self._inflight.pop(job.command_id, None)
            if not finished.cancelled() and finished.exception() is not None:
                log.error(
                    "command %s failed: %s",
                    job.name,
                    finished.exception(),
                    extra={"station_id": job.station_id, "command_id": job.command_id},
                )

        task.add_done_callback(done)
        return task

    async def _execute(
        self, job: Job, sent: asyncio.Future[None] | None, *, watch_only: bool = False
    ) -> CommandCompleted:
        """Route, send, wait; at most MAX_HOPS sends. ``sent`` resolves once the first record
        (a StationCommand, or our own outcome) was acknowledged. ``watch_only``: a gateway
        has sent it already (the ledger says so): only wait for its outcome."""
        loop = asyncio.get_running_loop()
        started, started_ns = loop.time(), time.time_ns()
        budget = (job.deadline - datetime.now(UTC)).total_seconds()
        until = started + min(max(budget, 0.0), MAX_TIMEOUT_S)
        queue: asyncio.Queue[CommandCompleted] = asyncio.Queue()
        self._listeners.setdefault(job.command_id, []).append(queue)
        route, hops = self._route(job.station_id), 0
        call: OutgoingCall | None = None
        call_version: OcppVersion | None = None
        try:
            while watch_only:
                answer = await self._next(queue, until)
                if answer is None:
                    result = await self._deadline_passed(job, None, until - started)
                    break
                if answer.final:
                    result = answer
                    break
            while not watch_only:
                if route is None or route.ocpp_version is None or route.gateway is None:
                    detail = f"presence says {job.station_id} is not connected"
                    result = await self._complete_here(job, Outcome.STATION_OFFLINE, detail, call)
                    break
                if call is None or call_version != route.ocpp_version:
                    try:
                        call, call_version = (
                            self._translate(job, route.ocpp_version),
                            route.ocpp_version,
                        )
                    except InvalidCommand as exc:  # it reconnected with another version
                        result = await self._complete_here(job, Outcome.INVALID, str(exc), call)
                        break
                envelope = StationCommand(
                    command_id=job.command_id,
                    station_id=job.station_id,
                    action=call.action,
                    payload=call.payload,
                    deadline=job.deadline,
                ).envelope(causation_id=job.cause)
                await self._sender(
                    Topic.GATEWAY_INBOX,
                    job.station_id.encode(),
                    codec.encode(envelope),
                    partition=route.gateway,
                    headers=_headers(job),
                )
                hops += 1
                if sent is not None and not sent.done():
                    sent.set_result(None)
                answer = await self._next(queue, until)
                if answer is None:
                    result = await self._deadline_passed(job, call, until - started)
                    break
                result = answer
                if result.final or hops >= MAX_HOPS:
                    break
                moved = await self._await_move(queue, job.station_id, route, until)
                if moved is _STILL:
                    break  # NotHere stands: presence keeps naming the same connection
                if isinstance(moved, CommandCompleted):
                    result = moved
                    break
                route = moved if isinstance(moved, Presence) else None
        except asyncio.CancelledError:
            if sent is not None:
                sent.cancel()
            raise
        except Exception as exc:  # the consumer waiting on `sent` must not commit: tell it
            if sent is not None and not sent.done():
                sent.set_exception(exc)
            raise
        finally:
            self._listeners[job.command_id].remove(queue)
            if not self._listeners[job.command_id]:
                del self._listeners[job.command_id]
        if sent is not None and not sent.done():
            sent.set_result(None)
        self.metrics.commands.labels(job.name, job.source, result.outcome).inc()
        if hops:
            self.metrics.command_seconds.labels(job.name).observe(loop.time() - started)
        if self.spans is not None:
            self._export(self.spans, job, result, started_ns)
        log.info(
            "command %s: %s",
            job.name,
            result.outcome,
            extra={"station_id": job.station_id, "command_id": job.command_id},
        )
        return result

    def _export(self, spans: Spans, job: Job, result: CommandCompleted, started_ns: int) -> None:
        """The command as a span: from its start until its outcome."""
        if job.trace is None or not job.trace.parent.sampled:
            return
        answered = result.outcome == Outcome.ANSWERED
        spans.record(
            f"command {job.name}",
            trace_id=job.trace.parent.trace_id,
            span_id=job.trace.parent.parent_id,
            parent_id=job.caller_span,
            kind=Kind.SERVER if job.source == "http" else Kind.CONSUMER,
            start_ns=started_ns,
            end_ns=time.time_ns(),
            attributes={
                "chargebus.command": job.name,
                "chargebus.command_id": job.command_id,
                "chargebus.outcome": str(result.outcome),
                "ocpp.station_id": job.station_id,
            },
            error=None if answered else str(result.outcome),
        )

    async def _next(
        self, queue: asyncio.Queue[CommandCompleted], until: float
    ) -> CommandCompleted | None:
        remaining = until - asyncio.get_running_loop().time()
        try:
            async with asyncio.timeout(max(remaining, 0.0)):
                return await queue.get()
        except TimeoutError:
            return None

    async def _await_move(
        self, queue: asyncio.Queue[CommandCompleted], station_id: str, route: Presence, until: float
    ) -> object:
        """After NotHere: the station's new route (a Presence, or None when it went offline),
        a final outcome that arrived meanwhile, or _STILL if presence did not move in time."""
        loop = asyncio.get_running_loop()
        limit = min(until, loop.time() + self._reroute_wait_s)
        while True:
            current = self._route(station_id)
            if current is None or current.connection_id != route.connection_id:
                return current
            remaining = limit - loop.time()
            if remaining <= 0:
                return _STILL
            getter = asyncio.ensure_future(queue.get())
            moved = asyncio.ensure_future(self._presence_moved.wait())
            await asyncio.wait({getter, moved}, timeout=remaining, return_when="FIRST_COMPLETED")
            for waiting in (getter, moved):
                waiting.cancel()
            await asyncio.gather(getter, moved, return_exceptions=True)
            if getter.done() and not getter.cancelled() and getter.result().final:
                return getter.result()

    async def _complete_here(
        self, job: Job, outcome: Outcome, detail: str, call: OutgoingCall | None
    ) -> CommandCompleted:
        """Write the outcome ourselves (StationOffline, Invalid, Expired, TimedOut): our final
        mark first; only if the ledger took it first is it published to command-results.v1,
        else the outcome that was first is the command's."""
        entry = self.presence.get(job.station_id)
        result = CommandCompleted(
            command_id=job.command_id,
            station_id=job.station_id,
            action=job.name if call is None else call.action,
            outcome=outcome,
            detail=detail,
            gateway=None if entry is None else entry.gateway,
        )
        envelope = completed_here(result, at=datetime.now(UTC), causation_id=job.cause)
        decided = await self.ledger.record(self._mark(job, Mark.FINAL, outcome=envelope))
        first = decided.outcome
        if first is not None and first.event_id != envelope.event_id:
            earlier = CommandCompleted.parse(first)
            if earlier is not None:
                return earlier
        await self._sender(
            Topic.COMMAND_RESULTS,
            job.station_id.encode(),
            codec.encode(envelope),
            headers=_headers(job),
        )
        self._remember(result, envelope)
        return result

    def _mark(self, job: Job, mark: Mark, *, outcome: Envelope | None = None) -> LedgerRecord:
        return LedgerRecord(
            command_id=job.command_id,
            station_id=job.station_id,
            mark=mark,
            writer=self.writer,
            at=datetime.now(UTC),
            deadline=job.deadline,
            outcome=outcome,
        )

    async def _deadline_passed(
        self, job: Job, call: OutgoingCall | None, waited_s: float
    ) -> CommandCompleted:
        """No outcome by the deadline. We withdraw the command with a sent mark of our own: if
        ours is first, no gateway will ever send it and it ends Expired here; if a gateway's is
        first, that gateway ends it, unless its lease ran out (then TimedOut here)."""
        try:
            entry = await self.ledger.record(self._mark(job, Mark.SENT))
        except PublishFailed:
            return timed_out(job, job.name if call is None else call.action, None, waited_s)
        first = None if entry.outcome is None else CommandCompleted.parse(entry.outcome)
        if first is not None:
            return first
        sent = entry.sent
        if sent is None or sent.writer == self.writer:
            return await self._complete_here(
                job, Outcome.EXPIRED, "not sent to the station before the deadline", call
            )
        lease = None if sent.gateway is None else self.presence.lease(sent.gateway)
        # The sender is gone if its lease ran out, or if its gateway is back with another boot
        # (the writer is gateway/<k>/<boot>): then nobody will end the command but us.
        restarted = lease is not None and not sent.writer.endswith(f"/{lease.boot}")
        if lease is not None and (restarted or lease.until < datetime.now(UTC)):
            detail = f"sent at gateway {sent.gateway}, which is gone; no answer known"
            return await self._complete_here(job, Outcome.TIMED_OUT, detail, call)
        return timed_out(job, job.name if call is None else call.action, sent.gateway, waited_s)

    def _remember(self, result: CommandCompleted, envelope: Envelope) -> None:
        self._outcomes[result.command_id] = (result, envelope)
        self._outcomes.move_to_end(result.command_id)
        while len(self._outcomes) > self._capacity:
            self._outcomes.popitem(last=False)

    def on_result(self, topic: str, key: str, envelope: Envelope | None) -> bool:
        result = None if envelope is None else CommandCompleted.parse(envelope)
        if result is None or envelope is None:
            self.metrics.records.labels(topic, "ignored").inc()
            return False
        if result.final:
            self._remember(result, envelope)
        for queue in self._listeners.get(result.command_id, ()):
            queue.put_nowait(result)
        self.metrics.records.labels(topic, "applied").inc()
        return True

    # -- commands.v1 -----------------------------------------------------------------------

    async def on_operator_command(self, envelope: Envelope, headers: Headers = ()) -> None:
        """One OperatorCommand (``headers``: its record's): returns once its first record was
        acknowledged (then the consumer commits); waiting for the outcome and re-routing go on
        in a task."""
        now = datetime.now(UTC)
        trace = from_headers(headers)
        command = OperatorCommand.parse(envelope, now=now, timeout_s=self._default_timeout_s)
        deadline = command.deadline or now  # parse always sets one
        entry = self.ledger.view.get(command.command_id)
        if entry is not None and entry.outcome is not None:
            # handled before: the same outcome again (the same event id), as the gateway does
            again = codec.encode(entry.outcome)
            carried = () if trace is None else trace.headers()
            key = command.station_id.encode()
            await self._sender(Topic.COMMAND_RESULTS, key, again, headers=carried)
            return
        if command.command_id in self._inflight or self._sent_elsewhere(command.command_id):
            return
        job = Job(
            station_id=command.station_id,
            name=command.command,
            arguments=command.arguments,
            command_id=command.command_id,
            deadline=deadline,
            source="topic",
            cause=command.event_id,
            trace=_continued(trace),
            caller_span=None if trace is None else trace.parent.parent_id,
        )
        try:
            if command.problem:
                raise InvalidCommand(f"OperatorCommand: {command.problem}")
            job.name = canonical(command.command)
            version = self.version_of(job.station_id)
            if version is not None:
                self._translate(job, version)
        except InvalidCommand as exc:
            await self._finish_here(job, Outcome.INVALID, str(exc))
            return
        if not known_station(job.station_id, self.presence, self.stations):
            await self._finish_here(job, Outcome.STATION_OFFLINE, "unknown station")
            return
        if deadline <= now:
            await self._finish_here(job, Outcome.EXPIRED, "deadline passed before sending")
            return
        sent: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._spawn(job, sent)
        await sent

    async def _finish_here(self, job: Job, outcome: Outcome, detail: str) -> None:
        result = await self._complete_here(job, outcome, detail, None)
        self.metrics.commands.labels(job.name or "unknown", job.source, result.outcome).inc()
        log.info(
            "operator command %s: %s (%s)",
            job.name,
            outcome,
            detail,
            extra={"station_id": job.station_id, "command_id": job.command_id},
        )


def _continued(trace: TraceContext | None) -> TraceContext:
    """The trace context of a command's span: a child of its caller's, else a new trace (the API
    is where an operator's work enters the system)."""
    return TraceContext(new_root()) if trace is None else trace.child()


def _headers(job: Job) -> Headers:
    """The trace headers of what the API writes for ``job``."""
    return () if job.trace is None else job.trace.headers()
