"""Every Kafka topic, declared once: name, key, partitions, cleanup and retention (pure)."""

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

DAY_MS = 24 * 60 * 60 * 1000


class Topic(StrEnum):
    """Topic names. `.v1` is the schema major version: a breaking change means a new topic."""

    OCPP_INBOUND = "ocpp.inbound.v1"  # key station_id: every station CALL and answer to a command
    GATEWAY_INBOX = "ocpp.gateway-inbox.v1"  # key station_id: partition k = gateway k
    PRESENCE = "ocpp.presence.v1"  # key station_id: which gateway holds the station
    CREDENTIALS = "ocpp.credentials.v1"  # key station_id: password hashes, never secrets
    STATIONS = "stations.v1"  # key station_id: booted, status changed, online/offline
    SESSIONS = "sessions.v1"  # key station_id: started, updated, ended
    STATIONS_LATEST = "stations.latest.v1"  # key station_id/<fact>: the newest of each fact
    SESSIONS_OPEN = "sessions.open.v1"  # key session_id: each open session as it stands
    TOKENS = "sessions.tokens.v1"  # key id_token: the token store (authorization)
    SESSIONS_STATE = "sessions.state.v1"  # key station_id: the sessions service's changelog
    COMMANDS = "commands.v1"  # key station_id: operator commands from other teams
    COMMAND_RESULTS = "command-results.v1"  # key station_id: one outcome per command
    COMMAND_LEDGER = "commands.ledger.v1"  # key command_id: sent and final marks
    TARIFFS = "billing.tariffs.v1"  # key tariff:<id> or assignment:<scope>[:<target>]
    CDRS = "billing.cdrs.v1"  # key station_id: one CDR per ended session (and credits)
    BILLING_STATE = "billing.state.v1"  # key session_id: the billing service's changelog
    BILLING_COSTS = "billing.costs.v1"  # key station_id: running and final cost per session
    SITES = "loadbalance.sites.v1"  # key site_id
    GRID_CAPACITY = "grid.capacity.v1"  # key site_id
    LIMITS = "loadbalance.limits.v1"  # key site_id
    SITE_INPUTS = "loadbalance.inputs.v1"  # key site_id: its stations' events, re-keyed
    LOADBALANCE_STATE = "loadbalance.state.v1"  # key site_id: the load balancer's changelog
    ALERTS = "alerts.v1"  # key station_id: alerts raised and resolved
    ALERTS_OPEN = "alerts.open.v1"  # key alert_id: each open alert; a tombstone when resolved
    ALERTS_STATE = "alerts.state.v1"  # key station_id: the alerts service's changelog
    DEAD_LETTERS = "deadletter.v1"  # key: the key of the undecodable record
    API_KEYS = "api.keys.v1"  # key: the API key's name; SHA-256 hashes of operator API keys


CleanupPolicy = Literal["delete", "compact", "compact,delete"]


@dataclass(frozen=True, slots=True, kw_only=True)
class TopicSpec:
    """How a topic is keyed and stored; `provision` creates it from this."""

    topic: str  # a Topic member; plain str only for test topics
    key: str  # what the record key holds
    partitions: int
    cleanup_policy: CleanupPolicy
    retention_ms: int  # -1: forever (compacted topics keep the latest value per key)
    description: str

    def configs(self) -> dict[str, str]:
        """The topic-level broker configuration for this topic."""
        configs = {"cleanup.policy": self.cleanup_policy, "retention.ms": str(self.retention_ms)}
        if "compact" in self.cleanup_policy:
            # A tombstone stays readable for a day so slow consumers still see the delete.
            configs["delete.retention.ms"] = str(DAY_MS)
            configs["min.cleanable.dirty.ratio"] = "0.1"
        return configs


# Station-keyed topics share one partition count so that services can co-partition them.
STATION_PARTITIONS = 8
# Site-keyed topics share one: the load balancer co-partitions them.
SITE_PARTITIONS = 4
# One partition per gateway pod (StatefulSet ordinal): the most gateways that can run at once.
MAX_GATEWAYS = 16

_SPECS = (
    TopicSpec(
        topic=Topic.OCPP_INBOUND,
        key="station_id",
        partitions=STATION_PARTITIONS,
        cleanup_policy="delete",
        retention_ms=7 * DAY_MS,
        description="Every CALL a station sends, and every answer a station gives to a command.",
    ),
    TopicSpec(
        topic=Topic.GATEWAY_INBOX,
        key="station_id",
        partitions=MAX_GATEWAYS,
        cleanup_policy="delete",
        retention_ms=1 * DAY_MS,
        description="Replies to station CALLs and commands to stations; gateway k reads part. k.",
    ),
    TopicSpec(
        topic=Topic.PRESENCE,
        key="station_id",
        partitions=STATION_PARTITIONS,
        cleanup_policy="compact",
        retention_ms=-1,
        description="Which gateway holds each station's WebSocket (connected/disconnected).",
    ),
    TopicSpec(
        topic=Topic.CREDENTIALS,
        key="station_id",
        partitions=4,
        cleanup_policy="compact",
        retention_ms=-1,
        description="Hashed station passwords (HTTP Basic, security profiles 1 and 2).",
    ),
    TopicSpec(
        topic=Topic.STATIONS,
        key="station_id",
        partitions=STATION_PARTITIONS,
        # Not compacted: a status change would displace the station's StationBooted.
        cleanup_policy="delete",
        retention_ms=30 * DAY_MS,
        description="Version-neutral station facts: booted, status changed, online/offline.",
    ),
    TopicSpec(
        topic=Topic.SESSIONS,
        key="station_id",
        partitions=STATION_PARTITIONS,
        cleanup_policy="delete",
        retention_ms=30 * DAY_MS,
        description="Version-neutral charging sessions: started, updated (meter values), ended.",
    ),
    TopicSpec(
        topic=Topic.TOKENS,
        key="id_token",
        partitions=4,
        cleanup_policy="compact",
        retention_ms=-1,
        description="Id tokens (RFID cards, app ids) with status, expiry and group.",
    ),
    TopicSpec(
        topic=Topic.SESSIONS_STATE,
        key="station_id",
        partitions=STATION_PARTITIONS,  # partition p holds the state of inbound partition p
        cleanup_policy="compact",
        retention_ms=-1,
        description="Internal: the sessions service's per-station state, restored on assignment.",
    ),
    TopicSpec(
        topic=Topic.COMMANDS,
        key="station_id",
        partitions=STATION_PARTITIONS,
        cleanup_policy="delete",
        retention_ms=1 * DAY_MS,
        description="Operator commands from other teams (remote start, reset, ...).",
    ),
    TopicSpec(
        topic=Topic.COMMAND_RESULTS,
        key="station_id",
        partitions=STATION_PARTITIONS,
        cleanup_policy="delete",
        retention_ms=7 * DAY_MS,
        description="Exactly one outcome for every command sent to a station.",
    ),
    TopicSpec(
        topic=Topic.TARIFFS,
        key="tariff:<tariff_id> | assignment:default | assignment:<scope>:<target>",
        partitions=1,
        cleanup_policy="compact",
        retention_ms=-1,
        description="OCPI 2.2.1 tariffs and which applies where, changed at runtime.",
    ),
    TopicSpec(
        topic=Topic.CDRS,
        key="station_id",
        partitions=STATION_PARTITIONS,
        cleanup_policy="delete",
        retention_ms=90 * DAY_MS,
        description="One OCPI CDR per ended session; a correction: a credit CDR and a new one.",
    ),
    TopicSpec(
        topic=Topic.BILLING_COSTS,
        key="station_id",
        partitions=STATION_PARTITIONS,  # co-partitioned with ocpp.inbound.v1: sessions reads it
        cleanup_policy="delete",
        retention_ms=7 * DAY_MS,
        description="Each session's running and final cost as billing priced it (CostQuoted), "
        "and stations that refuse cost messages (PriceDisplayRefused).",
    ),
    TopicSpec(
        topic=Topic.BILLING_STATE,
        key="session_id",
        partitions=STATION_PARTITIONS,
        cleanup_policy="compact",
        retention_ms=-1,
        description="The billing service's changelog: each session's meter and tariff.",
    ),
    TopicSpec(
        topic=Topic.SITES,
        key="site_id",
        partitions=SITE_PARTITIONS,
        cleanup_policy="compact",
        retention_ms=-1,
        description="Sites with their grid capacity and the stations behind them.",
    ),
    TopicSpec(
        topic=Topic.GRID_CAPACITY,
        key="site_id",
        partitions=SITE_PARTITIONS,
        cleanup_policy="delete",
        retention_ms=7 * DAY_MS,
        description="Dynamic site capacity from the grid operator or an EMS.",
    ),
    TopicSpec(
        topic=Topic.LIMITS,
        key="site_id",
        partitions=SITE_PARTITIONS,
        cleanup_policy="delete",
        retention_ms=7 * DAY_MS,
        description="Per-connector current limits the load balancer allocated.",
    ),
    TopicSpec(
        topic=Topic.SITE_INPUTS,
        key="site_id",
        partitions=SITE_PARTITIONS,  # co-partitioned with loadbalance.sites.v1
        cleanup_policy="delete",
        retention_ms=1 * DAY_MS,
        description="Internal: the session, station and profile outcome events of each site's "
        "stations, re-keyed by site for the load balancer.",
    ),
    TopicSpec(
        topic=Topic.LOADBALANCE_STATE,
        key="site_id",
        partitions=SITE_PARTITIONS,  # partition p holds the state of site partition p
        cleanup_policy="compact",
        retention_ms=-1,
        description="Internal: the load balancer's per-site state, restored on assignment.",
    ),
    TopicSpec(
        topic=Topic.ALERTS,
        key="station_id",
        partitions=STATION_PARTITIONS,
        cleanup_policy="delete",
        retention_ms=30 * DAY_MS,
        description="Alerts raised and resolved: what needs an operator (docs/alerts.md).",
    ),
    TopicSpec(
        topic=Topic.ALERTS_OPEN,
        key="alert_id",
        partitions=STATION_PARTITIONS,
        cleanup_policy="compact",
        retention_ms=-1,
        description="Every open alert as it stands (AlertOpen); a tombstone when resolved.",
    ),
    TopicSpec(
        topic=Topic.ALERTS_STATE,
        key="station_id",
        partitions=STATION_PARTITIONS,
        cleanup_policy="compact",
        retention_ms=-1,
        description="The alerts service's changelog: per station, its open alerts and clocks.",
    ),
    TopicSpec(
        topic=Topic.DEAD_LETTERS,
        key="the key of the original record",
        partitions=1,
        cleanup_policy="delete",
        retention_ms=14 * DAY_MS,
        description="Records no consumer could decode, with their source topic/partition/offset.",
    ),
    TopicSpec(
        topic=Topic.STATIONS_LATEST,
        key="station_id/<fact>: boot, online, connector/<evse>/<connector>, firmware, log, "
        "report/<kind>",
        partitions=STATION_PARTITIONS,
        cleanup_policy="compact",
        retention_ms=-1,
        description="The newest stations.v1 event of each fact of each station: read models "
        "start from it in time that does not grow with history.",
    ),
    TopicSpec(
        topic=Topic.SESSIONS_OPEN,
        key="session_id",
        partitions=STATION_PARTITIONS,
        cleanup_policy="compact",
        retention_ms=-1,
        description="Every open session as it stands (SessionOpen); a tombstone when it ends.",
    ),
    TopicSpec(
        topic=Topic.COMMAND_LEDGER,
        key="command_id",
        partitions=8,
        cleanup_policy="compact,delete",
        retention_ms=7 * DAY_MS,
        description="The durable command ledger: each command's sent and final marks (7 days).",
    ),
    TopicSpec(
        topic=Topic.API_KEYS,
        key="key name",
        partitions=1,
        cleanup_policy="compact",
        retention_ms=-1,
        description="Operator API keys: name, role and SHA-256, never the key; every API reads it.",
    ),
)

SPECS: dict[Topic, TopicSpec] = {Topic(spec.topic): spec for spec in _SPECS}
