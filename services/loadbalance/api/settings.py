"""The load balancing API's settings and its command line (pure: parses argv and an environment)."""

import argparse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from runtime.kafka import DEFAULT_CONNECT_TIMEOUT_S
from runtime.settings import BOOTSTRAP_ENV, api_arguments


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    host: str = "0.0.0.0"
    port: int = 8083
    bootstrap_servers: str = "127.0.0.1:9092"
    connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S
    log_level: str = "INFO"
    history_hours: float = 24.0


def parser(environ: Mapping[str, str]) -> argparse.ArgumentParser:
    d = Settings()
    p = argparse.ArgumentParser(
        prog="python -m services.loadbalance.api",
        description="chargebus load balancing API: sites with their capacity, groups and "
        "stations (written to loadbalance.sites.v1), capacity changes (grid.capacity.v1), and "
        "each site's live allocation and its history (read from loadbalance.limits.v1). "
        f"Routes: docs/loadbalance.md and services/loadbalance/api/openapi.json. Kafka address: "
        f"${BOOTSTRAP_ENV}. Requests need an API key (Authorization: Bearer KEY), the same keys "
        "as every chargebus API.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    api_arguments(
        p,
        environ,
        host=d.host,
        port=d.port,
        connect_timeout_s=d.connect_timeout_s,
        log_level=d.log_level,
    )
    p.add_argument(
        "--history-hours",
        type=float,
        default=d.history_hours,
        help="how far back the allocation history reaches (read at start)",
    )
    return p


def parse(argv: Sequence[str], environ: Mapping[str, str]) -> Settings:
    a = parser(environ).parse_args(argv)
    return Settings(
        host=a.host,
        port=a.port,
        bootstrap_servers=a.bootstrap_servers,
        connect_timeout_s=a.connect_timeout,
        log_level=a.log_level,
        history_hours=a.history_hours,
    )
