"""Gateway leases in the sessions partition: stations of a gone gateway go offline, from the log."""

from collections.abc import Mapping
from dataclasses import replace
from datetime import timedelta
from typing import Any

from contracts.codec import decode, encode
from contracts.envelope import Envelope
from contracts.events import EventType
from contracts.payloads.presence import GatewayAlive, Presence
from contracts.topics import Topic
from runtime.batch import plan
from services.sessions.core.leases import Leases
from services.sessions.core.partition import Partition
from services.sessions.core.policy import Policy
from tests.unit.services.sessions.core.station import T0, V16
from tests.unit.services.sessions.core.test_partition import TOKENS, Inbound, P, Record


class Log:
    """Presence records and heartbeats on partition P, as the worker reads them."""

    def __init__(self) -> None:
        self.offset = 0
        self.partition = Partition(P)

    def feed(self, *envelopes: Envelope) -> list[tuple[str, Mapping[str, Any]]]:
        """Plan the records; the StationOnline/StationOffline events (type, payload)."""
        records = []
        for envelope in envelopes:
            self.offset += 1
            key = envelope.key.encode()
            records.append(Record(Topic.PRESENCE, P, self.offset, key, encode(envelope)))
        effects = plan(records, {P: self.partition}, changelog=Topic.SESSIONS_STATE)
        events = [decode(w.value) for w in effects.events if w.topic == Topic.STATIONS and w.value]
        return [(e.event_type, e.payload) for e in events]


def connected(station_id: str, gateway: int = 0, boot: str | None = None) -> Presence:
    boot = boot or f"b{gateway}"
    return Presence(
        station_id=station_id,
        connected=True,
        gateway=gateway,
        connection_id=f"{station_id}-{gateway}-{boot}",
        ocpp_version=V16,
        gateway_boot=boot,
        connected_at=T0,
    )


def alive(gateway: int, second: float, boot: str | None = None, lease_s: float = 15) -> Envelope:
    return GatewayAlive(
        gateway=gateway,
        boot=boot or f"b{gateway}",
        at=T0 + timedelta(seconds=second),
        lease_s=lease_s,
    ).envelope()


def test_a_gateway_that_stops_beating_takes_its_stations_offline_and_no_others() -> None:
    log = Log()
    log.feed(alive(0, 0), alive(1, 0))
    online = log.feed(connected("CS-A", 0).envelope(), connected("CS-B", 1).envelope())
    assert [kind for kind, _ in online] == [EventType.STATION_ONLINE] * 2
    assert log.feed(alive(1, 5), alive(1, 10), alive(1, 15)) == []  # 0's lease ends at 15
    [(kind, payload)] = log.feed(alive(1, 20))
    assert kind == EventType.STATION_OFFLINE
    assert payload["station_id"] == "CS-A"
    assert payload["reason"] == "gateway 0 lease ran out at 2026-11-25T08:00:15Z"
    assert log.partition.states["CS-A"].online is False
    assert log.partition.states["CS-B"].online is True
    assert log.feed(alive(1, 25)) == []  # judged once


def test_a_gateway_back_with_another_boot_loses_the_old_boots_stations() -> None:
    log = Log()
    log.feed(alive(0, 0), connected("CS-A", 0, "b0").envelope())
    [(kind, payload)] = log.feed(alive(0, 3, boot="b0-new"))
    assert kind == EventType.STATION_OFFLINE
    assert payload["reason"] == "gateway 0 restarted (boot b0-new)"


def test_a_station_written_again_after_a_lapse_is_online_again() -> None:
    log = Log()
    station = connected("CS-A", 0)
    log.feed(alive(0, 0), alive(1, 0), station.envelope())
    log.feed(alive(1, 20))
    assert not log.partition.states["CS-A"].online
    again = replace(station, reasserted=True).envelope()
    [(kind, _)] = log.feed(alive(0, 21), again)
    assert kind == EventType.STATION_ONLINE


def test_a_gateway_never_heard_for_a_lease_since_the_first_heartbeat_is_gone() -> None:
    # A worker restored state where CS-A was at gateway 7, which died while no worker read.
    log = Log()
    log.feed(connected("CS-A", 7).envelope())
    assert log.feed(alive(0, 100), alive(0, 110)) == []
    [(kind, payload)] = log.feed(alive(0, 116))
    assert kind == EventType.STATION_OFFLINE
    assert payload["reason"] == "gateway 7 sent no GatewayAlive since 2026-11-25T08:01:40Z"


def test_the_judgement_looks_at_stations_only_when_it_changed() -> None:
    leases = Leases()
    assert leases.heartbeat(GatewayAlive(gateway=0, boot="b", at=T0, lease_s=15))  # new gateway
    later = GatewayAlive(gateway=0, boot="b", at=T0 + timedelta(seconds=5), lease_s=15)
    assert not leases.heartbeat(later)
    assert leases.lost(0, "b") is None
    assert leases.lost(None, "b") is None
    assert leases.lost(3, "x") is None  # never heard, but no lease has passed yet


def test_a_silent_stations_open_transaction_is_closed_on_the_heartbeat_clock() -> None:
    inbound = Inbound()
    charging = inbound.session()[:5]  # connected, booted, authorized, started, a meter value
    partition = Partition(P, policy=Policy(abandon_after_s=3600), tokens=TOKENS)
    plan(charging, {P: partition}, changelog=Topic.SESSIONS_STATE)

    def beat(offset: int, seconds: float) -> list[Envelope]:
        heartbeat = alive(2, seconds, boot="b1")
        record = Record(Topic.PRESENCE, P, offset, b"gateway/2", encode(heartbeat))
        effects = plan([record], {P: partition}, changelog=Topic.SESSIONS_STATE)
        return [decode(w.value) for w in effects.events if w.topic == Topic.SESSIONS and w.value]

    assert beat(100, 1800) == []  # half an hour of silence: nothing
    [ended] = beat(101, 3700)
    assert ended.event_type == EventType.SESSION_ENDED
    assert ended.payload["closed_by_csms"] == "Silence"
    assert ended.payload["energy_wh"] == 500  # 1500 Wh at the last meter value, from 1000
    assert beat(102, 3800) == []  # looked at again only after a minute, and nothing is open
    assert partition.states["CS-1"].transactions == ()
