"""Benchmark (issue 14): the Kafka client's CPU per acknowledged produce request.

    KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:39092 python -m bench.kafka_requests [--requests 2000]

A worker's batch costs a fetch and three produce requests (events, changelog, replies) in turn,
whatever its size: at low rates the batches are small and these requests, not the core, set
the CPU per record. This prints the CPU seconds this process spends per produce request whose
acknowledgement it awaits (aiokafka, acks=all, idempotent: the worker's producer), with 1 and 5
records a request; and, as the baseline in the same run, per round trip of the same bytes
through an asyncio echo server on loopback in this process (the event loop and the sockets
alone, both ends counted). Medians of --repeats.

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
from runtime.kafka import admin_client, reliable_producer
from runtime.settings import bootstrap_servers

PAYLOAD = b"x" * 300  # about a sessions event


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
    """A topic of one partition for this run, deleted by ``delete_topic``."""
    name = f"bench-kafka-requests-{uuid.uuid4().hex[:8]}"
    admin = admin_client(bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, num_partitions=1, replication_factor=1)])
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
    args = parser.parse_args(argv)
    bootstrap = bootstrap_servers(os.environ)
    rows: dict[str, list[float]] = {"echo": [], "produce 1": [], "produce 5": []}
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
    for name, runs in rows.items():
        runs_text = ", ".join(f"{r:.0f}" for r in runs)
        print(f"{labels[name]} | {median(runs):.0f} | {median(runs) / baseline:.1f}x | {runs_text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
