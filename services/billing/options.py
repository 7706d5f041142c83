"""Command-line options of the billing worker and of rebuild: who issues CDRs, zones (pure)."""

import argparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from services.billing.core.cdr import Party
from services.billing.core.currencies import MINOR_UNITS


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


def add_cdr_options(parser: argparse.ArgumentParser) -> None:
    cdrs = parser.add_argument_group("CDRs")
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


def party(args: argparse.Namespace) -> Party:
    return Party(args.country_code, args.party_id)
