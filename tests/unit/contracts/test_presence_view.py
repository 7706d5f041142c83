"""contracts.payloads.presence.PresenceView: the rules every reader of ocpp.presence.v1 applies."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from contracts.envelope import Envelope
from contracts.events import EventType
from contracts.payloads.presence import GatewayAlive, Presence, PresenceView, gateway_key
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


def alive(gateway: int, boot: str, t: float, lease_s: float = 15) -> Envelope:
    return GatewayAlive(gateway=gateway, boot=boot, at=at(t), lease_s=lease_s).envelope()


def test_a_heartbeat_round_trips_under_its_gateway_key() -> None:
    heartbeat = GatewayAlive(gateway=3, boot="b1", at=at(5), lease_s=15)
    envelope = heartbeat.envelope()
    assert (envelope.event_type, envelope.key) == (EventType.GATEWAY_ALIVE, "gateway/3")
    assert envelope.payload == {"gateway": 3, "boot": "b1", "lease_s": 15}
    assert GatewayAlive.parse(envelope) == heartbeat
    assert heartbeat.until == at(20)
    assert gateway_key(3) == "gateway/3"


def test_unusable_heartbeats_are_not_heartbeats() -> None:
    for payload in (
        {"boot": "b1", "lease_s": 15},
        {"gateway": 3, "lease_s": 15},
        {"gateway": 3, "boot": "b1", "lease_s": True},
        {"gateway": 3, "boot": "b1", "lease_s": -1},
        {"gateway": 3, "boot": "b1"},
    ):
        assert GatewayAlive.parse(envelope(EventType.GATEWAY_ALIVE, "gateway/3", **payload)) is None
    assert GatewayAlive.parse(connected("c1")) is None


def test_a_station_goes_offline_when_its_gateway_lease_runs_out_in_the_log() -> None:
    view = PresenceView()  # no clock: the newest heartbeat is "now"
    view.apply(alive(3, "b1", t=0))
    view.apply(connected("c1", t=1))
    view.apply(alive(4, "x", t=14))
    assert view.online("CS-1")
    view.apply(alive(4, "x", t=16))  # gateway 3 said nothing since 0: its lease ended at 15
    assert not view.online("CS-1")
    assert view.apply(alive(3, "b1", t=17))  # it was only late: back
    assert view.online("CS-1")


def test_a_live_reader_judges_leases_by_its_clock() -> None:
    now = [at(10)]
    view = PresenceView(clock=lambda: now[0])
    view.apply(alive(3, "b1", t=0))
    view.apply(connected("c1", t=1))
    assert view.online("CS-1")
    now[0] = at(16)  # no record at all since: every gateway may be dead
    assert not view.online("CS-1")


def test_a_lease_of_zero_ends_at_once_and_older_heartbeats_change_nothing() -> None:
    view = PresenceView(clock=lambda: at(31))
    view.apply(alive(3, "b1", t=20))
    view.apply(connected("c1", t=21))
    assert not view.apply(alive(3, "b1", t=19))  # from a partition read later
    assert view.lease(3) == GatewayAlive(gateway=3, boot="b1", at=at(20), lease_s=15)
    assert view.online("CS-1")
    view.apply(alive(3, "b1", t=30, lease_s=0))
    assert not view.online("CS-1")


def test_a_heartbeat_tombstone_forgets_the_lease_and_not_a_station() -> None:
    view = PresenceView(clock=lambda: at(100))
    view.apply(alive(3, "b1", t=0))
    view.apply(connected("c1", t=1))
    assert not view.online("CS-1")
    view.remove("gateway/3")
    assert view.lease(3) is None
    assert view.online("CS-1")  # without a lease, presence alone decides
    view.remove("gateway/x")
    assert "CS-1" in view


def test_a_written_again_connection_says_so_and_reads_back() -> None:
    record = Presence(
        station_id="CS-1",
        connected=True,
        gateway=3,
        connection_id="c1",
        ocpp_version=OcppVersion.V16,
        gateway_boot="b1",
        connected_at=at(0),
        reasserted=True,
    )
    envelope = record.envelope()
    assert envelope.payload["reasserted"] is True
    assert Presence.parse(envelope) == record
    assert "reasserted" not in replace(record, reasserted=False).envelope().payload
