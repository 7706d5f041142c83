"""Reservations: made by an accepted ReserveNow, used by a session, cancelled or expired."""

import msgpack

from contracts.events import EventType
from contracts.payloads.ocpp import Reply
from contracts.payloads.presence import GatewayAlive
from contracts.payloads.reservations import ReservationEnded
from contracts.payloads.sessions import SessionStarted
from services.sessions.core.partition import Partition
from tests.unit.services.sessions.core.station import STATION_ID, V16, V201, Station, at, ts
from tests.unit.services.sessions.core.test_transaction_events import STARTED, TOKENS

ACCEPTED = {"status": "Accepted"}


def reserved_16(expires_s: float = 3600) -> Station:
    station = Station(version=V16)
    station.boot()
    request = {"connectorId": 1, "expiryDate": ts(expires_s), "idTag": "TAG-1", "reservationId": 42}
    station.answer("ReserveNow", request, ACCEPTED)
    return station


def started_event(station: Station) -> SessionStarted:
    [event] = [e for e in station.events if e.event_type == EventType.SESSION_STARTED]
    parsed = SessionStarted.parse(event.envelope())
    assert parsed is not None
    return parsed


def ended_event(station: Station) -> ReservationEnded:
    [event] = [e for e in station.events if e.event_type == EventType.RESERVATION_ENDED]
    parsed = ReservationEnded.parse(event.envelope())
    assert parsed is not None
    return parsed


def test_a_16_session_that_uses_a_reservation_says_when_it_was_made() -> None:
    station = reserved_16()
    assert station.state is not None
    [made] = station.state.reservations
    assert (made.reservation_id, made.id_token, made.evse_id, made.made_at) == (
        42,
        "TAG-1",
        1,
        at(0),
    )
    station.tick(900)
    station.call(
        "StartTransaction",
        {"connectorId": 1, "idTag": "TAG-1", "meterStart": 0, "timestamp": ts(900),
         "reservationId": 42},
    )  # fmt: skip
    started = started_event(station)
    assert (started.reservation_id, started.reserved_at) == (42, at(0))
    assert station.state.reservations == ()


def test_a_201_session_that_uses_a_reservation() -> None:
    station = Station(version=V201, tokens=dict(TOKENS))
    station.boot()
    request = {
        "id": 3,
        "expiryDateTime": ts(3600),
        "idToken": {"idToken": "04A2B3C4D5", "type": "ISO14443"},
    }
    station.answer("ReserveNow", request, ACCEPTED)
    station.tick(600)
    station.call("TransactionEvent", STARTED)  # reservationId 3
    started = started_event(station)
    assert (started.reservation_id, started.reserved_at) == (3, at(0))


def test_a_cancelled_reservation_ends_without_a_session() -> None:
    station = reserved_16()
    station.tick(300)
    station.answer("CancelReservation", {"reservationId": 42}, ACCEPTED)
    ended = ended_event(station)
    assert (ended.reason, ended.reserved_at, ended.ended_at) == ("Cancelled", at(0), at(300))
    assert ended.session_id == f"{STATION_ID}/reservation/42/{int(at(0).timestamp())}"


def test_a_rejected_reserve_now_makes_no_reservation() -> None:
    station = Station(version=V16)
    station.boot()
    request = {"connectorId": 1, "expiryDate": ts(60), "idTag": "T", "reservationId": 1}
    station.answer("ReserveNow", request, {"status": "Occupied"})
    assert station.state is not None
    assert station.state.reservations == ()


def test_a_201_station_says_its_reservation_expired() -> None:
    station = Station(version=V201, tokens=dict(TOKENS))
    station.boot()
    request = {"id": 5, "expiryDateTime": ts(60), "idToken": {"idToken": "X", "type": "Central"}}
    station.answer("ReserveNow", request, ACCEPTED)
    station.tick(60)
    update = {"reservationId": 5, "reservationUpdateStatus": "Expired"}
    assert station.call("ReservationStatusUpdate", update).reply == Reply({})
    assert ended_event(station).reason == "Expired"
    again = station.call("ReservationStatusUpdate", update)  # repeated: nothing more
    assert again.events == []


def test_a_16_reservation_expires_on_the_partitions_clock() -> None:
    station = reserved_16(expires_s=3600)
    assert station.state is not None
    partition = Partition(0)
    partition.restore(STATION_ID, msgpack.packb(station.state.to_dict(), datetime=True))
    assert partition.reserving == {STATION_ID}
    alive = GatewayAlive(gateway=3, boot="b1", at=at(1800), lease_s=15.0)
    early = partition.handle(alive.envelope())
    assert early is not None
    assert not [e for e in early.events if e.event_type == EventType.RESERVATION_ENDED]
    later = partition.handle(
        GatewayAlive(gateway=3, boot="b1", at=at(3700), lease_s=15.0).envelope()
    )
    assert later is not None
    [ended] = [e for e in later.events if e.event_type == EventType.RESERVATION_ENDED]
    parsed = ReservationEnded.parse(ended.envelope())
    assert parsed is not None
    assert (parsed.reason, parsed.ended_at) == ("Expired", at(3600))
    assert partition.reserving == set()
