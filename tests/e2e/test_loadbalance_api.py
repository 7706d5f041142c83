"""The load balancing API on the real broker: a site written, read back by every reader of the
site registry (billing's tariff book too), its capacity changed, the site removed."""

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest

from contracts.events import EventType
from contracts.payloads.sites import CapacityChanged
from contracts.topics import Topic
from services.billing.tariff_follower import TariffFollower
from tests.support.apis import Client
from tests.support.gateway import TopicTail
from tests.support.loadbalance import loadbalance_api
from tests.support.waiting import eventually


@pytest.fixture
async def api(kafka_bootstrap: str) -> AsyncIterator[Client]:
    async with loadbalance_api(kafka_bootstrap) as client:
        yield client


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
