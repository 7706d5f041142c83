"""The gateway process end to end: ocpp-library stations, the real broker, the test as service."""

import asyncio
import base64
import json
import signal
import ssl
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import websockets
from ocpp.exceptions import InternalError as OcppInternalError
from ocpp.routing import on
from ocpp.v16 import ChargePoint as ChargePoint16
from ocpp.v16 import call as call16
from ocpp.v16 import call_result as result16
from ocpp.v16.enums import ResetStatus
from ocpp.v201 import ChargePoint as ChargePoint201
from ocpp.v201 import call as call201
from ocpp.v201 import datatypes as types201
from ocpp.v201.enums import BootReasonEnumType
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus
from websockets.typing import Subprotocol

from contracts.events import EventType
from contracts.headers import Header
from contracts.topics import Topic
from gateway.credentials import publish_credential
from tests.support.certs import make_ca
from tests.support.gateway import (
    GatewayProcess,
    ServicePlayer,
    TopicTail,
    for_station,
    running_gateway,
)

V16 = [Subprotocol("ocpp1.6")]
V201 = [Subprotocol("ocpp2.0.1")]
BOOT_ACCEPTED = {"status": "Accepted", "currentTime": "2026-11-25T10:00:00Z", "interval": 300}


class Station16(ChargePoint16):
    resets = 0

    @on("Reset")
    async def on_reset(self, **_: Any) -> result16.Reset:
        self.resets += 1
        return result16.Reset(status=ResetStatus.accepted)


def _station_id() -> str:
    return f"T-{uuid.uuid4().hex[:10]}"


@pytest.fixture
async def gateway(kafka_bootstrap: str, tmp_path: Path) -> AsyncIterator[GatewayProcess]:
    async with running_gateway(
        kafka_bootstrap, tmp_path, "--security-profile=0", "--answer-timeout=2"
    ) as process:
        yield process


@pytest.fixture
async def inbound(kafka_bootstrap: str) -> AsyncIterator[TopicTail]:
    async with TopicTail(kafka_bootstrap, Topic.OCPP_INBOUND) as tail:
        yield tail


@pytest.fixture
async def service(kafka_bootstrap: str) -> AsyncIterator[ServicePlayer]:
    async with ServicePlayer(kafka_bootstrap) as player:
        yield player


async def _started(station: Any) -> asyncio.Task[None]:
    return asyncio.create_task(station.start())


async def test_boot_round_trip_16(
    gateway: GatewayProcess, inbound: TopicTail, service: ServicePlayer
) -> None:
    station_id = _station_id()
    async with connect(f"{gateway.url}/{station_id}", subprotocols=V16) as ws:
        assert ws.subprotocol == "ocpp1.6"
        station = Station16(station_id, ws)
        task = await _started(station)
        boot = asyncio.create_task(
            station.call(call16.BootNotification("Model-X", "Vendor-Y"), suppress=False)
        )
        call = await inbound.next(for_station(station_id, EventType.OCPP_CALL))
        assert call.envelope.payload["action"] == "BootNotification"
        assert call.envelope.payload["payload"] == {
            "chargePointModel": "Model-X",
            "chargePointVendor": "Vendor-Y",
        }
        assert call.envelope.payload["ocpp_version"] == "ocpp1.6"
        assert call.headers[Header.REPLY_PARTITION] == str(gateway.instance)
        await service.reply(call, BOOT_ACCEPTED)
        response = await asyncio.wait_for(boot, 10)
        assert response.status == "Accepted"
        assert response.interval == 300
        task.cancel()


async def test_boot_round_trip_201_and_local_heartbeat(
    gateway: GatewayProcess, inbound: TopicTail, service: ServicePlayer
) -> None:
    station_id = _station_id()
    async with connect(f"{gateway.url}/{station_id}", subprotocols=V201) as ws:
        station = ChargePoint201(station_id, ws)
        task = await _started(station)
        request = call201.BootNotification(
            charging_station=types201.ChargingStationType(model="M", vendor_name="V"),
            reason=BootReasonEnumType.power_up,
        )
        boot = asyncio.create_task(station.call(request, suppress=False))
        call = await inbound.next(for_station(station_id, EventType.OCPP_CALL))
        assert call.envelope.payload["payload"]["reason"] == "PowerUp"
        await service.reply(call, {**BOOT_ACCEPTED, "currentTime": "2026-11-25T10:00:00.000Z"})
        assert (await asyncio.wait_for(boot, 10)).status == "Accepted"
        # Heartbeat: answered by the gateway itself, and still published.
        heartbeat = await asyncio.wait_for(station.call(call201.Heartbeat(), suppress=False), 5)
        assert heartbeat.current_time.endswith("Z")
        published = await inbound.next(for_station(station_id, EventType.OCPP_CALL))
        assert published.envelope.payload["action"] == "Heartbeat"
        assert published.envelope.payload["answered_by_gateway"] is True
        task.cancel()


async def test_a_reply_that_never_comes_is_an_internal_error(
    gateway: GatewayProcess, inbound: TopicTail
) -> None:
    station_id = _station_id()
    async with connect(f"{gateway.url}/{station_id}", subprotocols=V16) as ws:
        station = Station16(station_id, ws)
        task = await _started(station)
        authorize = station.call(call16.Authorize(id_tag="TAG-1"), suppress=False)
        with pytest.raises(OcppInternalError):
            await asyncio.wait_for(authorize, 10)  # --answer-timeout=2
        await inbound.next(for_station(station_id, EventType.OCPP_CALL))
        task.cancel()
    status, metrics = await gateway.http_get("/metrics")
    assert status == 200
    assert 'chargebus_gateway_errors_total{code="InternalError"}' in metrics


async def test_a_command_reaches_the_station_once(
    kafka_bootstrap: str, gateway: GatewayProcess, service: ServicePlayer
) -> None:
    station_id = _station_id()
    async with (
        TopicTail(kafka_bootstrap, Topic.COMMAND_RESULTS) as results,
        TopicTail(kafka_bootstrap, Topic.OCPP_INBOUND) as inbound,
        connect(f"{gateway.url}/{station_id}", subprotocols=V16) as ws,
    ):
        station = Station16(station_id, ws)
        task = await _started(station)
        await asyncio.sleep(0.2)  # presence published, link registered
        command_id = await service.command(gateway.instance, station_id, "Reset", {"type": "Soft"})
        outcome = await results.next(for_station(station_id, EventType.COMMAND_COMPLETED))
        assert outcome.envelope.payload["command_id"] == command_id
        assert outcome.envelope.payload["outcome"] == "Answered"
        assert outcome.envelope.payload["status"] == "Accepted"
        audit = await inbound.next(for_station(station_id, EventType.OCPP_CALL_RESULT))
        assert audit.envelope.payload["command_id"] == command_id
        # The same command id again: the earlier outcome, and the station is not asked twice.
        await service.command(
            gateway.instance, station_id, "Reset", {"type": "Soft"}, command_id=command_id
        )
        again = await results.next(for_station(station_id, EventType.COMMAND_COMPLETED))
        assert again.envelope == outcome.envelope
        assert station.resets == 1
        # An invalid command is never sent.
        await service.command(gateway.instance, station_id, "Reset", {"type": "Sideways"})
        invalid = await results.next(for_station(station_id, EventType.COMMAND_COMPLETED))
        assert invalid.envelope.payload["outcome"] == "Invalid"
        assert station.resets == 1
        task.cancel()


async def test_commands_for_absent_stations_and_late_commands(
    kafka_bootstrap: str, gateway: GatewayProcess, service: ServicePlayer
) -> None:
    station_id = _station_id()
    async with TopicTail(kafka_bootstrap, Topic.COMMAND_RESULTS) as results:
        await service.command(gateway.instance, station_id, "Reset", {"type": "Hard"})
        never = await results.next(for_station(station_id))
        assert never.envelope.payload["outcome"] == "NotHere"
        async with connect(f"{gateway.url}/{station_id}", subprotocols=V16):
            pass
        await asyncio.sleep(0.3)
        await service.command(gateway.instance, station_id, "Reset", {"type": "Hard"})
        left = await results.next(for_station(station_id))
        assert left.envelope.payload["outcome"] == "StationOffline"
        past = datetime.now(UTC) - timedelta(seconds=1)
        await service.command(
            gateway.instance, station_id, "Reset", {"type": "Hard"}, deadline=past
        )
        expired = await results.next(for_station(station_id))
        assert expired.envelope.payload["outcome"] == "Expired"


@pytest.mark.parametrize(
    ("version", "frame", "expected"),
    [
        ("ocpp1.6", "not json", [4, "-1", "FormationViolation"]),
        ("ocpp2.0.1", "not json", [4, "-1", "RpcFrameworkError"]),
        ("ocpp1.6", '[2, "a1", "BootNotification", {}]', [4, "a1", "OccurenceConstraintViolation"]),
        (
            "ocpp2.0.1",
            '[2, "a1", "BootNotification", {"chargingStation": {"model": "M", "vendorName": "V"},'
            ' "reason": 5}]',
            [4, "a1", "TypeConstraintViolation"],
        ),
        ("ocpp2.0.1", '[2, "a2", "NoSuchAction", {}]', [4, "a2", "NotImplemented"]),
        ("ocpp2.0.1", '[9, "a3", "Heartbeat", {}]', [4, "a3", "MessageTypeNotSupported"]),
        (
            "ocpp2.0.1",
            '[2, "a4", "Heartbeat", {"x": "' + "y" * 70000 + '"}]',
            [4, "a4", "FormatViolation"],
        ),
        ("ocpp1.6", "[" * 50000, [4, "-1", "FormationViolation"]),
    ],
)
async def test_bad_frames_get_the_versions_callerror(
    gateway: GatewayProcess, version: str, frame: str, expected: list[Any]
) -> None:
    async with connect(
        f"{gateway.url}/{_station_id()}", subprotocols=[Subprotocol(version)], max_size=2**20
    ) as ws:
        await ws.send(frame)
        answer = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert answer[:3] == expected
        await ws.send('[2, "hb", "Heartbeat", {}]')  # the connection survives
        assert json.loads(await asyncio.wait_for(ws.recv(), 5))[:2] == [3, "hb"]


async def test_no_common_subprotocol_completes_then_closes(gateway: GatewayProcess) -> None:
    async with connect(
        f"{gateway.url}/{_station_id()}", subprotocols=[Subprotocol("ocpp1.2")]
    ) as ws:
        assert ws.subprotocol is None
        with pytest.raises(websockets.ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 5)
        assert ws.close_code == 1002


async def test_unknown_paths_are_404(gateway: GatewayProcess) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with connect(f"ws://127.0.0.1:{gateway.port}/other/X", subprotocols=V16):
            pass
    assert refused.value.response.status_code == 404


async def test_the_newest_connection_wins(kafka_bootstrap: str, gateway: GatewayProcess) -> None:
    station_id = _station_id()
    async with TopicTail(kafka_bootstrap, Topic.PRESENCE) as presence:
        first = await connect(f"{gateway.url}/{station_id}", subprotocols=V16)
        one = await presence.next(for_station(station_id, EventType.STATION_CONNECTED))
        second = await connect(f"{gateway.url}/{station_id}", subprotocols=V16)
        two = await presence.next(for_station(station_id, EventType.STATION_CONNECTED))
        assert one.envelope.payload["connection_id"] != two.envelope.payload["connection_id"]
        await asyncio.wait_for(first.wait_closed(), 5)
        assert first.close_code == 1000
        # The replaced connection writes no disconnect: the log's last word on the station stays
        # about the live connection, which is what compaction keeps (docs/gateway.md).
        with pytest.raises(TimeoutError):
            await presence.next(for_station(station_id), limit_s=2)
        await second.send('[2, "hb", "Heartbeat", {}]')
        assert json.loads(await asyncio.wait_for(second.recv(), 5))[:2] == [3, "hb"]
        await second.close()


async def test_sigterm_drains_in_flight_calls_then_closes_1001(
    kafka_bootstrap: str, tmp_path: Path, service: ServicePlayer
) -> None:
    station_id = _station_id()
    async with (
        running_gateway(kafka_bootstrap, tmp_path, "--security-profile=0") as gateway,
        TopicTail(kafka_bootstrap, Topic.OCPP_INBOUND) as inbound,
        TopicTail(kafka_bootstrap, Topic.PRESENCE) as presence,
        connect(f"{gateway.url}/{station_id}", subprotocols=V16) as ws,
    ):
        await ws.send(
            json.dumps(
                [
                    2,
                    "boot-1",
                    "BootNotification",
                    {"chargePointModel": "M", "chargePointVendor": "V"},
                ]
            )
        )
        call = await inbound.next(for_station(station_id, EventType.OCPP_CALL))
        assert gateway.process is not None
        gateway.process.send_signal(signal.SIGTERM)
        await asyncio.sleep(0.5)  # draining: the call is still in flight
        assert await gateway.http_status("/readyz") == 503
        await service.reply(call, BOOT_ACCEPTED)
        answer = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert answer == [3, "boot-1", BOOT_ACCEPTED]
        await asyncio.wait_for(ws.wait_closed(), 10)
        assert ws.close_code == 1001
        await presence.next(for_station(station_id, EventType.STATION_DISCONNECTED))
        assert gateway.process.wait(timeout=20) == 0


# -- security profiles ---------------------------------------------------------------------------


def _basic(station_id: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{station_id}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


async def _refused_status(url: str, **kwargs: Any) -> int:
    try:
        async with connect(url, subprotocols=V16, **kwargs):
            return 101
    except InvalidStatus as refused:
        return refused.response.status_code


async def test_profile_1_basic_auth(kafka_bootstrap: str, tmp_path: Path) -> None:
    station_id, password = _station_id(), "correct horse battery staple"
    await publish_credential(kafka_bootstrap, station_id, password.encode())
    async with running_gateway(kafka_bootstrap, tmp_path, "--security-profile=1") as gateway:
        url = f"{gateway.url}/{station_id}"
        async with connect(
            url, subprotocols=V16, additional_headers=_basic(station_id, password)
        ) as ws:
            await ws.send('[2, "hb", "Heartbeat", {}]')
            assert json.loads(await ws.recv())[:2] == [3, "hb"]
        assert (
            await _refused_status(url, additional_headers=_basic(station_id, "wrong password!!"))
            == 401
        )
        assert await _refused_status(url) == 401
        assert (
            await _refused_status(
                f"{gateway.url}/{_station_id()}", additional_headers=_basic("x", "y" * 16)
            )
            == 404
        )
        metrics = (await gateway.http_get("/metrics"))[1]
        assert 'chargebus_gateway_auth_failures_total{reason="bad-password"} 1.0' in metrics


async def test_profile_1_repeated_failures_are_rate_limited(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    station_id, password = _station_id(), "another long password"
    await publish_credential(kafka_bootstrap, station_id, password.encode())
    async with running_gateway(kafka_bootstrap, tmp_path, "--security-profile=1") as gateway:
        url = f"{gateway.url}/{station_id}"
        statuses = [
            await _refused_status(
                url, additional_headers=_basic(station_id, f"guess number {i:04}")
            )
            for i in range(12)
        ]
        assert statuses[0] == 401
        assert statuses[-1] == 429


async def test_profile_2_tls_and_basic_auth(kafka_bootstrap: str, tmp_path: Path) -> None:
    ca = make_ca(tmp_path / "ca")
    server = ca.issue_server(tmp_path / "server")
    station_id, password = _station_id(), "a password over TLS"
    await publish_credential(kafka_bootstrap, station_id, password.encode())
    async with running_gateway(
        kafka_bootstrap,
        tmp_path,
        "--security-profile=2",
        f"--tls-cert={server.cert}",
        f"--tls-key={server.key}",
    ) as gateway:
        client = ssl.create_default_context(cafile=str(ca.cert))
        url = f"{gateway.url}/{station_id}"
        async with connect(
            url,
            subprotocols=V16,
            ssl=client,
            additional_headers=_basic(station_id, password),
        ) as ws:
            await ws.send('[2, "hb", "Heartbeat", {}]')
            assert json.loads(await ws.recv())[:2] == [3, "hb"]
        assert (
            await _refused_status(
                url, ssl=client, additional_headers=_basic(station_id, "not it at all!!")
            )
            == 401
        )


@pytest.mark.parametrize("client_cn", ["identity", "serial"])
async def test_profile_3_a_boot_with_another_serial_number_closes_the_connection(
    kafka_bootstrap: str, tmp_path: Path, client_cn: str
) -> None:
    """B01.FR.12: the BootNotification's serial number must be the certificate's CN. With
    ``--client-cn serial`` the CN need not be the identity in the URL."""
    ca = make_ca(tmp_path / "ca")
    server = ca.issue_server(tmp_path / "server")
    station_id = _station_id()
    common_name = station_id if client_cn == "identity" else f"SN-{uuid.uuid4().hex[:8]}"
    station = ca.issue_client(tmp_path / "station", common_name=common_name)
    async with running_gateway(
        kafka_bootstrap,
        tmp_path,
        "--security-profile=3",
        f"--tls-cert={server.cert}",
        f"--tls-key={server.key}",
        f"--tls-client-ca={ca.cert}",
        f"--client-cn={client_cn}",
    ) as gateway:
        context = ssl.create_default_context(cafile=str(ca.cert))
        context.load_cert_chain(station.cert, station.key)
        url = f"{gateway.url}/{station_id}"

        def boot(serial: str) -> str:
            charging_station = {"model": "M", "vendorName": "V", "serialNumber": serial}
            payload = {"reason": "PowerUp", "chargingStation": charging_station}
            return json.dumps([2, "b1", "BootNotification", payload])

        async with connect(url, subprotocols=V201, ssl=context) as ws:
            await ws.send(boot("SOMEONE-ELSE"))
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 10)
            assert closed.value.rcvd is not None
            assert closed.value.rcvd.code == 1008
            assert "B01.FR.12" in closed.value.rcvd.reason
        async with connect(url, subprotocols=V201, ssl=context) as ws:
            await ws.send(boot(common_name))  # forwarded (no service answers here)
            await ws.send('[2, "hb", "Heartbeat", {}]')
            assert json.loads(await asyncio.wait_for(ws.recv(), 10))[:2] == [3, "hb"]


async def test_profile_3_mutual_tls(kafka_bootstrap: str, tmp_path: Path) -> None:
    ca = make_ca(tmp_path / "ca")
    server = ca.issue_server(tmp_path / "server")
    station_id = _station_id()
    good = ca.issue_client(tmp_path / "good", common_name=station_id)
    other_station = ca.issue_client(tmp_path / "other", common_name="SOMEONE-ELSE")
    rogue_ca = make_ca(tmp_path / "rogue", common_name="rogue CA")
    rogue = rogue_ca.issue_client(tmp_path / "rogue-client", common_name=station_id)
    async with running_gateway(
        kafka_bootstrap,
        tmp_path,
        "--security-profile=3",
        f"--tls-cert={server.cert}",
        f"--tls-key={server.key}",
        f"--tls-client-ca={ca.cert}",
    ) as gateway:
        url = f"{gateway.url}/{station_id}"

        def client(files: Any) -> ssl.SSLContext:
            context = ssl.create_default_context(cafile=str(ca.cert))
            context.load_cert_chain(files.cert, files.key)
            return context

        async with connect(url, subprotocols=V201, ssl=client(good)) as ws:
            await ws.send('[2, "hb", "Heartbeat", {}]')
            assert json.loads(await ws.recv())[:2] == [3, "hb"]
        assert await _refused_status(url, ssl=client(other_station)) == 403
        with pytest.raises((ssl.SSLError, ConnectionError, websockets.InvalidHandshake, OSError)):
            async with connect(url, subprotocols=V201, ssl=client(rogue)) as ws:
                await ws.recv()
