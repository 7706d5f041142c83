"""The billing worker's own metrics: the CDRs it writes (no I/O).

Counted from the events the core returns (runtime/metrics.py ``Counted``); the worker's
records and batch times are the runtime's (``chargebus_billing_records_total``, ...).
"""

from collections.abc import Mapping, Sequence
from functools import cache

from prometheus_client import Counter

from contracts.events import DomainEvent, EventType

_CDR_ISSUED = EventType.CDR_ISSUED.value


class BillingMetrics:
    """Counters of what the worker writes to billing.cdrs.v1."""

    def __init__(self) -> None:
        cdrs = Counter(
            "chargebus_billing_cdrs_total",
            "CDRs written to billing.cdrs.v1 by kind: cdr, or credit (cancels an earlier one)",
            ["kind"],
        )
        self.cdrs, self.credits = cdrs.labels("cdr"), cdrs.labels("credit")

    def count(self, events: Sequence[DomainEvent]) -> None:
        for event in events:
            if event.event_type == _CDR_ISSUED:
                cdr = event.payload.get("cdr")
                credit = isinstance(cdr, Mapping) and cdr.get("credit") is True
                (self.credits if credit else self.cdrs).inc()


@cache
def metrics() -> BillingMetrics:
    """The billing worker's metrics, registered once per process."""
    return BillingMetrics()
