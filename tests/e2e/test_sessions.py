"""The sessions service end to end: ocpp-library stations -> a real gateway -> Kafka -> sessions
workers (real processes, killed for real) -> replies and domain events."""

import asyncio
import contextlib
import json
import signal
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from aiokafka.admin import AIOKafkaAdminClient
from ocpp.exceptions import OCPPError
from ocpp.v16 import ChargePoint as ChargePoint16
from ocpp.v16 import call as _call16
from ocpp.v201 import ChargePoint as ChargePoint201
from ocpp.v201 import call as _call201
from ocpp.v201 import call_result as _call_result201
from prometheus_client import CollectorRegistry
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from contracts.codec import encode
from contracts.envelope import Envelope
from contracts.events import EventType
from contracts.payloads.ocpp import StationCall
from contracts.topics import Topic
from ocppj.versions import OcppVersion
from runtime.failpoints import ENV as FAILPOINT_ENV
from runtime.kafka import reliable_producer
from services.sessions.api.app import SessionsApi
from services.sessions.api.settings import Settings as ApiSettings
from tests.support.gateway import GatewayProcess, TopicTail, for_station
from tests.support.sessions import SessionsWorker
from tests.support.waiting import eventually

T = TypeVar("T")
# The ocpp dataclasses want enums and nested dataclasses; the tests speak the wire's strings.
call16: Any = _call16
call201: Any = _call201
_result201: Any = _call_result201
V16 = [Subprotocol("ocpp1.6")]
V201 = [Subprotocol("ocpp2.0.1")]


def _now(offset_s: float = 0) -> str:
    return (datetime.now(UTC) + timedelta(seconds=offset_s)).isoformat().replace("+00:00", "Z")


def _station_id() -> str:
    return f"S-{uuid.uuid4().hex[:10]}"


async def _define_token(bootstrap: str, id_token: str, status: str = "Accepted") -> None:
    producer = reliable_producer(bootstrap)
    await producer.start()
    try:
        envelope = Envelope(
            event_type=EventType.TOKEN_DEFINED,
            schema_version=1,
            key=id_token,
            payload={
                "id_token": id_token,
                "type": "ISO14443",
                "status": status,
                "expires_at": None,
                "group_id": None,
            },
        )
        await producer.send_and_wait(Topic.TOKENS, encode(envelope), key=id_token.encode())
    finally:
        await producer.stop()


async def _retry(call: Callable[[], Awaitable[T]], limit_s: float = 90) -> T:
    """Like a station: retry a CALL answered with a CALLERROR (e.g. InternalError) or lost."""
    async with asyncio.timeout(limit_s):
        while True:
            try:
                return await asyncio.wait_for(call(), 15)
            except (OCPPError, TimeoutError):
                await asyncio.sleep(0.5)


class Station:
    """An ocpp-library station on a live socket."""

    def __init__(self, cp: Any, ws: ClientConnection) -> None:
        self.cp, self.ws = cp, ws
        self.task = asyncio.create_task(cp.start())

    async def call(self, payload: Any) -> Any:
        return await _retry(lambda: self.cp.call(payload, suppress=False))

    async def close(self) -> None:
        self.task.cancel()
        await self.ws.close()


async def _station16(gateway: GatewayProcess, station_id: str) -> Station:
    ws = await connect(f"{gateway.url}/{station_id}", subprotocols=V16)
    return Station(ChargePoint16(station_id, ws), ws)


async def _station201(gateway: GatewayProcess, station_id: str) -> Station:
    ws = await connect(f"{gateway.url}/{station_id}", subprotocols=V201)
    return Station(ChargePoint201(station_id, ws), ws)


def transaction_event(
    transaction_id: str, event_type: str, seq_no: int, wh: float, step_s: float, **extra: Any
) -> Any:
    """A 2.0.1 TransactionEvent with one energy reading, ``seq_no * step_s`` from now."""
    return call201.TransactionEvent(
        event_type=event_type,
        timestamp=_now(seq_no * step_s),
        trigger_reason="Authorized",
        seq_no=seq_no,
        transaction_info={"transaction_id": transaction_id, **extra.pop("info", {})},
        evse={"id": 1, "connector_id": 1},
        meter_value=[
            {
                "timestamp": _now(seq_no * step_s),
                "sampled_value": [{"value": wh, "measurand": "Energy.Active.Import.Register"}],
            }
        ],
        **extra,
    )


async def test_a_full_16_session_with_its_events(
    kafka_bootstrap: str, gateway: GatewayProcess, sessions: SessionsWorker
) -> None:
    station_id, tag = _station_id(), f"TAG-{uuid.uuid4().hex[:8]}"
    await _define_token(kafka_bootstrap, tag)
    async with (
        TopicTail(kafka_bootstrap, Topic.SESSIONS) as session_events,
        TopicTail(kafka_bootstrap, Topic.STATIONS) as station_events,
    ):
        station = await _station16(gateway, station_id)
        boot = await station.call(call16.BootNotification("Model-16", "Vendor"))
        assert boot.status == "Accepted"
        booted = await station_events.next(for_station(station_id, EventType.STATION_BOOTED))
        assert booted.envelope.payload["model"] == "Model-16"
        await station.call(call16.StatusNotification(1, "NoError", "Available"))
        assert (await station.call(call16.Authorize(tag))).id_tag_info["status"] == "Accepted"
        unknown = await station.call(call16.Authorize("NO-SUCH-TAG"))
        assert unknown.id_tag_info["status"] == "Invalid"
        start = await station.call(
            call16.StartTransaction(1, tag, 1000, _now(), reservation_id=None)
        )
        assert start.transaction_id > 0
        assert start.id_tag_info["status"] == "Accepted"
        started = await session_events.next(for_station(station_id, EventType.SESSION_STARTED))
        assert started.envelope.payload["transaction_id"] in (
            start.transaction_id,
            str(start.transaction_id),
        )
        assert started.envelope.payload["meter_start_wh"] == 1000
        assert started.envelope.payload["id_token"] == tag
        sample = {
            "timestamp": _now(30),
            "sampledValue": [
                {"value": "1500", "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
                {"value": "7200", "measurand": "Power.Active.Import", "unit": "W"},
            ],
        }
        await station.call(call16.MeterValues(1, [sample], transaction_id=start.transaction_id))
        updated = await session_events.next(for_station(station_id, EventType.SESSION_UPDATED))
        assert updated.envelope.payload["energy_wh"] == 500
        assert updated.envelope.payload["power_w"] == 7200
        stop = await station.call(
            call16.StopTransaction(2500, _now(60), start.transaction_id, reason="Local", id_tag=tag)
        )
        assert stop.id_tag_info["status"] == "Accepted"
        ended = await session_events.next(for_station(station_id, EventType.SESSION_ENDED))
        assert ended.envelope.payload["energy_wh"] == 1500
        assert ended.envelope.payload["stop_reason"] == "Local"
        await station.close()


async def test_a_full_201_session_with_its_events(
    kafka_bootstrap: str, gateway: GatewayProcess, sessions: SessionsWorker
) -> None:
    station_id, token = _station_id(), f"TOK-{uuid.uuid4().hex[:8]}"
    await _define_token(kafka_bootstrap, token)
    transaction_id = uuid.uuid4().hex
    async with TopicTail(kafka_bootstrap, Topic.SESSIONS) as session_events:
        station = await _station201(gateway, station_id)
        boot = await station.call(
            call201.BootNotification(
                charging_station={"model": "M-201", "vendor_name": "V"}, reason="PowerUp"
            )
        )
        assert boot.status == "Accepted"

        def event(event_type: str, seq_no: int, wh: float, **extra: Any) -> Any:
            return transaction_event(transaction_id, event_type, seq_no, wh, 30, **extra)

        started = await station.call(
            event("Started", 0, 2000.0, id_token={"id_token": token, "type": "ISO14443"})
        )
        assert started.id_token_info["status"] == "Accepted"
        await station.call(event("Updated", 1, 2600.0))
        await station.call(event("Ended", 2, 3200.0, info={"stopped_reason": "EVDisconnected"}))
        seen = [await session_events.next(for_station(station_id)) for _ in range(3)]
        assert [r.envelope.event_type for r in seen] == [
            "SessionStarted",
            "SessionUpdated",
            "SessionEnded",
        ]
        assert seen[2].envelope.payload["energy_wh"] == 1200
        assert seen[2].envelope.payload["stop_reason"] == "EVDisconnected"
        await station.close()


async def test_a_resent_start_transaction_gets_the_same_id(
    kafka_bootstrap: str, gateway: GatewayProcess, sessions: SessionsWorker
) -> None:
    station_id = _station_id()
    station = await _station16(gateway, station_id)
    await station.call(call16.BootNotification("M", "V"))
    when = _now()
    first = await station.call(call16.StartTransaction(1, "ANY", 10, when))
    again = await station.call(call16.StartTransaction(1, "ANY", 10, when))
    assert again.transaction_id == first.transaction_id
    other = await station.call(call16.StartTransaction(2, "ANY", 10, _now(5)))
    assert other.transaction_id != first.transaction_id
    await station.close()


async def test_offline_transaction_events_out_of_order(
    kafka_bootstrap: str, gateway: GatewayProcess, sessions: SessionsWorker
) -> None:
    station_id, transaction_id = _station_id(), uuid.uuid4().hex
    async with TopicTail(kafka_bootstrap, Topic.SESSIONS) as session_events:
        station = await _station201(gateway, station_id)
        await station.call(
            call201.BootNotification(
                charging_station={"model": "M", "vendor_name": "V"}, reason="PowerUp"
            )
        )

        def event(event_type: str, seq_no: int, wh: float) -> Any:
            return call201.TransactionEvent(
                event_type=event_type,
                timestamp=_now(-600 + seq_no * 60),
                trigger_reason="MeterValuePeriodic",
                seq_no=seq_no,
                offline=True,
                transaction_info={"transaction_id": transaction_id},
                meter_value=[
                    {
                        "timestamp": _now(-600 + seq_no * 60),
                        "sampled_value": [
                            {"value": wh, "measurand": "Energy.Active.Import.Register"}
                        ],
                    }
                ],
            )

        for kind, seq_no, wh in (
            ("Ended", 3, 900.0),
            ("Updated", 1, 300.0),
            ("Started", 0, 100.0),
            ("Updated", 1, 300.0),
        ):
            await station.call(event(kind, seq_no, wh))
        seen: dict[str, list[Envelope]] = {}
        async with asyncio.timeout(20):
            while len(seen.get("SessionEnded", [])) < 1 or len(seen.get("SessionStarted", [])) < 1:
                record = await session_events.next(for_station(station_id))
                seen.setdefault(record.envelope.event_type, []).append(record.envelope)
        await asyncio.sleep(1)  # anything doubled would arrive by now
        extra = None
        with contextlib.suppress(TimeoutError):
            extra = await session_events.next(for_station(station_id, "SessionStarted"), limit_s=1)
        assert extra is None, f"a second SessionStarted: {extra}"
        assert seen["SessionEnded"][0].payload["energy_wh"] == 800  # station timestamps count
        await station.close()


async def _collect(tail: TopicTail, station_ids: set[str], limit_s: float) -> dict[str, Envelope]:
    """Distinct events (by event_id) for these stations, until none comes for 3 s."""
    found: dict[str, Envelope] = {}
    try:
        async with asyncio.timeout(limit_s):
            while True:
                record = await tail.next(lambda e: e.key in station_ids, limit_s=3)
                found[record.envelope.event_id] = record.envelope
    except TimeoutError:
        return found


async def test_a_killed_worker_loses_and_doubles_no_transaction(
    kafka_bootstrap: str, gateway: GatewayProcess, tmp_path: Path
) -> None:
    app_id = f"test-sessions-{uuid.uuid4().hex[:10]}"
    ids = [_station_id() for _ in range(12)]
    tag = f"TAG-{uuid.uuid4().hex[:8]}"
    await _define_token(kafka_bootstrap, tag)
    starts = {sid: (1, tag, 100 + i, _now(i)) for i, sid in enumerate(ids)}
    told: dict[str, int] = {}
    async with TopicTail(kafka_bootstrap, Topic.SESSIONS) as session_events:
        first = SessionsWorker(kafka_bootstrap, tmp_path / "first", app_id=app_id)
        await first.skip_history()
        first.start()
        await first.wait_ready()
        stations = {sid: await _station16(gateway, sid) for sid in ids}
        for sid in ids:
            await stations[sid].call(call16.BootNotification("M", "V"))
        for sid in ids[:6]:
            told[sid] = (
                await stations[sid].call(call16.StartTransaction(*starts[sid]))
            ).transaction_id
        # Kill it while the other stations' StartTransactions are on their way.
        pending = {
            sid: asyncio.create_task(stations[sid].call(call16.StartTransaction(*starts[sid])))
            for sid in ids[6:]
        }
        await asyncio.sleep(0.05)
        assert first.kill(signal.SIGKILL) == -signal.SIGKILL
        second = SessionsWorker(kafka_bootstrap, tmp_path / "second", app_id=app_id)
        second.start()  # memory store: its tables come back from the changelog only
        try:
            for sid, task in pending.items():
                told[sid] = (await task).transaction_id
            # Every station resends its StartTransaction (as after a lost reply): same ids.
            for sid in ids:
                again = await stations[sid].call(call16.StartTransaction(*starts[sid]))
                assert again.transaction_id == told[sid], sid
            for sid in ids:
                await stations[sid].call(call16.StopTransaction(500, _now(100), told[sid]))
        finally:
            for station in stations.values():
                await station.close()
            second.kill(signal.SIGTERM)
        assert len(set(told.values())) == len(ids)  # unique across partitions and restarts
        events = (await _collect(session_events, set(ids), 30)).values()
        started = [e for e in events if e.event_type == EventType.SESSION_STARTED]
        ended = [e for e in events if e.event_type == EventType.SESSION_ENDED]
    # Exactly one of each per transaction once duplicates are dropped by event id.
    assert sorted(e.key for e in started) == sorted(ids)
    assert sorted(e.key for e in ended) == sorted(ids)
    assert {int(e.payload["transaction_id"]) for e in started} == set(told.values())


async def test_two_workers_share_the_partitions(
    kafka_bootstrap: str,
    kafka_admin: AIOKafkaAdminClient,
    gateway: GatewayProcess,
    tmp_path: Path,
) -> None:
    app_id = f"test-sessions-{uuid.uuid4().hex[:10]}"
    one = SessionsWorker(kafka_bootstrap, tmp_path / "one", app_id=app_id)
    two = SessionsWorker(kafka_bootstrap, tmp_path / "two", app_id=app_id)
    await one.skip_history()
    one.start()
    two.start()
    try:
        await one.wait_ready()
        await two.wait_ready()
        response: Any
        [response] = await kafka_admin.describe_consumer_groups([app_id])
        # DescribeGroups: (error_code, group_id, state, protocol_type, protocol, members, ...)
        async with asyncio.timeout(30):
            while len(response.groups[0][5]) != 2 or response.groups[0][2] != "Stable":
                await asyncio.sleep(0.5)
                [response] = await kafka_admin.describe_consumer_groups([app_id])
        ids = [_station_id() for _ in range(16)]
        stations = [await _station16(gateway, sid) for sid in ids]
        answers = await asyncio.gather(
            *[s.call(call16.BootNotification("M", "V")) for s in stations]
        )
        assert {a.status for a in answers} == {"Accepted"}
        # One leaves: the other takes every partition over and answers everyone.
        one.kill(signal.SIGTERM)
        answers = await asyncio.gather(
            *[s.call(call16.StatusNotification(1, "NoError", "Available")) for s in stations]
        )
        assert len(answers) == len(ids)
        for station in stations:
            await station.close()
    finally:
        one.kill(signal.SIGTERM)
        two.kill(signal.SIGTERM)


async def test_records_waiting_during_the_restore_are_handled_not_skipped(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    """Records already on the topic when a worker starts arrive while it restores its state:
    every one of them must be handled once the state is there (none skipped)."""
    worker = SessionsWorker(kafka_bootstrap, tmp_path / "late")
    await worker.skip_history()
    ids = [_station_id() for _ in range(40)]
    producer = reliable_producer(kafka_bootstrap)
    await producer.start()
    try:
        for index, station_id in enumerate(ids):
            call = StationCall(
                station_id=station_id,
                ocpp_version=OcppVersion.V16,
                unique_id=f"boot-{index}",
                action="BootNotification",
                payload={"chargePointModel": "M", "chargePointVendor": "V"},
                connection_id="c1",
                gateway=1,
                received_at=datetime.now(UTC),
            ).envelope()
            await producer.send_and_wait(Topic.OCPP_INBOUND, encode(call), key=station_id.encode())
    finally:
        await producer.stop()
    async with TopicTail(kafka_bootstrap, Topic.STATIONS) as station_events:
        worker.start()
        try:
            await worker.wait_ready()
            booted = await _collect(station_events, set(ids), 60)
        finally:
            worker.kill(signal.SIGTERM)
    kinds = {(e.key, e.event_type) for e in booted.values()}
    assert kinds == {(station_id, EventType.STATION_BOOTED) for station_id in ids}


async def test_a_worker_killed_after_the_events_but_before_the_state_writes_them_again(
    kafka_bootstrap: str, gateway: GatewayProcess, tmp_path: Path
) -> None:
    """Events land before the state that remembers them (services/sessions/batch.py): killed
    in between, the next worker handles the StopTransaction again from the older state and
    writes SessionEnded again under the same event id. Nothing is lost; consumers dedupe."""
    app_id = f"test-sessions-{uuid.uuid4().hex[:10]}"
    sid, tag = _station_id(), f"TAG-{uuid.uuid4().hex[:8]}"
    await _define_token(kafka_bootstrap, tag)
    async with TopicTail(kafka_bootstrap, Topic.SESSIONS) as session_events:
        first = SessionsWorker(
            kafka_bootstrap,
            tmp_path / "first",
            app_id=app_id,
            extra_env={FAILPOINT_ENV: "sessions.events-acknowledged:SessionEnded"},
        )
        await first.skip_history()
        first.start()
        await first.wait_ready()
        station = await _station16(gateway, sid)
        second = SessionsWorker(kafka_bootstrap, tmp_path / "second", app_id=app_id)
        try:
            await station.call(call16.BootNotification("M", "V"))
            started = await station.call(call16.StartTransaction(1, tag, 100, _now()))
            stop = call16.StopTransaction(900, _now(60), started.transaction_id, id_tag=tag)
            stopping = asyncio.create_task(station.call(stop))
            assert first.process is not None
            assert await asyncio.to_thread(first.process.wait, 60) == -signal.SIGKILL
            second.start()
            answer = await stopping  # the station retries until the new worker answers
            assert answer.id_tag_info["status"] == "Accepted"
            again = await station.call(stop)  # a resend now finds the session ended
            assert again.id_tag_info["status"] == "Accepted"
        finally:
            await station.close()
            if second.process is not None:
                second.kill(signal.SIGTERM)
        records: list[Envelope] = []
        with contextlib.suppress(TimeoutError):
            while True:
                received = await session_events.next(for_station(sid), limit_s=5)
                records.append(received.envelope)
    ended = [e for e in records if e.event_type == EventType.SESSION_ENDED]
    assert len(ended) == 2  # written by the killed worker, and again by the next one
    assert len({e.event_id for e in ended}) == 1  # the same event: consumers keep one
    assert ended[0].payload == ended[1].payload
    assert ended[0].payload["energy_wh"] == 800
    started_events = [e for e in records if e.event_type == EventType.SESSION_STARTED]
    assert len({e.event_id for e in started_events}) == 1


async def test_a_station_whose_state_was_lost_is_asked_to_boot_and_heals(
    gateway: GatewayProcess, sessions: SessionsWorker
) -> None:
    """No BootNotification in the worker's state (lost): the station's next CALL is refused and
    brings TriggerMessage(BootNotification) to its socket; its boot then lets it in."""
    station_id = _station_id()
    async with connect(f"{gateway.url}/{station_id}", subprotocols=V16) as ws:
        status = {"connectorId": 1, "errorCode": "NoError", "status": "Available"}

        async def call(unique_id: str, action: str, payload: dict[str, Any]) -> list[Any]:
            await ws.send(json.dumps([2, unique_id, action, payload]))
            while True:  # the TriggerMessage may come before or after the answer
                frame = json.loads(await asyncio.wait_for(ws.recv(), 30))
                if frame[0] == 2:
                    triggers.append(frame)
                    continue
                assert frame[1] == unique_id
                return list(frame)

        triggers: list[list[Any]] = []
        refused = await _retry(lambda: call("s1", "StatusNotification", status))
        assert refused[:3] == [4, "s1", "SecurityError"]
        while not triggers:
            frame = json.loads(await asyncio.wait_for(ws.recv(), 30))
            if frame[0] == 2:
                triggers.append(frame)
        [[_, trigger_id, action, payload]] = triggers
        assert (action, payload) == ("TriggerMessage", {"requestedMessage": "BootNotification"})
        await ws.send(json.dumps([3, trigger_id, {"status": "Accepted"}]))
        boot = {"chargePointModel": "M", "chargePointVendor": "V"}
        booted = await call("b1", "BootNotification", boot)
        assert booted[2]["status"] == "Accepted"
        assert (await call("s2", "StatusNotification", status)) == [3, "s2", {}]
        # asked to boot once (the CSMS then asks the booted station for its configuration too:
        # docs/sessions.md, "The inventory after a boot")
        assert [frame[2] for frame in triggers].count("TriggerMessage") == 1


async def _fresh_api(bootstrap: str, window_s: float) -> SessionsApi:
    settings = ApiSettings(
        bootstrap_servers=bootstrap,
        commands_group=f"test-read-models-{uuid.uuid4().hex[:8]}",
        commands_offset_reset="latest",
        connect_timeout_s=10,
        sessions_window_s=window_s,
    )
    api = SessionsApi(settings, CollectorRegistry())
    await api.start()
    await eventually(lambda: api.readiness()[0], "the API is ready", 30)
    return api


async def test_an_api_that_starts_later_reads_stations_and_open_sessions_without_the_logs(
    kafka_bootstrap: str, gateway: GatewayProcess, sessions: SessionsWorker
) -> None:
    """stations.latest.v1 and sessions.open.v1: an API that reads sessions.v1 only from now on
    (a window of 0, as if the logs had expired) still shows the station's boot and its open
    session, and no longer the session once it ended."""
    station_id, tag = _station_id(), f"TAG-{uuid.uuid4().hex[:8]}"
    await _define_token(kafka_bootstrap, tag)
    station = await _station16(gateway, station_id)
    await station.call(call16.BootNotification("Model-RM", "Vendor-RM"))
    started = await station.call(call16.StartTransaction(1, tag, 1000, _now()))
    meter = [{"timestamp": _now(60), "sampledValue": [{"value": "1800"}]}]
    await station.call(call16.MeterValues(1, meter, transaction_id=started.transaction_id))
    sid = f"{station_id}/{started.transaction_id}"
    api = await _fresh_api(kafka_bootstrap, window_s=0)
    try:

        def read() -> bool:  # the worker writes the read models a moment later
            found = api.sessions.get(sid)
            return found is not None and found.energy_wh == 800

        await eventually(read, "the open session with its meter value", 30)
        session = api.sessions.get(sid)
        assert session is not None
        record = api.stations.get(station_id)
        assert record is not None
        assert record.boot is not None
        assert record.boot.model == "Model-RM"
        assert session.open
        assert session.started_at is not None
    finally:
        await api.stop()
    async with TopicTail(kafka_bootstrap, Topic.SESSIONS) as session_events:
        await station.call(call16.StopTransaction(1900, _now(120), started.transaction_id))
        # Written once the worker got to it (under load, after a retry of the station's).
        await session_events.next(for_station(station_id, EventType.SESSION_ENDED), 60)
    later = await _fresh_api(kafka_bootstrap, window_s=0)
    try:
        assert later.sessions.get(sid) is None  # ended: no longer open, and no window
        assert later.stations.get(station_id) is not None
    finally:
        await later.stop()
    await station.close()


async def test_a_remote_start_without_id_token_in_started_gets_the_requested_token(
    kafka_bootstrap: str, gateway: GatewayProcess, sessions: SessionsWorker
) -> None:
    """Issue 15: a 2.0.1 station answers RequestStartTransaction and starts with
    ``remoteStartId`` but no idToken; the session carries the token we sent, from the
    gateway's record of the answer, however the two records are ordered on the topic."""
    station_id, transaction_id = _station_id(), uuid.uuid4().hex
    api = await _fresh_api(kafka_bootstrap, window_s=0)
    try:
        ws = await connect(f"{gateway.url}/{station_id}", subprotocols=V201)
        cp = ChargePoint201(station_id, ws)
        requests: list[dict[str, Any]] = []

        async def on_request_start(**request: Any) -> Any:
            requests.append(request)
            return _result201.RequestStartTransaction(status="Accepted")

        cp.route_map["RequestStartTransaction"] = {"_on_action": on_request_start}
        station = Station(cp, ws)
        await station.call(
            call201.BootNotification(
                charging_station={"model": "M-201", "vendor_name": "V"}, reason="PowerUp"
            )
        )
        await eventually(lambda: api.presence.online(station_id), "presence says online", 30)
        outcome = await api.router.run_command(
            station_id,
            "RemoteStart",
            {"id_token": "APP-USER-15", "evse_id": 1},
            command_id=f"rs-{station_id}",
            timeout_s=20,
        )
        assert outcome.status == "Accepted"
        [request] = requests
        async with TopicTail(kafka_bootstrap, Topic.SESSIONS) as session_events:
            await station.call(
                call201.TransactionEvent(
                    event_type="Started",
                    timestamp=_now(),
                    trigger_reason="RemoteStart",
                    seq_no=0,
                    transaction_info={
                        "transaction_id": transaction_id,
                        "remote_start_id": request["remote_start_id"],
                    },
                    evse={"id": 1, "connector_id": 1},
                )
            )
            await station.call(
                call201.TransactionEvent(
                    event_type="Ended",
                    timestamp=_now(60),
                    trigger_reason="StopAuthorized",
                    seq_no=1,
                    transaction_info={"transaction_id": transaction_id},
                )
            )
            ended = await session_events.next(for_station(station_id, EventType.SESSION_ENDED), 60)
        assert ended.envelope.payload["id_token"] == "APP-USER-15"
        assert ended.envelope.payload["id_token_type"] == "Central"
        assert ended.envelope.payload["id_token_source"] == "RemoteStart"
        await station.close()
    finally:
        await api.stop()
