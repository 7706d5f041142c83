"""`chargebus tail TOPIC`: any topic's records decoded from msgpack, as JSON lines (I/O).

Each line: {topic, partition, offset, key, event_type, occurred_at, event_id, payload} (times
in RFC 3339); a tombstone prints with "tombstone": true; a record that is not an envelope with
"undecodable". Filters: the station (the payload's station_id, else the key up to its first
"/") and the event type.
"""

import asyncio
import json
import sys
from collections.abc import Mapping
from typing import Any, TextIO

from aiokafka import TopicPartition

from contracts.codec import decode
from contracts.errors import DecodeError
from contracts.fields import jsonable
from contracts.topics import Topic
from runtime.kafka import consumer, partitions_of, start_bounded


def line(
    topic: str, partition: int, offset: int, key: bytes | None, value: bytes | None
) -> dict[str, Any]:
    """What one record prints as (pure)."""
    text_key = None if key is None else key.decode("utf-8", "replace")
    out: dict[str, Any] = {
        "topic": topic,
        "partition": partition,
        "offset": offset,
        "key": text_key,
    }
    if value is None:
        return out | {"tombstone": True}
    try:
        envelope = decode(value)
    except DecodeError as error:
        return out | {"undecodable": str(error)}
    return out | {
        "event_type": envelope.event_type,
        "occurred_at": jsonable(envelope.occurred_at),
        "event_id": envelope.event_id,
        "payload": jsonable(dict(envelope.payload)),
    }


def matches(record: Mapping[str, Any], station: str | None, event_type: str | None) -> bool:
    """Whether a printed record passes the filters (pure)."""
    if event_type is not None and record.get("event_type") != event_type:
        return False
    if station is None:
        return True
    payload = record.get("payload")
    said = payload.get("station_id") if isinstance(payload, Mapping) else None
    key = record.get("key") or ""
    return said == station or (said is None and key.partition("/")[0] == station)


async def tail(
    bootstrap: str,
    topic: str,
    *,
    from_beginning: bool,
    station: str | None,
    event_type: str | None,
    limit: int | None,
    idle_s: float | None,
    out: TextIO = sys.stdout,
    connect_timeout_s: float = 15.0,
) -> int:
    """Print until ``limit`` lines, ``idle_s`` without a record, or Ctrl-C; the lines printed.

    Raises:
        KafkaUnavailable, TopicMissing: the broker or the topic is not there.
    """
    assigned = await partitions_of(bootstrap, [topic], connect_timeout_s)
    kafka = consumer(bootstrap, group_id=None)
    await start_bounded(kafka, bootstrap, connect_timeout_s)
    printed = 0
    try:
        kafka.assign(assigned)
        if from_beginning:
            await kafka.seek_to_beginning(*assigned)
        else:
            await kafka.seek_to_end(*assigned)
        loop = asyncio.get_running_loop()
        last = loop.time()
        while limit is None or printed < limit:
            batches = await kafka.getmany(timeout_ms=200)
            if not batches:
                if idle_s is not None and loop.time() - last >= idle_s:
                    break
                continue
            last = loop.time()
            for tp, records in sorted(batches.items(), key=lambda item: item[0].partition):
                for record in records:
                    printed_line = line(
                        tp.topic, tp.partition, record.offset, record.key, record.value
                    )
                    if not matches(printed_line, station, event_type):
                        continue
                    out.write(json.dumps(printed_line, ensure_ascii=False) + "\n")
                    out.flush()
                    printed += 1
                    if limit is not None and printed >= limit:
                        return printed
    finally:
        await kafka.stop()
    return printed


TOPICS = tuple(str(t) for t in Topic)
__all__ = ["TOPICS", "TopicPartition", "line", "matches", "tail"]
