"""Station passwords on Kafka: publish and revoke hashes, follow ocpp.credentials.v1, the CLI (I/O).

Record on ocpp.credentials.v1 (compacted, key = station_id UTF-8): an Envelope (event_type
"CredentialSet", schema_version 1, payload {station_id, password_hash, algorithm "argon2id",
allowed_profiles}), or a tombstone (value None) that revokes the station. Never logs or prints a
password or a hash (A01.FR.09).
"""

import argparse
import asyncio
import getpass
import logging
import os
import sys
from collections.abc import Iterable
from datetime import UTC, datetime

from contracts import codec
from contracts.envelope import Envelope
from contracts.topics import Topic
from gateway.core.auth import (
    CredentialStore,
    InvalidStationId,
    PasswordPolicyViolation,
    SecurityProfile,
    check_new_password,
    check_station_id,
    credential_envelope,
    hash_password,
)
from runtime.follower import Follower
from runtime.kafka import (
    DEFAULT_CONNECT_TIMEOUT_S,
    KafkaUnavailable,
    PublishFailed,
    publish_once,
)
from runtime.settings import tool_arguments

log = logging.getLogger(__name__)


async def publish_credential(
    bootstrap_servers: str,
    station_id: str,
    password: bytes,
    *,
    allowed_profiles: Iterable[SecurityProfile] | None = None,
    topic: str = Topic.CREDENTIALS,
    timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S,
) -> None:
    """Hash ``password`` (Argon2id) and publish it as the station's credential.

    Raises:
        InvalidStationId, PasswordPolicyViolation: before anything is hashed or sent.
        KafkaUnavailable: if the broker cannot be reached within ``timeout_s``.
        PublishFailed: if the broker did not acknowledge the record in time.
    """
    check_station_id(station_id)
    check_new_password(password)
    password_hash = await asyncio.to_thread(hash_password, password)  # ~17 ms of CPU
    envelope = credential_envelope(
        station_id, password_hash, set_at=datetime.now(UTC), allowed_profiles=allowed_profiles
    )
    await publish_once(bootstrap_servers, topic, station_id, codec.encode(envelope), timeout_s)


async def revoke_credential(
    bootstrap_servers: str,
    station_id: str,
    *,
    topic: str = Topic.CREDENTIALS,
    timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S,
) -> None:
    """Publish a tombstone: gateways forget the station, compaction drops its hashes.

    Raises:
        InvalidStationId: before anything is sent.
        KafkaUnavailable: if the broker cannot be reached within ``timeout_s``.
        PublishFailed: if the broker did not acknowledge the record in time.
    """
    check_station_id(station_id)
    await publish_once(bootstrap_servers, topic, station_id, None, timeout_s)


class CredentialFollower(Follower):
    """Keeps a CredentialStore equal to the credentials topic: all of it, then live.

    Every gateway holds every station. A record that cannot be read locks its station out
    until a valid record replaces it: keeping the old password would let a replaced (maybe
    leaked) one in, dropping the station would let anyone in under --accept-unknown-stations.
    """

    def __init__(
        self,
        bootstrap_servers: str,
        store: CredentialStore,
        *,
        topic: str = Topic.CREDENTIALS,
        connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S,
        poll_timeout_ms: int = 500,
    ) -> None:
        super().__init__(
            bootstrap_servers,
            [topic],
            self._apply,
            connect_timeout_s=connect_timeout_s,
            poll_timeout_ms=poll_timeout_ms,
            on_rejected=self._rejected,
            describe=lambda: f"{topic}: {len(store)} station credentials",
        )
        self.store = store

    def _apply(self, _: str, key: str, envelope: Envelope | None) -> None:
        if envelope is None:
            self.store.remove(key)  # the station was revoked
        else:
            self.store.apply(envelope)  # raises InvalidCredential, a RecordRejected

    def _rejected(self, _: str, key: str | None) -> None:
        if key is not None:
            self.store.invalidate(key)


# --- CLI: python -m gateway credentials {set,revoke} STATION_ID --------------------------------


def _profiles_arg(text: str) -> frozenset[SecurityProfile]:
    try:
        return frozenset(SecurityProfile(int(p)) for p in text.split(","))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"expected profiles 1-3 like '2' or '1,2': {text}"
        ) from exc


def _parser() -> argparse.ArgumentParser:
    common = tool_arguments(os.environ, DEFAULT_CONNECT_TIMEOUT_S)
    common.add_argument(
        "--topic",
        default=str(Topic.CREDENTIALS),
        help="the credentials topic (default: %(default)s)",
    )
    parser = argparse.ArgumentParser(
        prog="python -m gateway credentials",
        description="Set or revoke a station's HTTP Basic password (security profiles 1 and 2). "
        "Only an Argon2id hash is published, on the compacted credentials topic.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    set_command = commands.add_parser(
        "set",
        parents=[common],
        help="read a password from standard input and publish its hash",
        description="Reads one line from standard input (or prompts on a terminal): a 2.0.1 "
        "BasicAuthPassword (16-64 characters) or a 1.6 AuthorizationKey as 32-40 hex digits. "
        "The password is never taken from the command line.",
    )
    set_command.add_argument("station_id", help="the station identity (the URL's last segment)")
    set_command.add_argument(
        "--allowed-profiles",
        type=_profiles_arg,
        default=None,
        help="security profiles this password is accepted on, e.g. '2' for TLS only (default: any)",
    )
    revoke_command = commands.add_parser(
        "revoke",
        parents=[common],
        help="publish a tombstone: the station can no longer authenticate with a password",
    )
    revoke_command.add_argument("station_id")
    return parser


def _read_password(station_id: str) -> bytes:
    if sys.stdin.isatty():
        text = getpass.getpass(f"password for {station_id}: ")
    else:
        text = sys.stdin.readline().removesuffix("\n").removesuffix("\r")
    return text.encode("utf-8")


def credentials_main(argv: list[str]) -> int:
    """``python -m gateway credentials set|revoke STATION_ID``; returns the exit status."""
    args = _parser().parse_args(argv)
    station_id: str = args.station_id
    try:
        check_station_id(station_id)
        if args.command == "set":
            password = _read_password(station_id)
            asyncio.run(
                publish_credential(
                    args.bootstrap_servers,
                    station_id,
                    password,
                    allowed_profiles=args.allowed_profiles,
                    topic=args.topic,
                    timeout_s=args.timeout,
                )
            )
            done = f"password hash set for station {station_id} on {args.topic}"
        else:
            asyncio.run(
                revoke_credential(
                    args.bootstrap_servers, station_id, topic=args.topic, timeout_s=args.timeout
                )
            )
            done = f"credential revoked (tombstone) for station {station_id} on {args.topic}"
    except (InvalidStationId, PasswordPolicyViolation, KafkaUnavailable) as exc:
        print(f"error: {exc}", file=sys.stderr)  # noqa: T201 - CLI output
        return 2
    except PublishFailed as exc:
        print(f"error: the broker did not acknowledge: {exc}", file=sys.stderr)  # noqa: T201
        return 1
    print(done)  # noqa: T201 - CLI output, without the secret
    return 0


if __name__ == "__main__":
    sys.exit(credentials_main(sys.argv[1:]))
