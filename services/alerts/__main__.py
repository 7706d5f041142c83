"""`python -m services.alerts`: run an alerts worker (wiring only; the core is core/)."""

import argparse
import os
import sys

from runtime import process
from runtime.settings import BOOTSTRAP_ENV
from services.alerts.app import SOURCES, service
from services.alerts.core.policy import Thresholds

DESCRIPTION = f"""\
Run one alerts worker: it reads the stations' events on stations.v1 (with the gateways'
heartbeats on ocpp.presence.v1 as its clock) and raises and resolves what needs an operator on
alerts.v1 (the open ones also on alerts.open.v1): a station offline too long, a connector
Faulted, a component's problem, a critical security event, a failed firmware update or log
upload, a station that keeps rebooting. Each alert is raised once and resolved once. Start
several with the same --group: they share the partitions. docs/alerts.md has the rules.

environment:
  {BOOTSTRAP_ENV}      broker address (default 127.0.0.1:9092)
  ALERTS_OFFLINE_AFTER         seconds offline before StationOffline [300]
  ALERTS_REBOOTS               boots within ALERTS_REBOOT_WINDOW that raise RebootLoop [3]
  ALERTS_REBOOT_WINDOW         seconds [3600]
  ALERTS_REBOOT_QUIET          seconds without a boot that resolve RebootLoop [86400]
  ALERTS_SECURITY_QUIET        seconds without a repeat that resolve a security alert [86400]
"""


def command_line() -> argparse.ArgumentParser:
    """The worker's options (deploy/k8s's tests parse the manifests' arguments with it)."""
    return process.parser(
        prog="python -m services.alerts",
        description=DESCRIPTION,
        group="chargebus-alerts",
        http_port=9500,
        first_input=SOURCES[0],
    )


def run(argv: list[str]) -> int:
    return process.main(
        argv, command_line(), lambda args: service(Thresholds.from_environ(os.environ))
    )


def main() -> int:
    """The console script (pyproject.toml [project.scripts]): the command line of `sys.argv`."""
    return run(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
