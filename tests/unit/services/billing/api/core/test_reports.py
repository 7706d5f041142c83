"""Reports: energy, sessions and revenue grouped, credits netted, JSON rows, CSV and the plot."""

import dataclasses
import struct
from datetime import UTC, datetime, timedelta
from typing import Any

from contracts.payloads.billing import CdrIssued
from services.billing.api.core.reports import report, to_csv
from services.billing.plot import daily_png

T0 = datetime(2026, 11, 23, tzinfo=UTC)


def cdr(station: str, cdr_id: str, hours: float, kwh: str, excl: str, **extra: Any) -> CdrIssued:
    body = {
        "id": cdr_id,
        "end_date_time": T0 + timedelta(hours=hours),
        "currency": "EUR",
        "total_energy": kwh,
        "total_cost": {"excl_vat": excl, "incl_vat": excl},
        "cdr_token": {"uid": "TAG-1"},
        **extra,
    }
    return CdrIssued(
        cdr=body, session_id=f"{station}/{cdr_id}", station_id=station, transaction_id="1"
    )


CDRS = [
    cdr("CS-1", "a", 1, "10.0000", "4.00"),
    cdr("CS-2", "b", 2, "5.0000", "2.00"),
    cdr("CS-1", "c", 30, "8.0000", "3.00"),  # the next day
    cdr("CS-1", "a-C", 31, "10.0000", "-4.00", credit=True),  # a corrected ...
    cdr("CS-1", "d", 31, "12.0000", "5.00"),  # ... and its new CDR
]


def test_by_station_nets_credits_so_a_corrected_session_counts_once() -> None:
    rows = [r.to_json() for r in report(CDRS, by="station", since=None, until=None)]
    assert rows == [
        {
            "key": "CS-1",
            "currency": "EUR",
            "sessions": 2,
            "energy_kwh": "20.0000",
            "revenue_excl_vat": "8.00",
            "revenue_incl_vat": "8.00",
        },
        {
            "key": "CS-2",
            "currency": "EUR",
            "sessions": 1,
            "energy_kwh": "5.0000",
            "revenue_excl_vat": "2.00",
            "revenue_incl_vat": "2.00",
        },
    ]


def test_by_day_within_a_range_and_as_csv() -> None:
    rows = report(CDRS, by="day", since=T0, until=T0 + timedelta(days=1))
    assert [(r.key, r.sessions, str(r.revenue_excl_vat)) for r in rows] == [
        ("2026-11-23", 2, "6.00")
    ]
    assert to_csv(rows).splitlines() == [
        "key,currency,sessions,energy_kwh,revenue_excl_vat,revenue_incl_vat",
        "2026-11-23,EUR,2,15.0000,6.00,6.00",
    ]
    by_token = report(CDRS, by="token", since=None, until=None)
    assert [(r.key, r.sessions) for r in by_token] == [("TAG-1", 3)]


def test_the_daily_plot_is_a_png_of_the_days_with_or_without_cdrs() -> None:
    rows = report([*CDRS, cdr("CS-3", "e", 2, "1.0000", "0.50", currency="CHF")], by="day",
                  since=None, until=None)  # fmt: skip
    png = daily_png(rows, title="test")
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", png[16:24])  # the IHDR chunk
    assert (width, height) == (1000, 600)
    empty = daily_png([], title="nothing")
    assert empty.startswith(b"\x89PNG")
    assert empty != png


def test_by_site_and_token_group_as_priced_at_the_start() -> None:
    depot = dataclasses.replace(cdr("CS-1", "f", 1, "2.0000", "1.00"), site_id="DEPOT")
    fleet = dataclasses.replace(
        cdr("CS-2", "g", 1, "3.0000", "2.00"), site_id="DEPOT", token_group="FLEET-1"
    )
    alone = cdr("CS-3", "h", 1, "4.0000", "3.00")
    by_site = report([depot, fleet, alone], by="site", since=None, until=None)
    assert [(r.key, r.sessions, str(r.energy_kwh)) for r in by_site] == [
        ("(none)", 1, "4.0000"),
        ("DEPOT", 2, "5.0000"),
    ]
    by_group = report([depot, fleet, alone], by="token_group", since=None, until=None)
    assert [(r.key, r.sessions) for r in by_group] == [("(none)", 2), ("FLEET-1", 1)]
