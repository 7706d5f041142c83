"""Benchmark (issue 10): how long the operator console takes to show a station's new status,
with 10,000 stations in the fleet, and whether its page stays usable with them.

A fleet of --stations stations is written to ocpp.presence.v1 and stations.latest.v1 as the
gateway and the sessions service write them (connected, booted, one connector Available). The
sessions API runs as its own process (`python -m services.sessions.api`) and the console in
headless Chromium (Debian's, driven by Playwright), signed in on the fleet's first page. Each
round changes the status of --changes stations on that page, one at a time, by writing their
StationStatusChanged to stations.latest.v1, and measures from the write to the moment the
page's row shows it (a MutationObserver in the page; both clocks are this machine's).

Baseline, same run: from the same kind of write to the moment the API's read model shows it
(GET /stations/{id} polled every 5 ms): the console's own share is the ratio. Also: the time
from opening the console to its first page of stations, and from "Next" to the next page.
Medians of --rounds rounds.
    python -m bench.console_latency --bootstrap-servers 127.0.0.1:39092 [--stations 10000]

Use a broker of its own (``KAFKA_PORT=39092 deploy/local/kafka.sh start``, then
``KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:39092 python -m runtime provision``).
"""

import argparse
import asyncio
import json
import random
import statistics
import tempfile
import time
import urllib.request
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaProducer
from playwright.async_api import Page, async_playwright

from bench.harness import Process, free_port, log, median, wait_port
from contracts import codec
from contracts.payloads.api_keys import Role
from contracts.payloads.presence import Presence
from contracts.payloads.stations import StationBooted, StationStatusChanged, latest
from contracts.topics import Topic
from ocppj.versions import OcppVersion
from runtime.api_keys import issue_key
from services.sessions.api.core.live import FLUSH_S
from tools.browser import CHROMIUM, CHROMIUM_ARGS

STATUSES = ("Charging", "Available")


def station_id(prefix: str, n: int) -> str:
    return f"{prefix}{n:06d}"


async def populate(producer: AIOKafkaProducer, prefix: str, stations: int) -> None:
    """The fleet as the gateway and the sessions service leave it: online, booted, Available."""
    now = datetime.now(UTC)
    sent = []
    for n in range(stations):
        sid = station_id(prefix, n)
        presence = Presence(
            station_id=sid,
            connected=True,
            gateway=0,
            connection_id=uuid.uuid4().hex[:16],
            ocpp_version=OcppVersion.V201,
            gateway_boot="bench",
            connected_at=now,
        )
        sent.append((Topic.PRESENCE, sid, codec.encode(presence.envelope())))
        boot = StationBooted(
            station_id=sid,
            vendor="Bench",
            model="B1",
            serial_number=sid,
            firmware_version="1.0",
            ocpp_version="ocpp2.0.1",
            boot_status="Accepted",
        )
        status = StationStatusChanged(
            station_id=sid, evse_id=1, connector_id=1, status="Available", error_code=None, at=now
        )
        for event in (boot.event(), status.event()):
            copy = latest(event)
            assert copy is not None
            sent.append(
                (Topic.STATIONS_LATEST, copy.key, codec.encode(copy.envelope(occurred_at=now)))
            )
    futures = [await producer.send(topic, value, key=key.encode()) for topic, key, value in sent]
    await asyncio.gather(*futures)


async def change(producer: AIOKafkaProducer, sid: str, status: str) -> float:
    """Write the station's new status after a random pause of up to one flush (so that the
    writes do not fall in step with the feed's flushes); the wall-clock time (ms) just before
    the write."""
    await asyncio.sleep(random.uniform(0, FLUSH_S))
    now = datetime.now(UTC)
    event = StationStatusChanged(
        station_id=sid, evse_id=1, connector_id=1, status=status, error_code=None, at=now
    ).event()
    copy = latest(event)
    assert copy is not None
    sent_ms = time.time() * 1000
    await producer.send_and_wait(
        Topic.STATIONS_LATEST, codec.encode(copy.envelope(occurred_at=now)), key=copy.key.encode()
    )
    return sent_ms


OBSERVER = """
(sid) => new Promise((resolve) => {
  const find = () => document.querySelector(`tr[data-station-id="${sid}"]`);
  const start = find() ? find().textContent : "";
  const observer = new MutationObserver(() => {
    const row = find();
    if (row && row.textContent !== start) {
      observer.disconnect();
      resolve(performance.timeOrigin + performance.now());
    }
  });
  const options = {childList: true, subtree: true, characterData: true};
  observer.observe(document.querySelector("#stations tbody"), options);
  window.__ready = true;
})
"""


def flipped(current: dict[str, str], sid: str) -> str:
    """The other status than the station has now (every station starts Available)."""
    status = STATUSES[0] if current.get(sid, STATUSES[1]) == STATUSES[1] else STATUSES[1]
    current[sid] = status
    return status


async def console_round(
    page: Page, producer: AIOKafkaProducer, ids: list[str], current: dict[str, str]
) -> list[float]:
    latencies = []
    for sid in ids:
        status = flipped(current, sid)
        shown = asyncio.ensure_future(page.evaluate(OBSERVER, sid))
        await page.wait_for_function("window.__ready === true")
        await page.evaluate("window.__ready = false")
        sent = await change(producer, sid, status)
        try:
            latencies.append(await asyncio.wait_for(shown, 10) - sent)
        except TimeoutError:
            row = await page.text_content(f'tr[data-station-id="{sid}"]')
            raise RuntimeError(f"{sid} never showed {status}; its row says {row!r}") from None
    return latencies


def api_get(url: str, key: str) -> dict[str, Any]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"})
    with urllib.request.urlopen(request, timeout=5) as answer:  # 127.0.0.1 only
        document: dict[str, Any] = json.loads(answer.read())
        return document


async def baseline_round(
    base: str, key: str, producer: AIOKafkaProducer, ids: list[str], current: dict[str, str]
) -> list[float]:
    latencies = []
    for sid in ids:
        status = flipped(current, sid)
        sent = await change(producer, sid, status)
        while True:
            document = await asyncio.to_thread(api_get, f"{base}/stations/{sid}", key)
            if document["connectors"][0]["status"] == status:
                latencies.append(time.time() * 1000 - sent)
                break
            await asyncio.sleep(0.005)
    return latencies


def ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:  # 127.0.0.1 only
            return bool(answer.status == 200)
    except OSError:
        return False


def p99(values: list[float]) -> float:
    return sorted(values)[max(0, round(0.99 * len(values)) - 1)]


async def run(args: argparse.Namespace) -> dict[str, Any]:
    # Newer runs sort first, so the fleet's first page is this run's (the broker may hold others).
    prefix = f"0{10**10 - int(time.time()):010d}-"
    producer = AIOKafkaProducer(bootstrap_servers=args.bootstrap_servers, linger_ms=5)
    await producer.start()
    workdir = Path(tempfile.mkdtemp(prefix="bench-console-"))
    try:
        log(f"populating {args.stations} stations")
        started = time.monotonic()
        await populate(producer, prefix, args.stations)
        log(f"populated in {time.monotonic() - started:.1f} s")
        port = free_port()
        api = Process.start(
            [
                "-m", "services.sessions.api", "--host=127.0.0.1", f"--port={port}",
                f"--bootstrap-servers={args.bootstrap_servers}", "--log-level=WARNING",
                f"--commands-group=bench-console-{uuid.uuid4().hex[:6]}",
            ],
            workdir / "api.log",
        )  # fmt: skip
        try:
            wait_port(port, 60)
            base = f"http://127.0.0.1:{port}"
            for _ in range(600):
                if await asyncio.to_thread(ready, f"{base}/readyz"):
                    break
                await asyncio.sleep(0.1)
            key = await issue_key(
                args.bootstrap_servers, f"bench-{uuid.uuid4().hex[:6]}", Role.READ
            )
            total = 0
            for _ in range(100):
                try:
                    page_one = await asyncio.to_thread(api_get, f"{base}/stations?limit=1", key)
                    total = page_one["total"]
                    break
                except OSError:
                    await asyncio.sleep(0.1)
            log(f"the API holds {total} stations")
            async with async_playwright() as playwright:
                browser = await playwright.chromium.launch(
                    executable_path=CHROMIUM, args=list(CHROMIUM_ARGS)
                )
                page = await browser.new_page()
                opened = time.monotonic()
                await page.goto(f"{base}/console")
                await page.fill("#key", key)
                await page.click("#login-form button[type=submit]")
                await page.wait_for_selector(f'tr[data-station-id="{station_id(prefix, 0)}"]')
                first_page_s = time.monotonic() - opened
                await page.wait_for_function(
                    "document.querySelector('#live').textContent === 'live'"
                )
                nexted = time.monotonic()
                await page.click("#next")
                await page.wait_for_selector(f'tr[data-station-id="{station_id(prefix, 100)}"]')
                next_page_s = time.monotonic() - nexted
                rows = await page.locator("#stations tbody tr").count()
                await page.click("#prev")
                await page.wait_for_selector(f'tr[data-station-id="{station_id(prefix, 0)}"]')
                ids = [station_id(prefix, n) for n in range(args.changes)]
                console, baseline, current = [], [], dict[str, str]()
                for round_ in range(args.rounds):
                    shown = await console_round(page, producer, ids, current)
                    read = await baseline_round(base, key, producer, ids, current)
                    console.append(shown)
                    baseline.append(read)
                    log(
                        f"round {round_ + 1}: console p50 {statistics.median(shown):.0f} ms, "
                        f"API read model p50 {statistics.median(read):.0f} ms"
                    )
                await browser.close()
        finally:
            api.stop()
    finally:
        await producer.stop()
    console_p50 = median([statistics.median(r) for r in console])
    baseline_p50 = median([statistics.median(r) for r in baseline])
    return {
        "stations": total,
        "changes_per_round": args.changes,
        "rounds": args.rounds,
        "console_p50_ms": round(console_p50, 1),
        "console_p99_ms": round(median([p99(r) for r in console]), 1),
        "console_max_ms": round(max(max(r) for r in console), 1),
        "api_read_model_p50_ms": round(baseline_p50, 1),
        "api_read_model_p99_ms": round(median([p99(r) for r in baseline]), 1),
        "ratio_p50": round(console_p50 / baseline_p50, 2),
        "first_page_s": round(first_page_s, 2),
        "next_page_s": round(next_page_s, 3),
        "rows_in_the_page": rows,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.console_latency",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--bootstrap-servers", default="127.0.0.1:39092")
    parser.add_argument("--stations", type=int, default=10_000)
    parser.add_argument("--changes", type=int, default=20, help="status changes per round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args)), indent=2))


if __name__ == "__main__":
    main()
