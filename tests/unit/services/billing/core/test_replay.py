"""Replay: the CDR in force per session, and how recomputed CDRs differ from it."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from contracts.payloads.billing import CdrIssued
from services.billing.core.replay import compare, in_force

T0 = datetime(2026, 11, 23, tzinfo=UTC)


def cdr(session: str, cdr_id: str, total: str, end_h: float = 1, **extra: Any) -> CdrIssued:
    body = {
        "id": cdr_id,
        "end_date_time": T0 + timedelta(hours=end_h),
        "total_cost": {"excl_vat": total, "incl_vat": total},
        **extra,
    }
    return CdrIssued(cdr=body, session_id=session, station_id="CS-1", transaction_id="1")


def test_a_credited_cdr_is_no_longer_in_force_and_its_successor_is() -> None:
    issued = [
        cdr("S1", "a", "5.00"),
        cdr("S2", "b", "3.00"),
        cdr("S1", "a-C", "-5.00", credit=True, credit_reference_id="a"),
        cdr("S1", "c", "6.00"),
    ]
    force = in_force(issued)
    assert {s: c["id"] for s, c in force.items()} == {"S1": "c", "S2": "b"}


def test_compare_counts_same_changed_and_one_sided_within_the_period() -> None:
    issued = in_force([cdr("S1", "a", "5.00"), cdr("S2", "b", "3.00"), cdr("S3", "c", "1.00")])
    rebuilt = in_force(
        [
            cdr("S1", "x", "5.00"),
            cdr("S2", "y", "4.50"),
            cdr("S4", "z", "2.00"),
            cdr("S5", "old", "9.00", end_h=-5),  # ended before the period
        ]
    )
    c = compare(issued, rebuilt, since=T0)
    assert (c.sessions, c.same, c.changed, c.only_issued, c.only_rebuilt) == (4, 1, 1, 1, 1)
    assert c.delta == Decimal("1.50") - Decimal("1.00") + Decimal("2.00")
    summary = c.summary(top=1)
    assert summary["largest"] == [{"session_id": "S4", "issued": None, "rebuilt": "2.00"}]
    assert summary["delta_excl_vat"] == "2.50"
