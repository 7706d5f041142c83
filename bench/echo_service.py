"""A stand-in service for benchmarks: answers every station CALL on ocpp.inbound.v1 at once (I/O).

It plays the owning service with canned, schema-valid answers (the simulator's responder's
CSMS), so that a benchmark measures gateway + Kafka, not business logic. Like a worker, it
answers with a child of the CALL's traceparent (docs/tracing.md).
    python -m bench.echo_service [--group ID]
"""

import argparse
import asyncio
import contextlib
import os
import signal
import sys
import time
import uuid

from contracts.codec import decode, encode
from contracts.headers import Header
from contracts.payloads.ocpp import Reply, StationCall, reply_to
from contracts.topics import Topic
from contracts.trace import from_headers
from runtime.kafka import consumer, reliable_producer, start_bounded
from runtime.settings import bootstrap_servers
from tools.simulator.answers import Csms
from tools.simulator.payloads import Version

VERSIONS = {"ocpp1.6": Version.V16, "ocpp2.0.1": Version.V201}


async def echo(bootstrap: str, group: str) -> None:
    source = consumer(
        bootstrap,
        Topic.OCPP_INBOUND,
        group_id=group,
        auto_offset_reset="latest",
        fetch_max_wait_ms=100,
    )
    producer = reliable_producer(bootstrap, linger_ms=0)
    await start_bounded(source, bootstrap, 15)
    await start_bounded(producer, bootstrap, 15)
    csms = Csms()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    try:
        while not source.assignment():  # joined the group: nothing sent from now on is missed
            await source.getmany(timeout_ms=100)
        for tp in source.assignment():
            await source.position(tp)
        print("ready", flush=True)  # the benchmark waits for this line
        sends: list[asyncio.Future[object]] = []
        committed_at = time.monotonic()
        while not stop.is_set():
            batches = await source.getmany(timeout_ms=100)
            for records in batches.values():
                for record in records:
                    if record.value is None:
                        continue
                    envelope = decode(record.value)
                    call = StationCall.parse(envelope)
                    if call is None or call.send or call.answered_by_gateway:
                        continue
                    version = VERSIONS.get(call.ocpp_version, Version.V201)
                    answer = csms.answer(version, call.action, dict(call.payload), time.time())
                    reply = reply_to(envelope, Reply(answer or {}))
                    headers = dict(record.headers)
                    trace = from_headers(record.headers)
                    sends.append(
                        await producer.send(
                            Topic.GATEWAY_INBOX,
                            encode(reply),
                            key=record.key,
                            partition=int(headers[Header.REPLY_PARTITION]),
                            headers=[
                                (Header.CORRELATION_ID.value, headers[Header.CORRELATION_ID]),
                                *(() if trace is None else trace.child().headers()),
                            ],
                        )
                    )
            # Replies go out without waiting; offsets are committed after their acks, twice a
            # second (at-least-once), so that no round trip waits for a commit.
            if sends and time.monotonic() - committed_at > 0.5:
                await asyncio.gather(*sends)
                await source.commit()
                sends, committed_at = [], time.monotonic()
    finally:
        with contextlib.suppress(Exception):
            await source.stop()
        await producer.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.echo_service",
        description="Answer every station CALL on ocpp.inbound.v1 with a canned valid answer "
        "(benchmarks only). Kafka address: $KAFKA_BOOTSTRAP_SERVERS.",
    )
    parser.add_argument("--group", default=f"bench-echo-{uuid.uuid4().hex[:8]}")
    args = parser.parse_args(argv)
    asyncio.run(echo(bootstrap_servers(os.environ), args.group))
    return 0


if __name__ == "__main__":
    sys.exit(main())
