"""The Gateway in-process: real WebSockets on 127.0.0.1, a RecordingPublisher instead of Kafka."""

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from contracts.envelope import Envelope
from contracts.events import EventType, Outcome
from contracts.headers import Header
from contracts.payloads.commands import CommandCompleted, StationCommand
from contracts.payloads.ocpp import Reply, reply_to
from contracts.payloads.presence import Presence
from contracts.topics import Topic
from contracts.trace import new_root, parse
from gateway.bus import InboxRecord
from gateway.server import Gateway
from runtime.tracing import Spans
from tests.support.gateway import Published, RecordingPublisher, serving

INSTANCE = 5
BOOT = {"chargePointVendor": "chargebus", "chargePointModel": "test"}


@dataclass
class InProcess:
    gateway: Gateway
    publisher: RecordingPublisher
    url: str

    def station(self, station_id: str) -> connect:
        """A 1.6 station's connection (an async context manager)."""
        return connect(f"{self.url}/{station_id}", subprotocols=[Subprotocol("ocpp1.6")])

    async def feed(self, envelope: Envelope, headers: dict[str, str] | None = None) -> None:
        """As if the record had been read from the gateway's inbox partition."""
        await self.gateway.inbox_record(InboxRecord(envelope, headers or {}, offset=0))

    async def command(self, station_id: str, action: str, payload: dict[str, Any]) -> str:
        command_id = uuid.uuid4().hex
        command = StationCommand(
            command_id=command_id,
            station_id=station_id,
            action=action,
            payload=payload,
            deadline=datetime.now(UTC) + timedelta(seconds=30),
        )
        await self.feed(command.envelope())
        return command_id

    async def outcome(self, command_id: str) -> CommandCompleted:
        def match(record: Published) -> bool:
            completed = CommandCompleted.parse(record.envelope)
            return completed is not None and completed.command_id == command_id

        record = await self.publisher.wait_for(match)
        assert record.topic == Topic.COMMAND_RESULTS
        completed = CommandCompleted.parse(record.envelope)
        assert completed is not None
        return completed


@pytest.fixture
async def running() -> AsyncIterator[InProcess]:
    publisher = RecordingPublisher()
    async with serving(publisher, instance=INSTANCE) as (gateway, url):
        yield InProcess(gateway, publisher, url)


def _station_id() -> str:
    return f"CS-{uuid.uuid4().hex[:10]}"


async def _call(ws: ClientConnection, unique_id: str, action: str, payload: Any) -> list[Any]:
    await ws.send(json.dumps([2, unique_id, action, payload]))
    answer: list[Any] = json.loads(await ws.recv())
    return answer


def _presence(records: list[Published]) -> list[tuple[str, str]]:
    """(event type, connection id) of each presence record."""
    pairs = []
    for record in records:
        presence = Presence.parse(record.envelope)
        assert presence is not None
        pairs.append((record.envelope.event_type, presence.connection_id))
    return pairs


async def test_a_station_call_is_published_with_the_reply_route_and_answered(
    running: InProcess,
) -> None:
    station_id = _station_id()
    async with running.station(station_id) as ws:
        await ws.send(json.dumps([2, "boot-1", "BootNotification", BOOT]))
        call = await running.publisher.wait_for(
            lambda r: r.envelope.key == station_id and r.envelope.event_type == EventType.OCPP_CALL
        )
        assert call.topic == Topic.OCPP_INBOUND
        assert call.envelope.payload["action"] == "BootNotification"
        assert call.envelope.payload["payload"] == BOOT
        assert not call.envelope.payload["answered_by_gateway"]
        connection_id = call.envelope.payload["connection_id"]
        trace = parse(call.headers[Header.TRACEPARENT])  # a new trace per CALL (docs/tracing.md)
        assert trace is not None
        assert trace.sampled
        assert call.headers == {
            Header.REPLY_PARTITION: str(INSTANCE),
            Header.CORRELATION_ID: f"{connection_id}/boot-1",
            Header.TRACEPARENT: str(trace),
        }
        answer = {"status": "Accepted", "currentTime": "2025-06-01T12:00:00Z", "interval": 300}
        reply = reply_to(call.envelope, Reply(answer))
        await running.feed(reply, {Header.CORRELATION_ID: call.headers[Header.CORRELATION_ID]})
        assert json.loads(await ws.recv()) == [3, "boot-1", answer]


async def test_heartbeat_is_answered_by_the_gateway_and_still_published(
    running: InProcess,
) -> None:
    station_id = _station_id()
    async with running.station(station_id) as ws:
        answer = await _call(ws, "hb-1", "Heartbeat", {})
        assert answer[:2] == [3, "hb-1"]
        assert datetime.fromisoformat(answer[2]["currentTime"]).tzinfo is not None
        published = await running.publisher.wait_for(
            lambda r: r.envelope.key == station_id and r.envelope.event_type == EventType.OCPP_CALL
        )
        assert published.topic == Topic.OCPP_INBOUND
        assert published.envelope.payload["action"] == "Heartbeat"
        assert published.envelope.payload["answered_by_gateway"]
        # No service answers it: no reply route, only its trace.
        assert list(published.headers) == [Header.TRACEPARENT]
        assert parse(published.headers[Header.TRACEPARENT]) is not None


async def test_a_failed_publish_answers_internal_error(running: InProcess) -> None:
    running.publisher.failing.add(Topic.OCPP_INBOUND)
    async with running.station(_station_id()) as ws:
        answer = await _call(ws, "boot-1", "BootNotification", BOOT)
        assert answer == [4, "boot-1", "InternalError", "CSMS unavailable, retry", {}]


async def test_a_second_connection_closes_the_first_and_presence_stays_right(
    running: InProcess,
) -> None:
    station_id = _station_id()
    presence = running.publisher
    async with running.station(station_id) as first:
        await presence.wait_count(Topic.PRESENCE, station_id, 1)
        async with running.station(station_id) as second:
            with pytest.raises(ConnectionClosed):
                await first.recv()
            assert (first.close_code, first.close_reason) == (
                1000,
                "replaced by a newer connection",
            )
            await presence.wait_count(Topic.PRESENCE, station_id, 2)
            assert await _call(second, "hb-1", "Heartbeat", {}) != []  # the first end is handled
            records = _presence(presence.on(Topic.PRESENCE, station_id))
            a, b = records[0][1], records[1][1]
            # No disconnect of the first: the last record stays about the live connection, which
            # is what compaction keeps.
            assert records == [(EventType.STATION_CONNECTED, a), (EventType.STATION_CONNECTED, b)]
            assert a != b
            assert await _call(second, "hb-2", "Heartbeat", {}) != []  # the second one lives
            assert running.gateway.readiness(inbox_assigned=True) == (True, "1 stations")


async def test_commands_to_absent_departed_and_held_stations(running: InProcess) -> None:
    station_id = _station_id()
    not_here = await running.command(station_id, "Reset", {"type": "Soft"})
    completed = await running.outcome(not_here)
    assert (completed.outcome, completed.detail) == (Outcome.NOT_HERE, f"gateway {INSTANCE}")

    async with running.station(station_id) as ws:
        reset = await running.command(station_id, "Reset", {"type": "Soft"})
        message_type, call_id, action, payload = json.loads(await ws.recv())
        assert (message_type, action, payload) == (2, "Reset", {"type": "Soft"})
        await ws.send(json.dumps([3, call_id, {"status": "Accepted"}]))
        completed = await running.outcome(reset)
        assert (completed.outcome, completed.status) == (Outcome.ANSWERED, "Accepted")
        audit = await running.publisher.wait_for(
            lambda r: (
                r.envelope.event_type == EventType.OCPP_CALL_RESULT and r.envelope.key == station_id
            )
        )
        assert audit.topic == Topic.OCPP_INBOUND

    await running.publisher.wait_count(Topic.PRESENCE, station_id, 2)  # it left
    offline = await running.command(station_id, "Reset", {"type": "Soft"})
    assert (await running.outcome(offline)).outcome == Outcome.STATION_OFFLINE


# -- trace context (docs/tracing.md) ------------------------------------------------------------


class RecordingSpans(Spans):
    """Span export as the gateway sees it, without OpenTelemetry: the spans it was given."""

    def __init__(self) -> None:
        self.recorded: list[dict[str, Any]] = []

    def record(self, name: str, **span: Any) -> None:
        self.recorded.append({"name": name, **span})


@pytest.fixture
async def traced() -> AsyncIterator[tuple[InProcess, RecordingSpans]]:
    """A gateway in process whose new traces are sampled at 0.5, with span export."""
    publisher, spans = RecordingPublisher(), RecordingSpans()
    async with serving(publisher, spans=spans, instance=INSTANCE, trace_sample_ratio=0.5) as (
        gateway,
        url,
    ):
        yield InProcess(gateway, publisher, url), spans


async def test_a_command_carries_its_trace_unchanged_to_the_answer_and_the_outcome(
    running: InProcess,
) -> None:
    station_id = _station_id()
    trace: dict[str, str] = {Header.TRACEPARENT: str(new_root()), Header.TRACESTATE: "rojo=1"}
    async with running.station(station_id) as ws:
        command = StationCommand(
            command_id=uuid.uuid4().hex,
            station_id=station_id,
            action="Reset",
            payload={"type": "Soft"},
            deadline=datetime.now(UTC) + timedelta(seconds=30),
        )
        await running.feed(command.envelope(), trace)
        call = json.loads(await ws.recv())
        await ws.send(json.dumps([3, call[1], {"status": "Accepted"}]))
        await running.outcome(command.command_id)
        answer = await running.publisher.wait_for(
            lambda r: (
                r.envelope.event_type == EventType.OCPP_CALL_RESULT and r.envelope.key == station_id
            )
        )
    outcome = next(r for r in running.publisher.on(Topic.COMMAND_RESULTS, station_id))
    assert answer.headers == trace
    assert outcome.headers == trace


async def test_a_command_with_a_malformed_trace_or_none_gets_an_outcome_without_one(
    running: InProcess,
) -> None:
    offline = _station_id()  # not connected: StationOffline at once
    first = await running.command(offline, "Reset", {"type": "Soft"})
    await running.outcome(first)
    command = StationCommand(
        command_id=uuid.uuid4().hex,
        station_id=offline,
        action="Reset",
        payload={"type": "Soft"},
        deadline=datetime.now(UTC) + timedelta(seconds=30),
    )
    await running.feed(
        command.envelope(), {Header.TRACEPARENT: "00-bad", Header.TRACESTATE: "rojo=1"}
    )
    await running.outcome(command.command_id)
    assert [r.headers for r in running.publisher.on(Topic.COMMAND_RESULTS, offline)] == [{}, {}]


async def test_with_span_export_each_sampled_call_is_a_span_until_its_answer(
    traced: tuple[InProcess, RecordingSpans],
) -> None:
    """Sampled at 0.5 by trace id: some CALLs are sampled and become spans from the frame to
    the answer, with the ids of their record's traceparent; the others are carried unsampled."""
    running, spans = traced
    station_id = _station_id()
    async with running.station(station_id) as ws:
        for n in range(40):
            await _call(ws, f"hb-{n}", "Heartbeat", {})
        await running.publisher.wait_count(Topic.OCPP_INBOUND, station_id, 40)
        await ws.send(json.dumps([2, "boot-1", "BootNotification", BOOT]))
        call = await running.publisher.wait_for(
            lambda r: (
                r.envelope.key == station_id
                and r.envelope.payload.get("action") == "BootNotification"
            )
        )
        boot_trace = parse(call.headers[Header.TRACEPARENT])
        assert boot_trace is not None
        reply = reply_to(call.envelope, Reply({"status": "Accepted", "interval": 300}))
        await running.feed(reply, {Header.CORRELATION_ID: call.headers[Header.CORRELATION_ID]})
        await ws.recv()
    beats = [
        parse(r.headers[Header.TRACEPARENT])
        for r in running.publisher.on(Topic.OCPP_INBOUND, station_id)
        if r.envelope.payload["action"] == "Heartbeat"
    ]
    sampled = {b.parent_id: b for b in beats if b is not None and b.sampled}
    assert 0 < len(sampled) < 40  # 2**-40 that either fails by chance
    heartbeat_spans = [s for s in spans.recorded if s["name"] == "OCPP Heartbeat"]
    assert {s["span_id"] for s in heartbeat_spans} == set(sampled)
    for span in heartbeat_spans:
        assert span["trace_id"] == sampled[span["span_id"]].trace_id
        assert span["parent_id"] is None
        assert span["start_ns"] <= span["end_ns"]
        assert span["attributes"]["ocpp.station_id"] == station_id
    boot_spans = [s for s in spans.recorded if s["name"] == "OCPP BootNotification"]
    assert [s["span_id"] for s in boot_spans] == (
        [boot_trace.parent_id] if boot_trace.sampled else []
    )


# -- deadlines (the timer task: gateway/core/deadlines.py) --------------------------------------


@pytest.fixture
async def timed() -> AsyncIterator[InProcess]:
    """A gateway in process with short timeouts and its timer task running."""
    publisher = RecordingPublisher()
    async with serving(
        publisher,
        instance=INSTANCE,
        answer_timeout_s=0.4,
        call_timeout_s=0.4,
        timer_resolution_s=0.05,
    ) as (gateway, url):
        timers = asyncio.create_task(gateway.run_timers())
        try:
            yield InProcess(gateway, publisher, url)
        finally:
            timers.cancel()


async def test_unanswered_calls_time_out_each_at_its_deadline_and_answered_ones_do_not(
    timed: InProcess,
) -> None:
    stations = [_station_id() for _ in range(3)]
    async with contextlib.AsyncExitStack() as stack:
        sockets = [await stack.enter_async_context(timed.station(s)) for s in stations]
        loop = asyncio.get_running_loop()
        sent = loop.time()
        for ws in sockets:
            await ws.send(json.dumps([2, "boot-1", "BootNotification", BOOT]))
        # The first station's CALL is answered in time: no timeout for it later.
        first = await timed.publisher.wait_for(
            lambda r: r.envelope.key == stations[0] and r.envelope.event_type == EventType.OCPP_CALL
        )
        answer = {"status": "Accepted", "currentTime": "2025-06-01T12:00:00Z", "interval": 300}
        correlation = first.headers[Header.CORRELATION_ID]
        await timed.feed(
            reply_to(first.envelope, Reply(answer)), {Header.CORRELATION_ID: correlation}
        )
        assert json.loads(await sockets[0].recv()) == [3, "boot-1", answer]
        for ws in sockets[1:]:  # design.md rule 4: InternalError, so that the station retries
            error = json.loads(await asyncio.wait_for(ws.recv(), timeout=5))
            assert error[:3] == [4, "boot-1", "InternalError"]
            assert loop.time() - sent >= 0.4
        # The station's next CALL has a deadline of its own, scheduled again.
        await sockets[1].send(json.dumps([2, "boot-2", "BootNotification", BOOT]))
        error = json.loads(await asyncio.wait_for(sockets[1].recv(), timeout=5))
        assert error[:3] == [4, "boot-2", "InternalError"]
        with pytest.raises(TimeoutError):  # answered: nothing more comes
            await asyncio.wait_for(sockets[0].recv(), timeout=0.6)
    assert len(timed.gateway._timed) == 0  # the links that left are forgotten


async def test_a_command_the_station_does_not_answer_times_out(timed: InProcess) -> None:
    station_id = _station_id()
    async with timed.station(station_id) as ws:
        reset = await timed.command(station_id, "Reset", {"type": "Soft"})
        assert json.loads(await ws.recv())[2] == "Reset"  # and never answered
        completed = await asyncio.wait_for(timed.outcome(reset), timeout=5)
        assert completed.outcome == Outcome.TIMED_OUT
