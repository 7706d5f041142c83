"""Benchmark (a): idle station connections with heartbeats held by one gateway process.

Connects N simulated stations (boot, status, then a heartbeat every --heartbeat seconds) to one
gateway (with a stand-in service answering through Kafka) and, in the same run, to the baseline
(the simulator's responder: a plain websockets server, no Kafka, no validation). Reports how many
connections each held, the memory per connection (RSS growth / N) and CPU, medians of --repeats.
The memory per connection is the run's peak, which may come when every station leaves at the end
(the gateway then publishes all their StationDisconnected at once); "while held" is the peak
before the stations leave.
    python -m bench.gateway_connections [--stations 10000] [--repeats 3]
"""

import argparse
import json
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench.harness import (
    Process,
    cpu_seconds,
    free_port,
    log,
    median,
    rss_mib,
    simulate,
    start_gateway,
    wait_port,
)

TARGETS = ("baseline", "chargebus")


class Sampler(threading.Thread):
    """Samples a process's RSS once a second while a run goes on."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak_mib, self.running = pid, 0.0, True
        self.samples: list[tuple[float, float]] = []  # (monotonic time, RSS MiB)

    def run(self) -> None:
        while self.running:
            rss = rss_mib(self.pid)
            self.peak_mib = max(self.peak_mib, rss)
            self.samples.append((time.monotonic(), rss))
            time.sleep(1)

    def peak_before(self, limit: float) -> float:
        """The highest RSS sampled before the monotonic time ``limit``."""
        return max((rss for at, rss in self.samples if at < limit), default=0.0)


def _run(url: str, args: argparse.Namespace, pid: int) -> dict[str, Any]:
    idle_mib, cpu_before = rss_mib(pid), cpu_seconds(pid)
    sampler = Sampler(pid)
    sampler.start()
    started = time.monotonic()  # the stations leave --duration after the simulator started
    summary = simulate(
        [
            f"--url={url}",
            f"--stations={args.stations}",
            f"--connect-rate={args.connect_rate}",
            "--no-sessions",
            f"--heartbeat-override={args.heartbeat}",
            f"--duration={args.duration}",
            f"--processes={args.processes}",
            "--version=mixed",
            "--expect-accepted=all",
        ],
        limit_s=args.duration + 300,
    )
    sampler.running = False
    sampler.join()
    t = summary["tally"]
    held_mib = sampler.peak_before(started + args.duration)
    return {
        "accepted": summary["accepted"],
        "connects": t["connects"],
        "disconnects": t["disconnects"],
        "errors": sum(t["errors"].values()),
        "heartbeats": t["latency"].get("Heartbeat", {}).get("count", 0),
        "heartbeat_p99_ms": t["latency"].get("Heartbeat", {}).get("p99_ms", float("nan")),
        "all_connected_s": summary["all_connected_s"],
        "idle_mib": idle_mib,
        "peak_mib": sampler.peak_mib,
        "kib_per_connection": (sampler.peak_mib - idle_mib) * 1024 / args.stations,
        "held_mib": held_mib,
        "kib_per_connection_held": (held_mib - idle_mib) * 1024 / args.stations,
        "server_cpu_s": cpu_seconds(pid) - cpu_before,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.gateway_connections",
        description=__doc__.split("\n")[0] if __doc__ else None,
    )
    parser.add_argument("--stations", type=int, default=10_000)
    parser.add_argument("--connect-rate", type=float, default=500)
    parser.add_argument("--heartbeat", type=float, default=60, help="seconds between heartbeats")
    parser.add_argument("--duration", type=float, default=60, help="seconds per run")
    parser.add_argument("--processes", type=int, default=2, help="simulator processes")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--instance", type=int, default=13, help="gateway inbox partition")
    parser.add_argument("--out", type=Path, help="write the results as JSON")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="bench-connections-"))
    results: dict[str, list[dict[str, Any]]] = {t: [] for t in TARGETS}
    echo = Process.start(["-m", "bench.echo_service"], work / "echo.log")
    try:
        echo.wait_line("ready")
        for repeat in range(args.repeats):
            for target in TARGETS:
                port = free_port()
                if target == "chargebus":
                    server = start_gateway(
                        port, work / f"gateway-{repeat}.log", instance=args.instance
                    )
                else:
                    server = Process.start(
                        ["-m", "tools.simulator.responder", "--port", str(port)],
                        work / f"baseline-{repeat}.log",
                    )
                try:
                    wait_port(port)
                    time.sleep(1)  # let it settle before the idle RSS sample
                    run = _run(f"ws://127.0.0.1:{port}/ocpp", args, server.popen.pid)
                finally:
                    server.stop()
                results[target].append(run)
                log(
                    f"[{repeat + 1}/{args.repeats}] {target:<9} accepted {run['accepted']:>6}"
                    f"/{args.stations}  errors {run['errors']}  RSS {run['idle_mib']:.0f} -> "
                    f"{run['peak_mib']:.0f} MiB ({run['kib_per_connection']:.1f} KiB/conn, "
                    f"{run['kib_per_connection_held']:.1f} while held)  "
                    f"cpu {run['server_cpu_s']:.1f} s  heartbeat p99 "
                    f"{run['heartbeat_p99_ms']:.1f} ms"
                )
    finally:
        echo.stop()
    print(_report(results, args.stations))
    if args.out:
        args.out.write_text(json.dumps(results, indent=1))
    return 0


def _report(results: dict[str, list[dict[str, Any]]], stations: int) -> str:
    def med(target: str, key: str) -> float:
        return median([float(r[key]) for r in results[target]])

    lines = [f"{stations} stations | baseline | chargebus | ratio", "---|---|---|---"]
    for key, label in (
        ("accepted", "stations held (accepted)"),
        ("errors", "errors"),
        ("kib_per_connection", "KiB per connection"),
        ("kib_per_connection_held", "KiB per connection while held"),
        ("peak_mib", "peak RSS MiB"),
        ("server_cpu_s", "server CPU s per run"),
        ("heartbeat_p99_ms", "heartbeat p99 ms"),
        ("all_connected_s", "all connected after s"),
    ):
        b, c = med("baseline", key), med("chargebus", key)
        ratio = f"{c / b:.2f}x" if b else "-"
        lines.append(f"{label} | {b:.1f} | {c:.1f} | {ratio}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
