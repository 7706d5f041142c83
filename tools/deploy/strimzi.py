"""The Strimzi resources: the Kafka cluster (KRaft, node pools), a KafkaTopic per topic of
contracts/topics.py, and a KafkaUser per component with the ACLs of tools/deploy/access.py."""

from typing import Any

from contracts.topics import SPECS, TopicSpec
from tools.deploy.access import ACCESS, Access
from tools.deploy.components import BY_NAME, KAFKA_CLUSTER, PART_OF

Manifest = dict[str, Any]

STRIMZI_API = "kafka.strimzi.io/v1"  # Strimzi >= 1.0 serves only v1 (0.49-0.51 serve both)
KAFKA_VERSION = "4.3.1"  # Strimzi 1.2.0's default; the local broker (deploy/local) runs 4.1.1
REPLICAS = 3  # every topic's replication factor; acks=all needs min.insync.replicas of them
MIN_INSYNC = 2
ADMIN_USER = "chargebus-admin"  # a super user for people (the toolbox pod), not for processes


def _labels() -> dict[str, str]:
    return {"strimzi.io/cluster": KAFKA_CLUSTER, "app.kubernetes.io/part-of": PART_OF}


def kafka() -> Manifest:
    """The cluster: one internal TLS listener with SCRAM-SHA-512 users, simple ACLs, topics only
    from KafkaTopics, the Kafka Exporter for consumer lag."""
    return {
        "apiVersion": STRIMZI_API,
        "kind": "Kafka",
        "metadata": {"name": KAFKA_CLUSTER, "labels": {"app.kubernetes.io/part-of": PART_OF}},
        "spec": {
            "kafka": {
                "version": KAFKA_VERSION,
                "listeners": [
                    {
                        "name": "tls",
                        "port": 9093,
                        "type": "internal",
                        "tls": True,
                        "authentication": {"type": "scram-sha-512"},
                        # Strimzi writes the listener's NetworkPolicy: chargebus pods only.
                        "networkPolicyPeers": [
                            {"podSelector": {"matchLabels": {"app.kubernetes.io/part-of": PART_OF}}}
                        ],
                    }
                ],
                "authorization": {"type": "simple", "superUsers": [ADMIN_USER]},
                "config": {
                    "auto.create.topics.enable": False,
                    "default.replication.factor": REPLICAS,
                    "min.insync.replicas": MIN_INSYNC,
                    "offsets.topic.replication.factor": REPLICAS,
                    "transaction.state.log.replication.factor": REPLICAS,
                    "transaction.state.log.min.isr": MIN_INSYNC,
                },
            },
            "entityOperator": {"topicOperator": {}, "userOperator": {}},
            "kafkaExporter": {"topicRegex": ".*", "groupRegex": "chargebus-.*"},
        },
    }


def node_pool() -> Manifest:
    """Three nodes that are both controller and broker; prod splits them (overlays/prod)."""
    return {
        "apiVersion": STRIMZI_API,
        "kind": "KafkaNodePool",
        "metadata": {"name": "dual", "labels": _labels()},
        "spec": {
            "replicas": 3,
            "roles": ["controller", "broker"],
            "storage": {
                "type": "jbod",
                "volumes": [
                    {
                        "id": 0,
                        "type": "persistent-claim",
                        "size": "100Gi",
                        "deleteClaim": False,
                        "kraftMetadata": "shared",
                    }
                ],
            },
            "resources": {
                "requests": {"cpu": "2", "memory": "8Gi"},
                "limits": {"memory": "8Gi"},
            },
        },
    }


def topic(spec: TopicSpec) -> Manifest:
    """A topic as contracts/topics.py declares it; `topicName` set so that no rename or prefix
    ever makes a second topic."""
    config: dict[str, Any] = dict(spec.configs())
    config["min.insync.replicas"] = MIN_INSYNC
    return {
        "apiVersion": STRIMZI_API,
        "kind": "KafkaTopic",
        "metadata": {
            "name": str(spec.topic),
            "labels": _labels(),
            "annotations": {"chargebus.io/key": spec.key, "chargebus.io/about": spec.description},
        },
        "spec": {
            "topicName": str(spec.topic),
            "partitions": spec.partitions,
            "replicas": REPLICAS,
            "config": config,
        },
    }


def topics() -> list[Manifest]:
    return [topic(spec) for spec in SPECS.values()]


def _acls(access: Access) -> list[Manifest]:
    acls: list[Manifest] = []
    for name in sorted(access.reads | access.writes):
        operations = ["Describe"]
        if name in access.reads:
            operations.append("Read")
        if name in access.writes:
            operations.append("Write")
        acls.append(
            {
                "resource": {"type": "topic", "name": name, "patternType": "literal"},
                "operations": operations,
            }
        )
    for group, pattern in access.groups:
        acls.append(
            {
                "resource": {"type": "group", "name": group, "patternType": pattern},
                "operations": ["Describe", "Read"],
            }
        )
    return acls


def user(name: str, access: Access) -> Manifest:
    """A component's KafkaUser: SCRAM-SHA-512 (Strimzi writes the password to a Secret of the
    user's name, which the component's pods mount) and exactly the ACLs it needs."""
    component = BY_NAME[name]
    return {
        "apiVersion": STRIMZI_API,
        "kind": "KafkaUser",
        "metadata": {"name": component.kafka_user, "labels": _labels()},
        "spec": {
            "authentication": {"type": "scram-sha-512"},
            "authorization": {"type": "simple", "acls": _acls(access)},
        },
    }


def admin_user() -> Manifest:
    """The people's user: a super user (docs/deploy.md) for `chargebus keys`, `credentials
    import`, `tail`, `python -m runtime provision` and Kafka's own tools. No process runs as it."""
    return {
        "apiVersion": STRIMZI_API,
        "kind": "KafkaUser",
        "metadata": {"name": ADMIN_USER, "labels": _labels()},
        "spec": {"authentication": {"type": "scram-sha-512"}},
    }


def users() -> list[Manifest]:
    return [*(user(name, access) for name, access in ACCESS.items()), admin_user()]
