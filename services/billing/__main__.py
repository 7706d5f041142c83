"""`python -m services.billing`: run a billing worker (wiring only; the core is core/)."""

import argparse
import sys

from runtime import process
from runtime.settings import BOOTSTRAP_ENV
from services.billing import rebuild, report
from services.billing.app import SOURCES, service
from services.billing.options import add_cdr_options, add_display_options, display, party

DESCRIPTION = f"""\
Run one billing worker: it reads every session on sessions.v1, keeps each session's meter and
the tariff it started with (changelog: billing.state.v1), follows the tariffs and their
assignments on billing.tariffs.v1 (with the sites of loadbalance.sites.v1 and the token groups
of sessions.tokens.v1), and writes exactly one OCPI 2.2.1 CDR per ended session to
billing.cdrs.v1 (a correction: a credit CDR and a new one). It quotes each session's cost on
billing.costs.v1, shows each station its price before a session (stations.v1: at boot and when
it changes) and sends running and final costs to the stations that take them (reading their
answers on command-results.v1). Start several with the same --group: they share the
partitions. docs/billing.md says how a session is priced.

`python -m services.billing rebuild --help`: recompute a period's CDRs and compare them.
`python -m services.billing report --help`: energy and revenue over any range (JSON, CSV, PNG).

environment:
  {BOOTSTRAP_ENV}      broker address (default 127.0.0.1:9092)
"""


def command_line() -> argparse.ArgumentParser:
    """The worker's options (deploy/k8s's tests parse the manifests' arguments with it)."""
    parser = process.parser(
        prog="python -m services.billing",
        description=DESCRIPTION,
        group="chargebus-billing",
        http_port=9300,
        first_input=SOURCES[0],
    )
    add_cdr_options(parser)
    add_display_options(parser)
    return parser


def run(argv: list[str]) -> int:
    if argv[:1] == ["rebuild"]:
        return rebuild.main(argv[1:])
    if argv[:1] == ["report"]:
        return report.main(argv[1:])
    return process.main(
        argv,
        command_line(),
        lambda args: service(
            args.bootstrap_servers,
            party=party(args),
            time_zone=args.time_zone,
            currency=args.currency,
            show=display(args),
        ),
    )


def main() -> int:
    """The console script (pyproject.toml [project.scripts]): the command line of `sys.argv`."""
    return run(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
