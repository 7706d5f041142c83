"""How long a dead gateway's stations read online, and how long they take to be back elsewhere.

    python -m bench.gateway_failover --bootstrap-servers 127.0.0.1:39092 --stations 1000 --runs 3

Two gateways (production lease: heartbeat 5 s, lease 15 s), a sessions worker and the API's
presence view (in this process) on one broker of their own. Each run: 1,000 stations connect to
gateway A; A is stopped; the stations stay away until every one reads offline, in the API and
as StationOffline on stations.v1; then they reconnect to gateway B (randomized backoff up to
1 s, as firmware does) until every one reads online at B. The baseline, in the same run: A
stopped with SIGTERM (a clean drain writes the disconnects). The measured case: SIGKILL.
"""

import argparse
import asyncio
import contextlib
import json
import random
import signal
import statistics
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer
from prometheus_client import CollectorRegistry
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from bench.harness import ROOT, Process, free_port, log
from contracts.codec import decode
from contracts.events import EventType
from contracts.topics import Topic
from services.sessions.api.app import SessionsApi
from services.sessions.api.settings import Settings

OUT = ROOT / "docs" / "bench" / "failover.json"
V16 = [Subprotocol("ocpp1.6")]


class Gateway:
    def __init__(self, bootstrap: str, instance: int, work: Path) -> None:
        self.instance = instance
        self.port, self.http_port = free_port(), free_port()
        self.process = Process.start(
            [
                "-m",
                "gateway",
                "--host=127.0.0.1",
                f"--port={self.port}",
                "--http-host=127.0.0.1",
                f"--http-port={self.http_port}",
                f"--instance={instance}",
                "--security-profile=0",
                f"--bootstrap-servers={bootstrap}",
                "--log-level=WARNING",
            ],
            work / f"gateway-{instance}-{uuid.uuid4().hex[:6]}.log",
        )

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ocpp"

    def signal(self, sig: signal.Signals) -> None:
        if self.process.popen.poll() is None:
            self.process.popen.send_signal(sig)

    async def exited(self) -> None:
        await asyncio.to_thread(self.process.popen.wait, 60)


async def _ready(port: int, limit_s: float = 60) -> None:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"GET /readyz HTTP/1.0\r\n\r\n")
            data = await reader.read()
            writer.close()
            if data.split()[1:2] == [b"200"]:
                return
        await asyncio.sleep(0.2)
    raise RuntimeError(f"nothing ready on {port}")


async def _until(check: Callable[[], bool], limit_s: float) -> float:
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > limit_s:
            raise RuntimeError(f"not within {limit_s}s")
        await asyncio.sleep(0.05)
    return time.monotonic() - started


async def _connect_all(url: str, ids: list[str], backoff_s: float) -> list[ClientConnection]:
    async def one(station_id: str) -> ClientConnection:
        await asyncio.sleep(random.uniform(0, backoff_s))
        return await connect(f"{url}/{station_id}", subprotocols=V16, ping_interval=None)

    return list(await asyncio.gather(*(one(s) for s in ids)))


async def _offline_events(bootstrap: str, ids: set[str], seen: set[str]) -> None:
    consumer = AIOKafkaConsumer(
        Topic.STATIONS, bootstrap_servers=bootstrap, auto_offset_reset="latest"
    )
    await consumer.start()
    try:
        async for record in consumer:
            if record.value is None:
                continue
            envelope = decode(record.value)
            if envelope.event_type == EventType.STATION_OFFLINE and envelope.key in ids:
                seen.add(envelope.key)
    finally:
        await consumer.stop()


async def _run(
    args: argparse.Namespace, api: SessionsApi, sig: signal.Signals, work: Path
) -> dict[str, float]:
    a = Gateway(args.bootstrap_servers, 1, work)
    b = Gateway(args.bootstrap_servers, 2, work)
    await asyncio.gather(_ready(a.http_port), _ready(b.http_port))
    ids = [f"F{uuid.uuid4().hex[:6]}-{n:04d}" for n in range(args.stations)]
    sockets = await _connect_all(a.url, ids, backoff_s=args.stations / 400)
    await _until(lambda: all(api.presence.online(s) for s in ids), 120)
    seen: set[str] = set()
    watcher = asyncio.create_task(_offline_events(args.bootstrap_servers, set(ids), seen))
    await asyncio.sleep(1)  # the watcher is positioned
    killed = time.monotonic()
    a.signal(sig)  # the clock runs from here; nothing below blocks the loop
    api_offline = await _until(lambda: not any(api.presence.online(s) for s in ids), 120)
    await _until(lambda: len(seen) == len(ids), 120)
    topic_offline = time.monotonic() - killed
    watcher.cancel()
    for ws in sockets:
        with contextlib.suppress(Exception):
            await ws.close()
    back = time.monotonic()
    sockets = await _connect_all(b.url, ids, backoff_s=1.0)
    await _until(
        lambda: all(
            api.presence.online(s) and (e := api.presence.get(s)) is not None and e.gateway == 2
            for s in ids
        ),
        120,
    )
    reconnected = time.monotonic() - back
    for ws in sockets:
        with contextlib.suppress(Exception):
            await ws.close()
    b.signal(signal.SIGTERM)
    await asyncio.gather(a.exited(), b.exited())
    return {
        "api_offline_s": api_offline,
        "stations_v1_offline_s": topic_offline,
        "back_online_at_b_s": reconnected,
    }


async def _measure(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    worker = Process.start(
        [
            "-m",
            "services.sessions",
            f"--group=bench-failover-{uuid.uuid4().hex[:6]}",
            f"--bootstrap-servers={args.bootstrap_servers}",
            "--http-host=127.0.0.1",
            f"--http-port={free_port()}",
        ],
        work / "sessions.log",
    )
    api = SessionsApi(
        Settings(bootstrap_servers=args.bootstrap_servers, connect_timeout_s=30),
        CollectorRegistry(),
    )
    await api.start()
    await _until(lambda: api.readiness()[0], 120)
    await asyncio.sleep(5)  # the worker joins its group
    results: dict[str, list[dict[str, float]]] = {"sigterm": [], "sigkill": []}
    try:
        for run in range(1, args.runs + 1):
            for name, sig in (("sigterm", signal.SIGTERM), ("sigkill", signal.SIGKILL)):
                log(f"run {run}/{args.runs}: {name}")
                measured = await _run(args, api, sig, work)
                log("  " + ", ".join(f"{k} {v:.1f} s" for k, v in measured.items()))
                results[name].append(measured)
    finally:
        await api.stop()
        worker.popen.send_signal(signal.SIGTERM)
        worker.popen.wait(timeout=60)
    medians = {
        name: {key: statistics.median(r[key] for r in runs) for key in runs[0]}
        for name, runs in results.items()
    }
    return {"stations": args.stations, "runs": results, "medians": medians}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.gateway_failover",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--bootstrap-servers", default="127.0.0.1:39092")
    parser.add_argument("--stations", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    work = ROOT / "deploy" / "local" / ".run" / "bench-failover"
    work.mkdir(parents=True, exist_ok=True)
    results = asyncio.run(_measure(args, work))
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    term, kill = results["medians"]["sigterm"], results["medians"]["sigkill"]
    print(
        f"gateway failover, {args.stations:,} stations, medians of {args.runs} "
        "(heartbeat 5 s, lease 15 s):\n"
        f"                                  SIGTERM (baseline)   SIGKILL\n"
        f"  offline in the API              {term['api_offline_s']:6.1f} s        "
        f"{kill['api_offline_s']:6.1f} s\n"
        f"  StationOffline on stations.v1   {term['stations_v1_offline_s']:6.1f} s        "
        f"{kill['stations_v1_offline_s']:6.1f} s\n"
        f"  back online at the other gateway {term['back_online_at_b_s']:5.1f} s        "
        f"{kill['back_online_at_b_s']:6.1f} s\n"
        f"  written to {args.out}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
