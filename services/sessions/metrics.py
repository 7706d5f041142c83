"""The sessions worker's own metrics: sessions started and ended, their energy (no I/O).

Counted from the events the core returns (runtime/metrics.py ``Counted``); the worker's
records and batch times are the runtime's (``chargebus_sessions_records_total``, ...).
"""

from collections.abc import Sequence
from functools import cache

from prometheus_client import Counter

from contracts.events import DomainEvent, EventType

JOULES_PER_WH = 3600.0
_STARTED, _ENDED = EventType.SESSION_STARTED.value, EventType.SESSION_ENDED.value


class SessionMetrics:
    """Counters of the sessions the worker writes to sessions.v1."""

    def __init__(self) -> None:
        self.started = Counter("chargebus_sessions_started_total", "SessionStarted events written")
        self.ended = Counter(
            "chargebus_sessions_ended_total", "SessionEnded events written (not corrections)"
        )
        self.energy = Counter(
            "chargebus_sessions_energy_joules_total",
            "Energy of the sessions ended, as measured at their end (1 Wh = 3600 J)",
        )

    def count(self, events: Sequence[DomainEvent]) -> None:
        for event in events:
            if event.event_type == _STARTED:
                self.started.inc()
            elif event.event_type == _ENDED:
                self.ended.inc()
                energy_wh = event.payload.get("energy_wh")
                if isinstance(energy_wh, int | float) and energy_wh > 0:
                    self.energy.inc(energy_wh * JOULES_PER_WH)


@cache
def metrics() -> SessionMetrics:
    """The sessions worker's metrics, registered once per process."""
    return SessionMetrics()
