"""Settings every entry point shares, read from the environment (pure: takes a mapping)."""

import argparse
from collections.abc import Mapping
from dataclasses import dataclass, field

DEFAULT_BOOTSTRAP_SERVERS = "127.0.0.1:9092"
BOOTSTRAP_ENV = "KAFKA_BOOTSTRAP_SERVERS"


def bootstrap_servers(environ: Mapping[str, str]) -> str:
    """The Kafka bootstrap address: `KAFKA_BOOTSTRAP_SERVERS`, else 127.0.0.1:9092."""
    return environ.get(BOOTSTRAP_ENV, "").strip() or DEFAULT_BOOTSTRAP_SERVERS


SECURITY_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
SASL_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")


class InvalidKafkaSecurity(ValueError):
    """The `KAFKA_SECURITY_PROTOCOL` / `KAFKA_SASL_*` / `KAFKA_SSL_CA_FILE` settings disagree."""


@dataclass(frozen=True, slots=True)
class KafkaSecurity:
    """How every Kafka client of a process authenticates (Strimzi: SASL_SSL with SCRAM-SHA-512,
    the KafkaUser's name and its Secret's password, the cluster CA's certificate)."""

    protocol: str = "PLAINTEXT"
    sasl_mechanism: str | None = None
    username: str | None = None
    password: str | None = field(default=None, repr=False)  # never logged nor shown
    password_file: str | None = None
    ca_file: str | None = None  # PEM bundle to trust; the system's CAs when None

    @property
    def uses_tls(self) -> bool:
        return self.protocol in ("SSL", "SASL_SSL")

    @property
    def uses_sasl(self) -> bool:
        return self.protocol.startswith("SASL_")


def kafka_security(environ: Mapping[str, str]) -> KafkaSecurity:
    """The Kafka client security from the environment: `KAFKA_SECURITY_PROTOCOL` (PLAINTEXT),
    `KAFKA_SASL_MECHANISM`, `KAFKA_SASL_USERNAME`, `KAFKA_SASL_PASSWORD` or
    `KAFKA_SASL_PASSWORD_FILE`, `KAFKA_SSL_CA_FILE`.

    Raises:
        InvalidKafkaSecurity: with what is missing or unknown (never the password).
    """

    def get(name: str) -> str | None:
        return environ.get(name, "").strip() or None

    protocol = (get("KAFKA_SECURITY_PROTOCOL") or "PLAINTEXT").upper()
    if protocol not in SECURITY_PROTOCOLS:
        raise InvalidKafkaSecurity(
            f"KAFKA_SECURITY_PROTOCOL={protocol} is none of {', '.join(SECURITY_PROTOCOLS)}"
        )
    security = KafkaSecurity(
        protocol=protocol,
        sasl_mechanism=(get("KAFKA_SASL_MECHANISM") or "SCRAM-SHA-512").upper(),
        username=get("KAFKA_SASL_USERNAME"),
        password=environ.get("KAFKA_SASL_PASSWORD") or None,
        password_file=get("KAFKA_SASL_PASSWORD_FILE"),
        ca_file=get("KAFKA_SSL_CA_FILE"),
    )
    if not security.uses_sasl:
        return KafkaSecurity(protocol=protocol, ca_file=security.ca_file)
    if security.sasl_mechanism not in SASL_MECHANISMS:
        raise InvalidKafkaSecurity(
            f"KAFKA_SASL_MECHANISM={security.sasl_mechanism} is none of "
            f"{', '.join(SASL_MECHANISMS)}"
        )
    if security.username is None:
        raise InvalidKafkaSecurity(f"{protocol} needs KAFKA_SASL_USERNAME")
    if (security.password is None) == (security.password_file is None):
        raise InvalidKafkaSecurity(
            f"{protocol} needs exactly one of KAFKA_SASL_PASSWORD and KAFKA_SASL_PASSWORD_FILE"
        )
    return security


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
