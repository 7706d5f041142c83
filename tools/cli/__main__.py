"""`chargebus`: stations, sessions, alerts, commands, tariffs, sites, keys, credentials, topics.

Reads through the operator APIs (their URLs and the key from the environment or options) and,
for `tail`, `credentials` and `keys`, Kafka. Tables by default, `--json` for scripts; the exit
codes are in tools/cli/exits.py and docs/cli.md.
"""

import argparse
import asyncio
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from runtime.api_keys import keys_main
from runtime.kafka import KafkaUnavailable, PublishFailed, TopicMissing
from runtime.settings import BOOTSTRAP_ENV, bootstrap_servers
from tools.cli import credentials, render
from tools.cli import summary as screen
from tools.cli.exits import Exit, Failure
from tools.cli.http import Api, failure
from tools.cli.tail import TOPICS, tail

DESCRIPTION = f"""\
The operator's command line for chargebus (docs/cli.md).

environment:
  CHARGEBUS_API                the sessions API (default http://127.0.0.1:8080)
  CHARGEBUS_BILLING_API        the billing API (default http://127.0.0.1:8082)
  CHARGEBUS_LOADBALANCE_API    the load balancing API (default http://127.0.0.1:8083)
  CHARGEBUS_API_KEY            the API key sent as Authorization: Bearer
  {BOOTSTRAP_ENV}      Kafka, for tail, credentials and keys (default 127.0.0.1:9092)

exit codes: 0 done; 1 the station or the system did not do it; 2 a wrong command line;
3 invalid (the API said why); 4 not found; 5 no or a wrong API key; 6 the API or Kafka
cannot be reached; 7 the station is offline.
"""
OUTCOMES_OK = frozenset({"Accepted", "Scheduled", "Unlocked", "RebootRequired"})


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="chargebus",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--api", default=os.environ.get("CHARGEBUS_API", "http://127.0.0.1:8080"))
    p.add_argument(
        "--billing-api", default=os.environ.get("CHARGEBUS_BILLING_API", "http://127.0.0.1:8082")
    )
    p.add_argument(
        "--loadbalance-api",
        default=os.environ.get("CHARGEBUS_LOADBALANCE_API", "http://127.0.0.1:8083"),
    )
    p.add_argument("--bootstrap-servers", default=bootstrap_servers(os.environ))
    p.add_argument("--json", action="store_true", help="print the API's JSON, not a table")
    # --json after the command too (chargebus stations --json); SUPPRESS: not set, not reset
    output = argparse.ArgumentParser(add_help=False)
    output.add_argument("--json", action="store_true", default=argparse.SUPPRESS)
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    original = sub.add_parser

    def add_parser(name: str, **options: Any) -> argparse.ArgumentParser:
        return original(name, parents=[output], **options)

    sub.add_parser = add_parser  # type: ignore[method-assign]

    stations = sub.add_parser("stations", help="list stations (100 a page)")
    state = stations.add_mutually_exclusive_group()
    state.add_argument("--online", action="store_true")
    state.add_argument("--offline", action="store_true")
    stations.add_argument("--limit", type=int, default=100)
    stations.add_argument("--offset", type=int, default=0)
    station = sub.add_parser("station", help="one station, with its open alerts")
    station.add_argument("station_id")

    sessions = sub.add_parser("sessions", help="open and recent sessions")
    sessions.add_argument("--station")
    sessions.add_argument("--status", choices=("open", "ended"))
    sessions.add_argument("--limit", type=int, default=100)

    alerts = sub.add_parser("alerts", help="open (or recently resolved) alerts")
    alerts.add_argument("--state", choices=("open", "resolved"), default="open")
    alerts.add_argument("--station")

    command = sub.add_parser(
        "command",
        help="send a command to a station and wait for its outcome",
        description="Arguments as NAME=VALUE (VALUE read as JSON when it is JSON, else text), "
        "or --arguments with a JSON object; docs/api.md lists every command's.",
    )
    command.add_argument("station_id")
    command.add_argument("name", metavar="COMMAND", help="RemoteStart, Reset, GetBaseReport, ...")
    command.add_argument("arguments", nargs="*", metavar="NAME=VALUE")
    command.add_argument("--arguments", dest="json_arguments", help="a JSON object")
    command.add_argument("--timeout", type=float, help="seconds to wait for the station")

    summary = sub.add_parser("summary", help="the whole system on one screen")
    summary.add_argument("--watch", type=float, metavar="S", help="redraw every S seconds")
    sub.add_parser("tariffs", help="the tariffs (billing)")
    sub.add_parser("sites", help="the sites (load balancing)")
    capacity = sub.add_parser("capacity", help="set a site's capacity now (A per phase)")
    capacity.add_argument("site_id")
    capacity.add_argument("limit_a", type=float)

    sub.add_parser("keys", help="API keys: create, revoke, list (chargebus keys --help)")

    creds = sub.add_parser("credentials", help="station passwords in bulk (Kafka)")
    creds_sub = creds.add_subparsers(dest="action", required=True)
    importing = creds_sub.add_parser(
        "import", help="import station_id,password[,allowed_profiles] rows from a CSV"
    )
    importing.add_argument("file", type=Path)
    importing.add_argument("--workers", type=int, help="hashing threads (default: every core)")

    topic = sub.add_parser("tail", help="print a topic's records as JSON lines (Ctrl-C stops)")
    topic.add_argument("topic", choices=TOPICS, metavar="TOPIC")
    topic.add_argument("--from-beginning", action="store_true")
    topic.add_argument("--station", help="only this station's records")
    topic.add_argument("--type", dest="event_type", help="only this event type")
    topic.add_argument("--limit", type=int, help="stop after this many records")
    topic.add_argument("--idle", type=float, help="stop after this many seconds without one")
    return p


def _query(**values: Any) -> str:
    present = {k: v for k, v in values.items() if v is not None}
    return f"?{urlencode(present)}" if present else ""


def _print(args: argparse.Namespace, document: Any, columns: list[render.Column]) -> None:
    if args.json:
        print(render.as_json(document))
    else:
        print(render.table(document.get("items", []), columns))
        if document.get("total", 0) > len(document.get("items", [])):
            shown = len(document["items"])
            print(f"({shown} of {document['total']}; --offset and --limit page)", file=sys.stderr)


def _arguments(args: argparse.Namespace) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if args.json_arguments:
        try:
            loaded = json.loads(args.json_arguments)
        except ValueError as error:
            raise Failure(Exit.USAGE, f"--arguments is not JSON: {error}") from error
        if not isinstance(loaded, dict):
            raise Failure(Exit.USAGE, "--arguments must be a JSON object")
        body.update(loaded)
    for item in args.arguments:
        name, sep, text = item.partition("=")
        if not sep or not name:
            raise Failure(Exit.USAGE, f"{item!r} is not NAME=VALUE")
        try:
            body[name] = json.loads(text)
        except ValueError:
            body[name] = text
    if args.timeout is not None:
        body["timeout_s"] = args.timeout
    return body


def exit_of(result: dict[str, Any]) -> Exit:
    """What a command's outcome (docs/api.md, "Outcomes") means for the exit code (pure)."""
    if result.get("outcome") == "StationOffline":
        return Exit.OFFLINE
    answered = result.get("outcome") == "Answered"
    return Exit.OK if answered and result.get("status") in (None, *OUTCOMES_OK) else Exit.FAILED


def command(args: argparse.Namespace, api: Api) -> int:
    path = f"/stations/{quote(args.station_id, safe='')}/commands/{quote(args.name, safe='')}"
    status, result = api.call("POST", path, _arguments(args))
    if not isinstance(result, dict) or "outcome" not in result:
        raise failure(status, result)
    if args.json:
        print(render.as_json(result))
    else:
        said = f" {result['status']}" if result.get("status") else ""
        print(f"{result['action']} to {result['station_id']}: {result['outcome']}{said}")
        if result.get("detail"):
            print(result["detail"])
    return exit_of(result)


def run(args: argparse.Namespace) -> int:
    key = os.environ.get("CHARGEBUS_API_KEY")
    api = Api(args.api, key)
    match args.command:
        case "stations":
            online = True if args.online else False if args.offline else None
            query = _query(
                online=None if online is None else str(online).lower(),
                limit=args.limit,
                offset=args.offset,
            )
            _print(args, api.get(f"/stations{query}"), render.STATIONS)
        case "station":
            sid = quote(args.station_id, safe="")
            document = api.get(f"/stations/{sid}")
            open_alerts = api.get(f"/alerts{_query(station_id=args.station_id)}")
            if args.json:
                print(render.as_json(document | {"alerts": open_alerts["items"]}))
            else:
                print(render.table([document], render.STATIONS))
                if open_alerts["items"]:
                    print()
                    print(render.table(open_alerts["items"], render.ALERTS))
        case "sessions":
            query = _query(station_id=args.station, status=args.status, limit=args.limit)
            _print(args, api.get(f"/sessions{query}"), render.SESSIONS)
        case "alerts":
            _print(
                args,
                api.get(f"/alerts{_query(state=args.state, station_id=args.station)}"),
                render.ALERTS,
            )
        case "command":
            return command(args, api)
        case "summary":
            apis = (api, Api(args.billing_api, key), Api(args.loadbalance_api, key))
            if args.watch:
                screen.watch(*apis, sys.stdout, args.watch)
            figures = screen.gather(*apis)
            if args.json:
                print(render.as_json(vars(figures)))
            else:
                print(screen.render(figures, time.strftime("%H:%M:%S")))
            return Exit.UNAVAILABLE if figures.errors else Exit.OK
        case "tariffs":
            _print(args, Api(args.billing_api, key).get("/tariffs"), render.TARIFFS)
        case "sites":
            _print(args, Api(args.loadbalance_api, key).get("/sites"), render.SITES)
        case "capacity":
            path = f"/sites/{quote(args.site_id, safe='')}/capacity"
            status, document = Api(args.loadbalance_api, key).call(
                "POST", path, {"limit_a": args.limit_a}
            )
            if status >= 400:
                raise failure(status, document)
            print(
                render.as_json(document)
                if args.json
                else f"{args.site_id}: {args.limit_a:g} A from now"
            )
        case "credentials":
            return import_credentials(args)
        case "tail":
            asyncio.run(
                tail(
                    args.bootstrap_servers,
                    args.topic,
                    from_beginning=args.from_beginning,
                    station=args.station,
                    event_type=args.event_type,
                    limit=args.limit,
                    idle_s=args.idle,
                )
            )
    return Exit.OK


def import_credentials(args: argparse.Namespace) -> int:
    try:
        lines = credentials.read_file(args.file)
    except OSError as error:
        raise Failure(Exit.INVALID, f"{args.file}: {error.strerror}") from error
    rows, errors = credentials.read_rows(lines)
    if errors:
        for problem in errors:
            print(f"{args.file}: {problem}", file=sys.stderr)
        print(f"{len(errors)} bad rows: nothing was imported", file=sys.stderr)
        return Exit.INVALID
    progress = credentials.Progress(len(rows), sys.stderr, "stations")
    asyncio.run(
        credentials.import_rows(
            args.bootstrap_servers, rows, progress=progress.step, workers=args.workers
        )
    )
    print(f"{len(rows)} station credentials set on ocpp.credentials.v1")
    return Exit.OK


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["keys"]:  # the APIs' key tool (runtime/api_keys.py), as it is
        return keys_main(argv[1:], prog="chargebus keys")
    args = parser().parse_args(argv)
    try:
        return int(run(args))
    except Failure as stopped:
        print(f"chargebus: {stopped}", file=sys.stderr)
        return int(stopped.code)
    except (KafkaUnavailable, TopicMissing, PublishFailed) as error:
        print(f"chargebus: {error}", file=sys.stderr)
        return int(Exit.UNAVAILABLE)
    except KeyboardInterrupt:
        return int(Exit.OK)


if __name__ == "__main__":
    sys.exit(main())
