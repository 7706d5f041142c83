"""NetworkPolicies: only what must talk does (every component talks to Kafka, nothing else)."""

from typing import Any

from tools.deploy.components import API_CLIENT, KAFKA_CLUSTER, PART_OF, Component, Labels

Manifest = dict[str, Any]

MONITORING_NAMESPACE = "monitoring"  # where Prometheus runs: overlays change it
INGRESS_NAMESPACE = "ingress-nginx"  # where the operators' HTTP ingress runs


def _namespace(name: str) -> Manifest:
    return {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": name}}}


def egress() -> Manifest:
    """Every chargebus pod may reach DNS and the Kafka brokers, nothing else."""
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "chargebus-egress", "labels": {"app.kubernetes.io/part-of": PART_OF}},
        "spec": {
            "podSelector": {"matchLabels": {"app.kubernetes.io/part-of": PART_OF}},
            "policyTypes": ["Egress"],
            "egress": [
                {
                    "to": [_namespace("kube-system")],
                    "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
                },
                {
                    "to": [{"podSelector": {"matchLabels": {"strimzi.io/cluster": KAFKA_CLUSTER}}}],
                    "ports": [{"protocol": "TCP", "port": 9093}],
                },
            ],
        },
    }


def ingress(component: Component) -> Manifest:
    """Who may open a connection to the component: Prometheus to /metrics; the stations to the
    gateway's WebSockets (from anywhere: they come through the load balancer); the ingress
    controller and labelled pods to an API."""
    labels = Labels(component)
    rules: list[Manifest] = [
        {
            "from": [_namespace(MONITORING_NAMESPACE)],
            "ports": [{"protocol": "TCP", "port": component.http_port_name}],
        }
    ]
    if component.role == "gateway":
        rules.append({"ports": [{"protocol": "TCP", "port": "ws"}]})
    if component.role == "api":
        rules.append(
            {
                "from": [
                    _namespace(INGRESS_NAMESPACE),
                    {"podSelector": {"matchLabels": API_CLIENT}},
                ],
                "ports": [{"protocol": "TCP", "port": component.http_port_name}],
            }
        )
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": component.name, "labels": labels.all()},
        "spec": {
            "podSelector": {"matchLabels": labels.selector()},
            "policyTypes": ["Ingress"],
            "ingress": rules,
        },
    }
