"""Partitions read from an offset up to an end by a consumer of no group (I/O: aiokafka).

A worker's restore, billing's replay, the benchmarks' recordings and the tests' checks read
this way: what a topic holds between two offsets, then stop.
"""

from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

from aiokafka import AIOKafkaConsumer
from aiokafka.structs import ConsumerRecord, TopicPartition

from runtime.kafka import DEFAULT_CONNECT_TIMEOUT_S, consumer, partitions_of, start_bounded

Offsets = Mapping[TopicPartition, int]
Records = list[ConsumerRecord[bytes, bytes]]


@asynccontextmanager
async def reader(
    bootstrap_servers: str, *, connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S, **options: Any
) -> AsyncIterator[AIOKafkaConsumer]:
    """A started consumer of no group (``options`` as for ``runtime.kafka.consumer``), stopped
    on the way out.

    Raises:
        KafkaUnavailable: if the broker did not answer within ``connect_timeout_s``.
    """
    kafka = consumer(bootstrap_servers, group_id=None, **options)
    await start_bounded(kafka, bootstrap_servers, connect_timeout_s)
    try:
        yield kafka
    finally:
        await kafka.stop()


async def end_offsets(
    bootstrap_servers: str, topics: Sequence[str], timeout_s: float
) -> dict[TopicPartition, int]:
    """The end offset of every partition of ``topics`` now: where a reader of what comes next
    starts.

    Raises:
        KafkaUnavailable, TopicMissing: the broker or a topic is not there.
    """
    partitions = await partitions_of(bootstrap_servers, topics, timeout_s)
    async with reader(bootstrap_servers, connect_timeout_s=timeout_s) as kafka:
        return dict(await kafka.end_offsets(partitions))


async def everything(
    kafka: AIOKafkaConsumer, partitions: Iterable[TopicPartition]
) -> tuple[dict[TopicPartition, int], dict[TopicPartition, int]]:
    """The first and the end offset of each partition now: what it holds, for ``read``."""
    tps = list(partitions)
    return dict(await kafka.beginning_offsets(tps)), dict(await kafka.end_offsets(tps))


async def read(
    kafka: AIOKafkaConsumer, starts: Offsets, ends: Offsets, *, timeout_ms: int = 500
) -> AsyncIterator[tuple[TopicPartition, Records]]:
    """The records of each partition tp from offset ``starts[tp]`` up to, not including,
    ``ends[tp]``, as the fetches bring them; ``kafka`` is assigned to the partitions of
    ``starts``."""
    kafka.assign(list(starts))
    for tp, offset in starts.items():  # explicit: a lazy seek_to_beginning resolves later
        kafka.seek(tp, offset)
    pending = {tp for tp, start in starts.items() if start < ends[tp]}
    while pending:
        fetched: dict[TopicPartition, Records] = await kafka.getmany(
            *pending, timeout_ms=timeout_ms
        )
        for tp, records in fetched.items():
            end = ends[tp]
            if records and records[-1].offset >= end:
                records = [r for r in records if r.offset < end]
            if records:
                yield tp, records
        # Compaction leaves gaps: the position, not the last offset seen, says when it is done.
        pending = {tp for tp in pending if await kafka.position(tp) < ends[tp]}
