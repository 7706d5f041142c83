"""The billing worker: its pure core (core/partition.py) in the runtime's stateful worker (I/O).

Input sessions.v1 (key station_id), state in billing.state.v1, tariffs and their assignments
from billing.tariffs.v1 followed into memory by every worker, CDRs to billing.cdrs.v1.
"""

from contracts.envelope import Envelope
from contracts.topics import Topic
from runtime.follower import Follower
from runtime.worker import Service
from services.billing.core.book import TariffBook
from services.billing.core.cdr import Party
from services.billing.core.partition import Partition

NAME = "billing"
SOURCES = (Topic.SESSIONS,)


class TariffFollower(Follower):
    """billing.tariffs.v1 followed into a TariffBook, read by every partition."""

    def __init__(self, bootstrap_servers: str, book: TariffBook | None = None) -> None:
        self.book = book or TariffBook()
        super().__init__(
            bootstrap_servers,
            [Topic.TARIFFS],
            self._apply,
            poll_timeout_ms=500,
            on_rejected=self._rejected,
            describe=lambda: (
                f"{Topic.TARIFFS}: {len(self.book.tariffs)} tariffs, "
                f"{len(self.book.assignments)} assignments"
            ),
        )

    def _apply(self, _: str, key: str, envelope: Envelope | None) -> None:
        self.book.apply(key, envelope)  # raises RecordRejected

    def _rejected(self, _: str, key: str | None) -> None:
        if key is not None:  # what we cannot read does not apply
            self.book.tariffs.pop(key.removeprefix("tariff:"), None)
            self.book.assignments.pop(key, None)


def service(bootstrap_servers: str, *, party: Party, time_zone: str, currency: str) -> Service:
    """The billing service as the runtime's worker runs it."""
    tariffs = TariffFollower(bootstrap_servers)
    return Service(
        name=NAME,
        sources=SOURCES,
        changelog=Topic.BILLING_STATE,
        new_store=lambda p: Partition(
            p, book=tariffs.book, party=party, time_zone=time_zone, currency=currency
        ),
        followers=[tariffs],
    )
