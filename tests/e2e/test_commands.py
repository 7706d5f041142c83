"""Commands exactly once toward the station, through real gateways, restarts and moves.

The durable command ledger (commands.ledger.v1) is shared by every gateway and API instance;
these tests count the CALLs each station receives and the outcomes on command-results.v1.
"""

import asyncio
import contextlib
import json
import signal
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest_asyncio
from aiokafka import AIOKafkaProducer
from prometheus_client import CollectorRegistry
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from contracts.codec import encode
from contracts.envelope import Envelope
from contracts.events import EventType
from contracts.payloads.commands import CommandCompleted, StationCommand
from contracts.topics import Topic
from services.sessions.api.app import SessionsApi
from services.sessions.api.settings import Settings
from tests.support.gateway import GatewayProcess, TopicTail, running_gateway
from tests.support.waiting import eventually

V16 = [Subprotocol("ocpp1.6")]
GATEWAY_ARGS = ("--security-profile=0", "--call-timeout=4", "--heartbeat-interval=1", "--lease=3")
RESET = {"type": "Soft"}


class Station:
    """A 1.6 station on a raw socket that counts the CALLs it gets; it answers them or not."""

    def __init__(self, station_id: str, *, answers: bool = True, delay_s: float = 0) -> None:
        self.station_id = station_id
        self.answers = answers
        self.delay_s = delay_s
        self.calls: Counter[str] = Counter()
        self._tasks: list[asyncio.Task[None]] = []
        self.ws: ClientConnection | None = None

    async def connect(self, gateway: GatewayProcess) -> ClientConnection:
        ws = await connect(f"{gateway.url}/{self.station_id}", subprotocols=V16)
        self.ws = ws
        self._tasks.append(asyncio.create_task(self._serve(ws)))
        return ws

    async def _serve(self, ws: ClientConnection) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for text in ws:
                frame = json.loads(text)
                if frame[0] != 2:
                    continue
                self.calls[frame[2]] += 1
                if self.answers:
                    await asyncio.sleep(self.delay_s)
                    await ws.send(json.dumps([3, frame[1], {"status": "Accepted"}]))

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        if self.ws is not None:
            await self.ws.close()


async def _api(bootstrap: str) -> SessionsApi:
    settings = Settings(
        bootstrap_servers=bootstrap,
        commands_group=f"test-commands-{uuid.uuid4().hex[:8]}",
        commands_offset_reset="latest",
        connect_timeout_s=10,
        reroute_wait_s=2.0,
    )
    api = SessionsApi(settings, CollectorRegistry())
    await api.start()
    await eventually(lambda: api.readiness()[0], "the API is ready", 30)
    return api


@pytest_asyncio.fixture
async def api(kafka_bootstrap: str) -> AsyncIterator[SessionsApi]:
    service = await _api(kafka_bootstrap)
    try:
        yield service
    finally:
        await service.stop()


@pytest_asyncio.fixture
async def producer(kafka_bootstrap: str) -> AsyncIterator[AIOKafkaProducer]:
    kafka = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, enable_idempotence=True)
    await kafka.start()
    try:
        yield kafka
    finally:
        await kafka.stop()


def _at(api: SessionsApi, station_id: str, gateway: GatewayProcess) -> Callable[[], bool]:
    def check() -> bool:
        entry = api.presence.get(station_id)
        return (
            entry is not None
            and entry.gateway == gateway.instance
            and api.presence.online(station_id)
        )

    return check


async def _outcomes(tail: TopicTail, command_id: str, settle_s: float = 2) -> list[Envelope]:
    """Every CommandCompleted of ``command_id`` that arrives until none came for ``settle_s``."""
    found: list[Envelope] = []
    with contextlib.suppress(TimeoutError):
        while True:
            received = await tail.next(
                lambda e: (
                    e.event_type == EventType.COMMAND_COMPLETED
                    and e.payload.get("command_id") == command_id
                ),
                limit_s=settle_s,
            )
            found.append(received.envelope)
    return found


def _final_ids(outcomes: list[Envelope]) -> set[str]:
    """The event ids of the final outcomes: consumers keep one record per event id."""
    return {
        e.event_id
        for e in outcomes
        if (parsed := CommandCompleted.parse(e)) is not None and parsed.final
    }


async def _station_command(
    producer: AIOKafkaProducer, station_id: str, command_id: str, gateway: GatewayProcess
) -> None:
    """A retry written straight to a gateway's inbox, as any service may send it."""
    envelope = StationCommand(
        command_id=command_id,
        station_id=station_id,
        action="Reset",
        payload=RESET,
        deadline=datetime.now(UTC) + timedelta(seconds=20),
    ).envelope()
    await producer.send_and_wait(
        Topic.GATEWAY_INBOX, encode(envelope), key=station_id.encode(), partition=gateway.instance
    )


async def test_a_retry_after_the_station_moved_gets_the_first_outcome_and_no_second_call(
    kafka_bootstrap: str, tmp_path: Path, api: SessionsApi, producer: AIOKafkaProducer
) -> None:
    station = Station(f"CMD-{uuid.uuid4().hex[:8]}")
    command_id = f"move-{uuid.uuid4().hex[:8]}"
    async with (
        running_gateway(kafka_bootstrap, tmp_path, *GATEWAY_ARGS) as zero,
        running_gateway(kafka_bootstrap, tmp_path, *GATEWAY_ARGS) as one,
        TopicTail(kafka_bootstrap, Topic.COMMAND_RESULTS) as results,
    ):
        await station.connect(one)
        await eventually(_at(api, station.station_id, one), "the station at gateway one")
        first = await api.router.run_command(
            station.station_id, "Reset", RESET, command_id=command_id, timeout_s=10
        )
        assert (first.outcome, first.status, first.gateway) == (
            "Answered",
            "Accepted",
            one.instance,
        )
        await station.connect(zero)  # gateway one closes the old socket
        await eventually(_at(api, station.station_id, zero), "the station at gateway zero")
        # Through the API, and straight to the new gateway: the same outcome, no CALL.
        again = await api.router.run_command(
            station.station_id, "Reset", RESET, command_id=command_id, timeout_s=10
        )
        assert again == first
        await _station_command(producer, station.station_id, command_id, zero)
        # An API instance that starts now knows it too (the ledger, from the beginning).
        fresh = await _api(kafka_bootstrap)
        try:
            assert fresh.router.outcome(command_id) == first
        finally:
            await fresh.stop()
        outcomes = await _outcomes(results, command_id)
        assert len(outcomes) >= 2  # the first, and the gateway's copy of it for the retry
        assert len(_final_ids(outcomes)) == 1  # one outcome: the copy has its event id
        assert station.calls["Reset"] == 1
        await station.close()


async def test_a_gateway_killed_with_a_command_on_the_wire_never_sends_it_again(
    kafka_bootstrap: str, tmp_path: Path, api: SessionsApi, producer: AIOKafkaProducer
) -> None:
    station = Station(f"CMD-{uuid.uuid4().hex[:8]}", answers=False)
    command_id = f"kill-{uuid.uuid4().hex[:8]}"
    async with (
        running_gateway(kafka_bootstrap, tmp_path, *GATEWAY_ARGS) as gateway,
        TopicTail(kafka_bootstrap, Topic.COMMAND_RESULTS) as results,
    ):
        await station.connect(gateway)
        await eventually(_at(api, station.station_id, gateway), "the station online")
        waiting = asyncio.create_task(
            api.router.run_command(
                station.station_id, "Reset", RESET, command_id=command_id, timeout_s=6
            )
        )
        await eventually(lambda: station.calls["Reset"] == 1, "the CALL reached the station")
        assert gateway.process is not None
        gateway.process.send_signal(signal.SIGKILL)
        gateway.process.wait(timeout=10)
        gateway.start()  # the same ordinal, a new boot
        await gateway.wait_ready()
        await station.close()
        await station.connect(gateway)
        await _station_command(producer, station.station_id, command_id, gateway)  # a retry
        result = await waiting
        assert result.outcome == "TimedOut"
        outcomes = await _outcomes(results, command_id)
        assert len(_final_ids(outcomes)) == 1
        finals = {e.event_id: CommandCompleted.parse(e) for e in outcomes}
        assert {f.outcome for f in finals.values() if f is not None} == {"TimedOut"}
        assert station.calls["Reset"] == 1  # never sent again
        await station.close()


async def test_an_api_restarted_while_a_command_runs_waits_for_it_instead_of_sending_again(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    station = Station(f"CMD-{uuid.uuid4().hex[:8]}", delay_s=2)
    command_id = f"api-{uuid.uuid4().hex[:8]}"
    async with running_gateway(kafka_bootstrap, tmp_path, *GATEWAY_ARGS) as gateway:
        first_api = await _api(kafka_bootstrap)
        await station.connect(gateway)
        await eventually(_at(first_api, station.station_id, gateway), "the station online")
        running = asyncio.create_task(
            first_api.router.run_command(
                station.station_id, "Reset", RESET, command_id=command_id, timeout_s=10
            )
        )
        await eventually(lambda: station.calls["Reset"] == 1, "the CALL reached the station")
        running.cancel()
        await first_api.stop()  # the API goes; the station still answers, 2 s later
        second_api = await _api(kafka_bootstrap)
        try:
            retried = await second_api.router.run_command(
                station.station_id, "Reset", RESET, command_id=command_id, timeout_s=10
            )
        finally:
            await second_api.stop()
        assert (retried.outcome, retried.status) == ("Answered", "Accepted")
        assert station.calls["Reset"] == 1
        await station.close()


async def test_a_caller_that_gives_up_still_gets_exactly_one_outcome_on_the_topic(
    kafka_bootstrap: str, tmp_path: Path, api: SessionsApi
) -> None:
    station = Station(f"CMD-{uuid.uuid4().hex[:8]}", answers=False)
    command_id = f"gave-up-{uuid.uuid4().hex[:8]}"
    async with (
        running_gateway(kafka_bootstrap, tmp_path, *GATEWAY_ARGS) as gateway,
        TopicTail(kafka_bootstrap, Topic.COMMAND_RESULTS) as results,
    ):
        await station.connect(gateway)
        await eventually(_at(api, station.station_id, gateway), "the station online")
        answer = await api.router.run_command(
            station.station_id, "Reset", RESET, command_id=command_id, timeout_s=1
        )
        assert answer.outcome == "TimedOut"  # the HTTP answer (504): the gateway still owns it
        assert "still owns the command" in answer.detail
        outcomes = await _outcomes(results, command_id, settle_s=6)  # call timeout: 4 s
        finals = [CommandCompleted.parse(e) for e in outcomes]
        assert [(f.outcome, f.detail) for f in finals if f is not None] == [
            ("TimedOut", "no answer within 4 s")
        ]
        assert api.router.outcome(command_id) is not None
        assert station.calls["Reset"] == 1
        await station.close()
