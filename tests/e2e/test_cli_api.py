"""`chargebus` against the running system: a real gateway and sessions worker, the sessions API
on a real port, an ocpp-library 1.6 station; tables, JSON, and exit codes that mean something."""

import asyncio
import json
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio
from websockets.asyncio.client import connect

from tests.e2e.test_sessions import call16
from tests.e2e.test_sessions_api import V16, Station16, _serve
from tests.support.apis import sessions_api_on_a_port
from tests.support.gateway import GatewayProcess
from tests.support.sessions import SessionsWorker

ROOT = Path(__file__).resolve().parents[2]


@pytest_asyncio.fixture
async def api(kafka_bootstrap: str) -> AsyncIterator[tuple[str, str]]:
    """(the API's URL, an operator key)."""
    async with sessions_api_on_a_port(kafka_bootstrap, "cli") as served:
        yield served


async def chargebus(url: str, key: str | None, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "CHARGEBUS_API_KEY"}
    if key is not None:
        env["CHARGEBUS_API_KEY"] = key
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "tools.cli", f"--api={url}", *argv],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


async def test_the_cli_lists_shows_and_commands_with_meaningful_exit_codes(
    gateway: GatewayProcess, sessions: SessionsWorker, api: tuple[str, str]
) -> None:
    url, key = api
    station_id = f"CLI-{uuid.uuid4().hex[:8]}"
    ws = await connect(f"{gateway.url}/{station_id}", subprotocols=V16)
    station = Station16(station_id, ws)
    task = _serve(station)
    try:
        await station.call(call16.BootNotification("CLI-Model", "CLI-Vendor"))  # type: ignore[no-untyped-call]
        shown = None
        for _ in range(100):
            shown = await chargebus(url, key, "station", station_id, "--json")
            # online comes from the gateway's presence, boot from the sessions worker's
            # stations.latest.v1: the API may have read one before the other.
            if shown.returncode == 0:
                seen = json.loads(shown.stdout)
                if seen["online"] and seen["boot"] is not None:
                    break
            await asyncio.sleep(0.2)
        assert shown is not None
        assert shown.returncode == 0, shown.stderr
        document = json.loads(shown.stdout)
        assert document["boot"]["vendor"] == "CLI-Vendor"
        assert document["alerts"] == []
        table = await chargebus(url, key, "station", station_id)
        assert table.stdout.splitlines()[0].split()[:3] == ["STATION", "ONLINE", "OCPP"]
        assert station_id in table.stdout
        reset = await chargebus(url, key, "command", station_id, "Reset", "type=Soft")
        assert reset.returncode == 0, reset.stderr
        assert reset.stdout.strip() == f"Reset to {station_id}: Answered Accepted"
        assert station.resets == 1
        invalid = await chargebus(url, key, "command", station_id, "Reset", "type=Sideways")
        assert invalid.returncode == 3
        assert "type must be one of" in invalid.stderr
    finally:
        task.cancel()
        await ws.close()
    offline = None
    for _ in range(100):  # the station closed its socket: once presence says so, it is offline
        offline = await chargebus(url, key, "command", station_id, "Reset", "type=Soft")
        if offline.returncode == 7:
            break
        await asyncio.sleep(0.2)
    assert offline is not None
    assert offline.returncode == 7, offline.stdout + offline.stderr
    assert offline.stdout.splitlines()[0] == f"Reset to {station_id}: StationOffline"
    nobody = await chargebus(
        url, key, "command", f"NOBODY-{uuid.uuid4().hex[:6]}", "Reset", "type=Soft"
    )
    assert nobody.returncode == 4  # never connected: not found
    unknown = await chargebus(url, key, "station", f"NOBODY-{uuid.uuid4().hex[:6]}")
    assert unknown.returncode == 4
    no_key = await chargebus(url, None, "stations")
    assert no_key.returncode == 5
    assert "Unauthorized" in no_key.stderr or "401" in no_key.stderr
    nothing_there = await chargebus("http://127.0.0.1:9", key, "stations")  # a closed port
    assert nothing_there.returncode == 6
    closed = "http://127.0.0.1:9"
    summary = await chargebus(
        url, key, f"--billing-api={closed}", f"--loadbalance-api={closed}", "summary"
    )
    assert summary.returncode == 6  # two of the APIs it reads are not there
    assert "online of" in summary.stdout
    assert "error      billing API" in summary.stdout
