"""`python -m services.billing report`: the report of any range, read from billing.cdrs.v1 (I/O).

The API reports over the CDRs it holds (its --cdrs-window); this reads the topic itself (90 days
of retention) from ``--from``: a session's CDR is written after it ended, so every CDR of a
session that ended in the range, credits included, is at or after that time.
"""

import argparse
import asyncio
import json
import os
import sys
from datetime import datetime
from pathlib import Path

from contracts.payloads.billing import CdrIssued
from contracts.topics import Topic
from runtime.settings import bootstrap_servers
from services.billing.api.core.reports import GROUPINGS, Row, report, to_csv
from services.billing.plot import daily_png
from services.billing.rebuild import PROGRESS_EVERY, parse_time, read_period


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)  # noqa: T201 - progress of a long command


async def read_cdrs(bootstrap: str, since: datetime) -> list[CdrIssued]:
    """Every CdrIssued on billing.cdrs.v1 written since ``since``, up to the end as it was."""
    found: list[CdrIssued] = []
    records = 0
    async for _, envelope in read_period(bootstrap, Topic.CDRS, since):
        records += 1
        if records % PROGRESS_EVERY == 0:
            _progress(f"{records:,} records read, {len(found):,} CDRs")
        issued = CdrIssued.parse(envelope)
        if issued is not None:
            found.append(issued)
    _progress(f"{records:,} records read, {len(found):,} CDRs")
    return found


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(
        prog="python -m services.billing report",
        description="Energy, sessions and revenue per day, station, site, token or token group "
        "over any range, "
        "read from billing.cdrs.v1 (the API's /reports covers only the CDRs it holds). A "
        "credit CDR takes its session back out. Progress goes to stderr.",
    )
    p.add_argument("--from", dest="since", type=parse_time, required=True, help="2026-11-01")
    p.add_argument("--to", dest="until", type=parse_time, help="the end (exclusive)")
    p.add_argument("--by", choices=GROUPINGS, default="day")
    p.add_argument(
        "--format",
        choices=("table", "json", "csv", "png"),
        default="table",
        help="png: energy and revenue per day (--by day, with --out) [%(default)s]",
    )
    p.add_argument("--out", type=Path, help="write here instead of stdout")
    p.add_argument("--bootstrap-servers", default=bootstrap_servers(os.environ))
    args = p.parse_args(argv)
    if args.format == "png" and (args.by != "day" or args.out is None):
        p.error("--format png plots days: give --by day and --out FILE.png")
    cdrs = asyncio.run(read_cdrs(args.bootstrap_servers, args.since))
    rows = report(cdrs, by=args.by, since=args.since, until=args.until)
    if args.format == "png":
        period = f"{args.since.date()} .. {args.until.date() if args.until else 'now'}"
        args.out.write_bytes(daily_png(rows, title=f"chargebus: energy and revenue, {period}"))
        _progress(f"wrote {args.out}")
        return 0
    if args.format == "json":
        text = json.dumps({"by": args.by, "items": [row.to_json() for row in rows]}, indent=1)
    elif args.format == "csv":
        text = to_csv(rows)
    else:
        text = _table(rows, args.by)
    if args.out is None:
        print(text)  # noqa: T201
    else:
        args.out.write_text(text + ("" if text.endswith("\n") else "\n"))
    return 0


def _table(rows: list[Row], by: str) -> str:
    lines = [
        f"{by:<24} {'currency':<8} {'sessions':>9} {'kWh':>14} {'excl. VAT':>14} {'incl. VAT':>14}"
    ]
    for r in rows:
        lines.append(
            f"{r.key:<24} {r.currency:<8} {r.sessions:>9} {r.energy_kwh:>14} "
            f"{r.revenue_excl_vat:>14} {r.revenue_incl_vat:>14}"
        )
    return "\n".join(lines)
