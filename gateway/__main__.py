"""`python -m gateway`: wiring only (settings, logging, Kafka, the server, signals)."""

import asyncio
import contextlib
import logging
import os
import sys
import uuid

from contracts.topics import Topic
from gateway.core.auth import CredentialStore
from gateway.credentials import CredentialFollower, credentials_main
from gateway.kafka import InboxMissing, KafkaBus
from gateway.presence import Heartbeats, PresenceFollower
from gateway.server import Gateway
from gateway.settings import Settings, parse
from gateway.tls import server_context
from runtime import eventloop, logs, process, tracing
from runtime.http import start_operations_server
from runtime.kafka import KafkaUnavailable, TopicMissing, partitions_of, send_acknowledged
from runtime.ledger import DurableLedger

log = logging.getLogger("gateway")


async def main(settings: Settings) -> int:
    bus = KafkaBus(
        settings.bootstrap_servers,
        instance=settings.instance,
        linger_ms=settings.linger_ms,
        fetch_max_wait_ms=settings.fetch_max_wait_ms,
        connect_timeout_s=settings.connect_timeout_s,
    )
    store = CredentialStore() if settings.security_profile in (1, 2) else None
    follower = CredentialFollower(settings.bootstrap_servers, store) if store is not None else None
    boot = uuid.uuid4().hex
    ledger = DurableLedger(
        settings.bootstrap_servers,
        lambda topic, key, value: send_acknowledged(bus.producer, topic, key, value),
        connect_timeout_s=settings.connect_timeout_s,
    )
    spans = tracing.from_environment("chargebus-gateway")  # None unless OTEL_* ask for export
    gateway = Gateway(settings, bus, store, ledger, boot=boot, spans=spans)
    presence = PresenceFollower(
        settings.bootstrap_servers,
        gateway.observe_presence,
        connect_timeout_s=settings.connect_timeout_s,
    )

    def ready() -> tuple[bool, str]:
        if follower is not None and not follower.ready.is_set():
            return False, "reading credentials"
        if not presence.ready.is_set():
            return False, "following presence"
        if not ledger.ready.is_set():
            return False, "reading the command ledger"
        return gateway.readiness(inbox_assigned=bus.assigned)

    ops = await start_operations_server(ready, settings.http_host, settings.http_port)
    stop = process.stop_on_signals()
    try:
        await bus.start()
        await presence.start()  # from the end: before the first station connects
        await ledger.start()
        await ledger.ready.wait()  # every command decided so far, before the first is admitted
        heartbeats = Heartbeats(
            bus,
            gateway=settings.instance,
            boot=gateway.boot,
            partitions=len(
                await partitions_of(
                    settings.bootstrap_servers, [Topic.PRESENCE], settings.connect_timeout_s
                )
            ),
            heartbeat_s=settings.heartbeat_s,
            lease_s=settings.lease_s,
            reassert=gateway.reassert_presence,
        )
        await heartbeats.beat()  # the lease starts before the first station connects
        if follower is not None:
            await follower.start()
            await follower.ready.wait()
        ssl = None
        if settings.security_profile >= 2:
            assert settings.tls_cert
            assert settings.tls_key
            ssl = server_context(
                settings.tls_cert, settings.tls_key, client_ca=settings.tls_client_ca
            )
        await gateway.serve(ssl)
        tasks = [
            asyncio.create_task(gateway.consume_inbox(bus.inbox())),
            asyncio.create_task(gateway.run_timers()),
            asyncio.create_task(bus.commit_periodically()),
            asyncio.create_task(heartbeats.run()),
        ]
        log.info(
            "gateway %d listening on %s:%d (profile %d)",
            settings.instance,
            settings.host,
            settings.port,
            settings.security_profile,
        )
        stopping = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait([stopping, *tasks], return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            if task is not stopping and task.exception() is not None:
                log.error("a gateway loop ended", exc_info=task.exception())
        log.info("draining")
        await gateway.drain()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await heartbeats.stopped()  # after the disconnects: the lease ends with them
        return 0
    except (KafkaUnavailable, TopicMissing, InboxMissing) as exc:
        log.error("%s", exc)
        return 2
    finally:
        await presence.stop()
        await ledger.stop()
        if follower is not None:
            await follower.stop()
        with contextlib.suppress(Exception):
            await bus.stop()
        if spans is not None:
            await asyncio.to_thread(spans.close)  # what is queued is exported
        await ops.cleanup()


def run(argv: list[str]) -> int:
    if argv[:1] == ["credentials"]:
        return credentials_main(argv[1:])
    settings = parse(argv, os.environ)
    logs.configure(settings.log_level)
    return eventloop.run(main(settings))


def cli() -> int:
    """The console script (pyproject.toml [project.scripts]): the command line of `sys.argv`."""
    return run(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(cli())
