"""Benchmark (issue 12): from a grid capacity event to every station's new profile accepted.

Simulated stations (half 1.6, half 2.0.1), all charging, on one site through one gateway, a
sessions worker, the sessions API (the command path) and a load balancing worker. Each round
publishes a CapacityChanged on grid.capacity.v1, down to 10 A per station then back up to 16
A, and reads commands.v1 and command-results.v1: the load balancer's SetChargingProfile
commands after the event and their outcomes. Per round: the time until the last station's
last profile was accepted, and per station the time its last one was (p50, p99).

Baseline, in the same run: the command path alone, as many SetChargingProfile commands to the
same stations written at once to commands.v1 by the bench (the load balancer's share of the
time is the ratio). Medians of --repeats rounds each way.
    python -m bench.loadbalance_latency [--stations 500] [--repeats 5]
"""

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.harness import Process, TopicWatch, free_port, log, median, start_gateway, wait_port
from bench.sessions_throughput import TOKEN, _define_token
from contracts.codec import encode
from contracts.envelope import Envelope
from contracts.events import EventType, Outcome
from contracts.payloads.commands import CommandCompleted, OperatorCommand
from contracts.payloads.sites import CapacityChanged, SiteDefined
from contracts.topics import Topic
from runtime.kafka import reliable_producer
from runtime.settings import bootstrap_servers
from services.loadbalance.core.reconcile import COMMAND_PREFIX

HIGH_A, LOW_A = 16.0, 10.0  # per station, per phase
QUIET_S = 2.0  # no new command and none waiting this long: the transition is over
BENCH_PREFIX = "bench:"


class Watch(TopicWatch):
    """Every command on commands.v1 and every outcome on command-results.v1 of the stations,
    with the time each became readable (a thread of its own)."""

    def __init__(self) -> None:
        super().__init__((Topic.COMMANDS, Topic.COMMAND_RESULTS))
        self.sent: dict[str, tuple[float, str]] = {}  # command id -> (monotonic, station)
        self.done: dict[str, tuple[float, str, str | None]] = {}  # -> (monotonic, outcome, status)

    def record(self, key: str, envelope: Envelope, readable_at: float) -> None:
        command_id = envelope.payload.get("command_id")
        if not isinstance(command_id, str):
            return
        if not command_id.startswith((COMMAND_PREFIX, BENCH_PREFIX)):
            return
        if envelope.event_type == EventType.OPERATOR_COMMAND:
            self.sent[command_id] = (readable_at, envelope.key)
        elif (result := CommandCompleted.parse(envelope)) is not None and result.final:
            self.done[command_id] = (readable_at, result.outcome, result.status)

    def waiting(self, prefix: str) -> int:
        with self.lock:
            return sum(1 for c in self.sent if c.startswith(prefix) and c not in self.done)

    def settle(
        self, since: float, prefix: str, limit_s: float, *, stations: int = 1
    ) -> dict[str, Any]:
        """Wait until every command of ``prefix`` sent after ``since`` has its outcome and none
        came for QUIET_S, to at least ``stations`` stations; what they were."""
        deadline = time.monotonic() + limit_s
        while time.monotonic() < deadline:
            time.sleep(0.1)
            with self.lock:
                mine = {
                    c: s for c, s in self.sent.items() if c.startswith(prefix) and s[0] >= since
                }
                last = max((s[0] for s in mine.values()), default=since)
                open_ = [c for c in mine if c not in self.done]
                touched = len({station for _, station in mine.values()})
                if (
                    touched >= stations
                    and not open_
                    and time.monotonic() - max(last, *(self.done[c][0] for c in mine)) >= QUIET_S
                ):
                    return self._summary(since, mine)
        raise RuntimeError(f"no quiet within {limit_s}s: {self.waiting(prefix)} waiting")

    def _summary(self, since: float, mine: dict[str, tuple[float, str]]) -> dict[str, Any]:
        per_station: dict[str, float] = {}
        refused = 0
        for command_id, (_, station) in mine.items():
            at, outcome, status = self.done[command_id]
            if outcome != Outcome.ANSWERED or status != "Accepted":
                refused += 1
            per_station[station] = max(per_station.get(station, 0.0), at - since)
        times = sorted(per_station.values())
        return {
            "commands": len(mine),
            "stations": len(times),
            "not_accepted": refused,
            "all_s": times[-1],
            "station_p50_s": times[len(times) // 2],
            "station_p99_s": times[min(len(times) - 1, int(len(times) * 0.99))],
        }


async def _publish(topic: str, envelopes: list[Envelope]) -> None:
    producer = reliable_producer(bootstrap_servers(os.environ))
    await producer.start()
    try:
        futures = [await producer.send(topic, encode(e), key=e.key.encode()) for e in envelopes]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


def _baseline_commands(stations: list[str]) -> list[Envelope]:
    """Two SetChargingProfile per station, as the load balancer sends after a drop: its
    default and its session's limit (a TxProfile needs the transaction id, which the bench does
    not know: a second TxDefaultProfile stands in; the same limit as it has, so nothing
    changes)."""
    now = datetime.now(UTC)
    envelopes = []
    for station in stations:
        for n in range(2):
            command = OperatorCommand(
                command_id=f"{BENCH_PREFIX}{uuid.uuid4().hex}",
                station_id=station,
                command="SetChargingProfile",
                arguments={
                    "purpose": "TxDefaultProfile",
                    "evse_id": n,
                    "profile_id": 1,
                    "stack_level": 0,
                    "kind": "Absolute",
                    "start_at": (now - timedelta(minutes=1)).isoformat(),
                    "unit": "A",
                    "limit": HIGH_A,
                },
                deadline=now + timedelta(seconds=60),
            )
            envelopes.append(command.envelope())
    return envelopes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.loadbalance_latency",
        description=__doc__.split("\n")[0] if __doc__ else None,
    )
    parser.add_argument("--stations", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=5, help="rounds each way")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    prefix = f"LB{uuid.uuid4().hex[:6]}-"
    stations = [f"{prefix}{i:05d}" for i in range(1, args.stations + 1)]
    site_id = f"BENCH-{prefix.rstrip('-')}"
    document = {"capacity_a": HIGH_A * len(stations), "phases": 3, "stations": stations}
    defined = SiteDefined(site_id=site_id, stations=tuple(stations), document=document)
    asyncio.run(_define_token())
    asyncio.run(_publish(Topic.SITES, [defined.envelope()]))
    work = Path(tempfile.mkdtemp(prefix="bench-loadbalance-"))
    port = free_port()
    gateway = start_gateway(port, work / "gateway.log", instance=12)

    def process(module: str, name: str, *more: str) -> Process:
        return Process.start(["-m", module, *more, "--log-level=WARNING"], work / f"{name}.log")

    def worker(module: str, name: str) -> Process:
        return process(
            module,
            name,
            f"--group=bench-{name}-{uuid.uuid4().hex[:8]}",
            "--http-host=127.0.0.1",
            f"--http-port={free_port()}",
        )

    api_port = free_port()
    running = [
        gateway,
        worker("services.sessions", "sessions"),
        worker("services.loadbalance", "loadbalance"),
        process(
            "services.sessions.api",
            "api",
            "--host=127.0.0.1",
            f"--port={api_port}",
            f"--commands-group=bench-api-{uuid.uuid4().hex[:8]}",
        ),
    ]
    rounds: dict[str, list[dict[str, Any]]] = {"baseline": [], "drop": [], "raise": []}
    try:
        wait_port(api_port, 60)
        time.sleep(8)  # the workers join their groups
        with Watch() as watch:
            simulator = Process.start(
                [
                    "-m",
                    "tools.simulator",
                    f"--url=ws://127.0.0.1:{port}/ocpp",
                    f"--prefix={prefix}",
                    f"--stations={args.stations}",
                    "--version=mixed",
                    "--connect-rate=200",
                    "--sessions",
                    "--session-length=100000",
                    "--meter-interval=60",
                    "--idle=1",
                    f"--id-token={TOKEN}",
                    "--duration=3600",
                    "--processes=2",
                    "--quiet",
                ],
                work / "simulator.log",
            )
            running.append(simulator)
            time.sleep(2)
            if simulator.popen.poll() is not None:
                raise RuntimeError(f"the simulator stopped:\n{simulator.tail()}")
            log(f"{args.stations} stations connect, boot and start charging ...")
            first = watch.settle(time.monotonic() - 60, COMMAND_PREFIX, 300, stations=args.stations)
            log(f"settled: {first['commands']} profiles to {first['stations']} stations")
            for n in range(args.repeats):
                for kind, amps in (("drop", LOW_A), ("raise", HIGH_A)):
                    started = time.monotonic()
                    change = CapacityChanged(
                        site_id=site_id,
                        limit_a=amps * len(stations),
                        valid_from=datetime.now(UTC),
                        source="EMS",
                    )
                    asyncio.run(_publish(Topic.GRID_CAPACITY, [change.envelope()]))
                    result = watch.settle(started, COMMAND_PREFIX, 120)
                    rounds[kind].append(result)
                    log(f"[{n + 1}/{args.repeats}] {kind}: {_line(result)}")
                started = time.monotonic()
                asyncio.run(_publish(Topic.COMMANDS, _baseline_commands(stations)))
                result = watch.settle(started, BENCH_PREFIX, 120)
                rounds["baseline"].append(result)
                log(f"[{n + 1}/{args.repeats}] baseline: {_line(result)}")
    finally:
        for p in reversed(running):
            p.stop()
    print(_report(rounds, args.stations))
    if args.out:
        args.out.write_text(json.dumps(rounds, indent=1))
    return 0


def _line(r: dict[str, Any]) -> str:
    return (
        f"{r['commands']} commands to {r['stations']} stations, all accepted after "
        f"{r['all_s'] * 1000:.0f} ms (station p50 {r['station_p50_s'] * 1000:.0f}, p99 "
        f"{r['station_p99_s'] * 1000:.0f} ms), {r['not_accepted']} not accepted"
    )


def _report(rounds: dict[str, list[dict[str, Any]]], stations: int) -> str:
    def med(kind: str, key: str) -> float:
        return median([r[key] for r in rounds[kind]]) * 1000

    base = med("baseline", "all_s")
    lines = [
        f"{stations} stations on one site, all charging; medians of {len(rounds['drop'])} "
        "rounds each",
        "| from the event to | commands | all accepted ms | station p50 ms | station p99 ms "
        "| all / baseline |",
        "|---|---|---|---|---|---|",
    ]
    for kind, name in (
        ("baseline", "the bench's own commands accepted (command path alone)"),
        ("drop", f"capacity {HIGH_A:g} -> {LOW_A:g} A per station: every decrease accepted"),
        ("raise", f"capacity {LOW_A:g} -> {HIGH_A:g} A per station: every increase accepted"),
    ):
        lines.append(
            f"| {name} | {median([r['commands'] for r in rounds[kind]]):.0f} | "
            f"{med(kind, 'all_s'):.0f} | {med(kind, 'station_p50_s'):.0f} | "
            f"{med(kind, 'station_p99_s'):.0f} | {med(kind, 'all_s') / base:.2f}x |"
        )
    refused = sum(r["not_accepted"] for rs in rounds.values() for r in rs)
    lines.append(f"commands not accepted in all rounds: {refused}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
