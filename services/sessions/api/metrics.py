"""The API's Prometheus metrics, declared on a registry the caller owns (no I/O)."""

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)


class Metrics:
    """One set per process (tests pass their own registry, so apps never collide)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "chargebus_sessions_api_requests_total",
            "HTTP requests by route template, method and status",
            ["route", "method", "status"],
            registry=registry,
        )
        self.request_seconds = Histogram(
            "chargebus_sessions_api_request_seconds",
            "HTTP request duration by route template",
            ["route"],
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        )
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
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        )
        self.records = Counter(
            "chargebus_sessions_api_records_total",
            "Records read by topic and fate (applied, ignored, undecodable)",
            ["topic", "fate"],
            registry=registry,
        )
        self.view_size = Gauge(
            "chargebus_sessions_api_view_entries",
            "Entries in each in-memory read model",
            ["view"],
            registry=registry,
        )
