"""Benchmark (issue 4): station messages through gateway + sessions, and a reconnect storm.

(1) Sustained load: simulated stations (half 1.6, half 2.0.1) boot, report status, authorize,
charge with meter values and stop, through one gateway and one sessions worker, beside the same
stations against the in-process responder (baseline; it validates with the `ocpp` library unless
--baseline-validate says otherwise). Reports answered messages per second and
round-trip p50/p99 over every station CALL. (2) Reconnect storm: N stations connect and boot at
once; how long until all are Accepted. Medians of --repeats; JSON with --out.
    python -m bench.sessions_throughput [--stations 1000] [--meter-interval 0.5] [--repeats 3]
Steady-state figures leave out the first --warmup seconds (stations connecting and booting).
"""

import argparse
import asyncio
import json
import os
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

from bench.harness import (
    Meter,
    Process,
    free_port,
    log,
    median,
    simulate,
    start_gateway,
    wait_port,
    wait_ready,
)
from contracts.codec import encode
from contracts.payloads.tokens import Token
from contracts.topics import Topic
from runtime.kafka import reliable_producer
from runtime.settings import bootstrap_servers
from tools.simulator.checking import CHECKS
from tools.simulator.report import Latency

TOKEN = "BENCH-TOKEN"


async def _define_token() -> None:
    producer = reliable_producer(bootstrap_servers(os.environ))
    await producer.start()
    envelope = Token(id_token=TOKEN, type="ISO14443", status="Accepted").envelope()
    await producer.send_and_wait(Topic.TOKENS, encode(envelope), key=TOKEN.encode())
    await producer.stop()


def _overall(summary: dict[str, Any], warmup_s: float) -> dict[str, float]:
    """Throughput and latency over the whole run, and in steady state (after the warm-up, in
    which 1,000 stations connect and boot within 2 s)."""
    total, steady = Latency(), Latency()
    for data in summary["tally"]["latency"].values():
        total.merge(Latency.from_json(data))
    for data in summary["tally"].get("steady", {}).values():
        steady.merge(Latency.from_json(data))
    return {
        "answered_per_s": total.count / summary["duration_s"],
        "p50_ms": total.quantile(0.5) * 1000,
        "p99_ms": total.quantile(0.99) * 1000,
        "steady_per_s": steady.count / (summary["duration_s"] - warmup_s),
        "steady_p50_ms": steady.quantile(0.5) * 1000,
        "steady_p99_ms": steady.quantile(0.99) * 1000,
        "errors": float(sum(summary["tally"]["errors"].values())),
        "sessions": float(summary["tally"]["sessions_ended"]),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.sessions_throughput",
        description=__doc__.split("\n")[0] if __doc__ else None,
    )
    parser.add_argument("--stations", type=int, default=1000)
    parser.add_argument("--meter-interval", type=float, default=0.5)
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument(
        "--warmup", type=float, default=10, help="seconds left out of the steady-state figures"
    )
    parser.add_argument("--storm-stations", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-storm", action="store_true")
    parser.add_argument("--skip-load", action="store_true", help="only the reconnect storm")
    parser.add_argument(
        "--reuse-ids",
        metavar="PREFIX",
        help="every run uses the same station ids (PREFIX0000, ...), as a fleet does: what a "
        "run leaves behind (open transactions) meets the next run",
    )
    parser.add_argument(
        "--baseline-validate",
        choices=CHECKS,
        default="ocpp",
        help="how the in-process baseline validates CALLs and answers: the `ocpp` library as a "
        "Python CSMS does, chargebus's compiled validators, or not at all [%(default)s]",
    )
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    asyncio.run(_define_token())
    work = Path(tempfile.mkdtemp(prefix="bench-sessions-"))
    port, baseline_port = free_port(), free_port()
    gateway_http, sessions_http = free_port(), free_port()
    gateway = start_gateway(port, work / "gateway.log", instance=10, http_port=gateway_http)
    sessions = Process.start(
        [
            "-m",
            "services.sessions",
            f"--group=bench-sessions-{uuid.uuid4().hex[:8]}",
            "--http-host=127.0.0.1",
            f"--http-port={sessions_http}",
            "--log-level=WARNING",
        ],
        work / "sessions.log",
    )
    baseline = Process.start(
        [
            "-m",
            "tools.simulator.responder",
            f"--port={baseline_port}",
            f"--validate={args.baseline_validate}",
        ],
        work / "baseline.log",
    )
    results: dict[str, Any] = {"load": {"baseline": [], "chargebus": []}, "storm": []}
    mix = [
        f"--stations={args.stations}",
        "--version=mixed",
        "--connect-rate=500",
        "--sessions",
        "--session-length=20",
        f"--meter-interval={args.meter_interval}",
        "--idle=1",
        f"--id-token={TOKEN}",
        f"--duration={args.duration}",
        f"--warmup={args.warmup}",
        "--processes=2",
    ]
    try:
        wait_port(port)
        wait_port(baseline_port)
        # The worker joins its group and restores its partitions: a storm or a load that
        # started before would time out and back off for tens of seconds (seen: 101 s).
        log(f"sessions worker ready after {wait_ready(sessions_http):.1f} s")
        wait_ready(gateway_http)
        for repeat in range(0 if args.skip_load else args.repeats):
            for target, url_port in (("baseline", baseline_port), ("chargebus", port)):
                pid = gateway.popen.pid if target == "chargebus" else baseline.popen.pid
                # What the machine did meanwhile: is it saturated, how long did each process
                # wait for a core, what did the broker take, did a garbage collection stop the
                # gateway or the worker?
                meter = Meter(
                    {"server": [pid], "sessions": [sessions.popen.pid]},
                    {"gateway": [gateway_http], "sessions": [sessions_http]}
                    if target == "chargebus"
                    else {},
                )
                before = meter.read()
                # New station ids for every run: a station keeps what earlier runs left behind
                # (the transactions open when a run stopped), which makes later runs slower.
                prefix = f"--prefix={args.reuse_ids or f'L{uuid.uuid4().hex[:6]}-'}"
                run = _overall(
                    simulate(
                        [f"--url=ws://127.0.0.1:{url_port}/ocpp", prefix, *mix],
                        args.duration + 120,
                    ),
                    args.warmup,
                )
                run.update(meter.since(before))
                results["load"][target].append(run)
                log(
                    f"[{repeat + 1}/{args.repeats}] {target:<9} "
                    f"{run['answered_per_s']:7.0f} msg/s  "
                    f"p50 {run['p50_ms']:6.2f} ms  p99 {run['p99_ms']:7.2f} ms; steady "
                    f"{run['steady_per_s']:5.0f} msg/s p50 {run['steady_p50_ms']:6.2f} ms "
                    f"p99 {run['steady_p99_ms']:7.2f} ms  "
                    f"sessions {run['sessions']:.0f}  errors {run['errors']:.0f}  "
                    f"machine busy {run['machine_busy_cores']:.2f} cores, stalled "
                    f"{run['cpu_stalled_share']:.0%} of the time"
                )
        if not args.skip_storm:
            for repeat in range(args.repeats):
                meter = Meter(
                    {"server": [gateway.popen.pid], "sessions": [sessions.popen.pid]},
                    {"gateway": [gateway_http], "sessions": [sessions_http]},
                )
                before = meter.read()
                summary = simulate(
                    [
                        f"--url=ws://127.0.0.1:{port}/ocpp",
                        f"--stations={args.storm_stations}",
                        "--version=mixed",
                        "--connect-rate=100000",
                        "--no-sessions",
                        "--heartbeat-override=0",
                        "--duration=120",
                        "--processes=2",
                        "--expect-accepted=all",
                        f"--prefix=STORM{repeat}-",
                    ],
                    400,
                )
                tally = summary["tally"]
                storm = {
                    "accepted": summary["accepted"],
                    "all_accepted_s": summary["all_accepted_s"],
                    "errors": sum(tally["errors"].values()),
                    # Stations the sessions service meets for the first time are asked for
                    # their inventory (GetConfiguration, GetBaseReport and its NotifyReports):
                    # the first storm of fresh ids carries that work, a reconnect storm not.
                    "sent": tally["sent"],
                    "received": tally["received"],
                    "csms_calls": {a: sum(c.values()) for a, c in tally["handled"].items()},
                    **meter.since(before),  # from the first connect until every station left
                }
                results["storm"].append(storm)
                log(
                    f"[{repeat + 1}/{args.repeats}] storm: "
                    f"{storm['accepted']}/{args.storm_stations} "
                    f"accepted after {storm['all_accepted_s']} s, errors {storm['errors']}, "
                    f"{storm['sent']} frames sent, CSMS CALLs {storm['csms_calls'] or 'none'}, "
                    f"CPU gateway {storm['server_cpu_s']:.1f} s, worker "
                    f"{storm['sessions_cpu_s']:.1f} s, broker {storm.get('broker_cpu_s', 0):.1f} s"
                )
    finally:
        for process in (gateway, sessions, baseline):
            process.stop()
    print(_report(results, args))
    if args.out:
        args.out.write_text(json.dumps(results, indent=1))
    return 0


def _report(results: dict[str, Any], args: argparse.Namespace) -> str:
    def med(target: str, key: str) -> float:
        return median([r[key] for r in results["load"][target]])

    lines: list[str] = []
    if results["load"]["chargebus"]:
        lines += [
            f"{args.stations} stations, meter values every {args.meter_interval} s | baseline | "
            "chargebus | ratio",
            "---|---|---|---",
        ]
    for key, label in (
        (
            ("answered_per_s", "answered messages/s, whole run"),
            ("p50_ms", "p50 ms, whole run"),
            ("p99_ms", "p99 ms, whole run"),
            ("steady_per_s", f"answered messages/s after the {args.warmup:g} s warm-up"),
            ("steady_p50_ms", "p50 ms after the warm-up"),
            ("steady_p99_ms", "p99 ms after the warm-up"),
            ("sessions", "sessions ended"),
            ("errors", "errors"),
        )
        if results["load"]["chargebus"]
        else ()
    ):
        b, c = med("baseline", key), med("chargebus", key)
        lines.append(f"{label} | {b:.1f} | {c:.1f} | " + (f"{c / b:.2f}x" if b else "-"))
    if results["storm"]:
        times = [s["all_accepted_s"] or float("nan") for s in results["storm"]]
        accepted = [s["accepted"] for s in results["storm"]]
        gateway_cpu = [round(s["server_cpu_s"], 2) for s in results["storm"]]
        lines.append(
            f"\nstorm: {args.storm_stations} stations at once: all Accepted after "
            f"{median(times):.1f} s (median; runs {times}), accepted {accepted}; gateway CPU "
            f"{median(gateway_cpu):.1f} s (runs {gateway_cpu})"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
