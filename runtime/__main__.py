"""`python -m runtime`: list the declared topics, or provision them on the broker (I/O)."""

import argparse
import asyncio
import os
import sys

from contracts.topics import SPECS
from runtime.kafka import DEFAULT_CONNECT_TIMEOUT_S, KafkaUnavailable, admin_client, start_bounded
from runtime.provision import Action, provision
from runtime.settings import BOOTSTRAP_ENV, bootstrap_servers


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m runtime",
        description="chargebus topic contracts. The broker address comes from "
        f"{BOOTSTRAP_ENV} (default 127.0.0.1:9092).",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("topics", help="print every declared topic with key, partitions, cleanup")
    prov = commands.add_parser(
        "provision",
        help="create every topic (or bring it to its declaration); safe to run again",
        description="Create every declared topic with its partitions and configuration. "
        "Existing topics get missing partitions and declared configs; nothing is deleted.",
    )
    prov.add_argument("--bootstrap-servers", default=bootstrap_servers(os.environ))
    prov.add_argument("--replication-factor", type=int, default=1)
    prov.add_argument(
        "--timeout", type=float, default=DEFAULT_CONNECT_TIMEOUT_S, help="seconds to reach Kafka"
    )
    return parser


async def _provision(args: argparse.Namespace) -> int:
    admin = admin_client(args.bootstrap_servers)
    await start_bounded(admin, args.bootstrap_servers, args.timeout)
    try:
        async with asyncio.timeout(args.timeout * 4):
            outcomes = await provision(
                admin, SPECS.values(), replication_factor=args.replication_factor
            )
    finally:
        await admin.close()
    width = max(len(o.topic) for o in outcomes)
    for outcome in outcomes:
        print(f"{outcome.action:<9} {outcome.topic:<{width}}  {outcome.detail}")
    return 1 if any(o.action is Action.FAILED for o in outcomes) else 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "topics":
        for spec in SPECS.values():
            print(
                f"{spec.topic:<24} key={spec.key:<12} partitions={spec.partitions:<3} "
                f"cleanup.policy={spec.cleanup_policy}"
            )
        return 0
    try:
        return asyncio.run(_provision(args))
    except KafkaUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except TimeoutError:
        print(f"error: provisioning did not finish within {args.timeout * 4:g}s", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
