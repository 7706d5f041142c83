"""Reservations in CDRs: a session that used one, and one that expired or was cancelled."""

from dataclasses import replace

from contracts.payloads.billing import CdrIssued
from contracts.payloads.reservations import ReservationEnded
from contracts.payloads.sessions import SessionStarted
from services.billing.core.partition import Partition
from tests.unit.services.billing.core.tariffs import RESERVATION_EXPIRE_FEE, ocpi
from tests.unit.services.billing.core.test_partition import (
    SESSION,
    STATION,
    at,
    book_with,
    cdrs,
    ended,
    record,
    started,
)

TARIFF = ocpi(*RESERVATION_EXPIRE_FEE, id="RES")


def partition() -> Partition:
    return Partition(0, book=book_with(TARIFF), time_zone="UTC")


def test_a_session_that_used_a_reservation_pays_for_it_and_its_cdr_shows_it() -> None:
    """tariff_17: charging 22 minutes after booking, 20 kWh: 6.50 / 7.30."""
    plain = SessionStarted.parse(started(22))
    assert plain is not None
    reserved = replace(plain, reservation_id=7, reserved_at=at(0))
    [issued] = cdrs(partition(), record(reserved.event(), at(22)), ended(82, 20_000))
    cdr = issued.cdr
    assert cdr["total_cost"] == {"excl_vat": "6.50", "incl_vat": "7.30"}
    assert cdr["total_reservation_cost"] == {"excl_vat": "1.00", "incl_vat": "1.20"}
    assert cdr["start_date_time"] == at(0)  # "reservation start if reserved"
    first = cdr["charging_periods"][0]
    assert first["start_date_time"] == at(0)
    assert first["dimensions"] == [{"type": "RESERVATION_TIME", "volume": "0.5000"}]
    assert cdr["total_time"] == "1.0000"  # the session's own hour, not the reservation


def expired_or_cancelled(reason: str, minutes: float) -> CdrIssued:
    event = ReservationEnded(
        station_id=STATION,
        reservation_id=9,
        id_token="TAG-1",
        evse_id=1,
        reserved_at=at(0),
        ended_at=at(minutes),
        reason=reason,
    )
    p = partition()
    [issued] = cdrs(p, record(event.event(), at(minutes)))
    assert cdrs(p, record(event.event(), at(minutes))) == []  # read again: no second CDR
    assert issued.session_id == event.session_id != SESSION
    return issued


def test_an_expired_reservation_gets_a_cdr_of_its_own() -> None:
    """tariff_17: unused, expired after 1 h: the fee and the reserved time, 6.00 / 7.20."""
    issued = expired_or_cancelled("Expired", 60)
    assert issued.cdr["total_cost"] == {"excl_vat": "6.00", "incl_vat": "7.20"}
    assert issued.transaction_id == ""
    assert issued.cdr["total_energy"] == "0.0000"
    assert [p["dimensions"][0]["type"] for p in issued.cdr["charging_periods"]] == [
        "RESERVATION_TIME"
    ]
    assert issued.cdr["remark"].startswith("ReservationExpired")


def test_a_cancelled_reservation_pays_its_time_without_the_expiry_fee() -> None:
    issued = expired_or_cancelled("Cancelled", 25)  # 30 minutes at 2.00/h
    assert issued.cdr["total_cost"] == {"excl_vat": "1.00", "incl_vat": "1.20"}
