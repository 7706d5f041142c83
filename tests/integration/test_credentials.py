"""gateway.credentials against the real broker: publish, revoke, follow, readiness, the CLI."""

import asyncio
import io
import logging
import socket
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from contracts import codec
from gateway.core.auth import (
    AuthResult,
    CredentialStore,
    SecurityProfile,
    check_basic_auth,
    credential_envelope,
    hash_password,
    verify_password,
)
from gateway.credentials import (
    CredentialFollower,
    credentials_main,
    publish_credential,
    revoke_credential,
)
from runtime.kafka import KafkaUnavailable, TopicMissing, reliable_producer, start_bounded
from tests.conftest import NewTopicFactory

REPO = Path(__file__).resolve().parents[2]
PASSWORD = b"correct-horse-battery-staple"
KEY_16_HEX = b"3132333435363738393031323334353637383930"  # a 1.6 AuthorizationKey
TIMEOUT_S = 20.0


async def compacted_topic(new_topic: NewTopicFactory) -> str:
    return await new_topic(partitions=4, **{"cleanup.policy": "compact"})


async def eventually(condition: Callable[[], bool], timeout_s: float = TIMEOUT_S) -> None:
    for _ in range(int(timeout_s / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    pytest.fail(f"not true within {timeout_s:g}s")


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.mark.kafka
async def test_a_follower_sees_a_published_credential_and_its_revocation(
    kafka_bootstrap: str, new_topic: NewTopicFactory
) -> None:
    topic = await compacted_topic(new_topic)
    store = CredentialStore()
    async with CredentialFollower(kafka_bootstrap, store, topic=topic) as follower:
        async with asyncio.timeout(TIMEOUT_S):
            await follower.ready.wait()  # an empty topic is read at once
        await publish_credential(kafka_bootstrap, "CS001", PASSWORD, topic=topic)
        await eventually(lambda: "CS001" in store)
        credential = store.lookup("CS001")
        assert credential is not None
        assert credential.password_hash is not None
        assert verify_password(credential.password_hash, PASSWORD)
        header = "Basic Q1MwMDE6Y29ycmVjdC1ob3JzZS1iYXR0ZXJ5LXN0YXBsZQ=="  # CS001:PASSWORD
        assert check_basic_auth("CS001", header, store) is AuthResult.ACCEPTED

        await revoke_credential(kafka_bootstrap, "CS001", topic=topic)
        await eventually(lambda: "CS001" not in store)
        assert check_basic_auth("CS001", header, store) is AuthResult.UNKNOWN_STATION


@pytest.mark.kafka
async def test_a_follower_started_later_reads_everything_before_it_is_ready(
    kafka_bootstrap: str, new_topic: NewTopicFactory, caplog: pytest.LogCaptureFixture
) -> None:
    topic = await compacted_topic(new_topic)
    stations = [f"CS{i:03}" for i in range(12)]
    await asyncio.gather(
        *[publish_credential(kafka_bootstrap, s, PASSWORD, topic=topic) for s in stations]
    )
    await publish_credential(
        kafka_bootstrap,
        "CS16",
        KEY_16_HEX,
        topic=topic,
        allowed_profiles=[SecurityProfile.TLS_BASIC_AUTH],
    )
    await revoke_credential(kafka_bootstrap, "CS000", topic=topic)
    producer = reliable_producer(kafka_bootstrap)
    await start_bounded(producer, kafka_bootstrap, TIMEOUT_S)
    try:
        garbage = await producer.send_and_wait(topic, b"\xc1 not msgpack", key=b"CS001")
        # (A compacted topic refuses records without a key: the broker checks that for us.)
        await producer.send_and_wait(topic, b"whatever", key=b"\xff not UTF-8")
        other = credential_envelope("CS999", hash_password(PASSWORD), set_at=datetime.now(UTC))
        await producer.send_and_wait(topic, codec.encode(other), key=b"CS002")
    finally:
        await producer.stop()

    store = CredentialStore()
    caplog.set_level(logging.WARNING, logger="gateway.credentials")
    async with CredentialFollower(kafka_bootstrap, store, topic=topic) as follower:
        async with asyncio.timeout(TIMEOUT_S):
            await follower.ready.wait()
        # Everything that was on the topic at start() is in the store once ready is set.
        assert len(store) == 12  # CS001..CS011 and CS16; CS000 was revoked
        assert "CS000" not in store
        for station in stations[3:]:
            credential = store.lookup(station)
            assert credential is not None
            assert credential.password_hash is not None
        # Unreadable latest records refuse their station instead of keeping the old password.
        for refused in ("CS001", "CS002"):
            credential = store.lookup(refused)
            assert credential is not None
            assert credential.password_hash is None
        credential_16 = store.lookup("CS16")
        assert credential_16 is not None
        assert credential_16.password_hash is not None
        assert verify_password(credential_16.password_hash, bytes.fromhex(KEY_16_HEX.decode()))
        assert credential_16.allowed_profiles == frozenset({SecurityProfile.TLS_BASIC_AUTH})
    where = f"{topic}[{garbage.partition}]@{garbage.offset}"
    assert any(where in r.getMessage() for r in caplog.records), caplog.text
    assert "the key is not UTF-8" in caplog.text
    assert "$argon2id$" not in caplog.text  # A01.FR.09: no secrets in logs


@pytest.mark.kafka
async def test_a_missing_topic_is_reported(kafka_bootstrap: str) -> None:
    follower = CredentialFollower(kafka_bootstrap, CredentialStore(), topic="test-missing-topic")
    with pytest.raises(TopicMissing, match="provision"):
        await follower.start()
    assert not follower.ready.is_set()


async def test_an_unreachable_broker_fails_within_the_timeout() -> None:
    address = f"127.0.0.1:{closed_port()}"
    started = time.monotonic()
    with pytest.raises(KafkaUnavailable):
        await CredentialFollower(address, CredentialStore(), connect_timeout_s=2).start()
    with pytest.raises(KafkaUnavailable):
        await publish_credential(address, "CS001", PASSWORD, timeout_s=2)
    assert time.monotonic() - started < 10


# --- the CLI ---------------------------------------------------------------------------------


@pytest.mark.kafka
async def test_the_cli_sets_and_revokes_without_printing_the_secret(
    kafka_bootstrap: str, new_topic: NewTopicFactory
) -> None:
    topic = await compacted_topic(new_topic)
    store = CredentialStore()
    options = ["--topic", topic, "--bootstrap-servers", kafka_bootstrap, "--timeout", "10"]
    async with CredentialFollower(kafka_bootstrap, store, topic=topic):
        code, out, err = await run_cli(["set", "CS-CLI", *options], stdin=PASSWORD + b"\n")
        assert code == 0, err
        assert "CS-CLI" in out
        assert PASSWORD.decode() not in out + err
        assert "argon2" not in out + err
        await eventually(lambda: "CS-CLI" in store)
        credential = store.lookup("CS-CLI")
        assert credential is not None
        assert credential.password_hash is not None
        assert verify_password(credential.password_hash, PASSWORD)  # the newline was stripped

        code, out, err = await run_cli(["revoke", "CS-CLI", *options], stdin=b"")
        assert code == 0, err
        assert "revoked" in out
        await eventually(lambda: "CS-CLI" not in store)


async def run_cli(argv: list[str], *, stdin: bytes) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "gateway",  # the documented entry point: python -m gateway credentials ...
        "credentials",
        *argv,
        cwd=REPO,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(60):
        out, err = await process.communicate(stdin)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


@pytest.mark.parametrize(
    ("stdin", "message"),
    [("", "empty"), ("\n", "empty"), ("short\n", "16 to 64"), ("x" * 65 + "\n", "16 to 64")],
)
def test_the_cli_refuses_a_bad_password(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], stdin: str, message: str
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    address = f"127.0.0.1:{closed_port()}"  # refused before Kafka is contacted
    assert credentials_main(["set", "CS001", "--bootstrap-servers", address]) == 2
    assert message in capsys.readouterr().err


def test_the_cli_refuses_a_station_id_with_a_colon(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(PASSWORD.decode() + "\n"))
    assert credentials_main(["set", "CS:001"]) == 2
    assert "':'" in capsys.readouterr().err


def test_the_cli_fails_fast_without_a_broker(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(PASSWORD.decode() + "\n"))
    address = f"127.0.0.1:{closed_port()}"
    started = time.monotonic()
    argv = ["set", "CS001", "--bootstrap-servers", address, "--timeout", "2"]
    assert credentials_main(argv) == 2
    assert time.monotonic() - started < 10
    captured = capsys.readouterr()
    assert "unreachable" in captured.err
    assert PASSWORD.decode() not in captured.out + captured.err


def test_the_cli_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        credentials_main(["set", "--help"])
    assert exit_info.value.code == 0
    assert "--allowed-profiles" in capsys.readouterr().out


def test_the_cli_refuses_unknown_profiles(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        credentials_main(["set", "CS001", "--allowed-profiles", "2,4"])
    assert exit_info.value.code == 2
    assert "profiles 1-3" in capsys.readouterr().err
