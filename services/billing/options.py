"""Command-line options of the billing worker and of rebuild: CDRs, zones, cost messages (pure)."""

import argparse
from datetime import timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from runtime.settings import positive
from services.billing.core.cdr import Party
from services.billing.core.currencies import MINOR_UNITS
from services.billing.core.station_costs import CostMessages, Display


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


def add_display_options(parser: argparse.ArgumentParser) -> None:
    shown = parser.add_argument_group("prices at the station (docs/billing.md)")
    shown.add_argument(
        "--cost-messages",
        choices=[str(m) for m in CostMessages],
        default=str(CostMessages.ALL),
        help="stations sent their price and running cost: all (2.0.1 SetDisplayMessage and "
        "CostUpdated; 1.6 the OCA note's DefaultPrice and costmsg DataTransfer; a station that "
        "refuses them is left alone for a day), 2.0.1, none [%(default)s]",
    )
    shown.add_argument(
        "--cost-update-interval",
        type=positive,
        default=60,
        metavar="SECONDS",
        help="at least this long between two running costs of a session [%(default)s]",
    )


def display(args: argparse.Namespace) -> Display:
    return Display(
        messages=CostMessages(args.cost_messages),
        interval=timedelta(seconds=args.cost_update_interval),
    )
