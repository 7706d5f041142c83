"""`python -m services.sessions`: run a sessions worker (wiring only; the core is core/)."""

import argparse
import os
import sys

from runtime import process
from runtime.settings import BOOTSTRAP_ENV
from services.sessions.app import SOURCES, service
from services.sessions.core.policy import Policy

DESCRIPTION = f"""\
Run one sessions worker: it answers every station CALL on ocpp.inbound.v1 (through the gateway
inbox), keeps one state per station (changelog: sessions.state.v1), and writes stations.v1 and
sessions.v1. It carries billing's costs (billing.costs.v1) into 2.0.1 TransactionEvent
responses. Start several with the same --group: they share the partitions.

environment:
  {BOOTSTRAP_ENV}      broker address (default 127.0.0.1:9092)
  SESSIONS_UNKNOWN_STATIONS    Accepted | Pending | Rejected for stations without an override
  SESSIONS_STATION_OVERRIDES   per-station boot status, e.g. "CS1=Rejected,CS2=Pending"
  SESSIONS_HEARTBEAT_INTERVAL  seconds, sent in accepted BootNotification answers (300)
  SESSIONS_RETRY_INTERVAL      seconds before a Pending/Rejected station boots again (60)
  SESSIONS_BOOT_REQUEST_INTERVAL  seconds between asking an unknown station to boot (60; 0: never)
  SESSIONS_ABANDON_AFTER       seconds of silence that close a station's open transactions
                               (172800; 0: never)
  SESSIONS_FINAL_COST_WAIT     seconds a 2.0.1 Ended response waits for billing's final cost
                               (5; 0: never waits)
  SESSIONS_REPORT_TIMEOUT      seconds without a part that close a report in parts (600)
  SESSIONS_FETCH_INVENTORY     1: ask a booted station for its inventory when we lack it (1)
  SESSIONS_SIGN_CERTIFICATES   1: accept good CSRs for the certificates service to sign (1)
  SESSIONS_CERTIFICATE_ORGANIZATION  the O a station CSR must have (empty: any)
"""


def command_line() -> argparse.ArgumentParser:
    """The worker's options (deploy/k8s's tests parse the manifests' arguments with it)."""
    return process.parser(
        prog="python -m services.sessions",
        description=DESCRIPTION,
        group="chargebus-sessions",
        http_port=9200,
        first_input=SOURCES[0],
    )


def run(argv: list[str]) -> int:
    return process.main(
        argv,
        command_line(),
        lambda args: service(args.bootstrap_servers, Policy.from_environ(os.environ)),
    )


def main() -> int:
    """The console script (pyproject.toml [project.scripts]): the command line of `sys.argv`."""
    return run(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
