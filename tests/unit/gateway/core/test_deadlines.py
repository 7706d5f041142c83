"""The deadline heap hands out each due key once, at its latest deadline, and stays small."""

from gateway.core.deadlines import COMPACT_ABOVE, Deadlines


def test_due_keys_come_out_earliest_first_and_only_once() -> None:
    deadlines: Deadlines[str] = Deadlines()
    deadlines.schedule("b", 2.0)
    deadlines.schedule("a", 1.0)
    deadlines.schedule("c", 3.0)
    assert deadlines.due(0.5) == []
    assert deadlines.due(2.0) == ["a", "b"]  # at or before now
    assert deadlines.due(2.5) == []
    assert "c" in deadlines
    assert len(deadlines) == 1


def test_a_rescheduled_key_fires_at_its_new_deadline_only() -> None:
    deadlines: Deadlines[str] = Deadlines()
    deadlines.schedule("a", 1.0)
    deadlines.schedule("a", 5.0)  # later: the first entry is stale
    assert deadlines.due(2.0) == []
    deadlines.schedule("a", 1.5)  # earlier again
    assert deadlines.due(2.0) == ["a"]
    assert deadlines.due(10.0) == []  # the 5.0 entry is stale too
    deadlines.schedule("a", 1.0)
    deadlines.schedule("a", 1.0)  # the same deadline twice: one entry
    assert deadlines.due(1.0) == ["a"]


def test_forgotten_or_cleared_keys_never_fire() -> None:
    deadlines: Deadlines[str] = Deadlines()
    deadlines.schedule("gone", 1.0)
    deadlines.schedule("done", 1.0)
    deadlines.forget("gone")
    deadlines.schedule("done", None)  # no deadline any more
    deadlines.forget("never scheduled")
    assert deadlines.due(5.0) == []
    assert len(deadlines) == 0


def test_keys_need_not_be_comparable() -> None:
    class Link:  # hashable by identity, not orderable, as a station link
        pass

    one, two = Link(), Link()
    deadlines: Deadlines[Link] = Deadlines()
    deadlines.schedule(one, 1.0)
    deadlines.schedule(two, 1.0)
    assert deadlines.due(1.0) == [one, two]


def test_stale_entries_are_dropped_once_they_outnumber_the_live_ones() -> None:
    deadlines: Deadlines[int] = Deadlines()
    for key in range(10):
        deadlines.schedule(key, 1000.0)
    for moved in range(5000):  # each station's deadline moves with every CALL it sends
        deadlines.schedule(moved % 10, 1000.0 + moved)
    assert len(deadlines._heap) <= 2 * len(deadlines) + COMPACT_ABOVE + 1
    assert sorted(deadlines.due(10_000.0)) == list(range(10))
