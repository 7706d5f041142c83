"""Kafka record header names shared by the gateway and the services (pure)."""

from enum import StrEnum


class Header(StrEnum):
    """Header keys; values are UTF-8 (numbers in decimal)."""

    REPLY_PARTITION = "reply-partition"  # gateway inbox partition that awaits the answer
    CORRELATION_ID = "correlation-id"  # ties an answer to the CALL or command it answers
    SOURCE_TOPIC = "source-topic"  # dead letters: where the record came from
    SOURCE_PARTITION = "source-partition"
    SOURCE_OFFSET = "source-offset"
    ERROR = "error"  # dead letters: why it could not be decoded
