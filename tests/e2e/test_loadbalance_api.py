"""The load balancing API on the real broker: a site written, read back by every reader of the
site registry (billing's tariff book too), its capacity changed, the site removed."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client import CollectorRegistry

from contracts.events import EventType
from contracts.payloads.api_keys import Role
from contracts.payloads.sites import CapacityChanged
from contracts.topics import Topic
from runtime.api_keys import issue_key
from services.billing.tariff_follower import TariffFollower
from services.loadbalance.api.app import LoadbalanceApi
from services.loadbalance.api.http import build_app
from services.loadbalance.api.settings import Settings
from tests.support.gateway import TopicTail
from tests.support.waiting import eventually

Client = TestClient[Any, Any]


@pytest.fixture
async def api(kafka_bootstrap: str) -> AsyncIterator[Client]:
    service = LoadbalanceApi(Settings(bootstrap_servers=kafka_bootstrap), CollectorRegistry())
    await service.start()
    try:
        await eventually(lambda: service.readiness()[0], "the API is ready", 30)
        key = await issue_key(kafka_bootstrap, f"lb-{uuid.uuid4().hex[:8]}", Role.OPERATOR)
        await eventually(lambda: service.keys.authenticate(key) is not None, "the key is known")
        server = TestServer(build_app(service), host="127.0.0.1", port=0)
        async with TestClient(server, headers={"Authorization": f"Bearer {key}"}) as client:
            yield client
    finally:
        await service.stop()


async def test_a_site_is_written_read_by_billing_capacity_changed_and_removed(
    kafka_bootstrap: str, api: Client
) -> None:
    site_id = f"SITE-{uuid.uuid4().hex[:8]}"
    stations = [f"CS-{uuid.uuid4().hex[:6]}" for _ in range(2)]
    document = {"capacity_a": 32, "phases": 3, "stations": stations}
    async with api.put(f"/sites/{site_id}", json=document) as created:
        assert created.status == 201, await created.text()
        assert (await created.json())["document"] == document
    async with api.put(f"/sites/{site_id}", json=document) as replaced:
        assert replaced.status == 200
    other = {"capacity_a": 16, "stations": [stations[0]]}
    async with api.put(f"/sites/{site_id}-B", json=other) as conflict:
        assert conflict.status == 409
        assert (await conflict.json())["error"] == "StationInAnotherSite"
    billing = TariffFollower(kafka_bootstrap)  # billing reads the same registry
    await billing.start()
    try:
        await asyncio.wait_for(billing.ready.wait(), 30)
        await eventually(
            lambda: billing.book.site_of.get(stations[1]) == site_id, "billing knows the site", 30
        )
    finally:
        await billing.stop()
    async with TopicTail(kafka_bootstrap, Topic.GRID_CAPACITY) as capacities:
        async with api.post(f"/sites/{site_id}/capacity", json={"limit_a": 16}) as changed:
            assert changed.status == 202, await changed.text()
        record = await capacities.next(
            lambda e: e.event_type == EventType.CAPACITY_CHANGED and e.key == site_id, 30
        )
    change = CapacityChanged.parse(record.envelope)
    assert change is not None
    assert (change.limit_a, change.valid_until, change.source) == (16.0, None, "operator")
    async with api.delete(f"/sites/{site_id}") as deleted:
        assert deleted.status == 204
    async with api.get(f"/sites/{site_id}") as gone:
        assert gone.status == 404
