"""W3C trace context end to end: a station's CALL through a real gateway and a real sessions
worker, and an operator's command through the sessions API, each one trace in the record
headers (docs/tracing.md); with export on, the spans reach an OTLP/HTTP collector."""

import asyncio
import contextlib
import importlib
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from contracts.codec import encode
from contracts.events import EventType
from contracts.headers import Header
from contracts.payloads.commands import OperatorCommand
from contracts.topics import Topic
from contracts.trace import TraceParent, new_root, parse
from services.sessions.api.http import build_app
from tests.support.apis import Client, serving, sessions_api
from tests.support.gateway import GatewayProcess, Received, TopicTail, for_station, running_gateway
from tests.support.otlp import ReceivedSpan, collector
from tests.support.sessions import SessionsWorker, running_sessions
from tests.support.waiting import eventually

V16 = [Subprotocol("ocpp1.6")]
BOOT = {"chargePointVendor": "Trace", "chargePointModel": "E2E"}
STATE = "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"


class Station:
    """A 1.6 station on a raw socket: sends CALLs and answers every CALL with Accepted."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.calls: list[str] = []  # actions of the CALLs it received
        self._answers: dict[str, asyncio.Future[list[Any]]] = {}
        self._task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for text in self.ws:
                frame = json.loads(text)
                if frame[0] == 2:
                    self.calls.append(frame[2])
                    await self.ws.send(json.dumps([3, frame[1], {"status": "Accepted"}]))
                elif frame[1] in self._answers:
                    self._answers.pop(frame[1]).set_result(frame)

    async def call(self, action: str, payload: dict[str, Any]) -> list[Any]:
        unique_id = uuid.uuid4().hex[:12]
        answer = self._answers[unique_id] = asyncio.get_running_loop().create_future()
        await self.ws.send(json.dumps([2, unique_id, action, payload]))
        return await asyncio.wait_for(answer, 20)

    async def close(self) -> None:
        self._task.cancel()
        await self.ws.close()


@contextlib.asynccontextmanager
async def station(gateway: GatewayProcess, station_id: str) -> AsyncIterator[Station]:
    ws = await connect(f"{gateway.url}/{station_id}", subprotocols=V16)
    held = Station(ws)
    try:
        yield held
    finally:
        await held.close()


def _station_id() -> str:
    return f"TR-{uuid.uuid4().hex[:10]}"


def traceparent(received: Received) -> TraceParent:
    parent = parse(received.headers.get(Header.TRACEPARENT))
    assert parent is not None, received.headers
    return parent


async def test_a_station_call_is_one_trace_from_the_frame_to_its_reply_and_events(
    kafka_bootstrap: str, gateway: GatewayProcess, sessions: SessionsWorker
) -> None:
    """ocpp.inbound.v1 carries a new root (the gateway's span); the reply on the gateway inbox
    and the StationBooted on stations.v1 carry the same trace, each with the sessions worker's
    span for that record as parent."""
    sid = _station_id()
    async with (
        TopicTail(kafka_bootstrap, Topic.OCPP_INBOUND) as inbound,
        TopicTail(kafka_bootstrap, Topic.GATEWAY_INBOX) as inbox,
        TopicTail(kafka_bootstrap, Topic.STATIONS) as stations,
        station(gateway, sid) as cp,
    ):
        answer = await cp.call("BootNotification", BOOT)
        assert answer[0] == 3
        assert answer[2]["status"] == "Accepted"
        call = await inbound.next(for_station(sid, EventType.OCPP_CALL))
        reply = await inbox.next(for_station(sid, EventType.OCPP_REPLY))
        booted = await stations.next(for_station(sid, EventType.STATION_BOOTED))
        heartbeat = await cp.call("Heartbeat", {})  # answered by the gateway itself
        assert heartbeat[0] == 3
        beat = await inbound.next(lambda e: e.key == sid and e.payload.get("action") == "Heartbeat")
    root, replied, caused = traceparent(call), traceparent(reply), traceparent(booted)
    assert root.sampled  # --trace-sample-ratio defaults to 1
    assert replied.trace_id == caused.trace_id == root.trace_id
    assert replied.parent_id == caused.parent_id  # the worker's one span for the CALL ...
    assert replied.parent_id != root.parent_id  # ... a child of the gateway's
    assert replied.flags == root.flags
    assert Header.TRACESTATE not in call.headers  # nothing to pass on: none came in
    assert reply.headers[Header.CORRELATION_ID] == call.headers[Header.CORRELATION_ID]
    assert booted.envelope.causation_id == call.envelope.event_id
    assert traceparent(beat).trace_id != root.trace_id  # every CALL starts a trace of its own


async def test_a_command_over_http_carries_the_request_trace_to_the_station_and_its_outcome(
    kafka_bootstrap: str, gateway: GatewayProcess
) -> None:
    """The request's traceparent is the parent of the API's span for the command: the
    StationCommand on the inbox is its child, and the station's answer on ocpp.inbound.v1 and
    the CommandCompleted on command-results.v1 carry it on unchanged; tracestate travels too."""
    sid = _station_id()
    caller = new_root()
    api = sessions_api(kafka_bootstrap, "tracing")
    async with (
        serving(api, build_app, kafka_bootstrap, "tracing") as http,
        TopicTail(kafka_bootstrap, Topic.GATEWAY_INBOX) as inbox,
        TopicTail(kafka_bootstrap, Topic.OCPP_INBOUND) as inbound,
        TopicTail(kafka_bootstrap, Topic.COMMAND_RESULTS) as results,
        station(gateway, sid) as cp,
    ):
        await eventually(lambda: api.presence.online(sid), "presence says online")
        status, outcome = await _post_command(
            http, sid, {"traceparent": str(caller), "tracestate": STATE}
        )
        assert (status, outcome["outcome"], outcome["status"]) == (200, "Answered", "Accepted")
        assert cp.calls == ["Reset"]
        command = await inbox.next(for_station(sid, EventType.STATION_COMMAND))
        answer = await inbound.next(for_station(sid, EventType.OCPP_CALL_RESULT))
        result = await results.next(for_station(sid, EventType.COMMAND_COMPLETED))
    sent = traceparent(command)
    assert sent.trace_id == caller.trace_id
    assert sent.parent_id != caller.parent_id  # the API's span, a child of the caller's
    for carried in (answer, result):
        assert carried.headers[Header.TRACEPARENT] == str(sent)  # unchanged: no gateway span
        assert carried.headers[Header.TRACESTATE] == STATE
    assert command.headers[Header.TRACESTATE] == STATE


async def test_a_command_without_a_trace_starts_one_and_a_bad_one_is_no_trace(
    kafka_bootstrap: str, gateway: GatewayProcess
) -> None:
    """The API is where an operator's work enters: a request without a (valid) traceparent gets
    a new trace, and a malformed tracestate is not passed on without a valid traceparent."""
    sid = _station_id()
    api = sessions_api(kafka_bootstrap, "tracing")
    async with (
        serving(api, build_app, kafka_bootstrap, "tracing") as http,
        TopicTail(kafka_bootstrap, Topic.GATEWAY_INBOX) as inbox,
        station(gateway, sid),
    ):
        await eventually(lambda: api.presence.online(sid), "presence says online")
        bad = {"traceparent": "00-not-a-trace-01", "tracestate": STATE}
        status, _ = await _post_command(http, sid, bad)
        assert status == 200
        command = await inbox.next(for_station(sid, EventType.STATION_COMMAND))
    assert traceparent(command).sampled
    assert Header.TRACESTATE not in command.headers


async def test_an_operator_command_on_commands_v1_continues_its_record_trace(
    kafka_bootstrap: str, gateway: GatewayProcess
) -> None:
    """commands.v1 -> the API -> the gateway inbox -> the station -> command-results.v1."""
    sid = _station_id()
    caller = new_root()
    api = sessions_api(kafka_bootstrap, "tracing")
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, enable_idempotence=True)
    await producer.start()
    try:
        async with (
            serving(api, build_app, kafka_bootstrap, "tracing"),
            TopicTail(kafka_bootstrap, Topic.GATEWAY_INBOX) as inbox,
            TopicTail(kafka_bootstrap, Topic.COMMAND_RESULTS) as results,
            station(gateway, sid) as cp,
        ):
            await eventually(lambda: api.presence.online(sid), "presence says online")
            command_id = uuid.uuid4().hex
            operator = OperatorCommand(
                command_id=command_id,
                station_id=sid,
                command="Reset",
                arguments={"type": "Soft"},
                deadline=datetime.now(UTC) + timedelta(seconds=20),
            )
            await producer.send_and_wait(
                Topic.COMMANDS,
                encode(operator.envelope()),
                key=sid.encode(),
                headers=[(Header.TRACEPARENT.value, caller.encode())],
            )
            command = await inbox.next(for_station(sid, EventType.STATION_COMMAND))
            result = await results.next(
                lambda e: e.key == sid and e.payload.get("command_id") == command_id
            )
            assert cp.calls == ["Reset"]
    finally:
        await producer.stop()
    sent = traceparent(command)
    assert sent.trace_id == caller.trace_id
    assert sent.parent_id != caller.parent_id
    assert result.envelope.payload["outcome"] == "Answered"
    assert result.headers[Header.TRACEPARENT] == str(sent)
    assert Header.TRACESTATE not in result.headers


@pytest.mark.timeout(180)
async def test_with_export_on_the_gateway_and_the_worker_send_their_spans_by_otlp(
    kafka_bootstrap: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """OTEL_EXPORTER_OTLP_ENDPOINT set: the gateway's span for the CALL (the root) and the
    sessions worker's span for its record (its child, whose id is the reply's parent-id) arrive
    at the collector with the trace id of the record headers."""
    importlib.import_module("opentelemetry.sdk")  # the otel extra (make install): never a skip
    sid = _station_id()
    with collector() as otlp:
        for name, value in {
            "OTEL_EXPORTER_OTLP_ENDPOINT": otlp.url,
            "OTEL_BSP_SCHEDULE_DELAY": "100",  # ms: export soon after the span ends
        }.items():
            monkeypatch.setenv(name, value)
        monkeypatch.delenv("OTEL_SDK_DISABLED", raising=False)
        monkeypatch.delenv("OTEL_SERVICE_NAME", raising=False)
        async with (
            running_gateway(kafka_bootstrap, tmp_path, "--security-profile=0") as gateway,
            running_sessions(kafka_bootstrap, tmp_path / "sessions"),
            TopicTail(kafka_bootstrap, Topic.OCPP_INBOUND) as inbound,
            TopicTail(kafka_bootstrap, Topic.GATEWAY_INBOX) as inbox,
            station(gateway, sid) as cp,
        ):
            answer = await cp.call("BootNotification", BOOT)
            assert answer[0] == 3
            call = traceparent(await inbound.next(for_station(sid, EventType.OCPP_CALL)))
            reply = traceparent(await inbox.next(for_station(sid, EventType.OCPP_REPLY)))

            def ours(span: ReceivedSpan) -> bool:
                return span.trace_id == call.trace_id

            spans = await asyncio.to_thread(otlp.wait_for, ours, 2, 30)
    by_service = {span.service: span for span in spans}
    gateway_span = by_service["chargebus-gateway"]
    worker_span = by_service["chargebus-sessions"]
    assert (gateway_span.name, gateway_span.span_id, gateway_span.parent_id) == (
        "OCPP BootNotification",
        call.parent_id,
        None,
    )
    assert gateway_span.attributes["ocpp.station_id"] == sid
    assert worker_span.name == "sessions OcppCall BootNotification"
    assert (worker_span.parent_id, worker_span.span_id) == (call.parent_id, reply.parent_id)
    assert worker_span.attributes["messaging.destination.name"] == Topic.OCPP_INBOUND


async def _post_command(
    http: Client, station_id: str, headers: dict[str, str]
) -> tuple[int, dict[str, Any]]:
    body = {"type": "Soft", "timeout_s": 20}
    async with http.post(
        f"/stations/{station_id}/commands/Reset", json=body, headers=headers
    ) as answer:
        document: dict[str, Any] = await answer.json()
        return answer.status, document
