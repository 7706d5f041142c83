"""gateway.core.links: the newest connection wins, late disconnects, the recently-left memory."""

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import pytest

from contracts.envelope import Envelope
from contracts.events import EventType
from contracts.payloads.presence import Presence
from gateway.core.bridge import Connection
from gateway.core.links import RECENTLY_LEFT_CAPACITY, LinkTable, Reassert, Superseded
from ocppj.versions import OcppVersion

T0 = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


@dataclass(eq=False)
class Link:
    """What the table holds: anything with its Connection (server.py's StationLink)."""

    info: Connection


def link(station_id: str, connection_id: str, minute: int = 0) -> Link:
    return Link(
        Connection(
            station_id=station_id,
            connection_id=connection_id,
            ocpp_version=OcppVersion.V16,
            gateway=2,
            gateway_boot="boot-1",
            connected_at=T0 + timedelta(minutes=minute),
        )
    )


def presence(envelope: Envelope) -> tuple[str, str]:
    """(event type, connection id) of a presence record."""
    parsed = Presence.parse(envelope)
    assert parsed is not None
    return envelope.event_type, parsed.connection_id


CONNECTED, DISCONNECTED = EventType.STATION_CONNECTED, EventType.STATION_DISCONNECTED


def test_a_first_connection_is_published_and_replaces_nothing() -> None:
    table: LinkTable[Link] = LinkTable()
    a = link("CS-1", "a")
    connected = table.connect(a)
    assert connected.replaced is None
    assert presence(connected.publish) == (CONNECTED, "a")
    assert Presence.parse(connected.publish) == a.info.presence()
    assert table.get("CS-1") is a
    assert table.get("CS-1") is not None
    assert not table.recently_left("CS-1")
    assert (len(table), list(table)) == (1, [a])


def test_the_newest_connection_wins_and_the_older_one_is_to_close() -> None:
    table: LinkTable[Link] = LinkTable()
    a, b = link("CS-1", "a"), link("CS-1", "b", minute=1)
    table.connect(a)
    connected = table.connect(b)
    assert connected.replaced is a
    assert presence(connected.publish) == (CONNECTED, "b")
    assert table.get("CS-1") is b
    assert len(table) == 1


def test_other_stations_are_not_replaced() -> None:
    table: LinkTable[Link] = LinkTable()
    a, b = link("CS-1", "a"), link("CS-2", "b")
    table.connect(a)
    assert table.connect(b).replaced is None
    assert set(table) == {a, b}


# Disconnect scenarios: the links that connect (in order), the one that ends, then what is
# published (in order), whether it was the current link, and which link the table holds after.
SCENARIOS = [
    pytest.param(["a"], "a", [(DISCONNECTED, "a")], True, None, id="the-current-link"),
    pytest.param(
        ["a", "b"],
        "a",
        [],  # the log's last word stays about "b": compaction keeps the right record
        False,
        "b",
        id="a-replaced-link-writes-nothing",
    ),
    pytest.param(["a", "b"], "b", [(DISCONNECTED, "b")], True, None, id="the-newest-link"),
]


@pytest.mark.parametrize(("connects", "ends", "published", "was_current", "held"), SCENARIOS)
def test_disconnect(
    connects: list[str],
    ends: str,
    published: list[tuple[str, str]],
    was_current: bool,
    held: str | None,
) -> None:
    table: LinkTable[Link] = LinkTable()
    links = {name: link("CS-1", name, minute=n) for n, name in enumerate(connects)}
    for each in links.values():
        table.connect(each)
    ended = table.disconnect(links[ends], at=T0 + timedelta(hours=1), reason="1006")
    assert [presence(envelope) for envelope in ended.publish] == published
    assert ended.was_current is was_current
    current = table.get("CS-1")
    assert (None if current is None else current.info.connection_id) == held
    assert table.recently_left("CS-1") is (held is None)


def test_a_replaced_link_that_ends_after_its_replacement_publishes_nothing() -> None:
    table: LinkTable[Link] = LinkTable()
    a, b = link("CS-1", "a"), link("CS-1", "b", minute=1)
    table.connect(a)
    table.connect(b)
    table.disconnect(b, at=T0 + timedelta(hours=1), reason="1000")
    ended = table.disconnect(a, at=T0 + timedelta(hours=2), reason="1000 replaced")
    assert ended.publish == ()
    assert not ended.was_current
    assert table.recently_left("CS-1")


def test_the_disconnect_carries_time_and_reason() -> None:
    table: LinkTable[Link] = LinkTable()
    a = link("CS-1", "a")
    table.connect(a)
    at = T0 + timedelta(hours=1)
    (gone,) = table.disconnect(a, at=at, reason="1000 replaced by a newer connection").publish
    parsed = Presence.parse(gone)
    assert parsed == a.info.presence().ended(at=at, reason="1000 replaced by a newer connection")


def test_a_reconnect_clears_the_recently_left_mark() -> None:
    table: LinkTable[Link] = LinkTable()
    a, b = link("CS-1", "a"), link("CS-1", "b", minute=1)
    table.connect(a)
    table.disconnect(a, at=T0, reason="1006")
    assert table.recently_left("CS-1")
    assert table.connect(b).replaced is None
    assert not table.recently_left("CS-1")


def test_the_recently_left_memory_is_bounded_oldest_first() -> None:
    table: LinkTable[Link] = LinkTable(remember=2)
    for n in range(3):
        each = link(f"CS-{n}", f"c{n}")
        table.connect(each)
        table.disconnect(each, at=T0, reason="1006")
    assert [table.recently_left(f"CS-{n}") for n in range(3)] == [False, True, True]
    assert len(table) == 0


def test_the_default_memory_is_100000_stations() -> None:
    assert LinkTable[Link]().remember == RECENTLY_LEFT_CAPACITY == 100_000


def elsewhere(
    connection_id: str, *, connected: bool = True, reasserted: bool = False, gateway: int = 5
) -> Presence:
    """A presence record of station CS-1 as another gateway (or a reader) wrote it."""
    record = Presence(
        station_id="CS-1",
        connected=True,
        gateway=gateway,
        connection_id=connection_id,
        ocpp_version=OcppVersion.V16,
        gateway_boot="boot-x",
        connected_at=T0 + timedelta(minutes=30),
        reasserted=reasserted,
    )
    return record if connected else record.ended(at=T0 + timedelta(minutes=31), reason="1006")


def test_records_before_our_own_connect_record_ask_nothing() -> None:
    table: LinkTable[Link] = LinkTable()
    a = link("CS-1", "a")
    table.connect(a)
    # An older connection's records, written before ours landed: nothing to do.
    assert table.observe(elsewhere("old")) is None
    assert table.observe(elsewhere("old", connected=False)) is None
    assert table.get("CS-1") is a


def test_a_newer_connection_elsewhere_supersedes_the_link() -> None:
    table: LinkTable[Link] = LinkTable()
    a = link("CS-1", "a")
    table.connect(a)
    assert table.observe(a.info.presence()) is None  # our own record, read back
    observed = table.observe(elsewhere("new"))
    assert isinstance(observed, Superseded)
    assert observed.link is a
    assert table.get("CS-1") is None
    # Its end writes nothing and does not count as "recently left": the station is elsewhere.
    ended = table.disconnect(a, at=T0 + timedelta(hours=1), reason="1000 replaced")
    assert ended.publish == ()
    assert not table.recently_left("CS-1")


@pytest.mark.parametrize(
    "record",
    [
        pytest.param(elsewhere("old", connected=False), id="a-late-disconnect-elsewhere"),
        pytest.param(elsewhere("old", reasserted=True), id="an-older-connection-written-again"),
    ],
)
def test_a_later_record_about_another_connection_asks_for_ours_again(record: Presence) -> None:
    table: LinkTable[Link] = LinkTable()
    a = link("CS-1", "a")
    table.connect(a)
    table.observe(a.info.presence())
    observed = table.observe(record)
    assert isinstance(observed, Reassert)
    again = Presence.parse(observed.publish)
    assert again == replace(a.info.presence(), reasserted=True)
    assert table.get("CS-1") is a


def test_a_local_reconnect_waits_for_its_own_record_again() -> None:
    table: LinkTable[Link] = LinkTable()
    a, b = link("CS-1", "a"), link("CS-1", "b", minute=1)
    table.connect(a)
    table.observe(a.info.presence())
    table.connect(b)
    assert table.observe(a.info.presence()) is None  # a's record is older than b's
    assert table.observe(b.info.presence()) is None
    assert isinstance(table.observe(elsewhere("c")), Superseded)


def test_records_of_stations_not_held_ask_nothing() -> None:
    table: LinkTable[Link] = LinkTable()
    assert table.observe(elsewhere("x")) is None


def test_every_link_can_be_written_again() -> None:
    table: LinkTable[Link] = LinkTable()
    a, b = link("CS-1", "a"), link("CS-2", "b")
    table.connect(a)
    table.connect(b)
    again = [Presence.parse(envelope) for envelope in table.reassert_all()]
    assert again == [replace(x.info.presence(), reasserted=True) for x in (a, b)]
