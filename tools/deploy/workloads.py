"""A component's Kubernetes objects: its workload, Services, budget, autoscaler, monitor."""

from typing import Any

from tools.deploy.components import (
    GATEWAY_GRACE_S,
    GATEWAY_PRESTOP_S,
    IMAGE,
    KAFKA_BOOTSTRAP,
    KAFKA_CA_SECRET,
    Component,
    Labels,
)

Manifest = dict[str, Any]

KAFKA_USER_DIR = "/etc/chargebus/kafka-user"
KAFKA_CA_DIR = "/etc/chargebus/kafka-ca"
STATION_CA_DIR = "/etc/chargebus/station-ca"
STATION_CA_SECRET = "chargebus-station-ca"  # ca.pem and ca.key of the station CA (you make it)
PROMETHEUS_RELEASE = {"release": "kube-prometheus-stack"}  # the chart's default rule selector
GATEWAY_CONNECTIONS_PER_POD = "8000"  # the HPA's target: 10,000 measured, a storm's headroom
SCRAPED = {"chargebus.io/scrape": "true"}  # the Services whose ports include /metrics


def _meta(name: str, labels: Labels, **annotations: str) -> Manifest:
    meta: Manifest = {"name": name, "labels": labels.all()}
    if annotations:
        meta["annotations"] = dict(annotations)
    return meta


# Every pod: user and group 10001 (the image's), which also owns the mounted Secrets.
NON_ROOT: Manifest = {
    "runAsNonRoot": True,
    "runAsUser": 10001,
    "runAsGroup": 10001,
    "fsGroup": 10001,
    "seccompProfile": {"type": "RuntimeDefault"},
}
# Every container: no privilege, nothing written outside its /tmp volume (Pod Security
# `restricted`, which a test checks).
RESTRICTED: Manifest = {
    "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": True,
    "capabilities": {"drop": ["ALL"]},
}


KAFKA_MOUNTS: list[Manifest] = [
    {"name": "kafka-user", "mountPath": KAFKA_USER_DIR, "readOnly": True},
    {"name": "kafka-ca", "mountPath": KAFKA_CA_DIR, "readOnly": True},
]


def kafka_volumes(user: str) -> list[Manifest]:
    """The Secrets ``KAFKA_MOUNTS`` mount: the KafkaUser ``user``'s password (Strimzi names the
    Secret after the user) and the cluster CA."""
    return [
        {"name": "kafka-user", "secret": {"secretName": user}},
        {"name": "kafka-ca", "secret": {"secretName": KAFKA_CA_SECRET}},
    ]


def kafka_env(user: str) -> list[Manifest]:
    """The Kafka client settings (runtime/settings.py kafka_security): SCRAM-SHA-512 over TLS
    as the KafkaUser ``user``, its password and the cluster CA read from files."""
    return [
        {"name": "KAFKA_BOOTSTRAP_SERVERS", "value": KAFKA_BOOTSTRAP},
        {"name": "KAFKA_SECURITY_PROTOCOL", "value": "SASL_SSL"},
        {"name": "KAFKA_SASL_MECHANISM", "value": "SCRAM-SHA-512"},
        {"name": "KAFKA_SASL_USERNAME", "value": user},
        {"name": "KAFKA_SASL_PASSWORD_FILE", "value": f"{KAFKA_USER_DIR}/password"},
        {"name": "KAFKA_SSL_CA_FILE", "value": f"{KAFKA_CA_DIR}/ca.crt"},
    ]


def _container(component: Component) -> Manifest:
    port_name = component.http_port_name
    ports: list[Manifest] = []
    if component.ws_port is not None:
        ports.append({"name": "ws", "containerPort": component.ws_port, "protocol": "TCP"})
    ports.append({"name": port_name, "containerPort": component.http_port, "protocol": "TCP"})
    env = kafka_env(component.kafka_user)
    if component.role == "gateway":
        # --instance reads the pod name (gateway-3 -> inbox partition 3).
        env.append(
            {"name": "GATEWAY_INSTANCE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}
        )
    env.extend({"name": name, "value": value} for name, value in component.env)
    mounts: list[Manifest] = [
        {"name": "tmp", "mountPath": "/tmp"},
        *KAFKA_MOUNTS,
    ]
    if component.role == "signer":
        mounts.append({"name": "station-ca", "mountPath": STATION_CA_DIR, "readOnly": True})
    container: Manifest = {
        "name": component.name,
        "image": IMAGE,
        "imagePullPolicy": "IfNotPresent",
        "args": [component.script, *component.args],
        "env": env,
        "ports": ports,
        # /healthz answers from the event loop itself: a blocked loop fails it. It never asks
        # Kafka (a broker outage must not restart the fleet); /readyz does (state restored,
        # partitions assigned, producer up).
        "startupProbe": {
            "httpGet": {"path": "/healthz", "port": port_name},
            "periodSeconds": 2,
            "failureThreshold": 30,
        },
        "readinessProbe": {
            "httpGet": {"path": "/readyz", "port": port_name},
            "periodSeconds": 5,
            "failureThreshold": 2,
        },
        "livenessProbe": {
            "httpGet": {"path": "/healthz", "port": port_name},
            "periodSeconds": 10,
            "timeoutSeconds": 3,
            "failureThreshold": 6,
        },
        "resources": {
            "requests": {"cpu": component.resources.cpu, "memory": component.resources.memory},
            "limits": {"memory": component.resources.memory},
        },
        "securityContext": RESTRICTED,
        "volumeMounts": mounts,
    }
    if component.role == "gateway":
        container["lifecycle"] = {"preStop": {"sleep": {"seconds": GATEWAY_PRESTOP_S}}}
    return container


def _pod(component: Component, labels: Labels) -> Manifest:
    volumes: list[Manifest] = [
        {"name": "tmp", "emptyDir": {"medium": "Memory", "sizeLimit": "64Mi"}},
        *kafka_volumes(component.kafka_user),
    ]
    if component.role == "signer":
        volumes.append(
            {"name": "station-ca", "secret": {"secretName": STATION_CA_SECRET}},
        )
    spread = [
        {
            "maxSkew": 1,
            "topologyKey": key,
            "whenUnsatisfiable": "ScheduleAnyway",
            "labelSelector": {"matchLabels": labels.selector()},
        }
        for key in ("topology.kubernetes.io/zone", "kubernetes.io/hostname")
    ]
    spec: Manifest = {
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "securityContext": NON_ROOT,
        "topologySpreadConstraints": spread,
        "containers": [_container(component)],
        "volumes": volumes,
    }
    if component.role == "gateway":
        spec["terminationGracePeriodSeconds"] = GATEWAY_GRACE_S
    return {
        "metadata": {
            "labels": labels.all(),
            "annotations": {"chargebus.io/resources-basis": component.resources.basis},
        },
        "spec": spec,
    }


def workload(component: Component) -> Manifest:
    """The gateway's StatefulSet (its ordinal is its inbox partition) or a Deployment."""
    labels = Labels(component)
    spec: Manifest = {
        "selector": {"matchLabels": labels.selector()},
        "template": _pod(component, labels),
    }
    if not component.autoscaled:
        # With an HPA, spec.replicas is the HPA's: a manifest that set it would fight it at
        # every apply (server-side apply: a conflict; forced: a scale back to the minimum).
        spec["replicas"] = component.replicas
    if component.role == "gateway":
        spec |= {
            "serviceName": f"{component.name}-headless",
            "podManagementPolicy": "Parallel",
            "minReadySeconds": 30,  # a rollout waits for the reconnects to settle
            "updateStrategy": {"type": "RollingUpdate"},
        }
        return {
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "metadata": _meta(component.name, labels),
            "spec": spec,
        }
    spec["strategy"] = (
        {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}}
        if component.autoscaled
        else {"type": "Recreate"}  # never two at once (the certificates' renewal rounds)
    )
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _meta(component.name, labels),
        "spec": spec,
    }


def services(component: Component) -> list[Manifest]:
    """A ClusterIP Service on the HTTP port (the API, or /metrics for monitoring); for the
    gateway a headless Service (per-pod DNS, metrics) and the stations' LoadBalancer."""
    labels = Labels(component)
    http = {
        "name": component.http_port_name,
        "port": component.http_port,
        "targetPort": component.http_port_name,
        "protocol": "TCP",
    }
    scraped = Labels(component, SCRAPED)
    if component.role != "gateway":
        return [
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": _meta(component.name, scraped),
                "spec": {"type": "ClusterIP", "selector": labels.selector(), "ports": [http]},
            }
        ]
    headless: Manifest = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _meta(f"{component.name}-headless", scraped),
        "spec": {
            "clusterIP": "None",
            "publishNotReadyAddresses": True,
            "selector": labels.selector(),
            "ports": [http],
        },
    }
    stations: Manifest = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _meta(
            component.name,
            labels,
            **{
                "chargebus.io/idle-timeout": (
                    "an L4 load balancer; its idle timeout must exceed the gateway's "
                    "--ping-interval (20 s) and the stations' heartbeat: set your cloud's "
                    "annotation in the overlay (docs/deploy.md)"
                )
            },
        ),
        "spec": {
            # TCP straight to the pods: the gateway terminates TLS itself and sees the client
            # certificate (security profile 3). Local keeps the stations' source addresses.
            "type": "LoadBalancer",
            "externalTrafficPolicy": "Local",
            "selector": labels.selector(),
            "ports": [{"name": "ws", "port": 443, "targetPort": "ws", "protocol": "TCP"}],
        },
    }
    return [headless, stations]


def disruption_budget(component: Component) -> Manifest:
    """At most one pod evicted at a time (drains, autoscaler); a never-Ready pod may go."""
    labels = Labels(component)
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": _meta(component.name, labels),
        "spec": {
            "maxUnavailable": 1,
            "unhealthyPodEvictionPolicy": "AlwaysAllow",
            "selector": {"matchLabels": labels.selector()},
        },
    }


def autoscaler(component: Component) -> Manifest:
    """The gateway scales on open connections per pod (a custom metric: prometheus-adapter or
    KEDA serves it), slowly down (every scale-in drops sockets); the rest on CPU. The ceiling is
    the partition count its consumer group shares: more pods would sit idle."""
    labels = Labels(component)
    target_kind = "StatefulSet" if component.role == "gateway" else "Deployment"
    spec: Manifest = {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": target_kind, "name": component.name},
        "minReplicas": component.replicas,
        "maxReplicas": component.max_replicas,
    }
    if component.role == "gateway":
        spec["metrics"] = [
            {
                "type": "Pods",
                "pods": {
                    "metric": {"name": "chargebus_gateway_connections"},
                    "target": {
                        "type": "AverageValue",
                        "averageValue": GATEWAY_CONNECTIONS_PER_POD,
                    },
                },
            }
        ]
        spec["behavior"] = {
            "scaleUp": {
                "stabilizationWindowSeconds": 300,
                "policies": [{"type": "Pods", "value": 1, "periodSeconds": 300}],
            },
            "scaleDown": {
                "stabilizationWindowSeconds": 3600,
                "policies": [{"type": "Pods", "value": 1, "periodSeconds": 900}],
            },
        }
    else:
        spec["metrics"] = [
            {
                "type": "Resource",
                "resource": {
                    "name": "cpu",
                    "target": {"type": "Utilization", "averageUtilization": 70},
                },
            }
        ]
        spec["behavior"] = {
            # Every step rebalances the group and restores state: step slowly.
            "scaleDown": {
                "stabilizationWindowSeconds": 600,
                "policies": [{"type": "Pods", "value": 1, "periodSeconds": 300}],
            },
        }
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": _meta(
            component.name, labels, **{"chargebus.io/max-replicas": component.ceiling_reason}
        ),
        "spec": spec,
    }


def service_monitor(component: Component) -> Manifest:
    """Prometheus scrapes /metrics through the component's Service (the headless one for the
    gateway: every pod)."""
    labels = Labels(component, PROMETHEUS_RELEASE)
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": _meta(component.name, labels),
        "spec": {
            "selector": {"matchLabels": Labels(component).selector() | SCRAPED},
            "endpoints": [
                {"port": component.http_port_name, "path": "/metrics", "interval": "30s"}
            ],
        },
    }
