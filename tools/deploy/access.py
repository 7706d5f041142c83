"""Which topics each component reads and writes, and its consumer groups: its KafkaUser's ACLs.

Read off the code (the runtime's worker writes changelogs and dead letters for every service,
followers read without a group, the ledger reads and writes commands.ledger.v1); the ACL test
(tests/e2e/test_kafka_acls.py) runs the components against a broker that enforces it.
"""

from dataclasses import dataclass
from typing import Literal

from contracts.topics import Topic

Pattern = Literal["literal", "prefix"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Access:
    reads: frozenset[str]
    writes: frozenset[str]
    groups: tuple[tuple[str, Pattern], ...] = ()  # consumer groups that commit offsets


def _topics(*topics: Topic) -> frozenset[str]:
    return frozenset(str(t) for t in topics)


ACCESS: dict[str, Access] = {
    "gateway": Access(
        # Credentials only with security profiles 1 and 2; the presence follower and the ledger
        # use no group; the inbox partition is assigned by hand, its offset kept in a group.
        reads=_topics(Topic.GATEWAY_INBOX, Topic.PRESENCE, Topic.COMMAND_LEDGER, Topic.CREDENTIALS),
        writes=_topics(
            Topic.OCPP_INBOUND,
            Topic.PRESENCE,
            Topic.COMMAND_LEDGER,
            Topic.COMMAND_RESULTS,
            Topic.DEAD_LETTERS,
        ),
        groups=(("chargebus-gateway-", "prefix"),),  # chargebus-gateway-<instance>
    ),
    "sessions": Access(
        reads=_topics(
            Topic.OCPP_INBOUND,
            Topic.PRESENCE,
            Topic.BILLING_COSTS,
            Topic.TOKENS,
            Topic.SESSIONS_STATE,
        ),
        writes=_topics(
            Topic.STATIONS,
            Topic.SESSIONS,
            Topic.STATIONS_LATEST,
            Topic.SESSIONS_OPEN,
            Topic.GATEWAY_INBOX,
            Topic.SESSIONS_STATE,
            Topic.DEAD_LETTERS,
        ),
        groups=(("chargebus-sessions", "literal"),),  # not a prefix: chargebus-sessions-api
    ),
    "sessions-api": Access(
        reads=_topics(
            Topic.API_KEYS,
            Topic.COMMAND_LEDGER,
            Topic.COMMAND_RESULTS,
            Topic.SESSIONS,
            Topic.ALERTS,
            Topic.SESSIONS_OPEN,
            Topic.PRESENCE,
            Topic.STATIONS_LATEST,
            Topic.TOKENS,
            Topic.ALERTS_OPEN,
            Topic.COMMANDS,
        ),
        writes=_topics(
            Topic.TOKENS,
            Topic.GATEWAY_INBOX,
            Topic.COMMAND_RESULTS,
            Topic.COMMAND_LEDGER,
            Topic.DEAD_LETTERS,
        ),
        groups=(("chargebus-sessions-api", "literal"),),
    ),
    "billing": Access(
        reads=_topics(
            Topic.SESSIONS,
            Topic.STATIONS,
            Topic.COMMAND_RESULTS,
            Topic.TARIFFS,
            Topic.SITES,
            Topic.TOKENS,
            Topic.BILLING_STATE,
        ),
        writes=_topics(
            Topic.CDRS, Topic.BILLING_COSTS, Topic.COMMANDS, Topic.BILLING_STATE, Topic.DEAD_LETTERS
        ),
        groups=(("chargebus-billing", "literal"),),
    ),
    "billing-api": Access(
        reads=_topics(Topic.API_KEYS, Topic.TARIFFS, Topic.SITES, Topic.TOKENS, Topic.CDRS),
        writes=_topics(Topic.TARIFFS),
    ),
    "loadbalance": Access(
        # The balancer and its router (group <group>-loadbalance_router) in one process.
        reads=_topics(
            Topic.SITE_INPUTS,
            Topic.SITES,
            Topic.GRID_CAPACITY,
            Topic.SESSIONS,
            Topic.STATIONS,
            Topic.COMMAND_RESULTS,
            Topic.TOKENS,
            Topic.LOADBALANCE_STATE,
        ),
        writes=_topics(
            Topic.SITE_INPUTS,
            Topic.LIMITS,
            Topic.COMMANDS,
            Topic.LOADBALANCE_STATE,
            Topic.DEAD_LETTERS,
        ),
        groups=(("chargebus-loadbalance", "prefix"),),
    ),
    "loadbalance-api": Access(
        reads=_topics(Topic.API_KEYS, Topic.SITES, Topic.LIMITS),
        writes=_topics(Topic.SITES, Topic.GRID_CAPACITY, Topic.SITE_INPUTS),
    ),
    "alerts": Access(
        reads=_topics(Topic.STATIONS, Topic.PRESENCE, Topic.ALERTS_STATE),
        writes=_topics(Topic.ALERTS, Topic.ALERTS_OPEN, Topic.ALERTS_STATE, Topic.DEAD_LETTERS),
        groups=(("chargebus-alerts", "literal"),),
    ),
    "certificates": Access(
        reads=_topics(Topic.STATIONS, Topic.PRESENCE),
        writes=_topics(Topic.COMMANDS, Topic.DEAD_LETTERS),
        groups=(("chargebus-certificates", "literal"),),
    ),
}
