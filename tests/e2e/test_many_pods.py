"""Issue 9's whole story on one broker of its own: 2 gateways, 2 sessions workers, 2 API
replicas and 50 charging stations, through moves, kills, an API restart and a broker restart.

At the end every transaction has exactly one SessionStarted and one SessionEnded (after
deduplication by event id), the command retried across an API restart has exactly one final
outcome and reached its station once, and the API's presence equals the stations' sockets.
"""

import asyncio
import signal
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from ocpp.routing import on
from ocpp.v16 import ChargePoint as ChargePoint16
from ocpp.v16 import call as call16
from ocpp.v16 import call_result as result16
from ocpp.v16.enums import ResetStatus
from prometheus_client import CollectorRegistry
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from contracts.events import EventType
from contracts.payloads.commands import CommandCompleted
from contracts.topics import Topic
from services.sessions.api.app import SessionsApi
from services.sessions.api.settings import Settings
from tests.e2e.test_sessions import Station, _define_token, _now
from tests.support.broker import OwnBroker, read_all
from tests.support.gateway import GatewayProcess, running_gateway
from tests.support.sessions import running_sessions
from tests.support.waiting import eventually

STATIONS = 50
MOVED = 10
FAST_LEASE = ("--security-profile=0", "--heartbeat-interval=1", "--lease=3")
V16 = [Subprotocol("ocpp1.6")]


class Charger(ChargePoint16):
    """Counts the Resets it is asked for (the command of this test)."""

    def __init__(self, station_id: str, connection: ClientConnection) -> None:
        super().__init__(station_id, connection)  # type: ignore[no-untyped-call]

    @on("Reset")  # type: ignore[untyped-decorator]
    async def on_reset(self, **_: Any) -> result16.Reset:
        type(self).resets_by_id[self.id] = type(self).resets_by_id.get(self.id, 0) + 1
        await asyncio.sleep(1.5)  # slow enough for the API to be restarted meanwhile
        return result16.Reset(status=ResetStatus.accepted)

    resets_by_id: dict[str, int] = {}  # noqa: RUF012 - shared across connections on purpose


async def _station(gateway: GatewayProcess, station_id: str) -> Station:
    ws = await connect(f"{gateway.url}/{station_id}", subprotocols=V16)
    return Station(Charger(station_id, ws), ws)


async def _api(bootstrap: str, group: str) -> SessionsApi:
    api = SessionsApi(
        Settings(bootstrap_servers=bootstrap, commands_group=group, connect_timeout_s=30),
        CollectorRegistry(),
    )
    await api.start()
    await eventually(lambda: api.readiness()[0], "an API replica is ready", 60)
    return api


def _not_at(api: SessionsApi, ids: list[str], gateway: GatewayProcess) -> list[str]:
    """The stations ``api`` does not show online at ``gateway``, each with what it shows."""
    wrong = []
    for station_id in ids:
        online, entry = api.presence.online(station_id), api.presence.get(station_id)
        if not (online and entry is not None and entry.gateway == gateway.instance):
            wrong.append(f"{station_id}: online={online} {entry!r}")
    return wrong


async def _until_all_at(
    api: SessionsApi, ids: list[str], gateway: GatewayProcess, what: str, limit_s: float = 60
) -> None:
    """Waits until ``api`` shows every station online at ``gateway``; on failure says which
    are not, the gateway's lease as the API last read it, and the gateway's log."""
    try:
        await eventually(lambda: not _not_at(api, ids, gateway), what, limit_s)
    except AssertionError as failed:
        lease = api.presence.lease(gateway.instance)
        detail = "\n".join(_not_at(api, ids, gateway))
        raise AssertionError(
            f"{failed}\n{detail}\nlease of gateway {gateway.instance}: {lease!r}\n"
            f"its log:\n{gateway.log()}"
        ) from None


async def test_two_of_everything_through_moves_kills_and_restarts(
    broker: OwnBroker, tmp_path: Path
) -> None:
    bootstrap = broker.bootstrap
    tag, group = f"TAG-{uuid.uuid4().hex[:8]}", f"chaos-{uuid.uuid4().hex[:6]}"
    await _define_token(bootstrap, tag)
    ids = [f"P{n:02d}-{uuid.uuid4().hex[:6]}" for n in range(STATIONS)]
    app_id = f"chaos-sessions-{uuid.uuid4().hex[:6]}"
    async with (
        running_gateway(bootstrap, tmp_path, *FAST_LEASE) as zero,
        running_gateway(bootstrap, tmp_path, *FAST_LEASE) as one,
        running_sessions(bootstrap, tmp_path / "worker-a", app_id) as worker_a,
        running_sessions(bootstrap, tmp_path / "worker-b", app_id, skip_history=False),
    ):
        replica_a, replica_b = await _api(bootstrap, group), await _api(bootstrap, group)
        stations: dict[str, Station] = {}
        try:  # a failure still closes the stations and the replicas' Kafka clients
            for station_id in ids:
                stations[station_id] = await _station(zero, station_id)
            transactions: dict[str, int] = {}
            for station_id, station in stations.items():
                await station.call(call16.BootNotification("M", "V"))
                started = await station.call(call16.StartTransaction(1, tag, 1000, _now()))
                transactions[station_id] = started.transaction_id
            await _until_all_at(replica_b, ids, zero, "every station at gateway zero")

            # Ten stations move to gateway one: gateway zero closes their old sockets.
            for station_id in ids[:MOVED]:
                old = stations[station_id]
                stations[station_id] = await _station(one, station_id)
                await asyncio.wait_for(old.ws.wait_closed(), 10)
                old.task.cancel()
            await _until_all_at(replica_b, ids[:MOVED], one, "the moved stations at gateway one")

            # A command through replica A; A is restarted while the station answers slowly; the
            # caller retries the same command id on the new A and on B.
            target, command_id = ids[0], f"chaos-{uuid.uuid4().hex[:8]}"
            first = asyncio.create_task(
                replica_a.router.run_command(
                    target, "Reset", {"type": "Soft"}, command_id=command_id, timeout_s=30
                )
            )
            await eventually(
                lambda: Charger.resets_by_id.get(target) == 1, "the Reset reached the station"
            )
            first.cancel()
            await replica_a.stop()
            replica_a = await _api(bootstrap, group)
            retried = await asyncio.gather(
                replica_a.router.run_command(
                    target, "Reset", {"type": "Soft"}, command_id=command_id, timeout_s=30
                ),
                replica_b.router.run_command(
                    target, "Reset", {"type": "Soft"}, command_id=command_id, timeout_s=30
                ),
            )
            assert [r.outcome for r in retried] == ["Answered", "Answered"]
            assert retried[0] == retried[1]

            # Gateway zero dies; its stations reconnect to gateway one.
            assert zero.process is not None
            zero.process.send_signal(signal.SIGKILL)
            await asyncio.to_thread(zero.process.wait, 30)
            for station_id in ids[MOVED:]:
                stations[station_id].task.cancel()
                stations[station_id] = await _station(one, station_id)
            await _until_all_at(replica_b, ids, one, "every station at gateway one")

            # One sessions worker dies; the other takes its partitions.
            worker_a.kill(signal.SIGKILL)

            # Meter values, then the broker stops and starts while the stations stop charging.
            for station_id, station in stations.items():
                meter = [{"timestamp": _now(30), "sampledValue": [{"value": "1600"}]}]
                tx = transactions[station_id]
                await station.call(call16.MeterValues(1, meter, transaction_id=tx))
            await asyncio.to_thread(broker.stop)

            async def stop_charging(station_id: str) -> None:
                tx = transactions[station_id]
                await stations[station_id].call(call16.StopTransaction(2000, _now(60), tx))

            stopping = [asyncio.create_task(stop_charging(s)) for s in ids]
            await asyncio.sleep(5)
            await asyncio.to_thread(broker.start)
            await asyncio.gather(*stopping)

            # Presence in the API equals the sockets: every station online at gateway one.
            await _until_all_at(replica_b, ids, one, "presence equals the sockets")
            await _until_all_at(replica_a, ids, one, "presence equals the sockets (A)")
        finally:
            for station in stations.values():
                await station.close()
            await replica_a.stop()
            await replica_b.stop()

    sessions = {e.event_id: e for e in await read_all(bootstrap, Topic.SESSIONS)}.values()
    kinds = Counter((e.payload.get("transaction_id"), e.event_type) for e in sessions)
    for station_id, tx in transactions.items():
        assert kinds[(str(tx), EventType.SESSION_STARTED)] == 1, station_id
        assert kinds[(str(tx), EventType.SESSION_ENDED)] == 1, station_id
    outcomes = {
        e.event_id: CommandCompleted.parse(e)
        for e in await read_all(bootstrap, Topic.COMMAND_RESULTS)
        if e.payload.get("command_id") == command_id
    }
    finals = [o for o in outcomes.values() if o is not None and o.final]
    assert [f.outcome for f in finals] == ["Answered"]
    assert Charger.resets_by_id[target] == 1
