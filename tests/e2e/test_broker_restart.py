"""The broker stops in the middle of charging sessions and starts again (a broker of its own).

While Kafka is away the gateway answers the stations' CALLs with InternalError (docs/gateway.md,
"Kafka away"), and they retry as stations do; the gateway and the sessions worker reconnect by
themselves; afterwards every transaction has exactly one SessionStarted and one SessionEnded.
"""

import asyncio
import uuid
from collections import Counter
from pathlib import Path

from ocpp.v16 import call as call16

from contracts.events import EventType
from contracts.topics import Topic
from tests.e2e.test_sessions import Station, _define_token, _now, _station16
from tests.support.broker import OwnBroker, read_all
from tests.support.gateway import running_gateway
from tests.support.sessions import running_sessions

STATIONS = 4


async def test_a_broker_restart_mid_session_loses_and_doubles_nothing(
    broker: OwnBroker, tmp_path: Path
) -> None:
    bootstrap = broker.bootstrap
    tag = f"TAG-{uuid.uuid4().hex[:8]}"
    await _define_token(bootstrap, tag)
    async with (
        running_gateway(bootstrap, tmp_path, "--security-profile=0") as gateway,
        running_sessions(bootstrap, tmp_path / "sessions"),
    ):
        stations = [
            await _station16(gateway, f"BR-{n}-{uuid.uuid4().hex[:6]}") for n in range(STATIONS)
        ]
        started: dict[str, int] = {}
        for station in stations:
            await station.call(call16.BootNotification("M", "V"))
            answer = await station.call(call16.StartTransaction(1, tag, 1000, _now()))
            started[station.cp.id] = answer.transaction_id

        await asyncio.to_thread(broker.stop)

        async def finish(station: Station) -> None:
            tx = started[station.cp.id]
            meter = [{"timestamp": _now(30), "sampledValue": [{"value": "1500"}]}]
            # Station.call retries a CALLERROR or a timeout for up to 90 s, as stations do.
            await station.call(call16.MeterValues(1, meter, transaction_id=tx))
            await station.call(call16.StopTransaction(2000, _now(60), tx))

        finishing = [asyncio.create_task(finish(s)) for s in stations]
        await asyncio.sleep(8)  # the stations' CALLs meet a gateway without Kafka
        assert not any(task.done() for task in finishing)
        await asyncio.to_thread(broker.start)
        await asyncio.gather(*finishing)  # every station got its answers, by retrying
        for station in stations:
            await station.close()

    events = await read_all(bootstrap, Topic.SESSIONS)
    unique = {e.event_id: e for e in events}.values()  # consumers deduplicate on event id
    kinds = Counter((e.payload.get("transaction_id"), e.event_type) for e in unique)
    for transaction_id in started.values():
        assert kinds[(str(transaction_id), EventType.SESSION_STARTED)] == 1
        assert kinds[(str(transaction_id), EventType.SESSION_ENDED)] == 1
    ended = {
        e.payload["transaction_id"]: e for e in unique if e.event_type == EventType.SESSION_ENDED
    }
    assert {ended[str(tx)].payload["energy_wh"] for tx in started.values()} == {1000.0}
