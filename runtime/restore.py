"""A stateful worker's stores read back from their changelog partitions (I/O: aiokafka)."""

from collections.abc import Callable, Mapping
from typing import Any

from aiokafka.structs import ConsumerRecord, TopicPartition

from runtime.batch import UNREADABLE, Store
from runtime.reading import everything, read, reader

# a changelog record its store could not read, and why; it is skipped, never fatal
Unreadable = Callable[[ConsumerRecord[Any, Any], str, Exception], None]


async def restore(
    bootstrap_servers: str, changelog: str, stores: Mapping[int, Store], unreadable: Unreadable
) -> int:
    """Read partition p of ``changelog`` into ``stores[p]``, from the beginning to the end it
    has now, for every p in ``stores``; how many records were read."""
    read_so_far = 0
    async with reader(bootstrap_servers) as kafka:
        starts, ends = await everything(kafka, (TopicPartition(changelog, p) for p in stores))
        async for tp, records in read(kafka, starts, ends):
            store = stores[tp.partition]
            for record in records:
                key = record.key.decode(errors="replace") if record.key else ""
                try:
                    store.restore(key, record.value)
                except UNREADABLE as exc:
                    # One unreadable record must not stop every key of the partition: the
                    # key's next input starts from what was read before it.
                    unreadable(record, key, exc)
            read_so_far += len(records)
    return read_so_far
