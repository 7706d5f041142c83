"""Alerts end to end: a 2.0.1 station through a real gateway, the sessions worker and the alerts
worker (real processes); the API lists what they raised and resolved."""

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest_asyncio

from services.alerts.app import SOURCES as ALERTS_SOURCES
from tests.e2e.test_sessions import _station201, call201
from tests.support.apis import Client, serving_sessions_api
from tests.support.gateway import GatewayProcess, running_gateway
from tests.support.sessions import SessionsWorker, WorkerProcess, running_worker
from tests.support.waiting import found
from tests.unit.services.sessions.api.test_openapi import response as matches_spec

OFFLINE_AFTER_S = 2


@pytest_asyncio.fixture
async def gateway(kafka_bootstrap: str, tmp_path: Path) -> AsyncIterator[GatewayProcess]:
    """A gateway whose heartbeats (the alerts' clock) come every second."""
    async with running_gateway(
        kafka_bootstrap, tmp_path, "--security-profile=0", "--heartbeat-interval=1"
    ) as process:
        yield process


@pytest_asyncio.fixture
async def alerts(kafka_bootstrap: str, tmp_path: Path) -> AsyncIterator[WorkerProcess]:
    async with running_worker(
        "services.alerts",
        ALERTS_SOURCES,
        kafka_bootstrap,
        tmp_path / "alerts",
        ALERTS_OFFLINE_AFTER=str(OFFLINE_AFTER_S),
    ) as worker:
        yield worker


@pytest_asyncio.fixture
async def client(kafka_bootstrap: str) -> AsyncIterator[Client]:
    async with serving_sessions_api(kafka_bootstrap, "alerts") as http:
        yield http


async def _alerts(client: Client, **query: str) -> list[dict[str, Any]]:
    answer = await client.get("/alerts", params=query)
    assert answer.status == 200
    page: dict[str, Any] = await answer.json()
    matches_spec("/alerts", "get", 200, page)
    items: list[dict[str, Any]] = page["items"]
    return items


async def _until(
    client: Client, what: str, limit_s: float = 30, **query: str
) -> list[dict[str, Any]]:
    return await found(lambda: _alerts(client, **query), what, limit_s)


async def _open_until(client: Client, kinds: list[str], station_id: str) -> None:
    """Polls until the station's open alerts are of ``kinds``: a resolution reaches alerts.v1
    and the tombstone alerts.open.v1, read by two consumers, so one may be seen first."""

    async def matches() -> bool:
        return [a["kind"] for a in await _alerts(client, station_id=station_id)] == kinds

    await found(matches, f"the open alerts of {station_id} are {kinds}")


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


async def test_a_critical_security_event_and_a_fault_raise_alerts_that_resolve(
    gateway: GatewayProcess, sessions: SessionsWorker, alerts: WorkerProcess, client: Client
) -> None:
    station_id = f"AL-{uuid.uuid4().hex[:10]}"
    station = await _station201(gateway, station_id)
    try:
        boot = call201.BootNotification(
            charging_station={"model": "M", "vendor_name": "V", "serial_number": "SN-1"},
            reason="PowerUp",
        )
        await station.call(boot)
        await station.call(
            call201.SecurityEventNotification(
                type="TamperDetectionActivated", timestamp=_now(), tech_info="lid open"
            )
        )
        (tamper,) = await _until(client, "the security alert", station_id=station_id)
        assert (tamper["kind"], tamper["severity"]) == ("CriticalSecurityEvent", "critical")
        assert tamper["summary"] == "security event TamperDetectionActivated: lid open"
        status = call201.StatusNotification(
            timestamp=_now(), connector_status="Faulted", evse_id=1, connector_id=1
        )
        await station.call(status)
        faulted = await _until(
            client, "the fault alert", station_id=station_id, kind="ConnectorFaulted"
        )
        assert faulted[0]["alert_id"] == f"{station_id}/ConnectorFaulted/1/1"
        available = call201.StatusNotification(
            timestamp=_now(), connector_status="Available", evse_id=1, connector_id=1
        )
        await station.call(available)
        (resolved,) = await _until(
            client, "the fault resolved", station_id=station_id, state="resolved"
        )
        assert (resolved["kind"], resolved["resolution"]) == (
            "ConnectorFaulted",
            "status Available",
        )
        await _open_until(client, ["CriticalSecurityEvent"], station_id)
    finally:
        await station.close()


async def test_a_station_gone_longer_than_the_threshold_raises_offline_until_it_is_back(
    gateway: GatewayProcess, sessions: SessionsWorker, alerts: WorkerProcess, client: Client
) -> None:
    station_id = f"AO-{uuid.uuid4().hex[:10]}"
    boot = call201.BootNotification(
        charging_station={"model": "M", "vendor_name": "V"}, reason="PowerUp"
    )
    station = await _station201(gateway, station_id)
    await station.call(boot)
    await station.close()
    (offline,) = await _until(client, "the offline alert", station_id=station_id)
    assert offline["kind"] == "StationOffline"
    back = await _station201(gateway, station_id)
    try:
        await back.call(call201.Heartbeat())
        (resolved,) = await _until(client, "back online", station_id=station_id, state="resolved")
        assert resolved["resolution"] == "online again"
        await _open_until(client, [], station_id)
    finally:
        await back.close()
