"""Tariffs, sites and token groups followed into a TariffBook, for the billing worker and API (I/O).

billing.tariffs.v1 (tariffs and assignments), loadbalance.sites.v1 (which site a station is
in) and sessions.tokens.v1 (which group an id token is in).
"""

from contracts.envelope import Envelope
from contracts.topics import Topic
from runtime.follower import Follower
from runtime.kafka import DEFAULT_CONNECT_TIMEOUT_S
from services.billing.core.book import TariffBook


class TariffFollower(Follower):
    """The topics a tariff choice needs, followed into a TariffBook read by every partition."""

    def __init__(
        self,
        bootstrap_servers: str,
        book: TariffBook | None = None,
        *,
        connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S,
    ) -> None:
        self.book = book or TariffBook()
        super().__init__(
            bootstrap_servers,
            [Topic.TARIFFS, Topic.SITES, Topic.TOKENS],
            self._apply,
            connect_timeout_s=connect_timeout_s,
            poll_timeout_ms=500,
            on_rejected=self._rejected,
            describe=lambda: (
                f"{Topic.TARIFFS}: {len(self.book.tariffs)} tariffs, "
                f"{len(self.book.assignments)} assignments; {len(self.book.sites)} sites; "
                f"{len(self.book.groups)} tokens in groups"
            ),
        )

    def _apply(self, topic: str, key: str, envelope: Envelope | None) -> None:
        self.book.apply_record(topic, key, envelope)  # raises RecordRejected

    def _rejected(self, topic: str, key: str | None) -> None:
        if key is not None:  # what we cannot read does not apply
            self.book.forget(topic, key)
