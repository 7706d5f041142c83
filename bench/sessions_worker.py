"""Benchmark (issue 14): the sessions worker alone, on records recorded from a live run.

(1) Record: 1,000 simulated stations charge through a gateway and a sessions worker for
--record-seconds; the worker's input records of that time are read back from the broker (or
loaded from --records, written by an earlier --save). (2) Offline: the records through the pure
planner (runtime/batch.py ``plan`` with fresh sessions stores) in batches of --batch records, no
I/O: CPU per record. (3) Live: the same records under new station ids, produced at --rate
records/s (0: all at once) to a fresh worker group of --workers processes; their CPU per record,
the records answered per second, and each CALL's time from produce to its reply on the gateway
inbox. Medians of --repeats; JSON with --out.
    KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:39092 python -m bench.sessions_worker [--workers 1 2]
"""

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import msgpack
from aiokafka import AIOKafkaConsumer, TopicPartition

from bench.harness import (
    ROOT,
    Meter,
    Process,
    free_port,
    log,
    median,
    simulate,
    start_gateway,
    wait_ready,
)
from bench.sessions_throughput import TOKEN, _define_token
from contracts.codec import decode, encode
from contracts.headers import Header, header_text
from contracts.payloads.tokens import Token
from contracts.topics import STATION_PARTITIONS, Topic
from runtime.batch import plan
from runtime.kafka import partitions_of, reliable_producer
from runtime.reading import end_offsets, everything, read, reader
from runtime.settings import bootstrap_servers
from services.sessions.app import SOURCES
from services.sessions.core.partition import SEQ_KEY, Partition
from services.sessions.core.policy import Policy

GATEWAY_INSTANCE = 10  # the recorded gateway's inbox partition: where the replies go


@dataclass(frozen=True, slots=True)
class Recorded:
    """One input record of the sessions worker, as read from the broker."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...]


@dataclass(frozen=True, slots=True)
class Recording:
    """The records, the stations' id prefix, and each partition's 1.6 transaction sequence when
    the recording started (the worker hands out ids from it: a replay must start from it too,
    or every 1.6 meter value would name a transaction the replaying worker never started)."""

    records: list[Recorded]
    prefix: str
    seqs: dict[int, int]

    def save(self, path: Path) -> None:
        rows = [(r.topic, r.partition, r.offset, r.key, r.value, r.headers) for r in self.records]
        path.write_bytes(msgpack.packb({"records": rows, "prefix": self.prefix, "seqs": self.seqs}))

    @classmethod
    def load(cls, path: Path) -> "Recording":
        data = msgpack.unpackb(path.read_bytes(), strict_map_key=False)
        records = [
            Recorded(r[0], r[1], r[2], r[3], r[4], tuple(map(tuple, r[5]))) for r in data["records"]
        ]
        return cls(records, data["prefix"], {int(p): s for p, s in data["seqs"].items()})


async def _seqs(bootstrap: str) -> dict[int, int]:
    """Each changelog partition's 1.6 transaction sequence now (SEQ_KEY's last value)."""
    seqs: dict[int, int] = {}
    async with reader(bootstrap, max_poll_records=5000) as kafka:
        tps = await partitions_of(bootstrap, [Topic.SESSIONS_STATE], 15)
        starts, ends = await everything(kafka, tps)
        async for tp, records in read(kafka, starts, ends, timeout_ms=1000):
            for r in records:
                if r.key == SEQ_KEY.encode() and r.value is not None:
                    seqs[tp.partition] = int(msgpack.unpackb(r.value))
    return seqs


async def _read(
    bootstrap: str, start: dict[TopicPartition, int], end: dict[TopicPartition, int]
) -> list[Recorded]:
    """The records between ``start`` and ``end`` of each partition, by timestamp."""
    rows: list[tuple[int, Recorded]] = []
    async with reader(bootstrap, max_poll_records=5000) as kafka:
        starts = {tp: start.get(tp, 0) for tp in end}
        async for _, records in read(kafka, starts, end, timeout_ms=1000):
            rows.extend(
                (
                    r.timestamp,
                    Recorded(
                        r.topic,
                        r.partition,
                        r.offset,
                        r.key,
                        r.value,
                        tuple((k, bytes(v)) for k, v in r.headers),
                    ),
                )
                for r in records
            )
    rows.sort(key=lambda row: row[0])
    return [record for _, record in rows]


def record(bootstrap: str, seconds: float, work: Path) -> Recording:
    """A live run of 1,000 stations (sessions_throughput's mix); the worker's inputs."""
    asyncio.run(_define_token())
    seqs = asyncio.run(_seqs(bootstrap))
    start = asyncio.run(end_offsets(bootstrap, SOURCES, 15))
    prefix = f"R{uuid.uuid4().hex[:6]}-"
    port = free_port()
    gateway = start_gateway(port, work / "gateway.log", instance=GATEWAY_INSTANCE)
    worker, worker_http = _worker(
        f"bench-record-{uuid.uuid4().hex[:8]}", work / "record-worker.log"
    )
    try:
        wait_ready(worker_http)
        summary = simulate(
            [
                f"--url=ws://127.0.0.1:{port}/ocpp",
                f"--prefix={prefix}",
                "--stations=1000",
                "--version=mixed",
                "--connect-rate=500",
                "--sessions",
                "--session-length=20",
                "--meter-interval=0.5",
                "--idle=1",
                f"--id-token={TOKEN}",
                f"--duration={seconds}",
                "--processes=2",
            ],
            seconds + 120,
        )
        log(f"recorded: {summary['tally']['sessions_ended']} sessions ended")
    finally:
        gateway.stop()
        worker.stop()
    records = asyncio.run(_read(bootstrap, start, asyncio.run(end_offsets(bootstrap, SOURCES, 15))))
    return Recording(records, prefix, seqs)


def _worker(
    group: str, log_path: Path, extra: Sequence[str] = (), root: Path = ROOT
) -> tuple[Process, int]:
    """A sessions worker process (from the checkout at ``root``), and the port of its /metrics."""
    port = free_port()
    process = Process.start(
        [
            "-m",
            "services.sessions",
            f"--group={group}",
            "--http-host=127.0.0.1",
            f"--http-port={port}",
            "--log-level=WARNING",
            *extra,
        ],
        log_path,
        root,
    )
    return process, port


def offline(recording: Recording, batch: int) -> float:
    """CPU seconds per record of ``plan`` over the records in batches, fresh stores."""
    tokens = {TOKEN: Token(id_token=TOKEN, type="ISO14443", status="Accepted")}
    policy = Policy()
    records = recording.records
    stores = {}
    for p in {r.partition for r in records}:
        stores[p] = Partition(p, policy=policy, tokens=tokens)
        stores[p].seq = recording.seqs.get(p, 0)
    started = time.process_time()
    for i in range(0, len(records), batch):
        plan(records[i : i + batch], stores, changelog=Topic.SESSIONS_STATE, service="sessions")
    return (time.process_time() - started) / len(records)


def renamed(recording: Recording, prefix: str, seqs: Mapping[int, int]) -> list[Recorded]:
    """The records as if new stations (``prefix`` instead of the recorded one) sent them, each
    with a new event id, to a worker whose partitions' 1.6 sequences are at ``seqs``: keys,
    envelope keys, station ids in payloads and 1.6 transaction ids change alike."""
    old = recording.prefix

    def walk(value: Any) -> Any:
        if isinstance(value, str):
            return value.replace(old, prefix)
        if isinstance(value, dict):
            return {k: walk(v) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        return value

    out = []
    for r in recording.records:
        key = r.key.replace(old.encode(), prefix.encode()) if r.key else r.key
        value = r.value
        if value is not None:
            envelope = decode(value)
            payload = walk(dict(envelope.payload))
            call = payload.get("payload")
            if payload.get("ocpp_version") == "ocpp1.6" and isinstance(call, dict):
                # the id the replaying worker hands out: transaction_id(seq, partition)
                shift = seqs.get(r.partition, 0) - recording.seqs.get(r.partition, 0)
                if isinstance(call.get("transactionId"), int):
                    call["transactionId"] += shift * STATION_PARTITIONS
            envelope = replace(
                envelope,
                key=envelope.key.replace(old, prefix),
                payload=payload,
                event_id=uuid.uuid5(uuid.NAMESPACE_OID, prefix + envelope.event_id).hex,
            )
            value = encode(envelope)
        out.append(replace(r, key=key, value=value))
    return out


async def _live(bootstrap: str, records: Sequence[Recorded], rate: float) -> dict[str, float]:
    """Produce ``records`` at ``rate``/s; time each CALL to its reply on the gateway inbox."""
    inbox = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await inbox.start()
    tp = TopicPartition(Topic.GATEWAY_INBOX, GATEWAY_INSTANCE)
    inbox.assign([tp])
    await inbox.seek_to_end(tp)
    await inbox.position(tp)
    producer = reliable_producer(bootstrap, linger_ms=2)
    await producer.start()
    sent: dict[str, float] = {}
    answered: list[float] = []
    expected = sum(
        1
        for r in records
        if header_text(r.headers, Header.CORRELATION_ID) and r.topic == Topic.OCPP_INBOUND
    )

    async def replies() -> None:
        while len(answered) < expected:
            for batch in (await inbox.getmany(tp, timeout_ms=200)).values():
                now = time.perf_counter()
                for reply in batch:
                    correlation = header_text(reply.headers, Header.CORRELATION_ID)
                    if correlation in sent:
                        answered.append(now - sent.pop(correlation))

    reader = asyncio.create_task(replies())
    started = time.perf_counter()
    size = max(1, int(rate / 100)) if rate else len(records)  # every 10 ms, or all at once
    for i in range(0, len(records), size):
        chunk = records[i : i + size]
        for r in chunk:
            correlation = header_text(r.headers, Header.CORRELATION_ID)
            if correlation and r.topic == Topic.OCPP_INBOUND:
                sent[correlation] = time.perf_counter()
            await producer.send(
                r.topic, r.value, key=r.key, partition=r.partition, headers=list(r.headers)
            )
        if rate:
            await asyncio.sleep(max(0.0, started + (i + len(chunk)) / rate - time.perf_counter()))
    try:
        await asyncio.wait_for(reader, timeout=120)
    finally:
        await producer.stop()
        await inbox.stop()
    elapsed = time.perf_counter() - started
    answered.sort()
    return {
        "records": len(records),
        "elapsed_s": elapsed,
        "records_per_s": len(records) / elapsed,
        "p50_ms": answered[len(answered) // 2] * 1000,
        "p99_ms": answered[int(len(answered) * 0.99)] * 1000,
        "answered": len(answered),
    }


def live(
    bootstrap: str,
    recording: Recording,
    workers: int,
    rate: float,
    work: Path,
    extra: Sequence[str] = (),
    root: Path = ROOT,
) -> dict[str, float]:
    """A fresh group of ``workers`` worker processes, ready, fed ``records`` under new ids."""
    prefix = f"W{uuid.uuid4().hex[:6]}-"
    fresh = renamed(recording, prefix, asyncio.run(_seqs(bootstrap)))
    group = f"bench-worker-{uuid.uuid4().hex[:8]}"
    started = [
        _worker(group, work / f"worker-{group}-{n}.log", extra, root) for n in range(workers)
    ]
    try:
        for _, port in started:  # each joined, its partitions restored
            wait_ready(port)
        time.sleep(2)  # the group settled: no rebalance in the first seconds
        meter = Meter(
            {"worker": [process.popen.pid for process, _ in started]},
            {"worker": [port for _, port in started]},
        )
        before = meter.read()
        run = asyncio.run(_live(bootstrap, fresh, rate))
        run.update(meter.since(before))
        run["cpu_us_per_record"] = run["worker_cpu_s"] / run["records"] * 1e6
        if run.get("worker_batches"):
            run["records_per_batch"] = run["records"] / run["worker_batches"]
        return run
    finally:
        for process, _ in started:
            process.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.sessions_worker",
        description=__doc__.split("\n")[0] if __doc__ else None,
    )
    parser.add_argument("--record-seconds", type=float, default=30)
    parser.add_argument("--records", type=Path, help="recorded records (from --save) to use")
    parser.add_argument("--save", type=Path, help="write the recorded records here")
    parser.add_argument("--batch", type=int, nargs="*", default=[16, 500])
    parser.add_argument("--workers", type=int, nargs="*", default=[1])
    parser.add_argument("--rate", type=float, default=2000, help="records/s (0: all at once)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--worker-args", default="", help='more arguments for each worker, e.g. "--max-in-flight=8"'
    )
    parser.add_argument(
        "--worker-tree",
        type=Path,
        default=ROOT,
        help="run the workers from this checkout (git worktree add): an A/B of the worker's code",
    )
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    bootstrap = bootstrap_servers(os.environ)
    work = Path(tempfile.mkdtemp(prefix="bench-worker-"))
    if args.records:
        recording = Recording.load(args.records)
    else:
        recording = record(bootstrap, args.record_seconds, work)
        if args.save:
            recording.save(args.save)
    log(f"{len(recording.records)} records")
    results: dict[str, Any] = {"records": len(recording.records), "offline": {}, "live": {}}
    for batch in args.batch:
        runs = [offline(recording, batch) * 1e6 for _ in range(args.repeats)]
        results["offline"][batch] = runs
        log(f"offline, batches of {batch}: {median(runs):.1f} µs CPU per record (runs {runs})")
    for workers in args.workers:
        runs2 = []
        for repeat in range(args.repeats):
            run = live(
                bootstrap,
                recording,
                workers,
                args.rate,
                work,
                args.worker_args.split(),
                args.worker_tree.resolve(),
            )
            runs2.append(run)
            log(
                f"[{repeat + 1}/{args.repeats}] {workers} worker(s): "
                + ", ".join(f"{k} {v:.1f}" for k, v in run.items())
            )
        results["live"][workers] = runs2
    if args.out:
        args.out.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
