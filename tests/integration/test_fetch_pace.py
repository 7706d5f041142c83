"""pace_fetches against the real broker: it sets what the next fetches ask, and a fetch for the
first byte answers as soon as a record is there (runtime/kafka.py; the worker's idle pace)."""

import asyncio
import time
from typing import Any

from aiokafka.structs import TopicPartition

from runtime.kafka import consumer, pace_fetches, reliable_producer
from tests.conftest import NewTopicFactory


async def test_paced_fetches_are_few_when_idle_and_answered_at_the_first_record(
    kafka_bootstrap: str, new_topic: NewTopicFactory
) -> None:
    topic = await new_topic(partitions=1)
    tp = TopicPartition(topic, 0)
    reader = consumer(kafka_bootstrap, group_id=None, auto_offset_reset="latest")
    producer = reliable_producer(kafka_bootstrap, linger_ms=0)
    fetches = 0
    try:
        await reader.start()
        await producer.start()
        reader.assign([tp])
        await reader.seek_to_end(tp)
        # Count the fetch requests the consumer sends (aiokafka's client, wrapped).
        client: Any = reader._client
        send = client.send

        async def counted(node_id: int, request: Any, **kwargs: Any) -> Any:
            nonlocal fetches
            fetches += type(request).__name__.startswith("FetchRequest")
            return await send(node_id, request, **kwargs)

        client.send = counted

        async def fetches_in(seconds: float) -> int:
            await asyncio.sleep(0.6)  # the fetch in flight was asked with the pace before
            before = fetches
            assert await reader.getmany(tp, timeout_ms=int(seconds * 1000)) == {}
            return fetches - before

        pace_fetches(reader, min_bytes=64 * 1024 * 1024, max_wait_ms=5)
        busy = await fetches_in(1.0)
        pace_fetches(reader, min_bytes=1, max_wait_ms=500)
        idle = await fetches_in(1.0)
        assert busy >= 40, busy  # every 5 ms: about 200 a second on an idle machine
        assert idle <= 4, idle  # every 500 ms

        # Waiting for the first byte is no waiting: each record arrives long before the wait.
        pace_fetches(reader, min_bytes=1, max_wait_ms=3000)
        await asyncio.sleep(0.2)
        for i in range(3):
            await asyncio.sleep(0.3 * i)
            started = time.monotonic()
            await producer.send_and_wait(topic, b"%d" % i)
            got = await reader.getmany(tp, timeout_ms=5000)
            assert [r.value for r in got[tp]] == [b"%d" % i]
            assert time.monotonic() - started < 1.0
    finally:
        await producer.stop()
        await reader.stop()
