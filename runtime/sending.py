"""Many records written at once: each partition's records in one batch built by hand (I/O)."""

import asyncio
from collections.abc import Iterable
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.producer.message_accumulator import BatchBuilder

from runtime.batch import Write
from runtime.kafka import KeyPartitioner


class BatchSender:
    """Writes a stateful worker's records of one phase through ``producer``: the records of
    each partition go into batches built by hand (aiokafka's ``create_batch``/``send_batch``),
    in the order given, instead of one ``send()`` and one future a record.

    The same records land in the same partitions in the same order; a keyed record without a
    partition goes where the producer's partitioner (``KeyPartitioner``, Java's) puts it. At the
    worker's batch sizes this costs 0.67x the Kafka client's CPU a record for 50 records over
    8 partitions and the same for 10 (docs/benchmarks.md, issue 14)."""

    def __init__(self, producer: AIOKafkaProducer) -> None:
        self.producer = producer
        self._partitioner = KeyPartitioner()

    async def send(self, writes: Iterable[Write]) -> list["asyncio.Future[Any]"]:
        """Queue ``writes``; the futures that are done once all of them are acknowledged.

        Raises:
            KafkaError: as ``AIOKafkaProducer.send`` (the producer is closed or has failed, or
                a batch found no room within the request timeout); the futures raise what the
                broker refused.
        """
        acks: list[asyncio.Future[Any]] = []
        batches: dict[tuple[str, int], BatchBuilder] = {}
        partitions: dict[str, list[int]] = {}  # each topic's, in order, read once a call
        for w in writes:
            partition = w.partition
            if partition is None and w.key is None:  # a random partition, the producer's choice
                acks.append(await self.producer.send(w.topic, w.value, headers=list(w.headers)))
                continue
            if partition is None:
                known = partitions.get(w.topic)
                if known is None:
                    # In order, as aiokafka hands them to its partitioner (and Java too).
                    known = partitions[w.topic] = sorted(
                        await self.producer.partitions_for(w.topic)
                    )
                partition = self._partitioner(w.key, known, known)
            batch = batches.get((w.topic, partition))
            if batch is None:
                batch = batches[w.topic, partition] = self.producer.create_batch()
            appended = batch.append(
                key=w.key, value=w.value, timestamp=None, headers=list(w.headers)
            )
            if appended is not None:
                continue
            # Full (max_batch_size): send it and go on in a new one (its first record always fits).
            acks.append(await self.producer.send_batch(batch, w.topic, partition=partition))
            batch = batches[w.topic, partition] = self.producer.create_batch()
            batch.append(key=w.key, value=w.value, timestamp=None, headers=list(w.headers))
        for (topic, partition), batch in batches.items():
            acks.append(await self.producer.send_batch(batch, topic, partition=partition))
        return acks
