"""A stateful worker's stores read back from their changelog partitions (I/O: aiokafka)."""

from collections.abc import Callable, Mapping
from typing import Any

from aiokafka.structs import ConsumerRecord, TopicPartition

from runtime.batch import UNREADABLE, Store
from runtime.kafka import consumer

# a changelog record its store could not read, and why; it is skipped, never fatal
Unreadable = Callable[[ConsumerRecord[Any, Any], str, Exception], None]


async def restore(
    bootstrap_servers: str, changelog: str, stores: Mapping[int, Store], unreadable: Unreadable
) -> int:
    """Read partition p of ``changelog`` into ``stores[p]``, from the beginning to the end it
    has now, for every p in ``stores``; how many records were read."""
    read = 0
    reader = consumer(bootstrap_servers, group_id=None)
    await reader.start()
    try:
        tps = [TopicPartition(changelog, p) for p in stores]
        reader.assign(tps)
        await reader.seek_to_beginning(*tps)
        ends: dict[TopicPartition, int] = await reader.end_offsets(tps)
        pending = {tp for tp in tps if ends[tp] > 0}
        while pending:
            batches = await reader.getmany(*pending, timeout_ms=500)
            for tp, records in batches.items():
                store = stores[tp.partition]
                for record in records:
                    key = record.key.decode(errors="replace") if record.key else ""
                    try:
                        store.restore(key, record.value)
                    except UNREADABLE as exc:
                        # One unreadable record must not stop every key of the partition: the
                        # key's next input starts from what was read before it.
                        unreadable(record, key, exc)
                read += len(records)
            for tp in list(pending):
                if await reader.position(tp) >= ends[tp]:
                    pending.discard(tp)
    finally:
        await reader.stop()
    return read
