"""Many records written at once: each partition's records in one batch built by hand (I/O)."""

import asyncio
from collections.abc import Iterable
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaTimeoutError, MessageSizeTooLargeError
from aiokafka.producer.message_accumulator import BatchBuilder
from aiokafka.record.default_records import DefaultRecordBatchBuilder

from runtime.batch import Write
from runtime.kafka import MAX_REQUEST_SIZE, KeyPartitioner


class BatchSender:
    """Writes a stateful worker's records of one phase through ``producer``: the records of
    each partition go into batches built by hand (aiokafka's ``create_batch``/``send_batch``),
    in the order given, instead of one ``send()`` and one future a record.

    Each key's records land in the partition ``send()`` would choose (``KeyPartitioner``,
    Java's) and in the order given; a record without key or partition goes through ``send()``
    at once (a random partition). At the worker's batch sizes this costs 0.67x the Kafka
    client's CPU a record for 50 records over 8 partitions and the same for 10
    (docs/benchmarks.md, issue 14).

    Where a partition already has a batch queued and not yet taken by the producer's sender
    (one request per broker is in flight at a time), its next batch waits for that one to go,
    for as long as it takes, as the idempotent producer retries a stalled request for as long
    as it takes; ``send()`` would add to the queued batch instead."""

    def __init__(self, producer: AIOKafkaProducer, max_request_size: int = MAX_REQUEST_SIZE):
        self.producer = producer
        self.max_request_size = max_request_size  # the producer's: what send() refuses above
        self._partitioner = KeyPartitioner()

    async def send(self, writes: Iterable[Write]) -> list["asyncio.Future[Any]"]:
        """Queue ``writes``; the futures that are done once all of them are acknowledged.

        Raises:
            MessageSizeTooLargeError: a record is larger than a request may be (nothing of
                this call's batches was queued; its records without key or partition were).
            KafkaError: as ``AIOKafkaProducer.send`` (the producer is closed or has failed,
                the topic is unknown); the futures raise what the broker refused.
        """
        acks: list[asyncio.Future[Any]] = []
        batches: dict[tuple[str, int], BatchBuilder] = {}
        partitions: dict[str, list[int]] = {}  # each topic's, in order, read once a call
        for w in writes:
            partition = w.partition
            headers: list[tuple[str, bytes | None]] = list(w.headers)
            if partition is None and w.key is None:  # a random partition, the producer's choice
                acks.append(await self.producer.send(w.topic, w.value, headers=headers))
                continue
            size = DefaultRecordBatchBuilder.estimate_size_in_bytes(w.key, w.value, headers)
            if size > self.max_request_size:  # as send() checks, before anything is queued
                raise MessageSizeTooLargeError(
                    f"a record of {size} bytes for {w.topic} is larger than a request may be"
                )
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
            appended = batch.append(key=w.key, value=w.value, timestamp=None, headers=headers)
            if appended is not None:
                continue
            # Full (max_batch_size): send it and go on in a new one (its first record always fits).
            acks.append(await self._queue(batch, w.topic, partition))
            batch = batches[w.topic, partition] = self.producer.create_batch()
            batch.append(key=w.key, value=w.value, timestamp=None, headers=headers)
        for (topic, partition), batch in batches.items():
            acks.append(await self._queue(batch, topic, partition))
        return acks

    async def _queue(
        self, batch: BatchBuilder, topic: str, partition: int
    ) -> "asyncio.Future[Any]":
        while True:
            try:
                queued: asyncio.Future[Any] = await self.producer.send_batch(
                    batch, topic, partition=partition
                )
                return queued
            except KafkaTimeoutError:
                # The partition's queued batch was not taken within the request timeout: the
                # broker is slow or away, and the producer retries until it answers. Wait on.
                continue
