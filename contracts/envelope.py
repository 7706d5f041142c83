"""Envelope: metadata plus one payload, the same shape on every topic (pure)."""

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


def _now() -> datetime:
    return datetime.now(UTC)


# An event id is 128 random bits as 32 hex digits (docs/events.md). os.urandom is read 4 KiB at
# a time: uuid.uuid4().hex took 1.7 µs an id, a system call and a UUID each (measured), this
# 0.16 µs; the bits are as random. A forked child drops what its parent had read, or both
# would hand out the same ids.
_ID_BYTES = 4096
_ids: Iterator[str] = iter(())


def _read_ids() -> Iterator[str]:
    digits = os.urandom(_ID_BYTES).hex()
    return iter([digits[i : i + 32] for i in range(0, len(digits), 32)])


def _forget_ids() -> None:
    global _ids
    _ids = iter(())


os.register_at_fork(after_in_child=_forget_ids)


def _new_id() -> str:
    """32 random hex digits."""
    global _ids
    for new in _ids:
        return new
    _ids = _read_ids()
    return next(_ids)


@dataclass(frozen=True, slots=True, kw_only=True)
class Envelope:
    """One record value. OCPP payloads travel as the station sent them (camelCase)."""

    event_type: str  # "SessionStarted": selects the payload schema (docs/events.md)
    schema_version: int
    key: str  # the Kafka key, usually a station_id
    payload: Mapping[str, Any]
    occurred_at: datetime = field(default_factory=_now)
    event_id: str = field(default_factory=_new_id)
    causation_id: str | None = None  # event_id of the message that caused this one

    def caused(
        self, event_type: str, payload: Mapping[str, Any], *, key: str | None = None
    ) -> "Envelope":
        """A new envelope (schema version 1) whose causation is this one."""
        return Envelope(
            event_type=event_type,
            schema_version=1,
            key=self.key if key is None else key,
            payload=payload,
            causation_id=self.event_id,
        )
