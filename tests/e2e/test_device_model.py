"""The device model end to end: a simulated 2.0.1 station boots through a real gateway, the
sessions worker asks it for its FullInventory by itself, the report comes in parts, and the API
shows the station's variables; a 1.6 station's configuration keys the same way."""

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from contracts.events import EventType
from contracts.payloads.station_reports import ReportReceived
from contracts.topics import Topic
from tests.support.apis import Client, serving_sessions_api
from tests.support.gateway import GatewayProcess, TopicTail, for_station
from tests.support.sessions import SessionsWorker
from tests.support.simulator import simulated
from tests.support.waiting import found
from tests.unit.services.sessions.api.test_openapi import response as matches_spec


@pytest_asyncio.fixture
async def client(kafka_bootstrap: str) -> AsyncIterator[Client]:
    async with serving_sessions_api(kafka_bootstrap, "device-model") as http:
        yield http


async def _device_model(client: Client, station_id: str) -> dict[str, Any] | None:
    answer = await client.get(f"/stations/{station_id}/device-model")
    if answer.status != 200:
        return None
    document: dict[str, Any] = await answer.json()
    return document if document["inventory_at"] is not None else None


async def _shown(client: Client, station_id: str) -> dict[str, Any]:
    """The station's device model once the API has its whole inventory."""
    return await found(
        lambda: _device_model(client, station_id), f"the API shows {station_id}'s inventory", 45
    )


async def test_a_201_station_is_asked_for_its_inventory_and_the_api_shows_it(
    kafka_bootstrap: str,
    gateway: GatewayProcess,
    sessions: SessionsWorker,
    client: Client,
    tmp_path: Path,
) -> None:
    prefix = f"DM{uuid.uuid4().hex[:6]}"
    station_id = f"{prefix}00001"
    log = tmp_path / "simulator.log"
    async with TopicTail(kafka_bootstrap, Topic.STATIONS) as tail:
        with simulated(gateway, prefix, log, version="2.0.1", connectors=2):
            found = await _shown(client, station_id)
            reports = for_station(station_id, EventType.REPORT_RECEIVED)
            first = await tail.next(reports, 10)
            with pytest.raises(TimeoutError):  # one report, however many parts it came in
                await tail.next(reports, 2)
    variables = {(v["component"], v["evse_id"], v["variable"]): v for v in found["variables"]}
    heartbeat = variables["OCPPCommCtrlr", None, "HeartbeatInterval"]["attributes"][0]
    assert heartbeat["value"].isdigit()
    assert {("EVSE", 1, "AvailabilityState"), ("EVSE", 2, "AvailabilityState")} <= set(variables)
    assert variables["Connector", 2, "ConnectorType"]["connector_id"] == 1
    password = variables["SecurityCtrlr", None, "BasicAuthPassword"]["attributes"][0]
    assert (password["mutability"], password["value"]) == ("WriteOnly", None)
    matches_spec("/stations/{station_id}/device-model", "get", 200, found)
    report = ReportReceived.parse(first.envelope)
    assert report is not None
    assert report.parts > 1
    assert report.full_inventory
    assert report.requested is not None
    assert report.requested["action"] == "GetBaseReport"
    kept = await client.get(f"/stations/{station_id}/reports/device_model")
    assert kept.status == 200
    assert (await kept.json())["parts"] == report.parts


async def test_a_16_stations_configuration_keys_are_its_device_model(
    kafka_bootstrap: str,
    gateway: GatewayProcess,
    sessions: SessionsWorker,
    client: Client,
    tmp_path: Path,
) -> None:
    prefix = f"DC{uuid.uuid4().hex[:6]}"
    station_id = f"{prefix}00001"
    with simulated(gateway, prefix, tmp_path / "simulator.log", version="1.6", connectors=2):
        found = await _shown(client, station_id)
    keys = {v["variable"]: v["attributes"][0] for v in found["variables"]}
    assert {v["component"] for v in found["variables"]} == {"OCPP16Config"}
    assert keys["NumberOfConnectors"] == {
        "type": "Actual",
        "value": "2",
        "mutability": "ReadOnly",
        "persistent": False,
        "constant": False,
    }
    assert keys["HeartbeatInterval"]["mutability"] == "ReadWrite"
