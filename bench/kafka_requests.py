"""Benchmark (issue 14): the Kafka client's CPU per acknowledged produce request.

    KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:39092 python -m bench.kafka_requests [--requests 2000]

A worker's batch costs a fetch and three produce requests (events, changelog, replies) in turn,
whatever its size: at low rates the batches are small and these requests, not the core, set
the CPU per record. This prints the CPU seconds this process spends per produce request whose
acknowledgement it awaits (aiokafka, acks=all, idempotent: the worker's producer), with 1 and 5
records a request; and, as the baseline in the same run, per round trip of the same bytes
through an asyncio echo server on loopback in this process (the event loop and the sockets
alone, both ends counted). Then, per record, a worker's write of ``--spread`` records over the
station topics' 8 partitions, sent one record at a time as the worker does, against the same
records in batches built by hand (one per partition). Medians of --repeats.

``--confluent`` adds the same request through confluent-kafka (librdkafka, C; its threads'
CPU counted, each request waited for with ``poll``), if it is installed: it is not a
dependency of chargebus (``pip install confluent-kafka`` into a separate environment with
chargebus on PYTHONPATH).
"""

import argparse
import asyncio
import importlib
import os
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.admin import NewTopic

from bench.harness import median
from runtime.batch import Write
from runtime.kafka import admin_client, reliable_producer
from runtime.sending import BatchSender
from runtime.settings import bootstrap_servers

PAYLOAD = b"x" * 300  # about a sessions event
TRACE = [("traceparent", b"00-%s-%s-01" % (b"a" * 32, b"b" * 16))]
PARTITIONS = 8  # the station topics' (contracts.topics.STATION_PARTITIONS)


async def produce_requests(bootstrap: str, topic: str, requests: int, records: int) -> float:
    """CPU µs per produce request of ``records`` records to ``topic``, each request awaited."""
    producer = reliable_producer(bootstrap, linger_ms=0, client_id="bench-kafka-requests")
    await producer.start()
    try:
        keys = [b"bench-%d" % i for i in range(records)]
        return await _per_call(
            requests,
            lambda: _one_request(producer, topic, keys),
        )
    finally:
        await producer.stop()


async def _one_request(producer: AIOKafkaProducer, topic: str, keys: list[bytes]) -> None:
    acks = [await producer.send(topic, PAYLOAD, key=k) for k in keys]
    await asyncio.gather(*acks)


async def spread_writes(bootstrap: str, topic: str, calls: int, records: int, built: bool) -> float:
    """CPU µs per record of a worker's write: ``records`` records over the topic's partitions
    (round robin), each with a trace header, all acknowledged; sent one by one as the worker
    did, or (``built``) through the worker's ``runtime.sending.BatchSender``: batches built by
    hand, one per partition (one future a partition instead of one a record)."""
    producer = reliable_producer(bootstrap, linger_ms=0, client_id="bench-kafka-requests")
    await producer.start()
    try:
        partitions = sorted(await producer.partitions_for(topic))
        rows = [(b"bench-%d" % i, partitions[i % len(partitions)]) for i in range(records)]

        async def one_by_one() -> None:
            acks = [
                await producer.send(topic, PAYLOAD, key=k, partition=p, headers=list(TRACE))
                for k, p in rows
            ]
            await asyncio.gather(*acks)

        sender = BatchSender(producer)
        writes = [Write(topic, k, PAYLOAD, p, TRACE) for k, p in rows]

        async def by_partition() -> None:  # the worker's own sender
            await asyncio.gather(*await sender.send(writes))

        return await _per_call(calls, by_partition if built else one_by_one) / records
    finally:
        await producer.stop()


def confluent_requests(bootstrap: str, topic: str, requests: int, records: int) -> float:
    """CPU µs per produce request of ``records`` records through confluent-kafka, the same
    settings as the worker's producers (idempotent, acks=all, no linger)."""
    kafka: Any = importlib.import_module("confluent_kafka")
    producer = kafka.Producer(
        {"bootstrap.servers": bootstrap, "enable.idempotence": True, "acks": "all", "linger.ms": 0}
    )
    keys = [b"bench-%d" % i for i in range(records)]
    left = [0]

    def delivered(error: object, _message: object) -> None:
        if error is not None:
            raise RuntimeError(f"not delivered: {error}")
        left[0] -= 1

    async def one() -> None:  # no await inside: each request waits in poll, synchronously
        left[0] = records
        for key in keys:
            producer.produce(topic, PAYLOAD, key=key, on_delivery=delivered)
        while left[0]:
            producer.poll(1.0)

    cpu = asyncio.run(_per_call(requests, one))
    producer.flush(10)
    return cpu


async def echo_round_trips(requests: int) -> float:
    """CPU µs per round trip of PAYLOAD through a loopback echo server in this process."""

    ended = asyncio.Event()

    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(65536):
            writer.write(data)
        writer.close()
        ended.set()

    server = await asyncio.start_server(echo, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)

    async def one() -> None:
        writer.write(PAYLOAD)
        await reader.readexactly(len(PAYLOAD))

    try:
        return await _per_call(requests, one)
    finally:
        writer.close()
        await writer.wait_closed()
        await ended.wait()  # the server's end read the close
        server.close()
        await server.wait_closed()


async def _per_call(calls: int, call: Callable[[], Awaitable[None]]) -> float:
    for _ in range(min(100, calls)):  # warm up: connections, metadata, the first batches
        await call()
    started = time.process_time()
    for _ in range(calls):
        await call()
    return (time.process_time() - started) / calls * 1e6


async def new_topic(bootstrap: str) -> str:
    """A topic of PARTITIONS partitions for this run, deleted by ``delete_topic``."""
    name = f"bench-kafka-requests-{uuid.uuid4().hex[:8]}"
    admin = admin_client(bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, num_partitions=PARTITIONS, replication_factor=1)])
    finally:
        await admin.close()
    return name


async def delete_topic(bootstrap: str, name: str) -> None:
    admin = admin_client(bootstrap)
    await admin.start()
    try:
        await admin.delete_topics([name])
    finally:
        await admin.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.kafka_requests", description=__doc__)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--confluent", action="store_true", help="also through confluent-kafka")
    parser.add_argument(
        "--spread",
        type=int,
        nargs="*",
        default=[10, 50],
        help="also a worker's write of this many records over the partitions: CPU µs per "
        "record, sent one by one and in batches built by hand",
    )
    args = parser.parse_args(argv)
    bootstrap = bootstrap_servers(os.environ)
    rows: dict[str, list[float]] = {"echo": [], "produce 1": [], "produce 5": []}
    for n in args.spread:
        rows.update({f"spread {n}": [], f"built {n}": []})
    if args.confluent:
        rows.update({"confluent 1": [], "confluent 5": []})
    topic = asyncio.run(new_topic(bootstrap))
    try:
        for repeat in range(args.repeats):
            rows["echo"].append(asyncio.run(echo_round_trips(args.requests)))
            for n in (1, 5):
                cpu = asyncio.run(produce_requests(bootstrap, topic, args.requests, n))
                rows[f"produce {n}"].append(cpu)
                if args.confluent:
                    rows[f"confluent {n}"].append(
                        confluent_requests(bootstrap, topic, args.requests, n)
                    )
            for n in args.spread:
                calls = max(100, args.requests * 5 // n)
                for built, name in ((False, "spread"), (True, "built")):
                    cpu = asyncio.run(spread_writes(bootstrap, topic, calls, n, built))
                    rows[f"{name} {n}"].append(cpu)
            print(
                f"[{repeat + 1}/{args.repeats}] "
                + ", ".join(f"{name} {runs[-1]:.0f} µs" for name, runs in rows.items()),
                file=sys.stderr,
            )
    finally:
        asyncio.run(delete_topic(bootstrap, topic))
    baseline = median(rows["echo"])
    print("what | CPU µs per round trip (median) | ratio to the echo | runs")
    print("---|---|---|---")
    labels = {
        "echo": "loopback echo of 300 bytes (baseline)",
        "produce 1": "produce request, 1 record, acknowledged",
        "produce 5": "produce request, 5 records, acknowledged",
        "confluent 1": "the same through confluent-kafka, 1 record",
        "confluent 5": "the same through confluent-kafka, 5 records",
    }
    for name, label in labels.items():
        if name in rows:
            runs = rows[name]
            runs_text = ", ".join(f"{r:.0f}" for r in runs)
            print(f"{label} | {median(runs):.0f} | {median(runs) / baseline:.1f}x | {runs_text}")
    if args.spread:
        print()
        print("a worker's write | µs a record, sent one by one | built by hand | ratio | runs")
        print("---|---|---|---|---")
    for n in args.spread:
        sent, by_hand = rows[f"spread {n}"], rows[f"built {n}"]
        runs_text = "; ".join(f"{a:.1f} / {b:.1f}" for a, b in zip(sent, by_hand, strict=True))
        print(
            f"{n} records over {PARTITIONS} partitions | {median(sent):.1f} | {median(by_hand):.1f}"
            f" | {median(by_hand) / median(sent):.2f}x | {runs_text}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
