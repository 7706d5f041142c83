"""`python -m services.loadbalance`: run a load balancing worker (wiring; the core is core/)."""

import argparse
import sys

from runtime import process
from runtime.settings import BOOTSTRAP_ENV
from services.loadbalance.app import ROUTED, services

DESCRIPTION = f"""\
Run one load balancing worker. Its router reads sessions.v1, stations.v1 and command-results.v1
and passes the events of the stations that belong to a site (loadbalance.sites.v1) on to
loadbalance.inputs.v1, keyed by site. Its load balancer reads those with the site documents and
grid.capacity.v1, allocates each site's capacity to its charging sessions after every change,
publishes each allocation on loadbalance.limits.v1, and sends the stations their limits as
SetChargingProfile on commands.v1: decreases first, increases once the decreases are accepted,
and a safe default profile at boot (state: loadbalance.state.v1). Start several with the same
--group: they share the partitions (the router's group is <group>-loadbalance_router).
docs/loadbalance.md says how a site is allocated.

environment:
  {BOOTSTRAP_ENV}      broker address (default 127.0.0.1:9092)
"""


def command_line() -> argparse.ArgumentParser:
    """The worker's options (deploy/k8s's tests parse the manifests' arguments with it)."""
    return process.parser(
        prog="python -m services.loadbalance",
        description=DESCRIPTION,
        group="chargebus-loadbalance",
        http_port=9400,
        first_input=ROUTED[0],
    )


def run(argv: list[str]) -> int:
    return process.main(argv, command_line(), lambda args: services(args.bootstrap_servers))


def main() -> int:
    """The console script (pyproject.toml [project.scripts]): the command line of `sys.argv`."""
    return run(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
