"""The sessions worker: its pure core (core/partition.py) in the runtime's stateful worker (I/O).

Inputs ocpp.inbound.v1, ocpp.presence.v1 and billing.costs.v1 (co-partitioned by station id),
state in sessions.state.v1, tokens from sessions.tokens.v1 followed into memory by every worker.
"""

from contracts.envelope import Envelope
from contracts.payloads.tokens import Token
from contracts.topics import Topic
from runtime.follower import Follower
from runtime.metrics import Counted
from runtime.worker import Service
from services.sessions.core.partition import Partition
from services.sessions.core.policy import Policy
from services.sessions.metrics import metrics

NAME = "sessions"
SOURCES = (Topic.OCPP_INBOUND, Topic.PRESENCE, Topic.BILLING_COSTS)


class TokenStore(Follower):
    """The token store: sessions.tokens.v1 followed into memory, read by every partition."""

    def __init__(self, bootstrap_servers: str) -> None:
        super().__init__(
            bootstrap_servers,
            [Topic.TOKENS],
            self._apply,
            poll_timeout_ms=500,
            on_rejected=self._rejected,
            describe=lambda: f"{Topic.TOKENS}: {len(self.tokens)} tokens",
        )
        self.tokens: dict[str, Token] = {}

    def _apply(self, _: str, key: str, envelope: Envelope | None) -> None:
        if envelope is None:
            self.tokens.pop(key, None)
        else:
            self.tokens[key] = Token.parse(envelope)  # raises RecordRejected

    def _rejected(self, _: str, key: str | None) -> None:
        if key is not None:
            self.tokens.pop(key, None)  # an unreadable token is unknown, hence Invalid


def service(bootstrap_servers: str, policy: Policy) -> Service:
    """The sessions service as the runtime's worker runs it."""
    tokens = TokenStore(bootstrap_servers)
    count = metrics().count
    return Service(
        name=NAME,
        sources=SOURCES,
        changelog=Topic.SESSIONS_STATE,
        new_store=lambda p: Counted(Partition(p, policy=policy, tokens=tokens.tokens), count),
        followers=[tokens],
    )
