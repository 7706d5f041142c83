"""Reports over CDRs: energy, sessions and revenue by day, station, site, token or token group,
as rows for JSON and CSV (pure).

A credit CDR counts with its negative amounts and takes its session back out, so a corrected
session counts once, with its new figures. A CDR is placed by its end (``end_date_time``), a
day is a UTC date. Site and token group are those the session was priced under, at its start;
a CDR without one counts under ``NONE``.
"""

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from contracts.payloads.billing import CdrIssued

GROUPINGS = ("station", "day", "token", "site", "token_group")
NONE = "(none)"  # the key of CDRs without a site or a token group
COLUMNS = ("key", "currency", "sessions", "energy_kwh", "revenue_excl_vat", "revenue_incl_vat")


@dataclass(slots=True)
class Row:
    key: str
    currency: str
    sessions: int = 0
    energy_kwh: Decimal = Decimal(0)
    revenue_excl_vat: Decimal = Decimal(0)
    revenue_incl_vat: Decimal = Decimal(0)

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "currency": self.currency,
            "sessions": self.sessions,
            "energy_kwh": str(self.energy_kwh),
            "revenue_excl_vat": str(self.revenue_excl_vat),
            "revenue_incl_vat": str(self.revenue_incl_vat),
        }


def _key(c: CdrIssued, by: str) -> str:
    if by == "station":
        return c.station_id
    if by == "site":
        return c.site_id or NONE
    if by == "token_group":
        return c.token_group or NONE
    if by == "token":
        return str(c.cdr.get("cdr_token", {}).get("uid", ""))
    end = c.cdr["end_date_time"]
    return end.date().isoformat() if isinstance(end, datetime) else str(end)[:10]


def report(
    cdrs: Iterable[CdrIssued], *, by: str, since: datetime | None, until: datetime | None
) -> list[Row]:
    """One row per key and currency, sorted by key; CDRs ending in [since, until)."""
    rows: dict[tuple[str, str], Row] = {}
    for c in cdrs:
        end = c.cdr["end_date_time"]
        if (since is not None and end < since) or (until is not None and end >= until):
            continue
        currency = str(c.cdr["currency"])
        key = (_key(c, by), currency)
        row = rows.get(key) or rows.setdefault(key, Row(key[0], currency))
        sign = -1 if c.credit else 1
        row.sessions += sign
        row.energy_kwh += sign * Decimal(str(c.cdr["total_energy"]))
        total = c.cdr["total_cost"]
        row.revenue_excl_vat += Decimal(str(total["excl_vat"]))  # a credit's are negative
        row.revenue_incl_vat += Decimal(str(total["incl_vat"]))
    return [rows[k] for k in sorted(rows)]


def to_csv(rows: list[Row]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        document = row.to_json()
        writer.writerow([document[column] for column in COLUMNS])
    return out.getvalue()
