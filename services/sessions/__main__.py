"""`python -m services.sessions`: run a sessions worker (wiring only; the shell is app.py)."""

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys

from runtime import eventloop, logs
from runtime.http import start_operations_server
from runtime.kafka import DEFAULT_CONNECT_TIMEOUT_S, KafkaUnavailable, TopicMissing
from runtime.settings import BOOTSTRAP_ENV, bootstrap_servers
from services.sessions.app import FETCH_MAX_WAIT_MS, FETCH_MIN_BYTES, MAX_IN_FLIGHT, Worker
from services.sessions.policy import Policy

log = logging.getLogger("sessions")

DESCRIPTION = f"""\
Run one sessions worker: it answers every station CALL on ocpp.inbound.v1 (through the gateway
inbox), keeps one state per station (changelog: sessions.state.v1), and writes stations.v1 and
sessions.v1. Start several with the same --group: they share the partitions.

environment:
  {BOOTSTRAP_ENV}      broker address (default 127.0.0.1:9092)
  SESSIONS_UNKNOWN_STATIONS    Accepted | Pending | Rejected for stations without an override
  SESSIONS_STATION_OVERRIDES   per-station boot status, e.g. "CS1=Rejected,CS2=Pending"
  SESSIONS_HEARTBEAT_INTERVAL  seconds, sent in accepted BootNotification answers (300)
  SESSIONS_RETRY_INTERVAL      seconds before a Pending/Rejected station boots again (60)
"""


async def main(args: argparse.Namespace) -> int:
    worker = Worker(
        args.bootstrap_servers,
        group_id=args.group,
        policy=Policy.from_environ(os.environ),
        offset_reset=args.offset_reset,
        max_in_flight=args.max_in_flight,
        fetch_min_bytes=args.fetch_min_bytes,
        fetch_max_wait_ms=args.fetch_max_wait_ms,
    )
    ops = await start_operations_server(worker.readiness, args.http_host, args.http_port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await worker.start(args.connect_timeout)
        running = asyncio.create_task(worker.run())
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait([running, stopping], return_when=asyncio.FIRST_COMPLETED)
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
        return 0
    except (KafkaUnavailable, TopicMissing) as exc:
        log.error("%s", exc)
        return 2
    finally:
        with contextlib.suppress(Exception):
            await worker.stop()
        await ops.cleanup()


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m services.sessions",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--group", default="chargebus-sessions", help="consumer group id")
    parser.add_argument(
        "--offset-reset",
        choices=("latest", "earliest"),
        default="latest",
        help="where a NEW group starts reading ocpp.inbound.v1; restarts resume where they were",
    )
    parser.add_argument("--http-host", default="0.0.0.0", help="/metrics, /healthz, /readyz")
    parser.add_argument("--http-port", type=int, default=9200)
    parser.add_argument("--bootstrap-servers", default=bootstrap_servers(os.environ))
    parser.add_argument(
        "--connect-timeout",
        type=float,
        default=DEFAULT_CONNECT_TIMEOUT_S,
        help="seconds to reach Kafka at start",
    )
    tuning = parser.add_argument_group("throughput and latency")
    tuning.add_argument(
        "--max-in-flight",
        type=int,
        default=MAX_IN_FLIGHT,
        help="batches handled while earlier ones wait for the broker [%(default)s]",
    )
    tuning.add_argument(
        "--fetch-min-bytes",
        type=int,
        default=FETCH_MIN_BYTES,
        help="the broker answers a fetch once this much is there ... [%(default)s]",
    )
    tuning.add_argument(
        "--fetch-max-wait-ms",
        type=int,
        default=FETCH_MAX_WAIT_MS,
        help="... or after this long [%(default)s]",
    )
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    logs.configure(args.log_level)
    return eventloop.run(main(args))


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
