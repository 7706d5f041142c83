"""`python -m services.billing rebuild`: recompute a period's CDRs and compare them (I/O).

Reads sessions.v1 from ``--from`` (less ``--lookback``, to see the starts of sessions that
ended in the period) up to its end as it was when the command started, through a fresh billing
core with the tariffs of billing.tariffs.v1 or of ``--tariffs FILE``; reads billing.cdrs.v1 the
same way; reports, per session that ended in the period, whether its recomputed total equals
the one of its CDR in force. Writes nothing to Kafka: the recomputed CDRs go to ``--out`` as
JSON lines. docs/billing.md, "Replay".
"""

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from aiokafka import TopicPartition

from contracts.codec import decode
from contracts.envelope import Envelope
from contracts.payloads.billing import CdrIssued, Scope
from contracts.topics import SPECS, Topic
from ocppj.timestamps import parse_zoned
from runtime.reading import everything, read, reader
from runtime.settings import bootstrap_servers
from services.billing.api.core.errors import InvalidAssignment
from services.billing.api.core.errors import InvalidTariff as InvalidTariffBody
from services.billing.api.core.requests import assignment, tariff_definition
from services.billing.core.book import TariffBook
from services.billing.core.cdr import Party
from services.billing.core.ocpi_json import dumps
from services.billing.core.partition import Partition
from services.billing.core.replay import Comparison, InForce, compare
from services.billing.core.station_costs import CostMessages, Display
from services.billing.options import add_cdr_options
from services.billing.options import party as cdr_party

PROGRESS_EVERY = 100_000
REPLAY = Display(quotes=False, messages=CostMessages.NONE)  # CDRs only: no costs, no commands
REPLAY_KEEP = timedelta(days=2)  # of log time after a session's CDR, for a late correction


async def read_period(
    bootstrap: str, topic: str, since: datetime | None
) -> AsyncIterator[tuple[int, Envelope]]:
    """(partition, record) of ``topic`` from ``since`` (None: the beginning) to the end offsets
    it had when the read began; undecodable records are skipped."""
    async with reader(bootstrap) as kafka:
        tps = [TopicPartition(topic, p) for p in range(SPECS[Topic(topic)].partitions)]
        starts, ends = await everything(kafka, tps)
        if since is not None:
            at_ms = int(since.timestamp() * 1000)
            found = await kafka.offsets_for_times(dict.fromkeys(tps, at_ms))
            starts = {tp: ends[tp] if found.get(tp) is None else found[tp].offset for tp in tps}
        async for tp, records in read(kafka, starts, ends):
            for record in records:
                if record.value is not None:
                    try:
                        yield tp.partition, decode(record.value)
                    except Exception:  # noqa: BLE001 - one bad record must not stop a replay
                        continue


async def live_book(bootstrap: str, book: TariffBook | None = None) -> TariffBook:
    """``book`` (or billing.tariffs.v1 as it stands) with today's sites (loadbalance.sites.v1)
    and token groups (sessions.tokens.v1)."""
    topics = (
        (Topic.SITES, Topic.TOKENS)
        if book is not None
        else (Topic.TARIFFS, Topic.SITES, Topic.TOKENS)
    )
    book = book or TariffBook()
    for topic in topics:
        async for _, envelope in read_period(bootstrap, topic, None):
            try:
                book.apply_record(topic, envelope.key, envelope)
            except Exception:  # noqa: BLE001 - what the workers reject does not apply here
                continue
    return book


FILE_SCOPES = {"station_id": Scope.STATION, "site_id": Scope.SITE, "token_group": Scope.TOKEN_GROUP}


def file_book(path: Path) -> TariffBook:
    """Tariffs from a file: ``{"tariffs": [OCPI Tariff, ...], "assignments": [{"station_id":
    ID, or "site_id", or "token_group", or none of them (the default), "tariff_ids": [...],
    "time_zone": ...}, ...]}``.

    Raises:
        ValueError: the file is not that, with the reason.
    """
    data = json.loads(path.read_text("utf-8"), parse_float=Decimal)
    book = TariffBook()
    try:
        for obj in data.get("tariffs", []):
            defined = tariff_definition(str(obj.get("id", "")), obj)
            book.apply(defined.envelope().key, defined.envelope())
        for entry in data.get("assignments", []):
            scope, target = Scope.DEFAULT, None
            for name, named in FILE_SCOPES.items():
                if entry.get(name) is not None:
                    scope, target = named, str(entry.pop(name))
                entry.pop(name, None)
            assigned = assignment(scope, target, entry, book)
            book.apply(assigned.key, assigned.envelope())
    except (InvalidTariffBody, InvalidAssignment) as exc:
        raise ValueError(f"{path}: {exc}") from None
    return book


async def rebuild(
    bootstrap: str,
    *,
    since: datetime,
    until: datetime | None,
    lookback: timedelta,
    book: TariffBook,
    party: Party,
    time_zone: str,
    currency: str,
    out: Path | None,
    progress: Callable[[str], None],
) -> Comparison:
    """Recompute, compare, and write the recomputed CDRs in force to ``out``.

    Memory stays small per session: a session is forgotten ``REPLAY_KEEP`` of log time after
    its CDR (a correction later than that is priced from its own figures), and of each CDR only
    its end, total and place in a spool file are kept until the end.
    """
    partitions: dict[int, Partition] = {}
    rebuilt = InForce()
    records, started = 0, time.monotonic()
    with tempfile.TemporaryFile("w+", encoding="utf-8") as spool:
        async for partition, envelope in read_period(bootstrap, Topic.SESSIONS, since - lookback):
            store = partitions.get(partition)
            if store is None:
                store = partitions[partition] = Partition(
                    partition,
                    book=book,
                    party=party,
                    time_zone=time_zone,
                    currency=currency,
                    show=REPLAY,
                    keep_ended=REPLAY_KEEP,
                )
            step = store.handle(envelope)
            store.changes()  # nothing is written: forget them
            for event in [] if step is None else step.events:
                issued = CdrIssued.parse(event.envelope())
                if issued is not None:
                    line = -1
                    if out is not None:  # the whole CDR is wanted only for the file
                        line = spool.tell()
                        spool.write(dumps({"session_id": issued.session_id, "cdr": issued.cdr}))
                        spool.write("\n")
                    rebuilt.add(issued, line)
            records += 1
            if records % PROGRESS_EVERY == 0:
                rate = records / (time.monotonic() - started)
                progress(
                    f"sessions.v1: {records:,} records, {rebuilt.issued:,} CDRs ({rate:,.0f}/s)"
                )
        progress(f"sessions.v1: {records:,} records, {rebuilt.issued:,} CDRs recomputed")
        issued_cdrs = InForce()
        async for _, envelope in read_period(bootstrap, Topic.CDRS, since - lookback):
            c = CdrIssued.parse(envelope)
            if c is not None:
                issued_cdrs.add(c, -1)
        progress(f"billing.cdrs.v1: {issued_cdrs.issued:,} CDRs issued")
        comparison = compare(issued_cdrs.cdrs, rebuilt.cdrs, since=since, until=until)
        if out is not None:
            with out.open("w", encoding="utf-8") as lines:
                for session_id in sorted(rebuilt.cdrs):
                    cdr = rebuilt.cdrs[session_id]
                    end = cdr["end_date_time"]
                    if end >= since and (until is None or end < until):
                        spool.seek(rebuilt.lines[session_id])
                        lines.write(spool.readline())
    return comparison


def parse_time(value: str) -> datetime:
    """An argparse type: a date (midnight UTC) or an RFC 3339 date-time."""
    parsed = parse_zoned(value if "T" in value else f"{value}T00:00:00Z")
    if parsed is None:
        raise argparse.ArgumentTypeError(f"not a date or an RFC 3339 date-time: {value!r}")
    return parsed


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(
        prog="python -m services.billing rebuild",
        description="Recompute the CDRs of the sessions that ended in a period from "
        "sessions.v1, with today's tariffs or those of a file, and report how they differ "
        "from the CDRs issued. Writes nothing to Kafka.",
    )
    p.add_argument(
        "--from", dest="since", type=parse_time, required=True, help="2026-11-01 or RFC 3339"
    )
    p.add_argument("--to", dest="until", type=parse_time, help="the end of the period (exclusive)")
    p.add_argument(
        "--lookback",
        type=float,
        default=48.0,
        help="hours of sessions.v1 read before --from, for the starts of sessions that "
        "ended in the period [%(default)s]",
    )
    p.add_argument("--tariffs", type=Path, help="a JSON file of tariffs and assignments")
    p.add_argument("--out", type=Path, help="write the recomputed CDRs here, as JSON lines")
    p.add_argument("--json", action="store_true", help="the report as JSON")
    p.add_argument("--bootstrap-servers", default=bootstrap_servers(os.environ))
    add_cdr_options(p)
    args = p.parse_args(argv)

    def progress(message: str) -> None:
        print(message, file=sys.stderr, flush=True)  # noqa: T201 - progress of a long command

    async def run() -> Comparison:
        own = file_book(args.tariffs) if args.tariffs else None
        book = await live_book(args.bootstrap_servers, own)
        progress(
            f"tariffs: {len(book.tariffs)}, assignments: {len(book.assignments)}, "
            f"sites: {len(book.sites)}, tokens in groups: {len(book.groups)}"
        )
        return await rebuild(
            args.bootstrap_servers,
            since=args.since,
            until=args.until,
            lookback=timedelta(hours=args.lookback),
            book=book,
            party=cdr_party(args),
            time_zone=args.time_zone,
            currency=args.currency,
            out=args.out,
            progress=progress,
        )

    try:
        comparison = asyncio.run(run())
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)  # noqa: T201
        return 2
    report = comparison.summary()
    if args.json:
        print(json.dumps(report, indent=2))  # noqa: T201
    else:
        print(_human(report, args.since, args.until))  # noqa: T201
    return 0


def _human(report: dict[str, Any], since: datetime, until: datetime | None) -> str:
    period = f"{since.isoformat()} .. {until.isoformat() if until else 'now'}"
    lines = [
        f"sessions ended {period}: {report['sessions']}",
        f"  same total        {report['same']}",
        f"  different total   {report['changed']}",
        f"  only issued       {report['only_issued']}",
        f"  only recomputed   {report['only_rebuilt']}",
        f"  change, excl VAT  {report['delta_excl_vat']}",
    ]
    for d in report["largest"]:
        lines.append(f"    {d['session_id']}: {d['issued']} -> {d['rebuilt']}")
    return "\n".join(lines)
