"""Settings every entry point shares, read from the environment (pure: takes a mapping)."""

import argparse
from collections.abc import Mapping

DEFAULT_BOOTSTRAP_SERVERS = "127.0.0.1:9092"
BOOTSTRAP_ENV = "KAFKA_BOOTSTRAP_SERVERS"


def bootstrap_servers(environ: Mapping[str, str]) -> str:
    """The Kafka bootstrap address: `KAFKA_BOOTSTRAP_SERVERS`, else 127.0.0.1:9092."""
    return environ.get(BOOTSTRAP_ENV, "").strip() or DEFAULT_BOOTSTRAP_SERVERS


def tool_arguments(environ: Mapping[str, str], timeout_s: float) -> argparse.ArgumentParser:
    """The options every command-line tool that writes a record shares (an argparse parent):
    ``--bootstrap-servers`` and ``--timeout``."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--bootstrap-servers",
        default=bootstrap_servers(environ),
        help=f"Kafka bootstrap servers (${BOOTSTRAP_ENV}, else {DEFAULT_BOOTSTRAP_SERVERS})",
    )
    common.add_argument(
        "--timeout",
        type=float,
        default=timeout_s,
        help="seconds to reach Kafka and to get the record acknowledged (default: %(default)g)",
    )
    return common


def positive(value: str) -> int:
    """An argparse type: a whole number of at least 1."""
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {value}")
    return number


def api_arguments(
    p: argparse.ArgumentParser,
    environ: Mapping[str, str],
    *,
    host: str,
    port: int,
    connect_timeout_s: float,
    log_level: str,
) -> None:
    """The options every operator HTTP API shares: where it listens, Kafka, the log level."""
    p.add_argument("--host", default=host, help="listen address")
    p.add_argument("--port", type=int, default=port, help="the API, /metrics, /healthz, /readyz")
    p.add_argument(
        "--bootstrap-servers",
        default=bootstrap_servers(environ),
        help=f"Kafka bootstrap servers (${BOOTSTRAP_ENV}, else {DEFAULT_BOOTSTRAP_SERVERS})",
    )
    p.add_argument(
        "--connect-timeout",
        type=float,
        default=connect_timeout_s,
        help="seconds to reach Kafka at start before giving up (exit code 2)",
    )
    p.add_argument("--log-level", default=log_level, choices=("DEBUG", "INFO", "WARNING", "ERROR"))
