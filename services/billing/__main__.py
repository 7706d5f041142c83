"""`python -m services.billing`: run a billing worker (wiring only; the core is core/)."""

import argparse
import sys
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from runtime import process
from runtime.settings import BOOTSTRAP_ENV
from services.billing.app import SOURCES, service
from services.billing.core.cdr import Party
from services.billing.core.currencies import MINOR_UNITS

DESCRIPTION = f"""\
Run one billing worker: it reads every session on sessions.v1, keeps each session's meter and
the tariff it started with (changelog: billing.state.v1), follows the tariffs and their
assignments on billing.tariffs.v1, and writes exactly one OCPI 2.2.1 CDR per ended session to
billing.cdrs.v1 (a correction: a credit CDR and a new one). Start several with the same
--group: they share the partitions. docs/billing.md says how a session is priced.

environment:
  {BOOTSTRAP_ENV}      broker address (default 127.0.0.1:9092)
"""


def _zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise argparse.ArgumentTypeError(f"{name!r} is not an IANA time zone") from None
    return name


def _currency(code: str) -> str:
    if code not in MINOR_UNITS:
        raise argparse.ArgumentTypeError(f"{code!r} is not an ISO 4217 currency")
    return code


def run(argv: list[str]) -> int:
    command_line = process.parser(
        prog="python -m services.billing",
        description=DESCRIPTION,
        group="chargebus-billing",
        http_port=9300,
        first_input=SOURCES[0],
    )
    cdrs = command_line.add_argument_group("CDRs")
    cdrs.add_argument("--country-code", default="NL", help="OCPI country_code of the CPO")
    cdrs.add_argument("--party-id", default="CBS", help="OCPI party_id of the CPO")
    cdrs.add_argument(
        "--time-zone",
        type=_zone,
        default="UTC",
        help="stations' time zone where their assignment names none [%(default)s]",
    )
    cdrs.add_argument(
        "--currency",
        type=_currency,
        default="EUR",
        help="of the (free) CDR of a session without any tariff [%(default)s]",
    )
    return process.main(
        argv,
        command_line,
        lambda args: service(
            args.bootstrap_servers,
            party=Party(args.country_code, args.party_id),
            time_zone=args.time_zone,
            currency=args.currency,
        ),
    )


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
