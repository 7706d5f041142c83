"""The sessions API end to end: a real gateway process, the real broker, ocpp-library stations."""

import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer
from aiokafka import AIOKafkaProducer
from ocpp.routing import on
from ocpp.v16 import ChargePoint as ChargePoint16
from ocpp.v16 import call_result as result16
from ocpp.v16.enums import RemoteStartStopStatus, ResetStatus
from ocpp.v201 import ChargePoint as ChargePoint201
from ocpp.v201 import call_result as result201
from ocpp.v201.enums import RequestStartStopStatusEnumType
from prometheus_client import CollectorRegistry
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from contracts.codec import encode
from contracts.envelope import Envelope
from contracts.events import EventType
from contracts.payloads.api_keys import Role
from contracts.payloads.commands import CommandCompleted, OperatorCommand, StationCommand
from contracts.payloads.presence import GatewayAlive, Presence
from contracts.topics import Topic
from ocppj.versions import OcppVersion
from runtime.api_keys import issue_key
from services.sessions.api.app import SessionsApi
from services.sessions.api.http import build_app
from services.sessions.api.settings import Settings
from tests.support.gateway import GatewayProcess, TopicTail, for_station, running_gateway
from tests.support.waiting import eventually
from tests.unit.services.sessions.api.test_openapi import response as matches_spec

pytestmark = pytest.mark.asyncio(loop_scope="module")

V16 = [Subprotocol("ocpp1.6")]
V201 = [Subprotocol("ocpp2.0.1")]
Client = TestClient[Any, Any]


# ocpp's ChargePoint and its `on` decorator are untyped: hence the ignores on the handlers.
class Station16(ChargePoint16):
    remote_starts: tuple[dict[str, Any], ...] = ()
    resets = 0

    def __init__(self, station_id: str, connection: ClientConnection) -> None:
        super().__init__(station_id, connection)  # type: ignore[no-untyped-call]

    @on("RemoteStartTransaction")  # type: ignore[untyped-decorator]
    async def on_remote_start(self, **request: Any) -> result16.RemoteStartTransaction:
        self.remote_starts += (request,)
        return result16.RemoteStartTransaction(status=RemoteStartStopStatus.accepted)

    @on("Reset")  # type: ignore[untyped-decorator]
    async def on_reset(self, **_: Any) -> result16.Reset:
        self.resets += 1
        return result16.Reset(status=ResetStatus.accepted)


class Station201(ChargePoint201):
    start_requests: tuple[dict[str, Any], ...] = ()

    def __init__(self, station_id: str, connection: ClientConnection) -> None:
        super().__init__(station_id, connection)  # type: ignore[no-untyped-call]

    @on("RequestStartTransaction")  # type: ignore[untyped-decorator]
    async def on_request_start(self, **request: Any) -> result201.RequestStartTransaction:
        self.start_requests += (request,)
        return result201.RequestStartTransaction(
            status=RequestStartStopStatusEnumType.accepted, transaction_id="tx-1"
        )


def _serve(station: Any) -> asyncio.Task[None]:
    """Run an ocpp-library station's receive loop (an untyped coroutine)."""
    return asyncio.create_task(station.start())


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def gateway(
    kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[GatewayProcess]:
    tmp_path: Path = tmp_path_factory.mktemp("gateway")
    async with running_gateway(kafka_bootstrap, tmp_path, "--security-profile=0") as process:
        yield process


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def api(kafka_bootstrap: str) -> AsyncIterator[SessionsApi]:
    settings = Settings(
        bootstrap_servers=kafka_bootstrap,
        commands_group=f"test-sessions-api-{uuid.uuid4().hex[:8]}",
        commands_offset_reset="latest",
        connect_timeout_s=10,
        reroute_wait_s=1.0,
    )
    service = SessionsApi(settings, CollectorRegistry())
    try:
        await service.start()
        await eventually(lambda: service.readiness()[0], "the API is ready")
        yield service
    finally:
        await service.stop()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def operator_key(kafka_bootstrap: str, api: SessionsApi) -> str:
    """A key issued on api.keys.v1, once the API has read it."""
    name = f"test-operator-{uuid.uuid4().hex[:8]}"
    key = await issue_key(kafka_bootstrap, name, Role.OPERATOR)
    await eventually(lambda: api.keys.authenticate(key) is not None, "the API knows the key")
    return key


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def client(api: SessionsApi, operator_key: str) -> AsyncIterator[Client]:
    server = TestServer(build_app(api), host="127.0.0.1", port=0)
    async with TestClient(server, headers={"Authorization": f"Bearer {operator_key}"}) as http:
        yield http


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def producer(kafka_bootstrap: str) -> AsyncIterator[AIOKafkaProducer]:
    kafka = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, enable_idempotence=True)
    await kafka.start()
    try:
        yield kafka
    finally:
        await kafka.stop()


def _station_id() -> str:
    return f"API-{uuid.uuid4().hex[:10]}"


async def _command(
    client: Client, station_id: str, command: str, body: dict[str, Any]
) -> tuple[int, dict[str, Any]]:
    async with client.post(f"/stations/{station_id}/commands/{command}", json=body) as answer:
        document: dict[str, Any] = await answer.json()
        return answer.status, document


async def test_remote_start_reaches_a_16_station(
    gateway: GatewayProcess, api: SessionsApi, client: Client
) -> None:
    station_id = _station_id()
    async with connect(f"{gateway.url}/{station_id}", subprotocols=V16) as ws:
        station = Station16(station_id, ws)
        task = _serve(station)
        await eventually(lambda: api.presence.online(station_id), "presence says online")
        body = {"id_token": "TAG-16", "evse_id": 1, "command_id": f"c-{station_id}"}
        status, outcome = await _command(client, station_id, "RemoteStart", body)
        assert status == 200, outcome
        assert outcome["outcome"] == "Answered"
        assert outcome["status"] == "Accepted"
        assert outcome["action"] == "RemoteStartTransaction"
        assert outcome["gateway"] == gateway.instance
        matches_spec("/stations/{station_id}/commands/{command}", "post", 200, outcome)
        assert station.remote_starts == ({"id_tag": "TAG-16", "connector_id": 1},)
        # The same command id again: the same outcome, and the station is not asked twice.
        again = await _command(client, station_id, "RemoteStart", body)
        assert again == (200, outcome)
        assert len(station.remote_starts) == 1
        async with client.get(f"/commands/c-{station_id}") as remembered:
            assert (await remembered.json())["outcome"] == "Answered"
        # The station document: online, at this gateway.
        async with client.get(f"/stations/{station_id}") as answer:
            document = await answer.json()
        assert document["online"] is True
        assert document["presence"]["gateway"] == gateway.instance
        matches_spec("/stations/{station_id}", "get", 200, document)
        task.cancel()


async def test_remote_start_reaches_a_201_station(
    gateway: GatewayProcess, api: SessionsApi, client: Client
) -> None:
    station_id = _station_id()
    async with connect(f"{gateway.url}/{station_id}", subprotocols=V201) as ws:
        station = Station201(station_id, ws)
        task = _serve(station)
        await eventually(lambda: api.presence.online(station_id), "presence says online")
        body = {"id_token": "TAG-201", "evse_id": 2, "timeout_s": 10}
        status, outcome = await _command(client, station_id, "RemoteStart", body)
        assert status == 200, outcome
        assert outcome["outcome"] == "Answered"
        assert outcome["action"] == "RequestStartTransaction"
        assert outcome["response"] == {"status": "Accepted", "transactionId": "tx-1"}
        [request] = station.start_requests
        assert request["id_token"] == {"id_token": "TAG-201", "type": "Central"}
        assert request["evse_id"] == 2
        assert 0 < request["remote_start_id"] < 2**31
        # A command this version does not have: 400, nothing sent.
        status, refused = await _command(client, station_id, "GetConfiguration", {})
        assert status == 400
        assert refused["error"] == "InvalidCommand"
        assert "use GetVariables" in refused["message"]
        task.cancel()


async def test_invalid_and_unknown(client: Client, api: SessionsApi) -> None:
    station_id = _station_id()
    status, missing = await _command(client, station_id, "Reset", {"type": "Soft"})
    assert status == 404
    assert missing["error"] == "StationNotFound"
    matches_spec("/stations/{station_id}/commands/{command}", "post", 404, missing)
    async with client.get(f"/stations/{station_id}") as answer:
        assert answer.status == 404
    async with client.post("/stations/x/commands/Reset", data="{not json") as answer:
        assert answer.status == 400
        assert "not JSON" in (await answer.json())["message"]


async def test_an_offline_station_gets_station_offline_at_once(
    kafka_bootstrap: str, gateway: GatewayProcess, api: SessionsApi, client: Client
) -> None:
    station_id = _station_id()
    async with connect(f"{gateway.url}/{station_id}", subprotocols=V16):
        await eventually(lambda: api.presence.online(station_id), "presence says online")
    await eventually(lambda: not api.presence.online(station_id), "presence says offline")
    async with TopicTail(kafka_bootstrap, Topic.COMMAND_RESULTS) as results:
        # Invalid input is refused before the station's state matters.
        status, refused = await _command(client, station_id, "Reset", {"type": "Sideways"})
        assert status == 400
        assert "type must be one of Hard, Soft; got 'Sideways'" in refused["message"]
        started = time.monotonic()
        status, outcome = await _command(client, station_id, "Reset", {"type": "Hard"})
        assert time.monotonic() - started < 1
        assert status == 409
        assert outcome["outcome"] == "StationOffline"
        assert outcome["action"] == "Reset"
        matches_spec("/stations/{station_id}/commands/{command}", "post", 409, outcome)
        published = await results.next(for_station(station_id, EventType.COMMAND_COMPLETED))
        assert published.envelope.payload["command_id"] == outcome["command_id"]
        assert published.envelope.payload["outcome"] == "StationOffline"


async def test_tokens_round_trip_through_kafka(
    kafka_bootstrap: str, api: SessionsApi, client: Client
) -> None:
    id_token = f"TK{uuid.uuid4().hex[:12].upper()}"
    definition = {"type": "ISO14443", "status": "Accepted", "expires_at": "2027-01-01T00:00:00Z"}
    async with TopicTail(kafka_bootstrap, Topic.TOKENS) as tokens:
        async with client.put(f"/tokens/{id_token}", json=definition) as answer:
            assert answer.status == 201
            assert answer.headers["Location"] == f"/tokens/{id_token}"
        published = await tokens.next(lambda e: e.key == id_token)
        assert published.envelope.event_type == EventType.TOKEN_DEFINED
        assert published.envelope.payload["expires_at"] == datetime(2027, 1, 1, tzinfo=UTC)
    async with client.get(f"/tokens/{id_token}") as answer:  # read-your-writes
        token = await answer.json()
    assert token == {
        **definition,
        "id_token": id_token,
        "expires_at": "2027-01-01T00:00:00.000Z",
        "group_id": None,
    }
    matches_spec("/tokens/{id_token}", "get", 200, token)
    async with client.put(
        f"/tokens/{id_token}", json={**definition, "status": "Blocked"}
    ) as answer:
        assert answer.status == 200
    async with client.get("/tokens", params={"status": "Blocked", "limit": "1000"}) as answer:
        assert id_token in [t["id_token"] for t in (await answer.json())["items"]]
    async with client.put(
        f"/tokens/{id_token}", json={"type": "RFID", "status": "Accepted"}
    ) as answer:
        assert answer.status == 400
        assert "type must be one of" in (await answer.json())["message"]
    async with client.delete(f"/tokens/{id_token}") as answer:
        assert answer.status == 204
    async with client.get(f"/tokens/{id_token}") as answer:
        assert answer.status == 404
    async with client.delete(f"/tokens/{id_token}") as answer:
        assert answer.status == 404


async def test_an_operator_command_on_the_topic_gets_an_outcome(
    kafka_bootstrap: str,
    gateway: GatewayProcess,
    api: SessionsApi,
    producer: AIOKafkaProducer,
) -> None:
    station_id = _station_id()

    async def operator_command(command_id: str, command: str, arguments: dict[str, Any]) -> None:
        envelope = OperatorCommand(
            command_id=command_id,
            station_id=station_id,
            command=command,
            arguments=arguments,
            deadline=datetime.now(UTC) + timedelta(seconds=20),
        ).envelope()
        await producer.send_and_wait(Topic.COMMANDS, encode(envelope), key=station_id.encode())

    async with (
        TopicTail(kafka_bootstrap, Topic.COMMAND_RESULTS) as results,
        connect(f"{gateway.url}/{station_id}", subprotocols=V16) as ws,
    ):
        station = Station16(station_id, ws)
        task = _serve(station)
        await eventually(lambda: api.presence.online(station_id), "presence says online")
        await operator_command(f"op-1-{station_id}", "Reset", {"type": "Soft"})
        done = await results.next(for_station(station_id, EventType.COMMAND_COMPLETED))
        assert done.envelope.payload["command_id"] == f"op-1-{station_id}"
        assert done.envelope.payload["outcome"] == "Answered"
        assert done.envelope.payload["status"] == "Accepted"
        assert station.resets == 1
        await operator_command(f"op-2-{station_id}", "Reset", {"type": "Sideways"})
        invalid = await results.next(for_station(station_id, EventType.COMMAND_COMPLETED))
        assert invalid.envelope.payload["command_id"] == f"op-2-{station_id}"
        assert invalid.envelope.payload["outcome"] == "Invalid"
        assert "type must be one of Hard, Soft" in invalid.envelope.payload["detail"]
        assert station.resets == 1
        task.cancel()


async def test_not_here_is_rerouted_once_presence_moves(
    kafka_bootstrap: str,
    gateway: GatewayProcess,
    api: SessionsApi,
    client: Client,
    producer: AIOKafkaProducer,
) -> None:
    """Stale presence: the test plays a gateway 0 that answers NotHere (reference/kafka.md §4.3)."""
    station_id = _station_id()

    async def presence(
        gateway_k: int | None, connection_id: str, boot: str, *, reasserted: bool = False
    ) -> None:
        envelope = Presence(
            station_id=station_id,
            connected=True,
            gateway=gateway_k,
            connection_id=connection_id,
            ocpp_version=OcppVersion.V16,
            gateway_boot=boot,
            connected_at=datetime.now(UTC),
            reasserted=reasserted,
        ).envelope()
        await producer.send_and_wait(Topic.PRESENCE, encode(envelope), key=station_id.encode())

    async def not_here(record: Envelope) -> None:
        command = StationCommand.parse(record)
        outcome = CommandCompleted(
            command_id=command.command_id,
            station_id=station_id,
            action=command.action,
            outcome="NotHere",
            gateway=0,
            detail="gateway 0",
        ).envelope(at=datetime.now(UTC), causation_id=record.event_id)
        await producer.send_and_wait(
            Topic.COMMAND_RESULTS, encode(outcome), key=station_id.encode()
        )

    def at_gateway(k: int) -> Callable[[], bool]:
        return lambda: (entry := api.presence.get(station_id)) is not None and entry.gateway == k

    async with (
        TopicTail(kafka_bootstrap, Topic.GATEWAY_INBOX) as inbox,
        connect(f"{gateway.url}/{station_id}", subprotocols=V16) as ws,
    ):
        station = Station16(station_id, ws)
        task = _serve(station)
        await eventually(lambda: api.presence.online(station_id), "presence says online")
        live = api.presence.get(station_id)
        assert live is not None
        # Gateway 0 is alive with that boot (`make run` runs a gateway 0 on the same broker:
        # its clean stop would otherwise make every connection through gateway 0 offline).
        alive = GatewayAlive(gateway=0, boot="another-boot", at=datetime.now(UTC), lease_s=300)
        await producer.send_and_wait(
            Topic.PRESENCE, encode(alive.envelope()), key=alive.envelope().key.encode()
        )
        # Written as a re-assertion: a new connection would make the real gateway close the
        # station's socket (the newest connection wins across gateways).
        await presence(0, "stale", "another-boot", reasserted=True)
        await eventually(at_gateway(0), "presence names gateway 0")

        # Presence does not move: NotHere stands (503) after reroute_wait_s.
        stuck = asyncio.create_task(_command(client, station_id, "Reset", {"type": "Soft"}))
        sent = await inbox.next(for_station(station_id, EventType.STATION_COMMAND))
        await not_here(sent.envelope)
        status, outcome = await stuck
        assert (status, outcome["outcome"]) == (503, "NotHere")
        assert station.resets == 0

        # Presence moves back to the live connection: the second hop reaches the station.
        moving = asyncio.create_task(_command(client, station_id, "Reset", {"type": "Hard"}))
        sent = await inbox.next(for_station(station_id, EventType.STATION_COMMAND))
        await not_here(sent.envelope)
        await presence(live.gateway, live.connection_id, live.gateway_boot)  # re-assertion
        status, outcome = await moving
        assert status == 200, outcome
        assert outcome["outcome"] == "Answered"
        assert outcome["gateway"] == gateway.instance
        assert station.resets == 1
        task.cancel()


def _keys_cli(kafka_bootstrap: str, *argv: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "services.sessions.api", "keys", *argv]
    environment = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap}
    return subprocess.run(command, capture_output=True, text=True, env=environment, timeout=60)


async def test_keys_made_and_revoked_by_the_command_line(
    kafka_bootstrap: str, api: SessionsApi, client: Client
) -> None:
    name = f"cli-reader-{uuid.uuid4().hex[:8]}"
    created = await asyncio.to_thread(_keys_cli, kafka_bootstrap, "create", name, "--role", "read")
    assert created.returncode == 0, created.stderr
    key = created.stdout.splitlines()[-1]  # printed once, as the last line
    assert key.startswith("cbk_")
    reader = {"Authorization": f"Bearer {key}"}
    await eventually(lambda: api.keys.authenticate(key) is not None, "the API reads the key")
    async with client.get("/stations", headers=reader) as answer:
        assert answer.status == 200
    async with client.post("/stations/CS-1/commands/Reset", json={}, headers=reader) as answer:
        assert answer.status == 403
        assert (await answer.json())["error"] == "Forbidden"
    listed = await asyncio.to_thread(_keys_cli, kafka_bootstrap, "list")
    assert listed.returncode == 0, listed.stderr
    assert f"{name}\tread\t" in listed.stdout
    assert key not in listed.stdout
    revoked = await asyncio.to_thread(_keys_cli, kafka_bootstrap, "revoke", name)
    assert revoked.returncode == 0, revoked.stderr
    started = time.monotonic()
    await eventually(lambda: api.keys.authenticate(key) is None, "revoked", limit_s=5)
    assert time.monotonic() - started < 5
    async with client.get("/stations", headers=reader) as answer:
        assert answer.status == 401
    bad = await asyncio.to_thread(
        _keys_cli, kafka_bootstrap, "create", "no spaces", "--role", "read"
    )
    assert bad.returncode == 2
    assert "key name" in bad.stderr


async def test_without_a_key_nothing_but_operations(client: Client) -> None:
    async with client.get("/stations", headers={"Authorization": ""}) as answer:
        assert answer.status == 401
    async with client.get("/readyz", headers={"Authorization": ""}) as answer:
        assert answer.status == 200
