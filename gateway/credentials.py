"""Station passwords on Kafka: publish and revoke hashes, follow ocpp.credentials.v1, the CLI (I/O).

Record on ocpp.credentials.v1 (compacted, key = station_id UTF-8): an Envelope (event_type
"CredentialSet", schema_version 1, payload {station_id, password_hash, algorithm "argon2id",
allowed_profiles}), or a tombstone (value None) that revokes the station. Never logs or prints a
password or a hash (A01.FR.09).
"""

import argparse
import asyncio  # noqa: TID251 - I/O shell: the Kafka producer, the follower task, the CLI
import getpass
import logging
import os
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition  # noqa: TID251 - I/O shell
from aiokafka.errors import KafkaError  # noqa: TID251 - I/O shell

from contracts import codec
from contracts.errors import DecodeError
from contracts.kafka import (
    DEFAULT_CONNECT_TIMEOUT_S,
    KafkaUnavailable,
    admin_client,
    consumer,
    reliable_producer,
    start_bounded,
)
from contracts.settings import BOOTSTRAP_ENV, bootstrap_servers
from contracts.topics import Topic
from gateway.auth import (
    CredentialStore,
    InvalidCredential,
    InvalidStationId,
    PasswordPolicyViolation,
    SecurityProfile,
    check_new_password,
    check_station_id,
    credential_envelope,
    hash_password,
)

log = logging.getLogger(__name__)


class CredentialTopicMissing(Exception):
    """The credentials topic does not exist on the broker (not provisioned)."""


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
        KafkaError, TimeoutError: if the broker did not acknowledge the record in time.
    """
    check_station_id(station_id)
    check_new_password(password)
    password_hash = await asyncio.to_thread(hash_password, password)  # ~17 ms of CPU
    envelope = credential_envelope(
        station_id, password_hash, set_at=datetime.now(UTC), allowed_profiles=allowed_profiles
    )
    await _send(bootstrap_servers, topic, station_id, codec.encode(envelope), timeout_s)


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
        KafkaError, TimeoutError: if the broker did not acknowledge the record in time.
    """
    check_station_id(station_id)
    await _send(bootstrap_servers, topic, station_id, None, timeout_s)


async def _send(
    bootstrap_servers: str, topic: str, station_id: str, value: bytes | None, timeout_s: float
) -> None:
    producer = reliable_producer(bootstrap_servers)  # idempotent, acks=all
    await start_bounded(producer, bootstrap_servers, timeout_s)
    try:
        async with asyncio.timeout(timeout_s):
            await producer.send_and_wait(topic, value, key=station_id.encode())
    finally:
        await producer.stop()


class CredentialFollower:
    """Keeps a CredentialStore equal to the credentials topic: all of it, then live.

    Manual assignment of every partition from the beginning, no consumer group and no commits:
    every gateway holds every station. ``ready`` is set once each partition was read up to the
    end offset it had at ``start()`` (the gateway's /readyz waits for it).
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
        self.store = store
        self.ready = asyncio.Event()
        self._bootstrap_servers = bootstrap_servers
        self._topic = topic
        self._connect_timeout_s = connect_timeout_s
        self._poll_timeout_ms = poll_timeout_ms
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None
        self._catching_up: dict[TopicPartition, int] = {}  # partition -> end offset at start

    async def start(self) -> None:
        """Assign every partition from the beginning and start following in a task.

        Raises:
            KafkaUnavailable: if the broker cannot be reached within the connect timeout.
            CredentialTopicMissing: if the topic does not exist.
        """
        partitions = await self._partitions()
        kafka = consumer(self._bootstrap_servers, group_id=None)
        await start_bounded(kafka, self._bootstrap_servers, self._connect_timeout_s)
        try:
            async with asyncio.timeout(self._connect_timeout_s):
                assigned = [TopicPartition(self._topic, p) for p in partitions]
                kafka.assign(assigned)
                await kafka.seek_to_beginning(*assigned)
                end_offsets: dict[TopicPartition, int] = await kafka.end_offsets(assigned)
        except TimeoutError as exc:
            await kafka.stop()
            raise KafkaUnavailable(
                f"Kafka at {self._bootstrap_servers} did not give the offsets of "
                f"{self._topic} within {self._connect_timeout_s:g}s"
            ) from exc
        except BaseException:
            await kafka.stop()
            raise
        self._consumer = kafka
        self._catching_up = {tp: end for tp, end in end_offsets.items() if end > 0}
        if not self._catching_up:
            self._set_ready()
        self._task = asyncio.create_task(self._follow(kafka), name=f"follow {self._topic}")

    async def _partitions(self) -> list[int]:
        admin = admin_client(self._bootstrap_servers)
        await start_bounded(admin, self._bootstrap_servers, self._connect_timeout_s)
        try:
            async with asyncio.timeout(self._connect_timeout_s):
                while True:
                    [topic] = await admin.describe_topics([self._topic])
                    if topic["error_code"] == 3:  # UNKNOWN_TOPIC_OR_PARTITION
                        raise CredentialTopicMissing(
                            f"topic {self._topic} does not exist; "
                            "run `python -m contracts provision`"
                        )
                    partitions = topic["partitions"]
                    if topic["error_code"] == 0 and all(p["leader"] >= 0 for p in partitions):
                        return sorted(p["partition"] for p in partitions)
                    await asyncio.sleep(0.1)  # a topic just created may have no leader yet
        except TimeoutError as exc:
            raise KafkaUnavailable(
                f"Kafka at {self._bootstrap_servers} did not describe {self._topic} "
                f"within {self._connect_timeout_s:g}s"
            ) from exc
        finally:
            await admin.close()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if self._consumer is not None:
            await self._consumer.stop()
            self._consumer = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    async def _follow(self, kafka: AIOKafkaConsumer) -> None:
        while True:
            try:
                batches: dict[TopicPartition, list[ConsumerRecord[Any, Any]]] = await kafka.getmany(
                    timeout_ms=self._poll_timeout_ms
                )
                for records in batches.values():
                    for record in records:
                        self._apply(record)
                if self._catching_up:
                    await self._check_caught_up(kafka)
            except Exception:  # the loop's one broad except: log, back off, keep following
                log.exception("following %s failed; retrying in 1 s", self._topic)
                await asyncio.sleep(1)

    async def _check_caught_up(self, kafka: AIOKafkaConsumer) -> None:
        for tp, end in list(self._catching_up.items()):
            # aiokafka moves the position past batches that compaction emptied, so a partition
            # whose last records were compacted away still reaches its end offset.
            if await kafka.position(tp) >= end:
                del self._catching_up[tp]
        if not self._catching_up:
            self._set_ready()

    def _set_ready(self) -> None:
        self.ready.set()
        log.info("read %s: %d station credentials", self._topic, len(self.store))

    def _apply(self, record: ConsumerRecord[Any, Any]) -> None:
        where = f"{record.topic}[{record.partition}]@{record.offset}"
        key: bytes | None = record.key
        try:
            station_id = key.decode("utf-8") if key is not None else None
        except UnicodeDecodeError:
            station_id = None
        if station_id is None:
            log.warning("skipping %s: the key is not a UTF-8 station id", where)
            return
        value: bytes | None = record.value
        if value is None:  # tombstone: the station was revoked
            self.store.remove(station_id)
            return
        try:
            envelope = codec.decode(value)
            if envelope.key != station_id:
                raise InvalidCredential(f"envelope key {envelope.key!r} is not the record key")
            self.store.apply(envelope)
        except (DecodeError, InvalidCredential) as exc:
            # DecodeError's text may quote the record, hence a hash: only InvalidCredential's
            # own messages (which never hold one) are logged.
            reason = str(exc) if isinstance(exc, InvalidCredential) else "not an envelope"
            log.warning(
                "skipping %s for %s, refusing the station until fixed: %s",
                where,
                station_id,
                reason,
            )
            self.store.invalidate(station_id)


# --- CLI: python -m gateway credentials {set,revoke} STATION_ID --------------------------------


def _profiles_arg(text: str) -> frozenset[SecurityProfile]:
    try:
        return frozenset(SecurityProfile(int(p)) for p in text.split(","))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"expected profiles 1-3 like '2' or '1,2': {text}"
        ) from exc


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--bootstrap-servers",
        default=bootstrap_servers(os.environ),
        help=f"Kafka bootstrap servers (default: ${BOOTSTRAP_ENV}, else 127.0.0.1:9092)",
    )
    common.add_argument(
        "--topic",
        default=str(Topic.CREDENTIALS),
        help="the credentials topic (default: %(default)s)",
    )
    common.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_CONNECT_TIMEOUT_S,
        help="seconds to reach Kafka and to get the record acknowledged (default: %(default)g)",
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
    except (KafkaError, TimeoutError) as exc:
        reason = str(exc) or type(exc).__name__
        print(f"error: the broker did not acknowledge: {reason}", file=sys.stderr)  # noqa: T201
        return 1
    print(done)  # noqa: T201 - CLI output, without the secret
    return 0


if __name__ == "__main__":
    sys.exit(credentials_main(sys.argv[1:]))
