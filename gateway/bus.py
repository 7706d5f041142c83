"""What the gateway needs of its bus: a Publisher and InboxRecord (interfaces, no I/O).

Production passes gateway/kafka.py's KafkaBus; tests pass a recording publisher and feed
InboxRecords to ``Gateway.inbox_record`` themselves, with no broker. ``publish_quietly`` is the
one helper: it only awaits the publisher and logs.
"""

import logging
from dataclasses import dataclass
from typing import Protocol

from contracts.envelope import Envelope
from contracts.headers import Headers

log = logging.getLogger("gateway")


class Publisher(Protocol):
    """Writes envelopes to topics (key: ``envelope.key``)."""

    async def publish(
        self,
        topic: str,
        envelope: Envelope,
        *,
        headers: Headers = (),
        partition: int | None = None,
    ) -> None:
        """Write one record and return once it is acknowledged (acks=all).

        Raises:
            PublishFailed (runtime.kafka): if the record was not acknowledged.
        """
        ...


@dataclass(frozen=True, slots=True)
class InboxRecord:
    """A decoded record of this gateway's inbox partition (ocpp.gateway-inbox.v1, partition k)."""

    envelope: Envelope
    headers: dict[str, str]
    offset: int


async def publish_quietly(
    publisher: Publisher, topic: str, envelope: Envelope, *, headers: Headers = ()
) -> None:
    """Publish a fire-and-forget record: a failure is logged, never raised."""
    try:
        await publisher.publish(topic, envelope, headers=headers)
    except Exception:  # a fire-and-forget record: log, never crash the connection
        log.exception("could not publish %s", envelope.event_type, extra={"topic": topic})
