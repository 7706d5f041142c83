"""Topic declarations: every design topic once, with consistent keys, partitions and policies."""

from contracts.topics import MAX_GATEWAYS, SPECS, STATION_PARTITIONS, Topic
from runtime.settings import DEFAULT_BOOTSTRAP_SERVERS, bootstrap_servers

DESIGN_TOPICS = {
    "ocpp.inbound.v1",
    "ocpp.gateway-inbox.v1",
    "ocpp.presence.v1",
    "stations.v1",
    "sessions.v1",
    "commands.v1",
    "command-results.v1",
    "billing.tariffs.v1",
    "billing.cdrs.v1",
    "loadbalance.sites.v1",
    "grid.capacity.v1",
    "loadbalance.limits.v1",
    "ocpp.credentials.v1",
}


def test_every_design_topic_is_declared_once() -> None:
    assert {str(t) for t in Topic} >= DESIGN_TOPICS
    assert set(SPECS) == set(Topic)


def test_station_keyed_log_topics_are_co_partitioned() -> None:
    station_keyed = [s for s in SPECS.values() if s.key == "station_id"]
    assert {s.partitions for s in station_keyed if s.topic is not Topic.GATEWAY_INBOX} == {
        STATION_PARTITIONS
    } | {SPECS[Topic.CREDENTIALS].partitions}
    assert SPECS[Topic.GATEWAY_INBOX].partitions == MAX_GATEWAYS


def test_compacted_topics_have_tombstone_retention() -> None:
    compacted = {t for t, s in SPECS.items() if s.cleanup_policy == "compact"}
    assert compacted == {
        Topic.PRESENCE,
        Topic.CREDENTIALS,
        Topic.TARIFFS,
        Topic.SITES,
        Topic.TOKENS,
        Topic.SESSIONS_STATE,
        Topic.BILLING_STATE,
        Topic.API_KEYS,
        Topic.STATIONS_LATEST,
        Topic.SESSIONS_OPEN,
        Topic.LOADBALANCE_STATE,
        Topic.ALERTS_OPEN,
        Topic.ALERTS_STATE,
    }
    for topic in sorted(compacted):
        configs = SPECS[topic].configs()
        assert configs["cleanup.policy"] == "compact"
        assert "delete.retention.ms" in configs
    assert "delete.retention.ms" not in SPECS[Topic.SESSIONS].configs()


def test_bootstrap_servers_from_the_environment() -> None:
    assert bootstrap_servers({}) == DEFAULT_BOOTSTRAP_SERVERS == "127.0.0.1:9092"
    assert bootstrap_servers({"KAFKA_BOOTSTRAP_SERVERS": " 127.0.0.1:19092 "}) == "127.0.0.1:19092"
    assert bootstrap_servers({"KAFKA_BOOTSTRAP_SERVERS": ""}) == DEFAULT_BOOTSTRAP_SERVERS
