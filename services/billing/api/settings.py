"""The billing API's settings and its command line (pure: parses argv and an environment)."""

import argparse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from runtime.kafka import DEFAULT_CONNECT_TIMEOUT_S
from runtime.settings import BOOTSTRAP_ENV, api_arguments, positive
from services.billing.api.core.cdrs import DEFAULT_RECENT

DAY_S = 24 * 3600


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    host: str = "0.0.0.0"
    port: int = 8082
    bootstrap_servers: str = "127.0.0.1:9092"
    recent_cdrs: int = DEFAULT_RECENT  # CDRs kept in memory for GET /cdrs
    cdrs_window_s: float = 7 * DAY_S  # billing.cdrs.v1 read at start from this long ago
    connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S
    log_level: str = "INFO"


def parser(environ: Mapping[str, str]) -> argparse.ArgumentParser:
    d = Settings()
    p = argparse.ArgumentParser(
        prog="python -m services.billing.api",
        description="chargebus billing API: OCPI 2.2.1 tariffs and where they apply (written to "
        "billing.tariffs.v1), and the CDRs of billing.cdrs.v1. Routes: docs/billing.md and "
        f"services/billing/api/openapi.json. Kafka address: ${BOOTSTRAP_ENV}. Requests need an "
        "API key (Authorization: Bearer KEY), the same keys as every chargebus API; manage "
        "them with 'python -m services.billing.api keys {create,revoke,list} --help'.",
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
        "--recent-cdrs", type=positive, default=d.recent_cdrs, help="CDRs kept for GET /cdrs"
    )
    p.add_argument(
        "--cdrs-window",
        type=float,
        default=d.cdrs_window_s,
        help="at start, read billing.cdrs.v1 from this many seconds ago; 0: from now on",
    )
    return p


def parse(argv: Sequence[str], environ: Mapping[str, str]) -> Settings:
    a = parser(environ).parse_args(argv)
    return Settings(
        host=a.host,
        port=a.port,
        bootstrap_servers=a.bootstrap_servers,
        recent_cdrs=a.recent_cdrs,
        cdrs_window_s=a.cdrs_window,
        connect_timeout_s=a.connect_timeout,
        log_level=a.log_level,
    )
