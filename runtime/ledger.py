"""The durable command ledger (commands.ledger.v1): write a mark, read what the log decided (I/O).

``DurableLedger.record(mark)`` writes one CommandLogged (acks=all), waits until this process's
follower has read it back, and returns the command's entry as the log decided it (the first
``sent`` and the first ``final`` win: contracts/payloads/ledger.py). The caller then compares
the winning mark's writer with itself. ``MemoryLedger`` does the same in memory, for a gateway
run in process without Kafka.
"""

from collections.abc import Awaitable, Callable
from typing import Protocol

from aiokafka.structs import RecordMetadata

from contracts import codec
from contracts.envelope import Envelope
from contracts.payloads.ledger import LedgerEntry, LedgerRecord, LedgerView
from contracts.topics import Topic
from runtime.follower import Follower
from runtime.kafka import DEFAULT_CONNECT_TIMEOUT_S, PublishFailed

READ_BACK_S = 10.0  # a mark not read back by then: treated as not decided (PublishFailed)

Send = Callable[[str, bytes, bytes], Awaitable[RecordMetadata]]  # topic, key, value


class Ledger(Protocol):
    """Marks written and decided; ``view`` holds every entry read so far."""

    view: LedgerView

    async def record(self, mark: LedgerRecord) -> LedgerEntry:
        """Write ``mark`` and return the command's entry once the log decided it.

        Raises:
            PublishFailed: the mark was not acknowledged or not read back in time.
        """
        ...


class MemoryLedger:
    """A ledger that only this process reads: the log is the order of ``record`` calls."""

    def __init__(self) -> None:
        self.view = LedgerView()

    async def record(self, mark: LedgerRecord) -> LedgerEntry:
        self.view.apply(mark.envelope())
        entry = self.view.get(mark.command_id)
        assert entry is not None
        return entry


class DurableLedger(Follower):
    """commands.ledger.v1 followed from the beginning into a LedgerView, and marks written."""

    def __init__(
        self,
        bootstrap_servers: str,
        send: Send,
        *,
        connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S,
    ) -> None:
        self.view = LedgerView()
        super().__init__(
            bootstrap_servers,
            [Topic.COMMAND_LEDGER],
            self._apply,
            connect_timeout_s=connect_timeout_s,
            poll_timeout_ms=100,
            describe=lambda: f"{Topic.COMMAND_LEDGER}: {len(self.view)} commands",
        )
        self._send = send

    def _apply(self, _: str, command_id: str, envelope: Envelope | None) -> None:
        if envelope is None:
            self.view.remove(command_id)
        else:
            self.view.apply(envelope)

    async def record(self, mark: LedgerRecord) -> LedgerEntry:
        envelope = mark.envelope()
        metadata = await self._send(
            Topic.COMMAND_LEDGER, mark.command_id.encode(), codec.encode(envelope)
        )
        read = await self.wait_applied(
            Topic.COMMAND_LEDGER, metadata.partition, metadata.offset, READ_BACK_S
        )
        entry = self.view.get(mark.command_id)
        if not read or entry is None:
            raise PublishFailed(
                f"{Topic.COMMAND_LEDGER}: {mark.mark} of {mark.command_id} not read back"
            )
        return entry
