"""Commands to stations: admitted, claimed in the ledger, sent, each ended with one outcome (I/O).

The decisions are pure (core/admission.py); this reads the clock, writes the ledger's marks and
publishes. Design "Routing": "Every command ends in exactly one outcome on command-results.v1":
an outcome is published only by the writer whose final mark the ledger took first. The
station's answer also goes to ocpp.inbound.v1 for auditing (docs/gateway.md, "Commands"). Both
carry the trace headers the command came with, unchanged (docs/tracing.md).
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from datetime import UTC, datetime
from typing import Any

from contracts.envelope import Envelope
from contracts.errors import RecordRejected
from contracts.events import Outcome
from contracts.headers import Headers
from contracts.payloads.commands import StationCommand
from contracts.payloads.ledger import LedgerRecord, Mark
from contracts.topics import Topic
from gateway import metrics
from gateway.bus import Publisher, publish_quietly
from gateway.core import bridge
from gateway.core.admission import (
    Duplicate,
    Expired,
    InProgress,
    NotHere,
    Orphaned,
    Send,
    StationOffline,
    admit,
)
from gateway.core.links import LinkTable
from gateway.link import StationLink
from ocppj.errors import InvalidOutgoing
from ocppj.framing import CallError, CallResult
from runtime.kafka import PublishFailed
from runtime.ledger import Ledger

log = logging.getLogger("gateway")

Spawn = Callable[[Coroutine[Any, Any, None]], None]  # runs a coroutine in the background


class Commands:
    """Admits StationCommands from the inbox, sends them, and publishes how each ended.

    ``process(link)`` acts on the link's session events and sends its frames (the gateway's
    own step after any change to a session); ``spawn`` runs fire-and-forget publishes.
    """

    def __init__(
        self,
        publisher: Publisher,
        links: LinkTable[StationLink],
        *,
        instance: int,
        writer: str,
        ledger: Ledger,
        call_timeout_s: float,
        process: Callable[[StationLink], Awaitable[None]],
        spawn: Spawn,
    ) -> None:
        self.publisher = publisher
        self.links = links
        self.instance = instance
        self.writer = writer  # this gateway boot's name in the ledger: gateway/<k>/<boot>
        self.ledger = ledger
        self.call_timeout_s = call_timeout_s
        self._process = process
        self._spawn = spawn

    async def receive(self, envelope: Envelope, trace: Headers = ()) -> None:
        """A StationCommand read from the inbox; ``trace``: the trace headers it came with,
        which its answer and its outcome carry on."""
        try:
            command = StationCommand.parse(envelope)
        except RecordRejected as exc:
            metrics.inbox_records("command", "invalid").inc()
            log.error("invalid StationCommand: %s", exc, extra={"station_id": envelope.key})
            return
        link = self.links.get(command.station_id)
        decision = admit(
            command,
            self.ledger.view.get(command.command_id),
            holds=link is not None,
            recently_held=self.links.recently_left(command.station_id),
            now=datetime.now(UTC),
            gateway=self.instance,
            writer=self.writer,
        )
        match decision:
            case Duplicate(earlier):  # a command id seen again gets the earlier outcome
                metrics.inbox_records("command", "duplicate").inc()
                await publish_quietly(self.publisher, command.reply_topic, earlier, headers=trace)
            case InProgress():
                metrics.inbox_records("command", "duplicate").inc()
            case Expired() | StationOffline() | NotHere() | Orphaned() as unsent:
                await self.complete(command, unsent.outcome, detail=unsent.detail, trace=trace)
            case Send():
                await self._claim_and_send(command, trace)

    async def _claim_and_send(self, command: StationCommand, trace: Headers) -> None:
        """Write the sent mark; only if the ledger took ours first does the CALL go out."""
        mark = LedgerRecord(
            command_id=command.command_id,
            station_id=command.station_id,
            mark=Mark.SENT,
            writer=self.writer,
            at=datetime.now(UTC),
            gateway=self.instance,
            deadline=command.deadline,
        )
        try:
            entry = await self.ledger.record(mark)
        except PublishFailed as exc:  # not claimed: not sent; a retry is decided afresh
            log.error("could not claim command: %s", exc, extra=_extra(command))
            return
        if entry.outcome is not None:
            await publish_quietly(self.publisher, command.reply_topic, entry.outcome, headers=trace)
            return
        if entry.sent is None or entry.sent.writer != self.writer:
            metrics.inbox_records("command", "duplicate").inc()
            return  # another copy (here or at another gateway) claimed it first
        link = self.links.get(command.station_id)
        if link is None:  # it left while we claimed
            detail = f"gateway {self.instance}"
            await self.complete(command, Outcome.STATION_OFFLINE, detail=detail, trace=trace)
            return
        await self._send(link, command, trace)

    async def _send(self, link: StationLink, command: StationCommand, trace: Headers) -> None:
        loop = asyncio.get_running_loop()
        now = loop.time()
        expires_at = now + (command.deadline - datetime.now(UTC)).total_seconds()
        try:
            call_id = link.session.send_call(
                command.action,
                dict(command.payload),
                now,
                tag=command.command_id,
                expires_at=expires_at,
            )
        except InvalidOutgoing as exc:
            await self.complete(command, Outcome.INVALID, detail=str(exc)[:500], trace=trace)
            return
        link.commands[call_id] = (command, now, trace)
        await self._process(link)
        if call_id in link.commands:  # not dropped at once as expired
            metrics.frames(command.action, "out", "call").inc()

    async def answered(
        self,
        link: StationLink,
        call_id: str,
        action: str,
        answer: CallResult | CallError,
        now: float,
    ) -> None:
        """The station answered the CALL ``call_id`` at loop time ``now`` (one of ours, if it
        is in link.commands)."""
        entry = link.commands.pop(call_id, None)
        if entry is None:
            return
        command, sent_at, trace = entry
        metrics.station_round_trip(action).observe(now - sent_at)
        outcome, response, error = bridge.answer_outcome(answer)
        message_type = "result" if outcome is Outcome.ANSWERED else "error"
        metrics.frames(command.action, "in", message_type).inc()
        audit = bridge.command_answer(
            link.info,
            command,
            unique_id=call_id,
            at=datetime.now(UTC),
            response=response,
            error=error,
        )
        self._spawn(publish_quietly(self.publisher, Topic.OCPP_INBOUND, audit, headers=trace))
        await self.complete(command, outcome, response=response, error=error, trace=trace)

    async def timed_out(self, link: StationLink, call_id: str) -> None:
        """The station did not answer the CALL ``call_id`` within the call timeout."""
        entry = link.commands.pop(call_id, None)
        if entry is not None:
            detail = f"no answer within {self.call_timeout_s:g} s"
            await self.complete(entry[0], Outcome.TIMED_OUT, detail=detail, trace=entry[2])

    async def expired(self, link: StationLink, call_id: str) -> None:
        """The CALL ``call_id`` waited in the queue past its command's deadline: never sent."""
        entry = link.commands.pop(call_id, None)
        if entry is not None:
            detail = "deadline passed while queued behind another CALL"
            await self.complete(entry[0], Outcome.EXPIRED, detail=detail, trace=entry[2])

    async def disconnected(self, link: StationLink) -> None:
        """The link closed: the commands still on it timed out."""
        for command, _, trace in link.commands.values():
            detail = "station disconnected"
            await self.complete(command, Outcome.TIMED_OUT, detail=detail, trace=trace)

    async def complete(
        self,
        command: StationCommand,
        outcome: Outcome,
        *,
        response: dict[str, Any] | None = None,
        error: dict[str, Any] | None = None,
        detail: str = "",
        trace: Headers = (),
    ) -> None:
        """Record and publish the command's one outcome (CommandCompleted on its reply topic),
        with the command's trace headers."""
        envelope = bridge.command_outcome(
            command,
            outcome,
            gateway=self.instance,
            at=datetime.now(UTC),
            response=response,
            error=error,
            detail=detail,
        )
        if outcome is not Outcome.NOT_HERE and not await self._decided(command, envelope):
            return
        metrics.COMMANDS.labels(str(outcome)).inc()
        log.info("command %s: %s", command.action, outcome, extra=_extra(command))
        await publish_quietly(self.publisher, command.reply_topic, envelope, headers=trace)

    async def _decided(self, command: StationCommand, envelope: Envelope) -> bool:
        """Write the final mark; whether ours is the command's one outcome (NotHere is not
        final and is never marked)."""
        mark = LedgerRecord(
            command_id=command.command_id,
            station_id=command.station_id,
            mark=Mark.FINAL,
            writer=self.writer,
            at=envelope.occurred_at,
            outcome=envelope,
        )
        try:
            entry = await self.ledger.record(mark)
        except PublishFailed as exc:  # Kafka is away: publish anyway, the outcome matters more
            log.error("could not mark the outcome: %s", exc, extra=_extra(command))
            return True
        if entry.outcome is None or entry.outcome.event_id != envelope.event_id:
            log.info("command %s already ended elsewhere", command.action, extra=_extra(command))
            return False
        return True


def _extra(command: StationCommand) -> dict[str, str]:
    return {"station_id": command.station_id, "command_id": command.command_id}
