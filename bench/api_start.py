"""How long an API replica takes to be ready against a long history, before and after the
read-model topics (issue 9): 100,000 stations and 1,000,000 ended sessions by default.

    python -m bench.api_start --bootstrap-servers 127.0.0.1:39092 --populate --runs 3

Use a broker of its own (``KAFKA_PORT=39092 deploy/local/kafka.sh start``, then
``python -m runtime provision``): ``--populate`` writes the history into it. The history is
written as the sessions worker writes it: stations.v1 and sessions.v1 (dated three days ago),
and their read-model topics, stations.latest.v1 and sessions.open.v1.

Baseline (same run): the read models as the API built them before, stations.v1 and sessions.v1
read from the beginning. After: ``SessionsApi.start()`` until /readyz would say ready.
"""

import argparse
import asyncio
import json
import statistics
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaProducer
from prometheus_client import CollectorRegistry

from bench.harness import ROOT, log
from contracts import codec
from contracts.envelope import Envelope
from contracts.events import DomainEvent
from contracts.payloads.presence import Presence, PresenceView
from contracts.payloads.sessions import (
    SessionEnded,
    SessionOpen,
    SessionStarted,
    SessionUpdated,
    session_id,
)
from contracts.payloads.stations import (
    StationBooted,
    StationOnlineChanged,
    StationStatusChanged,
    latest,
)
from contracts.topics import Topic
from ocppj.versions import OcppVersion
from runtime.follower import Follower
from services.sessions.api.app import SessionsApi
from services.sessions.api.core.sessions import SessionsView
from services.sessions.api.core.stations import StationsView
from services.sessions.api.settings import Settings

OUT = ROOT / "docs" / "bench" / "api-start.json"


def _record(event: DomainEvent, at: datetime) -> tuple[str, bytes, bytes, int]:
    envelope = event.envelope(occurred_at=at)
    return event.topic, event.key.encode(), codec.encode(envelope), int(at.timestamp() * 1000)


def _history(stations: int, ended: int, open_: int) -> Iterator[tuple[str, bytes, bytes, int]]:
    """The records, oldest first: each station booted, online and available three days ago,
    ``ended`` sessions spread over the stations then, and ``open_`` sessions begun an hour ago."""
    old = datetime.now(UTC) - timedelta(days=3)
    recent = datetime.now(UTC) - timedelta(hours=1)
    for n in range(stations):
        station_id = f"H-{n:06d}"
        presence = Presence(
            station_id=station_id,
            connected=True,
            gateway=0,
            connection_id=f"c{n}",
            ocpp_version=OcppVersion.V16,
            gateway_boot="history",
            connected_at=old,
        )
        yield Topic.PRESENCE, station_id.encode(), codec.encode(presence.envelope()), 0
        for event in (
            StationBooted(
                station_id=station_id,
                vendor="V",
                model="M",
                serial_number=None,
                firmware_version="1.0",
                ocpp_version="ocpp1.6",
                boot_status="Accepted",
            ).event(),
            StationOnlineChanged(
                station_id=station_id, online=True, gateway=0, connection_id=f"c{n}", at=old
            ).event(),
            StationStatusChanged(
                station_id=station_id,
                evse_id=1,
                connector_id=1,
                status="Available",
                error_code="NoError",
                at=old,
            ).event(),
        ):
            yield _record(event, old)
            copy = latest(event)
            assert copy is not None
            yield _record(copy, old)
    for n in range(ended + open_):
        station_id = f"H-{n % stations:06d}"
        transaction_id = str(n)
        at = old if n < ended else recent
        sid = session_id(station_id, transaction_id)
        started = SessionStarted(
            session_id=sid,
            station_id=station_id,
            transaction_id=transaction_id,
            evse_id=1,
            connector_id=1,
            id_token="TAG",
            meter_start_wh=1000.0,
            started_at=at,
        )
        updated = SessionUpdated(
            session_id=sid,
            station_id=station_id,
            transaction_id=transaction_id,
            energy_wh=5000.0,
            power_w=7000.0,
            current_a=30.0,
            soc_percent=None,
            at=at,
        )
        yield _record(started.event(), at)
        yield _record(updated.event(), at)
        if n < ended:
            yield _record(
                SessionEnded(
                    session_id=sid,
                    station_id=station_id,
                    transaction_id=transaction_id,
                    energy_wh=5000.0,
                    duration_s=3600.0,
                    id_token="TAG",
                    stop_reason="Local",
                    ended_at=at,
                ).event(),
                at,
            )
        else:
            yield _record(SessionOpen(started=started, updated=updated).event(), at)


async def _populate(bootstrap: str, stations: int, ended: int, open_: int) -> None:
    total = stations * 7 + ended * 3 + open_ * 3
    log(f"populating {total:,} records")
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, linger_ms=50, max_batch_size=512 * 1024, acks=1
    )
    await producer.start()
    try:
        started = time.monotonic()
        pending: list[asyncio.Future[Any]] = []
        for n, (topic, key, value, at_ms) in enumerate(_history(stations, ended, open_), 1):
            pending.append(await producer.send(topic, value, key=key, timestamp_ms=at_ms or None))
            if len(pending) >= 20_000:
                await asyncio.gather(*pending)
                pending.clear()
                rate = n / (time.monotonic() - started)
                log(f"  {n:,}/{total:,} records ({rate:,.0f}/s)")
        await asyncio.gather(*pending)
    finally:
        await producer.stop()


async def _timed(start: Callable[[], Awaitable[Callable[[], Awaitable[None]]]]) -> float:
    """Seconds until ``start()`` returns, then stop what it started."""
    begun = time.monotonic()
    stop = await start()
    elapsed = time.monotonic() - begun
    await stop()
    return elapsed


async def _before(bootstrap: str) -> Callable[[], Awaitable[None]]:
    """The read models as the API built them before: every log from the beginning."""
    presence, stations, sessions = PresenceView(), StationsView(), SessionsView()
    views: dict[str, Any] = {
        Topic.PRESENCE: presence,
        Topic.STATIONS: stations,
        Topic.SESSIONS: sessions,
    }

    def apply(topic: str, _: str, envelope: Envelope | None) -> None:
        if envelope is not None:
            views[topic].apply(envelope)

    follower = Follower(
        bootstrap, [Topic.PRESENCE, Topic.STATIONS, Topic.SESSIONS], apply, connect_timeout_s=30
    )
    await follower.start()
    await follower.ready.wait()
    log(f"  before: {len(stations):,} stations, {len(sessions):,} sessions in memory")
    return follower.stop


async def _after(bootstrap: str) -> Callable[[], Awaitable[None]]:
    settings = Settings(bootstrap_servers=bootstrap, connect_timeout_s=30)
    api = SessionsApi(settings, CollectorRegistry())
    await api.start()
    while not api.readiness()[0]:  # noqa: ASYNC110 - readiness is a derived check
        await asyncio.sleep(0.01)
    log(f"  after: {len(api.stations):,} stations, {len(api.sessions):,} sessions in memory")
    return api.stop


async def _measure(args: argparse.Namespace) -> dict[str, Any]:
    if args.populate:
        await _populate(args.bootstrap_servers, args.stations, args.sessions, args.open)
    before: list[float] = []
    after: list[float] = []
    for run in range(1, args.runs + 1):  # interleaved: the machine's noise falls on both
        log(f"run {run}/{args.runs}")
        before.append(await _timed(lambda: _before(args.bootstrap_servers)))
        log(f"  before: {before[-1]:.1f} s")
        after.append(await _timed(lambda: _after(args.bootstrap_servers)))
        log(f"  after: {after[-1]:.2f} s")
    return {
        "stations": args.stations,
        "ended_sessions": args.sessions,
        "open_sessions": args.open,
        "before_s": before,
        "after_s": after,
        "before_median_s": statistics.median(before),
        "after_median_s": statistics.median(after),
        "ratio_after_to_before": statistics.median(after) / statistics.median(before),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.api_start",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--bootstrap-servers", default="127.0.0.1:39092")
    parser.add_argument("--populate", action="store_true", help="write the history first")
    parser.add_argument("--stations", type=int, default=100_000)
    parser.add_argument("--sessions", type=int, default=1_000_000, help="ended sessions")
    parser.add_argument("--open", type=int, default=1_000, help="open sessions")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    results = asyncio.run(_measure(args))
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(
        f"API start, {args.stations:,} stations and {args.sessions:,} ended sessions of history "
        f"({args.runs} runs, medians):\n"
        f"  before (logs from the beginning): {results['before_median_s']:.1f} s\n"
        f"  after  (read-model topics):       {results['after_median_s']:.2f} s\n"
        f"  ratio after/before:               {results['ratio_after_to_before']:.3f}\n"
        f"  written to {args.out}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
