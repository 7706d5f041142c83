"""The API's settings and its command line (pure: parses argv and an environment mapping)."""

import argparse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from runtime.kafka import DEFAULT_CONNECT_TIMEOUT_S
from runtime.settings import BOOTSTRAP_ENV, api_arguments, positive

MAX_TIMEOUT_S = 120.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    host: str = "0.0.0.0"
    port: int = 8080
    bootstrap_servers: str = "127.0.0.1:9092"
    recent_sessions: int = 10_000  # ended sessions kept in memory (open ones are all kept)
    sessions_window_s: float = 6 * 3600  # sessions.v1 read at start from this long ago
    recent_outcomes: int = 100_000  # command outcomes remembered for GET /commands/{id}
    command_timeout_s: float = 30.0  # default wait for an outcome (timeout_s, at most 120)
    reroute_wait_s: float = 2.0  # after NotHere: how long presence may take to move
    commands_group: str = "chargebus-sessions-api"  # consumer group on commands.v1
    commands_offset_reset: str = "earliest"  # where a new group starts on commands.v1
    connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S
    log_level: str = "INFO"


def _seconds(value: str) -> float:
    number = float(value)
    if not 0 < number <= MAX_TIMEOUT_S:
        raise argparse.ArgumentTypeError(f"must be more than 0 and at most {MAX_TIMEOUT_S:g}")
    return number


def parser(environ: Mapping[str, str]) -> argparse.ArgumentParser:
    d = Settings()
    p = argparse.ArgumentParser(
        prog="python -m services.sessions.api",
        description="chargebus sessions API: stations, sessions and tokens read from Kafka, and "
        "operator commands sent to stations through the gateways. Routes: docs/api.md and "
        f"services/sessions/api/openapi.json. Kafka address: ${BOOTSTRAP_ENV}. Requests need "
        "an API key (Authorization: Bearer KEY); manage keys with "
        "'python -m services.sessions.api keys {create,revoke,list} --help'.",
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
        "--recent-sessions",
        type=positive,
        default=d.recent_sessions,
        help="ended sessions kept in memory for GET /sessions (every open one is kept)",
    )
    p.add_argument(
        "--sessions-window",
        type=float,
        default=d.sessions_window_s,
        help="at start, read sessions.v1 from this many seconds ago (ended sessions older than "
        "that are not listed; open ones always are, from sessions.open.v1); 0: from now on",
    )
    p.add_argument(
        "--recent-outcomes",
        type=positive,
        default=d.recent_outcomes,
        help="command outcomes remembered for GET /commands/{command_id} and retries",
    )
    p.add_argument(
        "--command-timeout",
        type=_seconds,
        default=d.command_timeout_s,
        help="default seconds to wait for a command's outcome (a request may say timeout_s)",
    )
    p.add_argument(
        "--commands-group",
        default=d.commands_group,
        help="consumer group that reads OperatorCommands from commands.v1",
    )
    p.add_argument(
        "--commands-offset-reset",
        choices=("earliest", "latest"),
        default=d.commands_offset_reset,
        help="where a new consumer group starts reading commands.v1",
    )
    return p


def parse(argv: Sequence[str], environ: Mapping[str, str]) -> Settings:
    args = parser(environ).parse_args(list(argv))
    return Settings(
        host=args.host,
        port=args.port,
        bootstrap_servers=args.bootstrap_servers,
        recent_sessions=args.recent_sessions,
        sessions_window_s=args.sessions_window,
        recent_outcomes=args.recent_outcomes,
        command_timeout_s=args.command_timeout,
        commands_group=args.commands_group,
        commands_offset_reset=args.commands_offset_reset,
        connect_timeout_s=args.connect_timeout,
        log_level=args.log_level,
    )
