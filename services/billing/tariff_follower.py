"""billing.tariffs.v1 followed into a TariffBook, for the billing worker and its API (I/O)."""

from contracts.envelope import Envelope
from contracts.topics import Topic
from runtime.follower import Follower
from runtime.kafka import DEFAULT_CONNECT_TIMEOUT_S
from services.billing.core.book import TariffBook


class TariffFollower(Follower):
    """billing.tariffs.v1 followed into a TariffBook, read by every partition."""

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
            [Topic.TARIFFS],
            self._apply,
            connect_timeout_s=connect_timeout_s,
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
