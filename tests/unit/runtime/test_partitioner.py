"""KeyPartitioner: the same partitions as aiokafka's (and Java's) default, remembered per key."""

from aiokafka.partitioner import DefaultPartitioner

from runtime.kafka import KeyPartitioner


def test_the_same_partition_as_the_default_partitioner_for_every_key_and_count() -> None:
    ours, theirs = KeyPartitioner(), DefaultPartitioner()
    keys = [f"CS-{n:05d}".encode() for n in range(2000)] + [b"", b"\xff\x00\x7f", "ü".encode()]
    for count in (1, 3, 16, 48):
        partitions = list(range(count))
        for key in keys:
            assert ours(key, partitions, partitions) == theirs(key, partitions, partitions)


def test_a_remembered_hash_serves_any_partition_count() -> None:
    ours, theirs = KeyPartitioner(), DefaultPartitioner()
    ours(b"CS-1", [0, 1, 2], [0, 1, 2])  # remembered with 3 partitions
    for count in (5, 16):
        partitions = list(range(count))
        assert ours(b"CS-1", partitions, []) == theirs(b"CS-1", partitions, [])


def test_the_memory_is_bounded_and_still_right_after_it_is_dropped() -> None:
    ours, theirs = KeyPartitioner(max_keys=10), DefaultPartitioner()
    partitions = list(range(16))
    for n in range(35):
        key = f"K{n}".encode()
        assert ours(key, partitions, partitions) == theirs(key, partitions, partitions)
        assert len(ours._hashes) <= 10


def test_no_key_picks_an_available_partition_at_random() -> None:
    ours = KeyPartitioner()
    picked = {ours(None, [0, 1, 2, 3], [1, 3]) for _ in range(200)}
    assert picked == {1, 3}
