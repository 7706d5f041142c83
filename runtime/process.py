"""A stateful worker as a process: command line, signals, /metrics, /readyz, exit codes (I/O).

Every worker service's ``__main__.py`` is a description and a ``Service``; this module does the
rest the same way for all of them: ``--group``, ``--offset-reset``, the operations server, the
tuning flags, SIGTERM/SIGINT, and exit code 2 when Kafka or a topic is missing.
"""

import argparse
import asyncio
import contextlib
import os
import signal
from collections.abc import Callable, Sequence

from runtime import eventloop, logs, tracing
from runtime.http import start_operations_server
from runtime.kafka import (
    DEFAULT_CONNECT_TIMEOUT_S,
    FIRST_BYTE_MAX_WAIT_MS,
    KafkaUnavailable,
    TopicMissing,
)
from runtime.pacing import BATCHING_FROM_PER_S
from runtime.settings import bootstrap_servers
from runtime.worker import FETCH_MAX_WAIT_MS, FETCH_MIN_BYTES, MAX_IN_FLIGHT, Service, Worker


def stop_on_signals() -> asyncio.Event:
    """An event that SIGTERM or SIGINT sets: the process then stops cleanly."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    return stop


def parser(
    *, prog: str, description: str, group: str, http_port: int, first_input: str
) -> argparse.ArgumentParser:
    """The worker's command line; ``first_input`` names the topic --offset-reset is about."""
    parser = argparse.ArgumentParser(
        prog=prog, description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--group", default=group, help="consumer group id")
    parser.add_argument(
        "--offset-reset",
        choices=("latest", "earliest"),
        default="latest",
        help=f"where a NEW group starts reading {first_input}; restarts resume where they were",
    )
    parser.add_argument("--http-host", default="0.0.0.0", help="/metrics, /healthz, /readyz")
    parser.add_argument("--http-port", type=int, default=http_port)
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
        help="... or after this long; once a read found nothing, or while fewer than "
        f"{BATCHING_FROM_PER_S:g} records a second come, fetches wait for the first byte, up to "
        f"{FIRST_BYTE_MAX_WAIT_MS} ms [%(default)s]",
    )
    parser.add_argument("--log-level", default="INFO")
    return parser


async def serve(services: Service | Sequence[Service], args: argparse.Namespace) -> int:
    """Run one worker of each service until SIGTERM/SIGINT; 2 if Kafka or a topic is missing.
    The first service's group is ``--group``; another's is ``<group>-<its name>``."""
    every = [services] if isinstance(services, Service) else list(services)
    spans = tracing.from_environment(f"chargebus-{every[0].name}")  # None unless OTEL_* ask
    workers = [
        Worker(
            args.bootstrap_servers,
            service,
            group_id=args.group if n == 0 else f"{args.group}-{service.name}",
            offset_reset=args.offset_reset,
            max_in_flight=args.max_in_flight,
            fetch_min_bytes=args.fetch_min_bytes,
            fetch_max_wait_ms=args.fetch_max_wait_ms,
            spans=spans,
        )
        for n, service in enumerate(every)
    ]

    def readiness() -> tuple[bool, str]:
        said = []
        for worker in workers:
            ready, why = worker.readiness()
            if not ready:
                return False, f"{worker.service.name}: {why}" if len(workers) > 1 else why
            said.append(f"{worker.service.name}: {why}" if len(workers) > 1 else why)
        return True, "; ".join(said)

    ops = await start_operations_server(readiness, args.http_host, args.http_port)
    stop = stop_on_signals()
    try:
        for worker in workers:
            await worker.start(args.connect_timeout)
        running = [asyncio.create_task(worker.run()) for worker in workers]
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait([*running, stopping], return_when=asyncio.FIRST_COMPLETED)
        for task in running:
            task.cancel()
        for task in running:
            with contextlib.suppress(asyncio.CancelledError):
                await task  # raises if writing a batch failed: the process exits non-zero
        return 0
    except (KafkaUnavailable, TopicMissing) as exc:
        workers[0].log.error("%s", exc)
        return 2
    finally:
        for worker in workers:
            with contextlib.suppress(Exception):
                await worker.stop()
        if spans is not None:
            await asyncio.to_thread(spans.close)  # what is queued is exported
        await ops.cleanup()


def main(
    argv: Sequence[str],
    command_line: argparse.ArgumentParser,
    service: Callable[[argparse.Namespace], Service | Sequence[Service]],
) -> int:
    """Parse ``argv``, configure JSON logs, build the service(s) and run them on uvloop."""
    args = command_line.parse_args(argv)
    logs.configure(args.log_level)
    return eventloop.run(serve(service(args), args))
