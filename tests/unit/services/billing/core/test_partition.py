"""The billing core driven as the worker drives it: sessions.v1 records in, one CDR out."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import msgpack

from contracts.envelope import Envelope
from contracts.events import DomainEvent, EventType
from contracts.payloads.billing import CdrIssued, Scope, TariffAssigned, TariffDefined
from contracts.payloads.sessions import SessionEnded, SessionStarted, SessionUpdated
from contracts.topics import Topic
from services.billing.core.book import TariffBook
from services.billing.core.cdr import cdr_id
from services.billing.core.ocpi_json import dumps
from services.billing.core.partition import KEEP_ENDED, Partition
from services.billing.core.state import MAX_SAMPLES, Billed, Reading
from tests.unit.services.billing.core.tariffs import component, element, ocpi

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
STATION = "CS-1"
SESSION = f"{STATION}/42"
# 0.30/kWh (VAT 21 %), a 1.00 start fee; 2.00/h parked
TARIFF = ocpi(
    element(
        component("FLAT", "1.00", vat="21"),
        component("ENERGY", "0.30", vat="21"),
    ),
    id="AC-1",
)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def define(book: TariffBook, body: dict[str, Any]) -> None:
    text = dumps(body)
    book.apply(
        f"tariff:{body['id']}", TariffDefined(tariff_id=body["id"], ocpi_json=text).envelope()
    )


def assign(book: TariffBook, *tariff_ids: str, station: str | None = None) -> None:
    assigned = TariffAssigned(
        scope=Scope.DEFAULT if station is None else Scope.STATION,
        target=station,
        tariff_ids=tariff_ids,
        time_zone="Europe/Amsterdam",
    )
    book.apply(assigned.key, assigned.envelope())


def book_with(*bodies: dict[str, Any]) -> TariffBook:
    book = TariffBook()
    for body in bodies:
        define(book, body)
    assign(book, bodies[0]["id"])
    return book


def record(event: DomainEvent, occurred_at: datetime) -> Envelope:
    return event.envelope(occurred_at=occurred_at)


def started(minutes: float = 0, token: str | None = "TAG-1") -> Envelope:
    event = SessionStarted(
        session_id=SESSION,
        station_id=STATION,
        transaction_id="42",
        evse_id=1,
        connector_id=1,
        id_token=token,
        meter_start_wh=1000.0,
        started_at=at(minutes),
        id_token_type="ISO14443",
        id_token_source="Station",
    ).event()
    return record(event, at(minutes))


def updated(
    minutes: float, wh: float | None, current: float | None = None, state: str | None = None
) -> Envelope:
    event = SessionUpdated(
        session_id=SESSION,
        station_id=STATION,
        transaction_id="42",
        energy_wh=wh,
        power_w=None,
        current_a=current,
        soc_percent=None,
        at=at(minutes),
        charging_state=state,
    ).event()
    return record(event, at(minutes))


def ended(
    minutes: float, wh: float, *, corrected: bool = False, token: str | None = "TAG-1"
) -> Envelope:
    event = SessionEnded(
        session_id=SESSION,
        station_id=STATION,
        transaction_id="42",
        energy_wh=wh,
        duration_s=minutes * 60,
        id_token=token,
        stop_reason="EVDisconnected",
        ended_at=at(minutes),
        closed_by_csms="Silence" if corrected else None,
        corrected=corrected,
    ).event()
    return record(event, at(minutes))


def cdrs(partition: Partition, *records: Envelope) -> list[CdrIssued]:
    found = []
    for envelope in records:
        step = partition.handle(envelope)
        assert step is not None
        for event in step.events:
            if event.topic == Topic.BILLING_COSTS:  # the quotes: test_station_costs.py
                assert (event.event_type, event.key) == (EventType.COST_QUOTED, STATION)
                continue
            assert (event.topic, event.event_type, event.key) == (
                Topic.CDRS,
                EventType.CDR_ISSUED,
                STATION,
            )
            issued = CdrIssued.parse(record(event, envelope.occurred_at))
            assert issued is not None
            found.append(issued)
    return found


def test_a_session_gets_one_cdr_with_its_cost_and_periods() -> None:
    p = Partition(0, book=book_with(TARIFF))
    [issued] = cdrs(p, started(), updated(30, 5000), updated(60, 11000), ended(90, 15000))
    cdr = issued.cdr
    assert (issued.session_id, issued.station_id, issued.transaction_id) == (SESSION, STATION, "42")
    assert cdr["id"] == cdr_id(SESSION)
    assert cdr["total_energy"] == "15.0000"
    assert cdr["total_time"] == "1.5000"
    # 1.00 + 15 x 0.30 = 5.50; incl. 21 %: 6.655 -> 6.66 (half up)
    assert cdr["total_cost"] == {"excl_vat": "5.50", "incl_vat": "6.66"}
    assert cdr["total_fixed_cost"] == {"excl_vat": "1.00", "incl_vat": "1.21"}
    assert cdr["currency"] == "EUR"
    assert cdr["tariffs"][0]["id"] == "AC-1"
    assert cdr["cdr_token"]["uid"] == "TAG-1"
    assert cdr["cdr_token"]["type"] == "RFID"
    assert cdr["auth_method"] == "AUTH_REQUEST"
    assert cdr["cdr_location"]["id"] == STATION
    assert cdr["start_date_time"] == at(0)
    assert cdr["end_date_time"] == at(90)
    [period] = cdr["charging_periods"]  # one tariff element throughout: one period
    assert period["tariff_id"] == "AC-1"
    assert {"type": "ENERGY", "volume": "15.0000"} in period["dimensions"]
    assert cdr["remark"] == "EVDisconnected"


def test_an_end_read_again_issues_nothing() -> None:
    p = Partition(0, book=book_with(TARIFF))
    first = cdrs(p, started(), ended(60, 10000))
    again = cdrs(p, ended(60, 10000), updated(70, 12000))
    assert (len(first), again) == (1, [])


def test_a_correction_credits_the_cdr_and_issues_a_new_one() -> None:
    p = Partition(0, book=book_with(TARIFF))
    [original] = cdrs(p, started(), updated(30, 4000), ended(30, 4000))  # closed by us
    credit, new = cdrs(p, ended(45, 6000, corrected=True))
    assert credit.credit
    assert credit.cdr["id"] == original.cdr_id + "-C"
    assert credit.cdr["credit_reference_id"] == original.cdr_id
    assert credit.cdr["total_cost"] == {"excl_vat": "-2.20", "incl_vat": "-2.66"}
    assert new.cdr_id == cdr_id(SESSION, 1)
    assert not new.credit
    assert new.cdr["total_cost"]["excl_vat"] == "2.80"  # 1.00 + 6 x 0.30
    assert cdrs(p, ended(45, 6000, corrected=True)) == []  # the same correction again


def test_a_correction_that_changes_nothing_issues_nothing() -> None:
    p = Partition(0, book=book_with(TARIFF))
    cdrs(p, started(), ended(30, 4000))
    assert cdrs(p, ended(30, 4000, corrected=True)) == []


def test_the_tariff_is_the_one_assigned_at_the_start() -> None:
    book = book_with(TARIFF)
    p = Partition(0, book=book)
    cdrs(p, started(), updated(30, 5000))
    dearer = ocpi(element(component("ENERGY", "0.90")), id="AC-2")
    define(book, dearer)
    assign(book, "AC-2")  # a price change while the session runs
    [issued] = cdrs(p, ended(60, 10000))
    assert issued.cdr["tariffs"][0]["id"] == "AC-1"
    assert issued.cdr["total_cost"]["excl_vat"] == "4.00"


def test_a_price_change_takes_effect_at_its_start_time() -> None:
    later = ocpi(
        element(component("ENERGY", "0.50")),
        id="AC-2026-12",
        start_date_time="2026-11-23T13:00:00Z",
    )
    now = ocpi(
        element(component("ENERGY", "0.30")), id="AC-2026-11", end_date_time="2026-11-23T13:00:00Z"
    )
    book = TariffBook()
    define(book, later)
    define(book, now)
    assign(book, "AC-2026-12", "AC-2026-11")  # the first valid at the start applies
    p = Partition(0, book=book)
    [before] = cdrs(p, started(0), ended(30, 1000))
    [after] = cdrs(p, started(61) | _session("CS-1/43"), ended(90, 1000) | _session("CS-1/43"))
    assert before.cdr["tariffs"][0]["id"] == "AC-2026-11"
    assert after.cdr["tariffs"][0]["id"] == "AC-2026-12"


def _session(session_id: str) -> Any:
    class Rename:
        def __ror__(self, envelope: Envelope) -> Envelope:
            payload = {**envelope.payload, "session_id": session_id, "transaction_id": "43"}
            return Envelope(
                event_type=envelope.event_type,
                schema_version=1,
                key=envelope.key,
                payload=payload,
                occurred_at=envelope.occurred_at,
            )

    return Rename()


def test_an_unknown_station_tariff_falls_back_to_the_default_and_says_so() -> None:
    book = book_with(TARIFF)
    assign(book, "GONE", station=STATION)
    [issued] = cdrs(Partition(0, book=book), started(), ended(60, 10000))
    assert issued.cdr["tariffs"][0]["id"] == "AC-1"
    assert "station tariffs ['GONE'] unknown" in issued.cdr["remark"]


def test_without_any_tariff_the_session_is_free_and_the_cdr_says_so() -> None:
    [issued] = cdrs(Partition(0, book=TariffBook()), started(), ended(60, 10000))
    assert issued.cdr["total_cost"] == {"excl_vat": "0.00", "incl_vat": "0.00"}
    assert issued.cdr["tariffs"] == []
    assert "no tariff assigned" in issued.cdr["remark"]


def test_a_token_joined_after_the_start_is_on_the_cdr() -> None:
    p = Partition(0, book=book_with(TARIFF))
    [issued] = cdrs(p, started(token=None), ended(60, 10000, token="APP-7"))
    assert issued.cdr["cdr_token"]["uid"] == "APP-7"


def test_the_changelog_restores_every_session_exactly() -> None:
    p = Partition(0, book=book_with(TARIFF))
    cdrs(p, started(), updated(30, 5000, current=16.0))
    writes = p.changes()
    assert [key for key, _ in writes] == [SESSION]
    restored = Partition(0, book=p.book)
    for key, value in writes:
        restored.restore(key, value)
    assert restored.sessions == p.sessions
    # ... and goes on from there exactly as the original does
    assert cdrs(restored, ended(60, 9000)) == cdrs(p, ended(60, 9000))
    assert p.changes() == restored.changes()


def test_a_billed_session_is_forgotten_after_keep_ended() -> None:
    p = Partition(0, book=book_with(TARIFF))
    cdrs(p, started(), ended(60, 10000))
    p.changes()
    later = updated(60 + KEEP_ENDED.total_seconds() / 60 + 90, 1) | _session("CS-1/99")
    p.handle(later)
    assert SESSION not in p.sessions
    assert (SESSION, None) in p.changes()


def test_readings_stay_bounded() -> None:
    b = Billed(session_id=SESSION, station_id=STATION, transaction_id="42")
    for minute in range(MAX_SAMPLES + 10):
        b = b.with_reading(Reading(at(minute), Decimal(minute)))
    assert len(b.readings) <= MAX_SAMPLES
    assert b.readings[-1].at == at(MAX_SAMPLES + 9)  # the newest are all kept
    assert [r.at for r in b.readings] == sorted(r.at for r in b.readings)
    packed = msgpack.packb(b.to_dict(), datetime=True)
    assert Billed.from_dict(msgpack.unpackb(packed, timestamp=3)) == b


def test_a_session_seen_only_from_its_end_is_priced_from_its_duration_and_energy() -> None:
    """Billing started after the session did (a new group reads from the end of sessions.v1):
    SessionEnded's duration and energy still price it."""
    [issued] = cdrs(Partition(0, book=book_with(TARIFF)), ended(90, 15000))
    assert issued.cdr["start_date_time"] == at(0)
    assert issued.cdr["total_energy"] == "15.0000"
    assert issued.cdr["total_time"] == "1.5000"
    assert issued.cdr["total_cost"]["excl_vat"] == "5.50"


def test_time_the_ev_takes_no_power_is_parking() -> None:
    """1.00 start, 0.30/kWh, 2.00/h parked (step 900 s): 60 min charging 10 kWh, then 25 min
    SuspendedEV (billed 30), 5 min SuspendedEVSE (not parking: we held power back)."""
    parking = ocpi(
        element(
            component("FLAT", "1.00"),
            component("ENERGY", "0.30"),
            component("PARKING_TIME", "2.00", 900),
        ),
        id="AC-P",
    )
    p = Partition(0, book=book_with(parking))
    [issued] = cdrs(
        p,
        started(),
        updated(60, 10000, state="SuspendedEV"),
        updated(85, None, state="SuspendedEVSE"),
        ended(90, 10000),
    )
    cdr = issued.cdr
    assert cdr["total_parking_time"] == str((Decimal(25) / 60).quantize(Decimal("0.0001")))
    assert cdr["total_parking_cost"]["excl_vat"] == "1.00"  # 25 min -> 30 min at 2.00/h
    assert cdr["total_cost"]["excl_vat"] == "5.00"  # 1.00 + 3.00 + 1.00
    kinds = [[d["type"] for d in period["dimensions"][:2]] for period in cdr["charging_periods"]]
    assert kinds == [["ENERGY", "TIME"], ["ENERGY", "PARKING_TIME"], ["ENERGY", "TIME"]]


def test_evconnected_before_any_energy_is_not_parking() -> None:
    parking = ocpi(element(component("PARKING_TIME", "6.00"), component("ENERGY", "0.30")), id="P")
    p = Partition(0, book=book_with(parking))
    [issued] = cdrs(
        p,
        started(),
        updated(0.5, 0, state="EVConnected"),
        updated(10, 2000, state="Charging"),
        ended(40, 8000),
    )
    assert issued.cdr["total_parking_cost"]["excl_vat"] == "0.00"


def test_current_restrictions_see_the_current_summed_over_phases() -> None:
    """16 A on each of 3 phases is 48 A for OCPI: the 'from 32 A' price applies."""
    fast = ocpi(
        element(component("ENERGY", "0.50"), min_current=Decimal(32)),
        element(component("ENERGY", "0.30")),
        id="FAST",
    )
    event = SessionUpdated(
        session_id=SESSION,
        station_id=STATION,
        transaction_id="42",
        energy_wh=0.0,
        power_w=None,
        current_a=16.0,
        soc_percent=None,
        at=at(0.1),
        current_total_a=48.0,
    ).event()
    p = Partition(0, book=book_with(fast))
    [issued] = cdrs(p, started(), record(event, at(0.1)), ended(60, 10000))
    assert issued.cdr["total_cost"]["excl_vat"] == "5.00"  # 10 kWh at 0.50
