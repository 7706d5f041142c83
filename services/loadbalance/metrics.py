"""The load balancing worker's own metrics: the allocations it publishes (no I/O).

Counted from the events the core returns (runtime/metrics.py ``Counted``); the worker's
records and batch times are the runtime's (``chargebus_loadbalance_records_total``, ...).
"""

from collections.abc import Sequence
from functools import cache

from prometheus_client import Counter

from contracts.events import DomainEvent, EventType

_ALLOCATED = EventType.LIMITS_ALLOCATED.value


class LoadbalanceMetrics:
    """Counters of what the load balancer writes to loadbalance.limits.v1."""

    def __init__(self) -> None:
        self.allocations = Counter(
            "chargebus_loadbalance_allocations_total",
            "LimitsAllocated written to loadbalance.limits.v1 (one per new site allocation)",
        )

    def count(self, events: Sequence[DomainEvent]) -> None:
        for event in events:
            if event.event_type == _ALLOCATED:
                self.allocations.inc()


@cache
def metrics() -> LoadbalanceMetrics:
    """The load balancing worker's metrics, registered once per process."""
    return LoadbalanceMetrics()
