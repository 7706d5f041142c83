"""Command line of the station simulator (wiring only: arguments, progress, summary)."""

import argparse
import asyncio
import json
import logging
import os
import signal
import sys
from pathlib import Path

from tools.simulator.processes import run_processes
from tools.simulator.report import Progress, Summary
from tools.simulator.runner import ConfigError, SimulatorConfig, run
from tools.simulator.station import Behaviour

PASSWORD_ENV = "SIMULATOR_PASSWORD"

EXAMPLES = """\
examples:
  # 100 stations, half 1.6 and half 2.0.1, charging, for one minute
  python -m tools.simulator --stations 100 --version mixed --duration 60

  # 10,000 idle stations at 500 connections/s, heartbeats every 30 s, over 2 processes
  python -m tools.simulator --stations 10000 --connect-rate 500 --no-sessions \\
      --heartbeat-override 30 --duration 300 --processes 2 --expect-accepted all

  # offered load: 2,000 CALLs/s across 1,000 stations, latency per action as JSON
  python -m tools.simulator --stations 1000 --no-sessions --heartbeat-override 0 \\
      --rate 2000 --duration 60 --json

  # every station drops its connection at t=30 s and reconnects at once
  python -m tools.simulator --stations 2000 --reconnect-storm 30 --duration 90

  # security profile 3 (mTLS) with Basic credentials from a file
  python -m tools.simulator --url wss://csms.local:8443/ocpp --cafile ca.pem \\
      --certfile station.pem --keyfile station.key --password-file secret.txt

exit status: 0 if nothing failed; 1 if any error was counted (CALLERROR, timeout, connect
failure, unexpected disconnect, malformed frame, schema violation) or --expect-accepted was
not met; 2 for bad arguments. The password comes from --password-file, --password or the
SIMULATOR_PASSWORD environment variable, and is never printed.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tools.simulator",
        description="Simulate many OCPP-J 1.6 / 2.0.1 charging stations from one asyncio "
        "process: boot, heartbeats, status, authorize, charging sessions with meter values, "
        "answers to CSMS commands; measure answers, errors and latency.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    run_group = parser.add_argument_group("run")
    add = run_group.add_argument
    add(
        "--url",
        default="ws://127.0.0.1:9000/ocpp",
        help="CSMS endpoint; '/<station id>' is appended, or replaces {station_id} [%(default)s]",
    )
    add("--stations", type=int, default=10, metavar="N", help="how many stations [%(default)s]")
    add("--prefix", default="SIM", help="station ids are PREFIX + 5 digits [%(default)s]")
    add("--first-index", type=int, default=1, metavar="N", help="first station number [1]")
    add(
        "--version",
        choices=["1.6", "2.0.1", "mixed"],
        default="1.6",
        help="OCPP version; mixed alternates by station number [%(default)s]",
    )
    add(
        "--connect-rate",
        type=float,
        default=100.0,
        metavar="PER_S",
        help="new connections per second [%(default)s]",
    )
    add(
        "--duration",
        type=float,
        default=30.0,
        metavar="S",
        help="the run stops by itself after this many seconds [%(default)s]",
    )
    add(
        "--warmup",
        type=float,
        default=0.0,
        metavar="S",
        help="latency of answers in the first S seconds (connects, boots) is also reported "
        "without them, as steady state [%(default)s]",
    )
    add(
        "--processes",
        type=int,
        default=1,
        metavar="N",
        help="spread the stations over N processes (one core each) [%(default)s]",
    )
    add("--seed", type=int, default=0, help="random seed [%(default)s]")

    behaviour = parser.add_argument_group("station behaviour")
    add = behaviour.add_argument
    add(
        "--connectors",
        type=int,
        default=1,
        metavar="N",
        help="connectors per station (2.0.1: one EVSE each) [%(default)s]",
    )
    add(
        "--sessions",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="start charging sessions by themselves [on]",
    )
    add(
        "--session-length",
        type=float,
        default=60.0,
        metavar="S",
        help="mean session length, +-20%% [%(default)s]",
    )
    add(
        "--meter-interval",
        type=float,
        default=10.0,
        metavar="S",
        help="meter values while charging [%(default)s]",
    )
    add(
        "--idle",
        type=float,
        default=10.0,
        metavar="S",
        help="mean pause between sessions on a connector [%(default)s]",
    )
    add(
        "--id-token",
        action="append",
        default=[],
        metavar="TOKEN",
        help="id token to present (repeatable) [a random RFID UID per session]",
    )
    add(
        "--heartbeat-override",
        type=float,
        default=None,
        metavar="S",
        help="heartbeat interval instead of the boot answer's; 0: no heartbeats",
    )
    add(
        "--call-timeout",
        type=float,
        default=30.0,
        metavar="S",
        help="how long to wait for an answer [%(default)s]",
    )
    add(
        "--boot-on-reconnect",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="send BootNotification again after a reconnect [on]",
    )

    load = parser.add_argument_group("load and failures")
    add = load.add_argument
    add(
        "--rate",
        type=float,
        default=None,
        metavar="PER_S",
        help="offered load: CALLs per second across all stations, each to an idle station",
    )
    add(
        "--rate-action",
        choices=["Heartbeat", "MeterValues", "mixed"],
        default="mixed",
        help="what --rate sends [%(default)s]",
    )
    add(
        "--reconnect-storm",
        type=float,
        default=None,
        metavar="T",
        help="at T seconds, drop every connection and reconnect them all at once",
    )

    security = parser.add_argument_group("security")
    add = security.add_argument
    add(
        "--password",
        help=f"HTTP Basic password (user: station id); prefer --password-file or ${PASSWORD_ENV}",
    )
    add("--password-file", metavar="FILE", help="read the HTTP Basic password from FILE")
    add("--cafile", help="CA bundle to verify a wss:// CSMS")
    add("--certfile", help="client certificate (PEM) for mTLS, security profile 3")
    add("--keyfile", help="private key of --certfile")
    add("--compression", action="store_true", help="offer permessage-deflate")

    output = parser.add_argument_group("output")
    add = output.add_argument
    add("--json", action="store_true", help="print the summary as JSON on stdout")
    add("--quiet", action="store_true", help="no progress line on stderr")
    add(
        "--validate",
        action="store_true",
        help="check every CSMS answer and CALL against the OCA JSON schemas",
    )
    add(
        "--expect-accepted",
        metavar="N|all",
        help="fail unless at least N stations (or all) got BootNotification Accepted",
    )
    return parser


def config_from(args: argparse.Namespace) -> SimulatorConfig:
    """Raises: ConfigError: for a bad --expect-accepted or an unreadable --password-file."""
    password = args.password or os.environ.get(PASSWORD_ENV)
    if args.password_file:
        try:
            password = Path(args.password_file).read_text().strip()
        except OSError as exc:
            raise ConfigError(f"cannot read --password-file: {exc.strerror}") from exc
    expect: int | None = None
    if args.expect_accepted == "all":
        expect = args.stations
    elif args.expect_accepted is not None:
        if not args.expect_accepted.isdigit():
            raise ConfigError("--expect-accepted takes a number or 'all'")
        expect = int(args.expect_accepted)
    behaviour = Behaviour(
        connectors=args.connectors,
        sessions=args.sessions,
        session_length_s=args.session_length,
        meter_interval_s=args.meter_interval,
        idle_s=args.idle,
        heartbeat_override_s=args.heartbeat_override,
        call_timeout_s=args.call_timeout,
        boot_on_reconnect=args.boot_on_reconnect,
        id_tokens=tuple(args.id_token),
    )
    return SimulatorConfig(
        url=args.url,
        stations=args.stations,
        prefix=args.prefix,
        first_index=args.first_index,
        version=args.version,
        connect_rate=args.connect_rate,
        duration_s=args.duration,
        warmup_s=args.warmup,
        behaviour=behaviour,
        password=password,
        cafile=args.cafile,
        certfile=args.certfile,
        keyfile=args.keyfile,
        reconnect_storm_at_s=args.reconnect_storm,
        rate=args.rate,
        rate_action=args.rate_action,
        compression=args.compression,
        validate=args.validate,
        seed=args.seed,
        expect_accepted=expect,
    )


def _show(progress: Progress) -> None:
    if sys.stderr.isatty():
        print(f"\r{progress.render()}\x1b[K", end="", file=sys.stderr, flush=True)
    elif round(progress.elapsed_s) % 10 == 0:  # a log, not a terminal: every 10 s
        print(progress.render(), file=sys.stderr, flush=True)


async def _run(config: SimulatorConfig, processes: int, quiet: bool) -> Summary:
    show = None if quiet else _show
    stop = asyncio.Event()  # Ctrl-C or SIGTERM: end early, still print the summary
    for signum in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(signum, stop.set)
    if processes > 1:
        return await run_processes(config, processes, show, stop=stop)
    return await run(config, show, stop=stop)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    try:
        config = config_from(args)
        config.check()
    except ConfigError as exc:
        parser.error(str(exc))
    summary = asyncio.run(_run(config, max(1, args.processes), args.quiet))
    if not args.quiet and sys.stderr.isatty():
        print(file=sys.stderr)
    if args.json:
        print(json.dumps(summary.to_json(), indent=2))
    else:
        print(summary.render())
    return 0 if summary.ok else 1


if __name__ == "__main__":
    sys.exit(main())
