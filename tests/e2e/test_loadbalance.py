"""Load balancing end to end: ocpp-library 1.6 and 2.0.1 stations on one site -> gateway ->
sessions -> the load balancing worker (a real process) -> SetChargingProfile through the
command path -> the stations; a capacity drop on grid.capacity.v1 lowers what they accepted,
decreases first, and a station that disconnects is left at a safe default."""

import asyncio
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ocpp.v16 import call_result as _result16
from ocpp.v201 import call_result as _result201

from contracts.codec import encode
from contracts.payloads.sites import CapacityChanged, LimitsAllocated
from contracts.topics import Topic
from runtime.kafka import reliable_producer
from tests.e2e.test_sessions import (
    _define_token,
    _fresh_api,
    _now,
    _station16,
    _station201,
    call16,
    call201,
    transaction_event,
)
from tests.support.apis import Client
from tests.support.gateway import GatewayProcess, TopicTail
from tests.support.loadbalance import loadbalance_api, running_loadbalance
from tests.support.sessions import SessionsWorker
from tests.support.waiting import eventually

result16: Any = _result16
result201: Any = _result201
RATED_A = 32.0


@dataclass
class Fleet:
    """What the stations were told, as a station would apply it: per EVSE its TxProfile, else
    its station's TxDefaultProfile, else its rating; and the sum over charging EVSEs at every
    change (the timeline)."""

    tx: dict[tuple[str, int], float] = field(default_factory=dict)
    defaults: dict[str, float] = field(default_factory=dict)
    charging: set[tuple[str, int]] = field(default_factory=set)
    timeline: list[tuple[float, float]] = field(default_factory=list)

    def limit(self, station_id: str, evse: int = 1) -> float:
        return self.tx.get((station_id, evse), self.defaults.get(station_id, RATED_A))

    def drawn(self) -> float:
        return round(sum(self.limit(s, e) for s, e in self.charging), 1)

    def note(self) -> None:
        self.timeline.append((time.monotonic(), self.drawn()))

    def applied(self, station_id: str, purpose: str, evse: int, limit: float) -> None:
        if purpose == "TxDefaultProfile":
            self.defaults[station_id] = limit
        else:
            self.tx[(station_id, evse)] = limit
        self.note()

    def since(self, moment: float) -> list[float]:
        return [total for at, total in self.timeline if at >= moment]


def _limit(schedule: dict[str, Any]) -> float:
    return float(schedule["charging_schedule_period"][0]["limit"])


def _takes_profiles16(station: Any, station_id: str, fleet: Fleet) -> None:
    async def on_set(connector_id: int, cs_charging_profiles: dict[str, Any]) -> Any:
        profile = cs_charging_profiles
        purpose = profile["charging_profile_purpose"]
        fleet.applied(station_id, purpose, connector_id, _limit(profile["charging_schedule"]))
        return result16.SetChargingProfile(status="Accepted")

    station.cp.route_map["SetChargingProfile"] = {"_on_action": on_set}


def _takes_profiles201(station: Any, station_id: str, fleet: Fleet) -> None:
    async def on_set(evse_id: int, charging_profile: dict[str, Any]) -> Any:
        purpose = charging_profile["charging_profile_purpose"]
        limit = _limit(charging_profile["charging_schedule"][0])
        fleet.applied(station_id, purpose, evse_id, limit)
        return result201.SetChargingProfile(status="Accepted")

    station.cp.route_map["SetChargingProfile"] = {"_on_action": on_set}


async def _allocation(
    lb: Client, site_id: str, done: Callable[[dict[str, Any]], bool]
) -> dict[str, Any]:
    """GET /sites/{site_id}/allocation until it shows what ``done`` wants (15 s at most)."""
    async with asyncio.timeout(15):
        while True:
            async with lb.get(f"/sites/{site_id}/allocation") as response:
                assert response.status == 200, await response.text()
                shown: dict[str, Any] = await response.json()
            if done(shown):
                return shown
            await asyncio.sleep(0.1)


async def _publish(bootstrap: str, topic: str, envelope: Any) -> None:
    producer = reliable_producer(bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(topic, encode(envelope), key=envelope.key.encode())
    finally:
        await producer.stop()


async def test_a_capacity_drop_lowers_every_station_decreases_first_and_a_lost_one_is_safe(
    kafka_bootstrap: str, gateway: GatewayProcess, sessions: SessionsWorker, tmp_path: Path
) -> None:
    site_id, token = f"SITE-{uuid.uuid4().hex[:8]}", f"TOK-{uuid.uuid4().hex[:8]}"
    ids16 = [f"LB16-{uuid.uuid4().hex[:8]}" for _ in range(2)]
    ids201 = [f"LB201-{uuid.uuid4().hex[:8]}" for _ in range(2)]
    every = ids16 + ids201
    await _define_token(kafka_bootstrap, token)
    fleet = Fleet()
    api = await _fresh_api(kafka_bootstrap, window_s=0)  # routes the load balancer's commands
    stations: dict[str, Any] = {}
    try:
        async with (
            loadbalance_api(kafka_bootstrap) as lb,
            running_loadbalance(kafka_bootstrap, tmp_path / "loadbalance"),
            TopicTail(kafka_bootstrap, Topic.LIMITS) as limits,
        ):
            document = {"capacity_a": 64, "phases": 3, "stations": every}
            async with lb.put(f"/sites/{site_id}", json=document) as created:
                assert created.status == 201, await created.text()
            for station_id in ids16:
                stations[station_id] = station = await _station16(gateway, station_id)
                _takes_profiles16(station, station_id, fleet)
                await station.call(call16.BootNotification("M-16", "V"))
            for station_id in ids201:
                stations[station_id] = station = await _station201(gateway, station_id)
                _takes_profiles201(station, station_id, fleet)
                await station.call(
                    call201.BootNotification(
                        charging_station={"model": "M-201", "vendor_name": "V"}, reason="PowerUp"
                    )
                )
            # Every station's safe default: 64 A over 4 EVSEs
            await eventually(
                lambda: all(fleet.defaults.get(s) == 16.0 for s in every), "defaults of 16 A", 30
            )
            for station_id in ids16:
                await stations[station_id].call(call16.StartTransaction(1, token, 0, _now()))
                fleet.charging.add((station_id, 1))
                fleet.note()
            for station_id in ids201:
                tx = uuid.uuid4().hex
                started = transaction_event(
                    tx, "Started", 0, 0.0, 1, id_token={"id_token": token, "type": "ISO14443"}
                )
                await stations[station_id].call(started)
                fleet.charging.add((station_id, 1))
                fleet.note()
            allocated = await limits.next(
                lambda e: (
                    e.key == site_id
                    and (a := LimitsAllocated.parse(e)) is not None
                    and sum(1 for *_, amps in a.limits if amps > 0) == 4
                ),
                30,
            )
            first = LimitsAllocated.parse(allocated.envelope)
            assert first is not None
            assert {amps for *_, amps in first.limits} == {16.0}
            # The allocation is an event first; its profiles reach the stations after it (one
            # run saw 69 A: a station still at its limit from when three were charging).
            await eventually(lambda: fleet.drawn() == 64.0, "the sum at 64 A", 15)

            # The grid operator cuts the site to 32 A (grid.capacity.v1)
            dropped_at = time.monotonic()
            cut = CapacityChanged(
                site_id=site_id, limit_a=32, valid_from=datetime.now(UTC), source="DSO"
            )
            await _publish(kafka_bootstrap, Topic.GRID_CAPACITY, cut.envelope())
            await eventually(lambda: fleet.drawn() <= 32.0, "the sum under 32 A", 15)
            lowered_at = time.monotonic()
            assert lowered_at - dropped_at < 15
            assert all(fleet.limit(s) == 8.0 for s in every)
            assert all(fleet.defaults[s] == 8.0 for s in every)  # safe under the new capacity
            assert max(fleet.since(dropped_at)) <= 64.0  # never above the old capacity

            # Back to 48 A through the API: raised only once every decrease is accepted
            raised_at = time.monotonic()
            async with lb.post(f"/sites/{site_id}/capacity", json={"limit_a": 48}) as back:
                assert back.status == 202, await back.text()
            await eventually(lambda: fleet.drawn() == 48.0, "the sum up to 48 A", 15)
            assert max(fleet.since(lowered_at)) <= 48.0
            assert all(fleet.limit(s) == 12.0 for s in every)
            assert raised_at > lowered_at
            shown = await _allocation(lb, site_id, lambda a: a["allocated_a"] == 48.0)
            assert shown["capacity_a"] == 48.0
            assert {
                (s["station_id"], e["evse_id"], e["limit_a"])
                for s in shown["stations"]
                for e in s["evses"]
            } == {(s, 1, 12.0) for s in every}
            async with lb.get(f"/sites/{site_id}/allocation/history") as past:
                steps = [(a["capacity_a"], a["allocated_a"]) for a in (await past.json())["items"]]
            assert (64.0, 64.0) in steps
            assert (32.0, 32.0) in steps
            assert steps[-1] == (48.0, 48.0)
            async with lb.get(f"/sites/{site_id}/allocation/history?format=png") as picture:
                assert picture.status == 200
                assert picture.content_type == "image/png"
                (tmp_path / "allocation.png").write_bytes(await picture.read())

            # A station that disconnects keeps its safe default: 48 A / 4 EVSEs
            lost = ids201[0]
            await stations.pop(lost).close()
            assert fleet.defaults[lost] == 12.0
            await eventually(lambda: not api.presence.online(lost), "presence says offline", 30)
            # The others may not take what the lost one may still draw: 12 A stays reserved
            await asyncio.sleep(2)
            assert fleet.drawn() <= 48.0
            assert all(fleet.limit(s) == 12.0 for s in every if s != lost)
    finally:
        for station in stations.values():
            await station.close()
        await api.stop()


async def test_a_forecast_and_a_departure_through_the_api_reach_the_station_as_periods(
    kafka_bootstrap: str, gateway: GatewayProcess, sessions: SessionsWorker, tmp_path: Path
) -> None:
    """A 2.0.1 station on a 32 A site; a forecast (the first hour cheap), the EV's 30 kWh by
    its departure in two hours, and 8 A of PV, all through the load balancing API: the station
    gets a TxProfile whose periods charge at 32 A in the cheap hour and the rest after it, and
    the allocation counts the PV."""
    site_id, token = f"SITE-{uuid.uuid4().hex[:8]}", f"TOK-{uuid.uuid4().hex[:8]}"
    station_id = f"LBP-{uuid.uuid4().hex[:8]}"
    await _define_token(kafka_bootstrap, token)
    api = await _fresh_api(kafka_bootstrap, window_s=0)
    profiles: list[dict[str, Any]] = []
    station: Any = None
    try:
        async with (
            loadbalance_api(kafka_bootstrap) as lb,
            running_loadbalance(kafka_bootstrap, tmp_path / "loadbalance"),
        ):
            document = {"capacity_a": 32, "phases": 3, "stations": [station_id]}
            async with lb.put(f"/sites/{site_id}", json=document) as created:
                assert created.status == 201, await created.text()
            now = datetime.now(UTC).replace(microsecond=0)
            hours = [
                {
                    "start": (now + timedelta(hours=n)).isoformat(),
                    "end": (now + timedelta(hours=n + 1)).isoformat(),
                    "price": price,
                }
                for n, price in enumerate((0.10, 0.40))
            ]
            async with lb.put(f"/sites/{site_id}/forecast", json={"slots": hours}) as forecast:
                assert forecast.status == 202, await forecast.text()
            station = await _station201(gateway, station_id)

            async def on_set(evse_id: int, charging_profile: dict[str, Any]) -> Any:
                profiles.append(charging_profile)
                return result201.SetChargingProfile(status="Accepted")

            station.cp.route_map["SetChargingProfile"] = {"_on_action": on_set}
            await station.call(
                call201.BootNotification(
                    charging_station={"model": "M-201", "vendor_name": "V"}, reason="PowerUp"
                )
            )
            started = transaction_event(
                uuid.uuid4().hex,
                "Started",
                0,
                0.0,
                1,
                id_token={"id_token": token, "type": "ISO14443"},
            )
            await station.call(started)
            await _allocation(lb, site_id, lambda a: a["allocated_a"] == 32.0)
            departure = (now + timedelta(hours=2)).isoformat()
            body = {"energy_wh": 30_000, "departure_at": departure}
            async with lb.put(f"/sites/{site_id}/stations/{station_id}/needs", json=body) as put:
                assert put.status == 202, await put.text()

            def planned() -> bool:
                schedule = profiles[-1]["charging_schedule"][0] if profiles else {}
                return len(schedule.get("charging_schedule_period", [])) == 3

            await eventually(planned, "a TxProfile with the plan's periods", 15)
            periods = profiles[-1]["charging_schedule"][0]["charging_schedule_period"]
            assert [p["limit"] for p in periods] == [32.0, 11.5, 0.0]
            assert profiles[-1]["charging_profile_purpose"] == "TxProfile"
            async with lb.post(f"/sites/{site_id}/generation", json={"generation_a": 8}) as pv:
                assert pv.status == 202, await pv.text()
            shown = await _allocation(lb, site_id, lambda a: a["capacity_a"] == 40.0)
            assert shown["generation_a"] == 8.0
            assert shown["allocated_a"] == 32.0  # the station's rating: the PV is room to spare
    finally:
        if station is not None:
            await station.close()
        await api.stop()
