"""Benchmark (issue 11): from a station's last message to its CDR on billing.cdrs.v1, under load.

Simulated stations (half 1.6, half 2.0.1; about 2,000 msg/s with the defaults) charge through
one gateway, one sessions worker and one billing worker. For every session the bench reads
when its SessionEnded (sessions.v1) and its CdrIssued (billing.cdrs.v1) became visible to a
consumer, against the time the gateway received the station's stop message (the envelopes'
``occurred_at``, carried unchanged from the station's CALL). The baseline is the sessions hop
alone (stop -> SessionEnded); the CDR adds billing's hop. Medians of --repeats.
    python -m bench.billing_latency [--stations 1000] [--duration 60] [--repeats 3]
"""

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from bench.harness import (
    Process,
    TopicWatch,
    cpu_seconds,
    free_port,
    log,
    median,
    simulate,
    start_gateway,
)
from bench.sessions_throughput import TOKEN, _define_token, _overall
from contracts.codec import encode
from contracts.envelope import Envelope
from contracts.events import EventType
from contracts.payloads.billing import Scope, TariffAssigned, TariffDefined
from contracts.topics import Topic
from runtime.kafka import reliable_producer
from runtime.settings import bootstrap_servers
from services.billing.core.ocpi_json import dumps

TARIFF_ID = "BENCH-AC"
TARIFF: dict[str, Any] = {
    "country_code": "NL",
    "party_id": "CBS",
    "id": TARIFF_ID,
    "currency": "EUR",
    "elements": [
        {
            "price_components": [
                {"type": "FLAT", "price": 1.00, "vat": 21, "step_size": 1},
                {"type": "ENERGY", "price": 0.30, "vat": 21, "step_size": 1},
                {"type": "PARKING_TIME", "price": 2.00, "vat": 21, "step_size": 60},
            ]
        }
    ],
    "last_updated": "2026-11-26T00:00:00Z",
}


async def _define_tariff() -> None:
    """BENCH-AC as the default tariff (the bench runs on a broker of its own)."""
    producer = reliable_producer(bootstrap_servers(os.environ))
    await producer.start()
    try:
        defined = TariffDefined(tariff_id=TARIFF_ID, ocpi_json=dumps(TARIFF)).envelope()
        assigned = TariffAssigned(
            scope=Scope.DEFAULT, target=None, tariff_ids=(TARIFF_ID,)
        ).envelope()
        for envelope in (defined, assigned):
            await producer.send_and_wait(Topic.TARIFFS, encode(envelope), key=envelope.key.encode())
    finally:
        await producer.stop()


class Watch(TopicWatch):
    """Seconds from a session's stop (received by the gateway) to its SessionEnded and its
    CdrIssued being readable, for the stations whose id starts with ``prefix``."""

    def __init__(self, prefix: str) -> None:
        super().__init__((Topic.SESSIONS, Topic.CDRS), poll_ms=200)
        self.prefix = prefix
        self.ended: list[float] = []
        self.cdrs: list[float] = []

    def record(self, key: str, envelope: Envelope, readable_at: float) -> None:
        if not key.startswith(self.prefix):
            return
        # the envelope's time is the wall clock: so is the time it became readable
        seconds = time.time() - time.monotonic() + readable_at - envelope.occurred_at.timestamp()
        if envelope.event_type == EventType.SESSION_ENDED:
            self.ended.append(seconds)
        elif envelope.event_type == EventType.CDR_ISSUED:
            self.cdrs.append(seconds)


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else float("nan")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.billing_latency",
        description=__doc__.split("\n")[0] if __doc__ else None,
    )
    parser.add_argument("--stations", type=int, default=1000)
    parser.add_argument("--meter-interval", type=float, default=0.5)
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    asyncio.run(_define_token())
    asyncio.run(_define_tariff())
    work = Path(tempfile.mkdtemp(prefix="bench-billing-"))
    port = free_port()
    gateway = start_gateway(port, work / "gateway.log", instance=11)

    def worker(module: str, name: str) -> Process:
        return Process.start(
            [
                "-m",
                module,
                f"--group=bench-{name}-{uuid.uuid4().hex[:8]}",
                "--http-host=127.0.0.1",
                f"--http-port={free_port()}",
                "--log-level=WARNING",
            ],
            work / f"{name}.log",
        )

    sessions, billing = (
        worker("services.sessions", "sessions"),
        worker("services.billing", "billing"),
    )
    runs: list[dict[str, Any]] = []
    try:
        time.sleep(10)  # both workers join their groups and restore their partitions
        for repeat in range(args.repeats):
            prefix = f"BL{uuid.uuid4().hex[:6]}-"
            named = {"gateway": gateway, "sessions": sessions, "billing": billing}
            cpu_before = {name: cpu_seconds(p.popen.pid) for name, p in named.items()}
            with Watch(prefix) as watch:
                load = _overall(
                    simulate(
                        [
                            f"--url=ws://127.0.0.1:{port}/ocpp",
                            f"--prefix={prefix}",
                            f"--stations={args.stations}",
                            "--version=mixed",
                            "--connect-rate=500",
                            "--sessions",
                            "--session-length=20",
                            f"--meter-interval={args.meter_interval}",
                            "--idle=1",
                            f"--id-token={TOKEN}",
                            f"--duration={args.duration}",
                            "--warmup=10",
                            "--processes=2",
                        ],
                        args.duration + 120,
                    ),
                    10,
                )
                time.sleep(8)  # the last sessions' CDRs
            cpu = {name: cpu_seconds(p.popen.pid) - cpu_before[name] for name, p in named.items()}
            run = {
                "answered_per_s": load["answered_per_s"],
                "station_p99_ms": load["p99_ms"],
                "sessions_ended": len(watch.ended),
                "cdrs": len(watch.cdrs),
                "ended_p50_ms": quantile(watch.ended, 0.5),
                "ended_p99_ms": quantile(watch.ended, 0.99),
                "cdr_p50_ms": quantile(watch.cdrs, 0.5),
                "cdr_p99_ms": quantile(watch.cdrs, 0.99),
                "cpu_s": cpu,
            }
            runs.append(run)
            log(
                f"[{repeat + 1}/{args.repeats}] {run['answered_per_s']:.0f} msg/s; "
                f"stop -> SessionEnded p50 {run['ended_p50_ms']:.1f} p99 "
                f"{run['ended_p99_ms']:.1f} ms; stop -> CDR p50 {run['cdr_p50_ms']:.1f} p99 "
                f"{run['cdr_p99_ms']:.1f} ms; {run['cdrs']} CDRs of {run['sessions_ended']} "
                f"sessions; CPU s {cpu}"
            )
    finally:
        for process in (gateway, sessions, billing):
            process.stop()
    print(_report(runs, args))
    if args.out:
        args.out.write_text(json.dumps(runs, indent=1))
    return 0


def _report(runs: list[dict[str, Any]], args: argparse.Namespace) -> str:
    def med(key: str) -> float:
        return median([r[key] for r in runs])

    return "\n".join(
        [
            f"{args.stations} stations, meter values every {args.meter_interval} s, "
            f"{med('answered_per_s'):.0f} msg/s answered (median of {len(runs)})",
            "| from the station's stop message to | p50 ms | p99 ms |",
            "|---|---|---|",
            f"| SessionEnded readable (baseline: sessions) | {med('ended_p50_ms'):.1f} | "
            f"{med('ended_p99_ms'):.1f} |",
            f"| CdrIssued readable (sessions + billing) | {med('cdr_p50_ms'):.1f} | "
            f"{med('cdr_p99_ms'):.1f} |",
            f"| ratio CDR / SessionEnded | {med('cdr_p50_ms') / med('ended_p50_ms'):.2f}x | "
            f"{med('cdr_p99_ms') / med('ended_p99_ms'):.2f}x |",
            f"CDRs / sessions ended per run: {[(r['cdrs'], r['sessions_ended']) for r in runs]}",
        ]
    )


if __name__ == "__main__":
    sys.exit(main())
