"""Billing end to end: ocpp-library stations -> a real gateway -> sessions and billing workers
(real processes, killed for real) -> exactly one CDR per session on billing.cdrs.v1."""

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from ocpp.v16 import call_result as result16
from ocpp.v16.enums import CancelReservationStatus, ReservationStatus
from prometheus_client import CollectorRegistry

from contracts.codec import encode
from contracts.envelope import Envelope
from contracts.events import EventType
from contracts.payloads.billing import CdrIssued, Scope, TariffAssigned, TariffDefined
from contracts.payloads.sites import SiteDefined
from contracts.payloads.tokens import Token
from contracts.topics import Topic
from runtime.kafka import reliable_producer
from services.billing.api.app import BillingApi
from services.billing.api.http import build_app
from services.billing.api.settings import Settings
from services.billing.app import SOURCES as BILLING_INPUTS
from services.billing.core.ocpi_json import dumps
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
from tests.support.apis import Client, serving
from tests.support.gateway import GatewayProcess, TopicTail, for_station
from tests.support.sessions import SessionsWorker, running_worker
from tests.support.waiting import eventually
from tests.unit.services.billing.core.tariffs import (
    RESERVATION_EXPIRE_FEE,
    component,
    element,
    ocpi,
)

# 1.00 a session and 0.30/kWh, VAT 21 %
TARIFF = ocpi(
    element(component("FLAT", "1.00", vat="21"), component("ENERGY", "0.30", vat="21")),
    id=f"E2E-{uuid.uuid4().hex[:8]}",
)


async def _publish(bootstrap: str, *envelopes: Envelope) -> None:
    producer = reliable_producer(bootstrap)
    await producer.start()
    try:
        for envelope in envelopes:
            await producer.send_and_wait(Topic.TARIFFS, encode(envelope), key=envelope.key.encode())
    finally:
        await producer.stop()


async def _tariff_for(bootstrap: str, *station_ids: str) -> None:
    """TARIFF, assigned to ``station_ids``: written before the billing worker starts, which
    reads the whole topic before it is ready."""
    defined = TariffDefined(tariff_id=TARIFF["id"], ocpi_json=dumps(TARIFF)).envelope()
    assigned = [
        TariffAssigned(
            scope=Scope.STATION,
            target=station_id,
            tariff_ids=(TARIFF["id"],),
            time_zone="Europe/Amsterdam",
        ).envelope()
        for station_id in station_ids
    ]
    await _publish(bootstrap, defined, *assigned)


def _station_id() -> str:
    return f"B-{uuid.uuid4().hex[:10]}"


def _billing(bootstrap: str, workdir: Path, **kwargs: Any) -> Any:
    return running_worker("services.billing", BILLING_INPUTS, bootstrap, workdir, **kwargs)


@pytest.fixture
async def api(kafka_bootstrap: str) -> AsyncIterator[Client]:
    """The billing API in process, with an operator key it has read."""
    service = BillingApi(
        Settings(bootstrap_servers=kafka_bootstrap, cdrs_window_s=0), CollectorRegistry()
    )
    async with serving(service, build_app, kafka_bootstrap, "billing") as client:
        yield client


async def test_tariffs_written_through_the_api_price_a_16_and_a_201_session_once_each(
    kafka_bootstrap: str,
    gateway: GatewayProcess,
    sessions: SessionsWorker,
    api: Client,
    tmp_path: Path,
) -> None:
    id16, id201, token = _station_id(), _station_id(), f"TOK-{uuid.uuid4().hex[:8]}"
    await _define_token(kafka_bootstrap, token)
    tariff_id = TARIFF["id"]
    body = dumps({k: v for k, v in TARIFF.items() if k != "id"})
    async with api.put(f"/tariffs/{tariff_id}", data=body) as created:
        assert created.status == 201, await created.text()
    async with api.put(f"/tariffs/{tariff_id}", data=body) as replaced:
        assert replaced.status == 200
    async with api.get(f"/tariffs/{tariff_id}") as read:
        document = json.loads(await read.text(), parse_float=Decimal)
        assert document["elements"][0]["price_components"][1]["price"] == Decimal("0.30")
    for station_id in (id16, id201):
        assignment = {"tariff_id": tariff_id, "time_zone": "Europe/Amsterdam"}
        async with api.put(f"/tariff-assignments/stations/{station_id}", json=assignment) as put:
            assert put.status == 201, await put.text()
    async with api.delete(f"/tariffs/{tariff_id}") as in_use:
        assert in_use.status == 409
        assert (await in_use.json())["error"] == "TariffInUse"
    async with (
        _billing(kafka_bootstrap, tmp_path / "billing"),
        TopicTail(kafka_bootstrap, Topic.CDRS) as cdrs,
    ):
        s16 = await _station16(gateway, id16)
        await s16.call(call16.BootNotification("M-16", "V"))
        started = await s16.call(call16.StartTransaction(1, token, 1000, _now()))
        meter = [{"timestamp": _now(600), "sampledValue": [{"value": "6000"}]}]
        await s16.call(call16.MeterValues(1, meter, transaction_id=started.transaction_id))
        await s16.call(call16.StopTransaction(11000, _now(1200), started.transaction_id))

        s201 = await _station201(gateway, id201)
        await s201.call(
            call201.BootNotification(
                charging_station={"model": "M-201", "vendor_name": "V"}, reason="PowerUp"
            )
        )
        tx = uuid.uuid4().hex

        def event(event_type: str, seq_no: int, wh: float, **extra: Any) -> Any:
            return transaction_event(tx, event_type, seq_no, wh, 600, **extra)

        await s201.call(
            event("Started", 0, 2000.0, id_token={"id_token": token, "type": "ISO14443"})
        )
        await s201.call(event("Updated", 1, 5000.0))
        await s201.call(event("Ended", 2, 22000.0, info={"stopped_reason": "EVDisconnected"}))

        one = await cdrs.next(for_station(id16, EventType.CDR_ISSUED), 60)
        two = await cdrs.next(for_station(id201, EventType.CDR_ISSUED), 60)
        for s in (s16, s201):
            await s.close()
    cdr16, cdr201 = CdrIssued.parse(one.envelope), CdrIssued.parse(two.envelope)
    assert cdr16 is not None
    assert cdr201 is not None
    # 1.6: 10 kWh -> 1.00 + 3.00 = 4.00, incl. 21 %: 4.84
    assert cdr16.cdr["total_energy"] == "10.0000"
    assert cdr16.cdr["total_cost"] == {"excl_vat": "4.00", "incl_vat": "4.84"}
    assert cdr16.cdr["cdr_token"]["uid"] == token
    assert cdr16.cdr["tariffs"][0]["id"] == TARIFF["id"]
    # 2.0.1: 20 kWh -> 1.00 + 6.00 = 7.00, incl. 8.47
    assert cdr201.cdr["total_energy"] == "20.0000"
    assert cdr201.cdr["total_cost"] == {"excl_vat": "7.00", "incl_vat": "8.47"}
    # 20 minutes by the station's clock (the test's: a few ms apart per message)
    assert abs(Decimal(cdr201.cdr["total_time"]) - Decimal(1) / 3) < Decimal("0.001")

    async def listed() -> dict[str, Any]:
        async with api.get("/cdrs", params={"station_id": id16}) as answer:
            assert answer.status == 200
            page: dict[str, Any] = await answer.json()
            return page

    for _ in range(100):  # the API's view follows billing.cdrs.v1 a moment later
        page = await listed()
        if page["total"]:
            break
        await asyncio.sleep(0.1)
    assert page["total"] == 1
    async with api.get(f"/cdrs/{cdr16.cdr_id}") as one_cdr:
        assert (await one_cdr.json())["cdr"]["total_cost"]["excl_vat"] == "4.00"
    async with api.get("/reports", params={"by": "station", "format": "csv"}) as csv_report:
        assert csv_report.content_type == "text/csv"
        lines = (await csv_report.text()).splitlines()
    assert f"{id16},EUR,1,10.0000,4.00,4.84" in lines


async def test_a_killed_billing_worker_still_gives_exactly_one_cdr_per_session(
    kafka_bootstrap: str, gateway: GatewayProcess, sessions: SessionsWorker, tmp_path: Path
) -> None:
    """SIGKILL mid-stream, twice; the restarted worker goes on from its changelog: every
    session gets a CDR, and every CDR id is its session's, however often it was written."""
    stations = [_station_id() for _ in range(12)]
    token = f"TOK-{uuid.uuid4().hex[:8]}"
    await _define_token(kafka_bootstrap, token)
    await _tariff_for(kafka_bootstrap, *stations)
    workdir = tmp_path / "billing"
    async with TopicTail(kafka_bootstrap, Topic.CDRS) as cdrs:
        async with _billing(kafka_bootstrap, workdir) as billing:
            group = billing.app_id

            async def one_session(station_id: str, kwh: int) -> None:
                s = await _station16(gateway, station_id)
                await s.call(call16.BootNotification("M-16", "V"))
                started = await s.call(call16.StartTransaction(1, token, 0, _now()))
                for minute in range(1, 4):
                    meter = [
                        {
                            "timestamp": _now(minute * 60),
                            "sampledValue": [{"value": str(minute * kwh * 250)}],
                        }
                    ]
                    await s.call(
                        call16.MeterValues(1, meter, transaction_id=started.transaction_id)
                    )
                await s.call(call16.StopTransaction(kwh * 1000, _now(300), started.transaction_id))
                await s.close()

            first = asyncio.gather(*(one_session(sid, n + 1) for n, sid in enumerate(stations[:6])))
            await asyncio.sleep(1.5)
            billing.kill(signal.SIGKILL)
            await first
        async with _billing(kafka_bootstrap, workdir, app_id=group, skip_history=False) as again:
            second = asyncio.gather(
                *(one_session(sid, n + 7) for n, sid in enumerate(stations[6:]))
            )
            await asyncio.sleep(1.0)
            again.kill(signal.SIGKILL)
            await second
        async with _billing(kafka_bootstrap, workdir, app_id=group, skip_history=False):
            seen: dict[str, set[str]] = {}

            async def collect(limit_s: float) -> None:
                record = await cdrs.next(
                    lambda e: e.event_type == EventType.CDR_ISSUED and e.key in stations, limit_s
                )
                issued = CdrIssued.parse(record.envelope)
                assert issued is not None
                assert not issued.credit
                seen.setdefault(issued.station_id, set()).add(issued.cdr_id)

            while set(seen) != set(stations):
                await collect(90)
            with contextlib.suppress(TimeoutError):  # anything written twice is here by now
                while True:
                    await collect(3)
    assert all(len(ids) == 1 for ids in seen.values()), seen


async def test_rebuild_recomputes_a_periods_cdrs_with_other_tariffs_and_writes_nothing(
    kafka_bootstrap: str, gateway: GatewayProcess, sessions: SessionsWorker, tmp_path: Path
) -> None:
    """`python -m services.billing rebuild`: with today's tariffs the recomputed CDR equals the
    issued one; with a file that doubles the energy price it shows the difference; billing.cdrs.v1
    gets nothing. `report` reads the CDR from the topic, as JSON and as a picture."""
    station_id, token = _station_id(), f"TOK-{uuid.uuid4().hex[:8]}"
    since = datetime.now(UTC) - timedelta(seconds=5)
    await _define_token(kafka_bootstrap, token)
    await _tariff_for(kafka_bootstrap, station_id)
    async with (
        _billing(kafka_bootstrap, tmp_path / "billing"),
        TopicTail(kafka_bootstrap, Topic.CDRS) as cdrs,
    ):
        s = await _station16(gateway, station_id)
        await s.call(call16.BootNotification("M-16", "V"))
        started = await s.call(call16.StartTransaction(1, token, 0, _now()))
        await s.call(call16.StopTransaction(10000, _now(600), started.transaction_id))
        await s.close()
        issued = await cdrs.next(for_station(station_id, EventType.CDR_ISSUED), 60)
    session_id = issued.envelope.payload["session_id"]
    dearer = {
        "tariffs": [
            {
                **TARIFF,
                "elements": [
                    element(
                        component("FLAT", "1.00", vat="21"), component("ENERGY", "0.60", vat="21")
                    )
                ],
            }
        ],
        "assignments": [{"station_id": station_id, "tariff_ids": [TARIFF["id"]]}],
    }
    tariffs_file = tmp_path / "dearer.json"
    tariffs_file.write_text(dumps(dearer))

    def rebuild(*extra: str) -> dict[str, Decimal]:
        out = tmp_path / f"rebuilt-{len(extra)}.jsonl"
        command = [
            sys.executable, "-m", "services.billing", "rebuild", "--from", since.isoformat(),
            "--lookback", "0.01", "--json", "--out", str(out), *extra,
        ]  # fmt: skip
        environment = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap}
        done = subprocess.run(command, capture_output=True, text=True, env=environment, timeout=120)
        assert done.returncode == 0, done.stderr
        assert "CDRs recomputed" in done.stderr  # progress goes to stderr
        report = json.loads(done.stdout)
        assert report["sessions"] >= 1
        totals = {}
        for line in out.read_text().splitlines():
            row = json.loads(line)
            totals[row["session_id"]] = Decimal(row["cdr"]["total_cost"]["excl_vat"])
        return totals

    def report(*extra: str) -> str:
        command = [
            sys.executable, "-m", "services.billing", "report", "--from", since.isoformat(),
            *extra,
        ]  # fmt: skip
        environment = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap}
        done = subprocess.run(command, capture_output=True, text=True, env=environment, timeout=120)
        assert done.returncode == 0, done.stderr
        assert "CDRs" in done.stderr  # progress
        return done.stdout

    by_station = json.loads(await asyncio.to_thread(report, "--by", "station", "--format", "json"))
    [row] = [r for r in by_station["items"] if r["key"] == station_id]
    assert (row["sessions"], row["energy_kwh"], row["revenue_excl_vat"]) == (1, "10.0000", "4.00")
    picture = tmp_path / "daily.png"
    await asyncio.to_thread(report, "--format", "png", "--out", str(picture))
    assert picture.read_bytes().startswith(b"\x89PNG")

    async with TopicTail(kafka_bootstrap, Topic.CDRS) as after:
        today = await asyncio.to_thread(rebuild)
        assert today[session_id] == Decimal("4.00")  # as issued: 1.00 + 10 x 0.30
        with_file = await asyncio.to_thread(rebuild, "--tariffs", str(tariffs_file))
        assert with_file[session_id] == Decimal("7.00")  # 1.00 + 10 x 0.60
        with contextlib.suppress(TimeoutError):
            written = await after.next(for_station(station_id), 3)
            raise AssertionError(f"rebuild wrote to billing.cdrs.v1: {written}")


async def test_a_site_and_a_token_group_get_their_own_tariffs(
    kafka_bootstrap: str, gateway: GatewayProcess, sessions: SessionsWorker, tmp_path: Path
) -> None:
    """The site registry (loadbalance.sites.v1) and the token store's groups choose the
    tariff: a fleet card's contract before the site's price, the site's before the default."""
    in_site, elsewhere = _station_id(), _station_id()
    site_id, group = f"SITE-{uuid.uuid4().hex[:6]}", f"FLEET-{uuid.uuid4().hex[:6]}"
    public, fleet = f"TOK-{uuid.uuid4().hex[:8]}", f"TOK-{uuid.uuid4().hex[:8]}"
    await _define_token(kafka_bootstrap, public)
    producer = reliable_producer(kafka_bootstrap)
    await producer.start()
    try:
        card = Token(id_token=fleet, type="ISO14443", status="Accepted", group_id=group)
        await producer.send_and_wait(Topic.TOKENS, encode(card.envelope()), key=fleet.encode())
        site = SiteDefined(site_id=site_id, stations=(in_site,), capacity_a=32).envelope()
        await producer.send_and_wait(Topic.SITES, encode(site), key=site_id.encode())
    finally:
        await producer.stop()
    site_tariff = {**TARIFF, "id": f"{site_id}-AC"}
    fleet_tariff = {
        **TARIFF,
        "id": f"{group}-AC",
        "elements": [element(component("ENERGY", "0.20", vat="21"))],
    }
    defined = [
        TariffDefined(tariff_id=t["id"], ocpi_json=dumps(t)).envelope()
        for t in (site_tariff, fleet_tariff)
    ]
    assigned = [
        TariffAssigned(scope=scope, target=target, tariff_ids=(t["id"],)).envelope()
        for scope, target, t in (
            (Scope.SITE, site_id, site_tariff),
            (Scope.TOKEN_GROUP, group, fleet_tariff),
        )
    ]
    await _publish(kafka_bootstrap, *defined, *assigned)
    async with (
        _billing(kafka_bootstrap, tmp_path / "billing"),
        TopicTail(kafka_bootstrap, Topic.CDRS) as cdrs,
    ):
        for station_id, token in ((in_site, public), (elsewhere, fleet)):
            s = await _station16(gateway, station_id)
            await s.call(call16.BootNotification("M-16", "V"))
            started = await s.call(call16.StartTransaction(1, token, 0, _now()))
            await s.call(call16.StopTransaction(10000, _now(600), started.transaction_id))
            await s.close()
        found = {}
        for station_id in (in_site, elsewhere):
            record = await cdrs.next(for_station(station_id, EventType.CDR_ISSUED), 60)
            found[station_id] = CdrIssued.parse(record.envelope)
    by_site, by_group = found[in_site], found[elsewhere]
    assert by_site is not None
    assert by_group is not None
    assert (by_site.site_id, by_site.token_group) == (site_id, None)
    assert by_site.cdr["tariffs"][0]["id"] == site_tariff["id"]
    assert by_site.cdr["total_cost"]["excl_vat"] == "4.00"  # 1.00 + 10 kWh x 0.30
    assert (by_group.site_id, by_group.token_group) == (None, group)
    assert by_group.cdr["tariffs"][0]["id"] == fleet_tariff["id"]
    assert by_group.cdr["total_cost"]["excl_vat"] == "2.00"  # 10 kWh x 0.20


async def test_a_reservation_is_priced_with_its_session_and_a_cancelled_one_alone(
    kafka_bootstrap: str, gateway: GatewayProcess, sessions: SessionsWorker, tmp_path: Path
) -> None:
    """ReserveNow through the API to a 1.6 station that accepts it; the StartTransaction that
    names it makes the CDR start at the booking and bill the reservation time (tariff_17's
    reservation price: 2.00/h per 10 minutes); a second reservation, cancelled, gets a CDR of
    its own."""
    station_id, token = _station_id(), f"TOK-{uuid.uuid4().hex[:8]}"
    await _define_token(kafka_bootstrap, token)
    reserving = ocpi(*RESERVATION_EXPIRE_FEE, id=f"RES-{uuid.uuid4().hex[:6]}")
    await _publish(
        kafka_bootstrap,
        TariffDefined(tariff_id=reserving["id"], ocpi_json=dumps(reserving)).envelope(),
        TariffAssigned(
            scope=Scope.STATION, target=station_id, tariff_ids=(reserving["id"],)
        ).envelope(),
    )
    api = await _fresh_api(kafka_bootstrap, window_s=0)
    try:
        async with (
            _billing(kafka_bootstrap, tmp_path / "billing"),
            TopicTail(kafka_bootstrap, Topic.CDRS) as cdrs,
        ):
            station = await _station16(gateway, station_id)

            async def on_reserve_now(**_: Any) -> Any:
                return result16.ReserveNow(status=ReservationStatus.accepted)

            async def on_cancel(**_: Any) -> Any:
                return result16.CancelReservation(status=CancelReservationStatus.accepted)

            station.cp.route_map["ReserveNow"] = {"_on_action": on_reserve_now}
            station.cp.route_map["CancelReservation"] = {"_on_action": on_cancel}
            await station.call(call16.BootNotification("M-16", "V"))
            await eventually(lambda: api.presence.online(station_id), "presence says online", 30)

            async def command(name: str, arguments: dict[str, Any]) -> None:
                outcome = await api.router.run_command(
                    station_id, name, arguments, command_id=uuid.uuid4().hex, timeout_s=20
                )
                assert outcome.status == "Accepted", outcome

            expires = _now(3600)
            await command(
                "ReserveNow",
                {"reservation_id": 11, "id_token": token, "expires_at": expires, "evse_id": 1},
            )
            await command(
                "ReserveNow",
                {"reservation_id": 12, "id_token": token, "expires_at": expires, "evse_id": 2},
            )
            await command("CancelReservation", {"reservation_id": 12})
            started = await station.call(
                call16.StartTransaction(1, token, 0, _now(), reservation_id=11)
            )
            await station.call(call16.StopTransaction(20000, _now(3600), started.transaction_id))
            found: dict[str, CdrIssued] = {}
            while len(found) < 2:
                record = await cdrs.next(for_station(station_id, EventType.CDR_ISSUED), 60)
                issued = CdrIssued.parse(record.envelope)
                assert issued is not None
                found[issued.transaction_id] = issued
            await station.close()
    finally:
        await api.stop()
    session, alone = found[str(started.transaction_id)], found[""]
    # booked a moment before the start: one 10-minute step, 2.00/h -> 0.33; 0.50 + 20 x 0.25
    assert session.cdr["total_reservation_cost"]["excl_vat"] == "0.33"
    assert session.cdr["total_cost"]["excl_vat"] == "5.83"
    assert session.cdr["charging_periods"][0]["dimensions"][0]["type"] == "RESERVATION_TIME"
    assert session.cdr["start_date_time"] < session.cdr["charging_periods"][1]["start_date_time"]
    assert alone.session_id.startswith(f"{station_id}/reservation/12/")
    assert alone.cdr["remark"].startswith("ReservationCancelled")
    assert alone.cdr["total_cost"]["excl_vat"] == "0.33"
