"""Every process the image runs, as Kubernetes sees it: ports, scaling bounds, resources."""

from dataclasses import dataclass, field
from typing import Literal

from contracts.topics import MAX_GATEWAYS, SITE_PARTITIONS, STATION_PARTITIONS

Role = Literal["gateway", "worker", "api", "signer"]

NAMESPACE = "chargebus"
PART_OF = "chargebus"
KAFKA_CLUSTER = "chargebus"  # the Strimzi Kafka: Services and Secrets are named after it
KAFKA_BOOTSTRAP = f"{KAFKA_CLUSTER}-kafka-bootstrap:9093"  # the `tls` listener, SCRAM-SHA-512
KAFKA_CA_SECRET = f"{KAFKA_CLUSTER}-cluster-ca-cert"  # key ca.crt: the CA the brokers use
IMAGE = "chargebus"  # overlays set the registry and tag (kustomize `images`)
API_CLIENT = {"chargebus.io/api-client": "true"}  # pods of this namespace that call the APIs


@dataclass(frozen=True, slots=True, kw_only=True)
class Resources:
    """Requests (and a memory limit equal to the request; no CPU limit: a throttled event loop
    misses WebSocket pings and Kafka heartbeats). From docs/benchmarks.md where measured."""

    cpu: str
    memory: str
    basis: str  # where the figure comes from, written into the manifest as an annotation


@dataclass(frozen=True, slots=True, kw_only=True)
class Component:
    """One process kind: a Deployment (a StatefulSet for the gateway) of the one image."""

    name: str  # the workload, its Service and its KafkaUser (chargebus-<name>)
    script: str  # the console script the container runs (pyproject.toml [project.scripts])
    role: Role
    http_port: int  # /metrics, /healthz, /readyz (and the API itself for an API)
    replicas: int  # the HPA's minReplicas (the workload leaves spec.replicas to the HPA)
    max_replicas: int  # the HPA's ceiling: the partitions its group shares, where it has one
    ceiling_reason: str  # why that ceiling; or why there is no HPA (max_replicas == replicas)
    resources: Resources
    args: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    ws_port: int | None = None  # the gateway's station WebSockets

    @property
    def kafka_user(self) -> str:
        return f"chargebus-{self.name}"

    @property
    def autoscaled(self) -> bool:
        return self.max_replicas > self.replicas

    @property
    def http_port_name(self) -> str:
        return "http" if self.role == "api" else "metrics"


GATEWAY_DRAIN_S = 10  # gateway --drain-timeout's default: in-flight calls finish on SIGTERM
GATEWAY_PRESTOP_S = 5  # endpoints removed and load balancers told before SIGTERM
GATEWAY_GRACE_S = 45  # > preStop + drain + the close of every socket, with a margin

COMPONENTS: tuple[Component, ...] = (
    Component(
        name="gateway",
        script="chargebus-gateway",
        role="gateway",
        http_port=9100,
        ws_port=9000,
        replicas=2,
        max_replicas=MAX_GATEWAYS,
        ceiling_reason="one inbox partition per pod: ocpp.gateway-inbox.v1 has MAX_GATEWAYS",
        resources=Resources(
            cpu="1",
            memory="512Mi",
            basis="docs/benchmarks.md: 10,000 idle stations at 20.5 KiB each, 246 MiB RSS; "
            "the HPA keeps a pod near 8,000",
        ),
    ),
    Component(
        name="sessions",
        script="chargebus-sessions",
        role="worker",
        http_port=9200,
        replicas=2,
        max_replicas=STATION_PARTITIONS,
        ceiling_reason="the group shares ocpp.inbound.v1's STATION_PARTITIONS",
        resources=Resources(
            cpu="1",
            memory="512Mi",
            basis="docs/benchmarks.md: ~2,000 station messages/s per worker on one core; "
            "RSS 58 MiB with 5 stations, 60 MiB with 500",
        ),
    ),
    Component(
        name="sessions-api",
        script="chargebus-sessions-api",
        role="api",
        http_port=8080,
        replicas=2,
        max_replicas=6,
        ceiling_reason="each replica reads every read model: more replicas, more broker reads",
        resources=Resources(
            cpu="500m",
            memory="2Gi",
            basis="docs/benchmarks.md: RSS 59 MiB with 5 stations, 97 MiB with 500 (their "
            "device models): ~77 kB a station, 2Gi for ~25,000",
        ),
    ),
    Component(
        name="billing",
        script="chargebus-billing",
        role="worker",
        http_port=9300,
        replicas=2,
        max_replicas=STATION_PARTITIONS,
        ceiling_reason="the group shares sessions.v1's STATION_PARTITIONS",
        resources=Resources(
            cpu="500m",
            memory="512Mi",
            basis="docs/benchmarks.md: 1,500-2,300 CDRs/s per core; RSS 50 MiB with 500 stations",
        ),
    ),
    Component(
        name="billing-api",
        script="chargebus-billing-api",
        role="api",
        http_port=8082,
        replicas=2,
        max_replicas=6,
        ceiling_reason="each replica reads every CDR of its window",
        resources=Resources(
            cpu="250m",
            memory="512Mi",
            basis="RSS 48 MiB with 500 stations; a week of CDRs (--cdrs-window) is kept",
        ),
    ),
    Component(
        name="loadbalance",
        script="chargebus-loadbalance",
        role="worker",
        http_port=9400,
        replicas=2,
        max_replicas=SITE_PARTITIONS,
        ceiling_reason="the group shares the site topics' SITE_PARTITIONS",
        resources=Resources(
            cpu="500m", memory="512Mi", basis="RSS 53 MiB with 500 stations on one site"
        ),
    ),
    Component(
        name="loadbalance-api",
        script="chargebus-loadbalance-api",
        role="api",
        http_port=8083,
        replicas=2,
        max_replicas=6,
        ceiling_reason="each replica reads every site's allocations",
        resources=Resources(
            cpu="250m",
            memory="1Gi",
            basis="RSS 46 MiB idle, 128 MiB after 150 s of a 500-station site: the "
            "allocation history (--history-hours) grows with every allocation",
        ),
    ),
    Component(
        name="alerts",
        script="chargebus-alerts",
        role="worker",
        http_port=9500,
        replicas=2,
        max_replicas=STATION_PARTITIONS,
        ceiling_reason="the group shares stations.v1's STATION_PARTITIONS",
        resources=Resources(cpu="250m", memory="256Mi", basis="RSS 46 MiB with 500 stations"),
    ),
    Component(
        name="certificates",
        script="chargebus-certificates",
        role="signer",
        http_port=9600,
        replicas=1,
        max_replicas=1,
        ceiling_reason="one replica, no HPA: every replica would run every renewal round",
        resources=Resources(cpu="100m", memory="256Mi", basis="RSS 56 MiB with 500 stations"),
        args=(
            "--ca-cert=/etc/chargebus/station-ca/ca.pem",
            "--ca-key=/etc/chargebus/station-ca/ca.key",
        ),
    ),
)

BY_NAME = {component.name: component for component in COMPONENTS}


@dataclass(frozen=True, slots=True)
class Labels:
    """The recommended labels (app.kubernetes.io/*) of one component's objects."""

    component: Component
    extra: dict[str, str] = field(default_factory=dict)

    def selector(self) -> dict[str, str]:
        return {"app.kubernetes.io/name": self.component.name}

    def all(self) -> dict[str, str]:
        return {
            "app.kubernetes.io/name": self.component.name,
            "app.kubernetes.io/component": self.component.role,
            "app.kubernetes.io/part-of": PART_OF,
            **self.extra,
        }
