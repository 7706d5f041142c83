"""contracts.payloads.presence.PresenceView: the rules every reader of ocpp.presence.v1 applies."""

from datetime import UTC, datetime, timedelta
from typing import Any

from contracts.envelope import Envelope
from contracts.events import EventType
from contracts.payloads.presence import PresenceView
from ocppj.versions import OcppVersion

T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def envelope(event_type: str, key: str, occurred_s: float = 0, **payload: Any) -> Envelope:
    return Envelope(
        event_type=event_type,
        schema_version=1,
        key=key,
        payload=payload,
        occurred_at=at(occurred_s),
    )


def connected(
    connection_id: str,
    *,
    gateway: int = 3,
    boot: str = "b1",
    t: float = 0,
    version: str = "ocpp1.6",
) -> Envelope:
    return envelope(
        EventType.STATION_CONNECTED,
        "CS-1",
        t,
        station_id="CS-1",
        ocpp_version=version,
        connection_id=connection_id,
        gateway=gateway,
        gateway_boot=boot,
        connected_at=at(t),
        state="connected",
    )


def disconnected(
    connection_id: str, *, gateway: int = 3, boot: str = "b1", t: float = 0
) -> Envelope:
    return envelope(
        EventType.STATION_DISCONNECTED,
        "CS-1",
        t,
        station_id="CS-1",
        ocpp_version="ocpp1.6",
        connection_id=connection_id,
        gateway=gateway,
        gateway_boot=boot,
        connected_at=at(0),
        disconnected_at=at(t),
        reason="1000",
        state="disconnected",
    )


def test_connect_and_disconnect() -> None:
    view = PresenceView()
    assert view.apply(connected("A"))
    entry = view.get("CS-1")
    assert entry is not None
    assert (entry.gateway, entry.connection_id, entry.ocpp_version) == (3, "A", OcppVersion.V16)
    assert view.online("CS-1")
    assert view.apply(disconnected("A", t=5))
    assert not view.online("CS-1")
    assert view.get("CS-1") is not None  # still known: its last connection is remembered


def test_a_late_disconnect_of_an_older_connection_is_ignored() -> None:
    view = PresenceView()
    view.apply(connected("A", gateway=3, t=0))
    view.apply(connected("B", gateway=5, boot="c1", t=10))
    assert not view.apply(disconnected("A", gateway=3, t=11))
    entry = view.get("CS-1")
    assert entry is not None
    assert (entry.gateway, entry.connection_id) == (5, "B")
    assert view.online("CS-1")


def test_the_newest_connection_wins() -> None:
    view = PresenceView()
    view.apply(connected("B", gateway=5, boot="c1", t=10))
    assert not view.apply(connected("A", gateway=3, t=0))  # an older socket's record
    entry = view.get("CS-1")
    assert entry is not None
    assert entry.connection_id == "B"
    view.apply(connected("B", gateway=5, boot="c1", t=20))  # re-assertion of the live one
    assert view.online("CS-1")


def test_a_reconnect_after_a_disconnect_applies() -> None:
    view = PresenceView()
    view.apply(connected("B", t=10))
    view.apply(disconnected("B", t=11))
    assert view.apply(connected("C", t=5))  # the current one is not connected: any connect wins
    assert view.online("CS-1")


def test_an_entry_of_an_older_gateway_boot_is_offline() -> None:
    view = PresenceView()
    view.apply(connected("A", gateway=3, boot="old", t=0))
    other = envelope(
        EventType.STATION_CONNECTED,
        "CS-2",
        60,
        station_id="CS-2",
        connection_id="Z",
        gateway=3,
        gateway_boot="new",
        connected_at=at(60),
    )
    view.apply(other)
    assert not view.online("CS-1")  # gateway 3 restarted: nobody holds CS-1's old socket
    assert view.online("CS-2")


def test_a_disconnect_for_an_unknown_station_records_it_offline() -> None:
    view = PresenceView()
    assert view.apply(disconnected("A", t=3))
    assert "CS-1" in view
    assert not view.online("CS-1")


def test_presence_records_without_routing_data_are_ignored() -> None:
    view = PresenceView()
    assert not view.apply(envelope(EventType.STATION_CONNECTED, "CS-1", station_id="CS-1"))
    assert not view.apply(envelope(EventType.CREDENTIAL_SET, "CS-1", connection_id="A", gateway=1))
    no_gateway = envelope(EventType.STATION_CONNECTED, "CS-1", station_id="CS-1", connection_id="A")
    assert not view.apply(no_gateway)
    assert "CS-1" not in view
    view.apply(connected("A"))
    view.remove("CS-1")
    assert "CS-1" not in view
