"""Envelope: metadata plus one payload, the same shape on every topic (pure)."""

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


def _now() -> datetime:
    return datetime.now(UTC)


def _new_id() -> str:
    return uuid.uuid4().hex


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
