"""`python -m services.sessions.api`: wiring only (settings, logging, Kafka, HTTP, signals)."""

import logging
import os
import sys

from aiohttp import web

from runtime import eventloop, logs, process
from runtime.api_keys import keys_main
from runtime.kafka import KafkaUnavailable, TopicMissing
from services.sessions.api.app import SessionsApi
from services.sessions.api.http import build_app
from services.sessions.api.settings import Settings, parse

log = logging.getLogger("sessions.api")


async def main(settings: Settings) -> int:
    api = SessionsApi(settings)
    runner = web.AppRunner(build_app(api), access_log=None)
    await runner.setup()
    stop = process.stop_on_signals()
    try:
        # Serve first: /healthz answers and /readyz says 503 while the views are read.
        await web.TCPSite(runner, settings.host, settings.port).start()
        log.info("sessions API on %s:%d", settings.host, settings.port)
        await api.start()
        await stop.wait()
        log.info("stopping")
        return 0
    except (KafkaUnavailable, TopicMissing) as exc:
        log.error("%s", exc)
        print(f"error: {exc}", file=sys.stderr)  # noqa: T201 - the reason for exit code 2
        return 2
    except OSError as exc:  # the port is taken, say
        log.error("cannot serve on %s:%d: %s", settings.host, settings.port, exc)
        return 2
    finally:
        await runner.cleanup()
        await api.stop()


def run(argv: list[str]) -> int:
    if argv[:1] == ["keys"]:
        return keys_main(argv[1:], prog="python -m services.sessions.api")
    settings = parse(argv, os.environ)
    logs.configure(settings.log_level)
    return eventloop.run(main(settings))


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
