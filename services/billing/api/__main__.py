"""`python -m services.billing.api`: wiring only (settings, logging, Kafka, HTTP, signals)."""

import logging
import os
import sys

from runtime import eventloop, logs
from runtime.api import serve
from runtime.api_keys import keys_main
from services.billing.api.app import BillingApi
from services.billing.api.http import build_app
from services.billing.api.settings import parse

log = logging.getLogger("billing.api")


def run(argv: list[str]) -> int:
    if argv[:1] == ["keys"]:
        return keys_main(argv[1:], prog="python -m services.billing.api")
    settings = parse(argv, os.environ)
    logs.configure(settings.log_level)
    api = BillingApi(settings)
    app = build_app(api)
    return eventloop.run(serve(api, app, host=settings.host, port=settings.port, log=log))


def main() -> int:
    """The console script (pyproject.toml [project.scripts]): the command line of `sys.argv`."""
    return run(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
