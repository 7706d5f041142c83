"""The toolbox pod: the `chargebus` CLI as the Kafka super user, scaled to 0 until needed."""

from tools.deploy.components import API_CLIENT, IMAGE
from tools.deploy.workloads import (
    KAFKA_MOUNTS,
    NON_ROOT,
    RESTRICTED,
    Manifest,
    kafka_env,
    kafka_volumes,
)

TOOLBOX = "chargebus-admin"  # the Deployment, its pod's Kafka user (a super user), its label


def toolbox() -> list[Manifest]:
    """A pod for people, scaled to 0 until needed: the `chargebus` CLI as the Kafka super user
    (API keys, credentials import, tail, provision) and a client of the APIs.
    `kubectl scale deploy/chargebus-admin --replicas=1`, then `kubectl exec` (docs/deploy.md)."""
    labels = {
        "app.kubernetes.io/name": TOOLBOX,
        "app.kubernetes.io/component": "toolbox",
        "app.kubernetes.io/part-of": "chargebus",
    }
    selector = {"app.kubernetes.io/name": TOOLBOX}
    env = [
        *kafka_env(TOOLBOX),
        {"name": "CHARGEBUS_API", "value": "http://sessions-api:8080"},
        {"name": "CHARGEBUS_BILLING_API", "value": "http://billing-api:8082"},
        {"name": "CHARGEBUS_LOADBALANCE_API", "value": "http://loadbalance-api:8083"},
    ]
    deployment: Manifest = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": TOOLBOX, "labels": labels},
        "spec": {
            "replicas": 0,
            "selector": {"matchLabels": selector},
            "template": {
                "metadata": {"labels": labels | API_CLIENT},
                "spec": {
                    "automountServiceAccountToken": False,
                    "enableServiceLinks": False,
                    "securityContext": NON_ROOT,
                    "containers": [
                        {
                            "name": "admin",
                            "image": IMAGE,
                            "imagePullPolicy": "IfNotPresent",
                            "args": ["sleep", "infinity"],
                            "env": env,
                            "resources": {
                                "requests": {"cpu": "100m", "memory": "256Mi"},
                                "limits": {"memory": "256Mi"},
                            },
                            "securityContext": RESTRICTED,
                            "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}, *KAFKA_MOUNTS],
                        }
                    ],
                    "volumes": [
                        {"name": "tmp", "emptyDir": {"sizeLimit": "256Mi"}},
                        *kafka_volumes(TOOLBOX),
                    ],
                },
            },
        },
    }
    apis = {"matchLabels": {"app.kubernetes.io/component": "api"}}
    talks_to_apis: Manifest = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": TOOLBOX, "labels": labels},
        "spec": {
            "podSelector": {"matchLabels": selector},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [],  # nothing connects to it
            "egress": [
                {"to": [{"podSelector": apis}], "ports": [{"protocol": "TCP", "port": "http"}]}
            ],
        },
    }
    return [deployment, talks_to_apis]
