"""Benchmark (issue 11): CDRs per second of `rebuild`, a replay of sessions from the broker.

Writes --sessions synthetic sessions (SessionStarted, --updates SessionUpdated, SessionEnded),
starting in order through a week as in a real log, to sessions.v1 of the broker at
$KAFKA_BOOTSTRAP_SERVERS (use a broker of its own: the records stay), then times `rebuild` over
them (read from Kafka, priced by the billing core, compared with billing.cdrs.v1) in this
process, one core. Baseline in the same run: reading the same records from the broker and
decoding them, nothing else. Medians of --repeats.
    KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:39092 python -m bench.billing_replay [--sessions 100000]
"""

import argparse
import asyncio
import json
import os
import statistics
import time
from datetime import datetime, timedelta
from typing import Any

from bench.billing_core import SIMPLE, T0, book, sessions
from bench.harness import log
from contracts.codec import encode
from contracts.topics import Topic
from runtime.kafka import reliable_producer
from runtime.settings import bootstrap_servers
from services.billing.core.cdr import Party
from services.billing.rebuild import read_period, rebuild

CHUNK = 20_000  # sessions built and written at a time


async def produce(bootstrap: str, count: int, updates: int) -> datetime:
    """The sessions; returns the start of the period that holds them all (their own times are
    a week of November; the broker is the benchmark's own, so reading from then reads them)."""
    since = T0 - timedelta(days=1)
    producer = reliable_producer(bootstrap)
    await producer.start()
    try:
        started, n, total = time.monotonic(), 0, count * (updates + 2)
        for first in range(0, count, CHUNK):  # built a chunk at a time: 1 M sessions are 12 M
            for envelope in sessions(min(CHUNK, count - first), updates, first, of=count):
                await producer.send(Topic.SESSIONS, encode(envelope), key=envelope.key.encode())
                n += 1
                if n % 1_000_000 == 0:
                    rate = n / (time.monotonic() - started)
                    log(f"produced {n:,}/{total:,} ({rate:,.0f}/s)")
        await producer.flush()
    finally:
        await producer.stop()
    return since


async def read_only(bootstrap: str, since: datetime) -> int:
    return sum([1 async for _ in read_period(bootstrap, Topic.SESSIONS, since)])


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    bootstrap = bootstrap_servers(os.environ)
    log(f"writing {args.sessions:,} sessions to sessions.v1 at {bootstrap}")
    since = await produce(bootstrap, args.sessions, args.updates)
    runs: dict[str, list[float]] = {"read": [], "rebuild": []}
    for repeat in range(args.repeats):
        started = time.process_time()
        records = await read_only(bootstrap, since)
        runs["read"].append(time.process_time() - started)
        started = time.process_time()
        comparison = await rebuild(
            bootstrap,
            since=since,
            until=None,
            lookback=timedelta(0),
            book=book(SIMPLE),
            party=Party(),
            time_zone="Europe/Amsterdam",
            currency="EUR",
            out=None,
            progress=log,
        )
        runs["rebuild"].append(time.process_time() - started)
        assert comparison.only_rebuilt >= args.sessions, comparison.summary()
        log(
            f"run {repeat + 1}/{args.repeats}: read {runs['read'][-1]:.1f} s, "
            f"rebuild {runs['rebuild'][-1]:.1f} s CPU ({records:,} records)"
        )
    medians = {k: statistics.median(v) for k, v in runs.items()}
    return {
        "sessions": args.sessions,
        "records": records,
        "runs_cpu_seconds": runs,
        "cpu_seconds_median": medians,
        "cdrs_per_second": round(args.sessions / medians["rebuild"]),
        "ratio_to_read": round(medians["rebuild"] / medians["read"], 1),
        "one_million_sessions_minutes": round(
            1_000_000 / (args.sessions / medians["rebuild"]) / 60, 1
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, default=100_000)
    parser.add_argument("--updates", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", help="write the figures as JSON here")
    args = parser.parse_args()
    report = asyncio.run(main_async(args))
    print(json.dumps(report, indent=2))
    if args.out:
        with open(args.out, "w") as out:
            json.dump(report, out, indent=2)


if __name__ == "__main__":
    main()
