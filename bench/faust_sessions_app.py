"""A faust app shaped like the sessions service, for bench/faust_recovery.py (run as a worker).

Input topics keyed by station id (calls, and optionally presence, co-partitioned; the app's
key and value serializers are "raw"), a table ``stations`` holding each station's state as a
few hundred bytes of msgpack, updated by an agent per record; optionally a global table of
tokens followed from a third topic (declared raw whatever FR_TABLE says). A timer writes a
summary of the table to FR_DUMP every 0.5 s (faust starts timers only once recovery is done),
so the driver sees when recovery is done and what the table holds. How the table is declared
(FR_TABLE):

- ``untyped`` (default, like the sessions app): ``app.Table("stations", default=None)``, key =
  station id (str), value = msgpack bytes. The table's changelog serializers are faust's
  default ``json`` (the app's ``value_serializer="raw"`` does not apply to tables); a bytes
  value is written as is (faust skips serializing bytes) but read back as JSON on recovery.
- ``raw``: ``key_type=bytes, value_type=bytes``: key = station id (bytes), value = msgpack
  bytes, raw both ways.
- ``json``: untyped table, key = station id (str), value = the state dict (faust's json).

Environment: FR_APP_ID, FR_PARTITIONS, FR_INBOUND, FR_PRESENCE (empty: one input), FR_TOKENS
(empty: no global table), FR_TABLE, FR_DUMP, FR_WEB_PORT, KAFKA_BOOTSTRAP_SERVERS.

    python -m bench.faust_sessions_app worker --loglevel warn --without-web
"""

import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

import faust
import msgpack

PARTITIONS = int(os.environ.get("FR_PARTITIONS", "8"))
INBOUND = os.environ.get("FR_INBOUND", "faust-repro-inbound")
PRESENCE = os.environ.get("FR_PRESENCE", "")
TOKENS = os.environ.get("FR_TOKENS", "")
TABLE = os.environ.get("FR_TABLE", "untyped")
DUMP = Path(os.environ.get("FR_DUMP", "faust-sessions.json"))
BOOTSTRAP = os.environ.get("KAFKA_BOOTSTRAP_SERVERS") or "127.0.0.1:9092"
if TABLE not in ("untyped", "raw", "json"):
    raise SystemExit(f"FR_TABLE must be untyped, raw or json, not {TABLE!r}")


class _RecoveryTracebacks(logging.Filter):
    """faust logs an exception in its recovery loop as one line, `Error in recovery <str(exc)>`,
    and carries on; attach the traceback so that the log names the exception."""

    def filter(self, record: logging.LogRecord) -> bool:
        if str(record.msg).startswith("Error in recovery") and record.exc_info is None:
            record.exc_info = sys.exc_info()
        return True


logging.getLogger("faust.tables.recovery").addFilter(_RecoveryTracebacks())

app = faust.App(
    os.environ.get("FR_APP_ID", "faust-repro-sessions"),
    broker=f"kafka://{BOOTSTRAP}",
    store="memory://",  # a restarted worker can only recover from the changelog
    value_serializer="raw",
    key_serializer="raw",
    topic_partitions=PARTITIONS,
    topic_replication_factor=1,
    processing_guarantee="at_least_once",
    broker_commit_interval=0.5,
    broker_session_timeout=6.0,  # a SIGKILLed member leaves the group soon
    broker_heartbeat_interval=0.5,
    web_host="127.0.0.1",
    web_port=int(os.environ.get("FR_WEB_PORT") or "6066"),
)
inbound = app.topic(INBOUND, partitions=PARTITIONS)
if TABLE == "raw":
    stations = app.Table(
        "stations", default=None, partitions=PARTITIONS, key_type=bytes, value_type=bytes
    )
else:
    stations = app.Table("stations", default=None, partitions=PARTITIONS)


def _key(station: bytes) -> Any:
    return station if TABLE == "raw" else station.decode()


def _load(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if TABLE == "json":
        return dict(value)
    return dict(msgpack.unpackb(value))


def _store(key: Any, state: dict[str, Any]) -> None:
    stations[key] = state if TABLE == "json" else msgpack.packb(state)


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _new_state(station: str) -> dict[str, Any]:
    """What a booted station looks like in the sessions service (roughly StationState)."""
    return {
        "station_id": station,
        "ocpp_version": "1.6",
        "boot": {
            "status": "Accepted",
            "vendor": "ChargeBus Simulated",
            "model": "SIM-22kW-2C",
            "serial": f"SN-{station}",
            "firmware": "4.2.17-build.1381",
        },
        "connected": True,
        "connectors": [
            {"id": c, "status": "Available", "error_code": "NoError", "since": _now()}
            for c in (1, 2)
        ],
        "open_transactions": [],
        "seq": [[0, 0]],
        "calls": 0,
        "presence_changes": 0,
        "last_seen": _now(),
    }


def _state_of(station: bytes) -> tuple[Any, dict[str, Any]]:
    key = _key(station)
    return key, _load(stations.get(key)) or _new_state(station.decode())


@app.agent(inbound)
async def handle_calls(stream: faust.StreamT[bytes]) -> None:
    async for event in stream.events():
        key, state = _state_of(event.key)
        call = json.loads(event.value)
        state["calls"] += 1
        state["last_seen"] = call["at"]
        state["last_action"] = call["action"]
        connector = state["connectors"][call["connector"] - 1]
        connector["status"] = call["status"]
        connector["since"] = call["at"]
        if call["action"] == "MeterValues":
            state["open_transactions"] = [
                {
                    "transaction_id": call["n"] + 1,
                    "connector": call["connector"],
                    "id_tag": "BENCH-TOKEN",
                    "meter_start_wh": 1000,
                    "meter_wh": 1000 + 250 * call["n"],
                    "power_w": 11000.0,
                    "started_at": call["at"],
                }
            ]
        state["seq"] = [[0, state["calls"]]]
        _store(key, state)


if PRESENCE:

    @app.agent(app.topic(PRESENCE, partitions=PARTITIONS))
    async def handle_presence(stream: faust.StreamT[bytes]) -> None:
        async for event in stream.events():
            key, state = _state_of(event.key)
            change = json.loads(event.value)
            state["connected"] = change["connected"]
            state["gateway"] = change["gateway"]
            state["presence_changes"] += 1
            _store(key, state)


if TOKENS:
    token_table = app.GlobalTable(
        "tokens", default=None, partitions=1, key_type=bytes, value_type=bytes
    )

    @app.agent(app.topic(TOKENS, partitions=1))
    async def follow_tokens(stream: faust.StreamT[bytes]) -> None:
        async for event in stream.events():
            token_table[event.key] = event.value


@app.timer(0.5)  # type: ignore[untyped-decorator]
async def dump() -> None:
    """Write whether recovery finished and a summary of the table, atomically."""
    count = calls = presence_changes = total_bytes = 0
    for value in stations.values():
        state = _load(value)
        if state is None:
            continue
        count += 1
        calls += state["calls"]
        presence_changes += state["presence_changes"]
        total_bytes += len(msgpack.packb(state))
    summary = {
        "recovered": app.tables.recovery.completed.is_set(),  # type: ignore[attr-defined]
        "stations": count,
        "calls": calls,
        "presence_changes": presence_changes,
        "msgpack_bytes": total_bytes,
        "tokens": len(token_table) if TOKENS else None,
        "at": time.time(),
    }
    tmp = DUMP.with_suffix(".tmp")
    tmp.write_text(json.dumps(summary))
    tmp.replace(DUMP)


if __name__ == "__main__":
    app.main()
