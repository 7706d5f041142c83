"""The API's Prometheus metrics, declared on a registry the caller owns (no I/O)."""

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from runtime.api import LATENCY_BUCKETS, HttpMetrics


class Metrics(HttpMetrics):
    """One set per process (tests pass their own registry, so apps never collide)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        super().__init__("sessions_api", registry)
        self.commands = Counter(
            "chargebus_sessions_api_commands_total",
            "Commands by command, source (http or topic) and outcome",
            ["command", "source", "outcome"],
            registry=registry,
        )
        self.command_seconds = Histogram(
            "chargebus_sessions_api_command_seconds",
            "Command sent until its outcome arrived, by command",
            ["command"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.open_sessions = Gauge(
            "chargebus_sessions_api_open_sessions",
            "Charging sessions open now (sessions.open.v1 and sessions.v1); the whole fleet's",
            registry=registry,
        )
