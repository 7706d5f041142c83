"""Settings every entry point shares, read from the environment (pure: takes a mapping)."""

from collections.abc import Mapping

DEFAULT_BOOTSTRAP_SERVERS = "127.0.0.1:9092"
BOOTSTRAP_ENV = "KAFKA_BOOTSTRAP_SERVERS"


def bootstrap_servers(environ: Mapping[str, str]) -> str:
    """The Kafka bootstrap address: `KAFKA_BOOTSTRAP_SERVERS`, else 127.0.0.1:9092."""
    return environ.get(BOOTSTRAP_ENV, "").strip() or DEFAULT_BOOTSTRAP_SERVERS
