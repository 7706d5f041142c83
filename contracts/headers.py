"""Kafka record headers: their names, and the headers of a dead letter (pure)."""

from collections.abc import Sequence
from enum import StrEnum

Headers = Sequence[tuple[str, bytes]]  # a record's headers: (name, UTF-8 value) pairs
MAX_ERROR_CHARS = 500  # a dead letter's error header is cut here


class Header(StrEnum):
    """Header keys; values are UTF-8 (numbers in decimal)."""

    REPLY_PARTITION = "reply-partition"  # gateway inbox partition that awaits the answer
    CORRELATION_ID = "correlation-id"  # ties an answer to the CALL or command it answers
    SOURCE_TOPIC = "source-topic"  # dead letters: where the record came from
    SOURCE_PARTITION = "source-partition"
    SOURCE_OFFSET = "source-offset"
    ERROR = "error"  # dead letters: why it could not be decoded
    # W3C Trace Context (contracts/trace.py, docs/tracing.md): ASCII, as in HTTP
    TRACEPARENT = "traceparent"
    TRACESTATE = "tracestate"


def dead_letter_headers(topic: str, partition: int, offset: int, error: str) -> Headers:
    """The headers of a record sent to deadletter.v1: where it came from and why it failed
    (the record's key and value go there unchanged)."""
    return [
        (Header.SOURCE_TOPIC.value, topic.encode()),
        (Header.SOURCE_PARTITION.value, str(partition).encode()),
        (Header.SOURCE_OFFSET.value, str(offset).encode()),
        (Header.ERROR.value, error[:MAX_ERROR_CHARS].encode()),
    ]


def correlation_id(connection_id: str, unique_id: str) -> str:
    """Ties a service's reply to the connection and the CALL it answers."""
    return f"{connection_id}/{unique_id}"


def split_correlation_id(value: str) -> tuple[str, str] | None:
    """(connection_id, unique_id), or None for a value no gateway issued."""
    connection_id, sep, unique_id = value.partition("/")
    return (connection_id, unique_id) if sep and connection_id and unique_id else None


def header_text(headers: Headers | None, name: str) -> str | None:
    """The UTF-8 value of header ``name`` in a record's ``(key, value)`` pairs, if present."""
    for key, value in headers or ():
        if str(key) == name:
            return value.decode("utf-8", "replace")
    return None
