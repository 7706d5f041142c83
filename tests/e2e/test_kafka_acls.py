"""The KafkaUsers' ACLs (deploy/k8s) are enough and no more: every component runs as its own
SCRAM user against a broker that enforces them, a station charges end to end, a command goes
through; a user writing a topic it has no ACL for is refused."""

import asyncio
import json
import os
import secrets
import subprocess
import sys
import time
import tomllib
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiokafka import TopicPartition

from contracts.codec import decode
from contracts.events import EventType
from contracts.topics import SPECS, Topic
from runtime.kafka import (
    PublishFailed,
    reliable_producer,
    security_options,
    send_acknowledged,
    start_bounded,
)
from runtime.reading import everything, read, reader
from runtime.settings import kafka_security
from tests.integration.test_kafka_script import _free_port_pair, _script
from tests.support.gateway import ROOT, free_port
from tests.support.waiting import found
from tools.deploy import strimzi
from tools.deploy.components import COMPONENTS, Component

ADMIN = strimzi.ADMIN_USER
KAFKA_VERSION_DIR = next((ROOT / "deploy" / "local" / ".lib").glob("[0-9]*"))


@dataclass(frozen=True)
class AclBroker:
    bootstrap: str
    port: int
    data_dir: Path
    passwords: dict[str, Path]  # user -> a file holding its password

    def env(self, user: str) -> dict[str, str]:
        return {
            "KAFKA_BOOTSTRAP_SERVERS": self.bootstrap,
            "KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
            "KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
            "KAFKA_SASL_USERNAME": user,
            "KAFKA_SASL_PASSWORD_FILE": str(self.passwords[user]),
        }

    def client_options(self, user: str) -> dict[str, Any]:
        """aiokafka options for this test's own clients (the processes read their env)."""
        return security_options(kafka_security(self.env(user)))


def _kafka_acl_lines() -> list[str]:
    """The KafkaUsers' ACLs as deploy/k8s declares them, in Kafka's words."""
    lines = []
    for user in strimzi.users():
        acls = user["spec"].get("authorization", {}).get("acls", [])
        for acl in acls:
            resource = acl["resource"]
            pattern = {"literal": "literal", "prefix": "prefixed"}[resource["patternType"]]
            lines.append(
                f"User:{user['metadata']['name']} {resource['type']} {pattern} "
                f"{resource['name']} {','.join(acl['operations'])}"
            )
    return lines


@pytest.fixture(scope="module")
def acl_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AclBroker]:
    workdir = tmp_path_factory.mktemp("acl-broker")
    names = [c.kafka_user for c in COMPONENTS] + [ADMIN]
    passwords = {name: secrets.token_hex(16) for name in names}
    (workdir / "users").write_text("".join(f"{n} {p}\n" for n, p in passwords.items()))
    files = {}
    for name, password in passwords.items():
        files[name] = workdir / f"{name}.password"
        files[name].write_text(password)
    port = _free_port_pair()
    broker = AclBroker(f"127.0.0.1:{port}", port, workdir / "kafka", files)
    scram = {"KAFKA_SCRAM_USERS_FILE": str(workdir / "users"), "KAFKA_SUPER_USER": ADMIN}
    started = _script("start", port=port, data_dir=broker.data_dir, **scram)
    assert started.returncode == 0, started.stderr
    try:
        provisioned = subprocess.run(
            [sys.executable, "-m", "runtime", "provision"],
            env={**os.environ, **broker.env(ADMIN)},
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert provisioned.returncode == 0, provisioned.stderr
        (workdir / "acls").write_text("\n".join(_kafka_acl_lines()) + "\n")
        (workdir / "admin.properties").write_text(
            f"bootstrap.servers={broker.bootstrap}\n"
            "security.protocol=SASL_PLAINTEXT\nsasl.mechanism=SCRAM-SHA-512\n"
            "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required "
            f'username="{ADMIN}" password="{passwords[ADMIN]}";\n'
        )
        created = subprocess.run(
            [
                "java",
                "-cp",
                f"{KAFKA_VERSION_DIR}/*",
                str(ROOT / "tests" / "support" / "CreateAcls.java"),
                str(workdir / "admin.properties"),
                str(workdir / "acls"),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert created.returncode == 0, created.stdout + created.stderr
        yield broker
    finally:
        _script("stop", port=port, data_dir=broker.data_dir)


@dataclass
class Running:
    component: Component
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    def ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/readyz", timeout=2) as r:
                return bool(r.status == 200)
        except OSError:
            return False

    def text(self) -> str:
        return self.log.read_text(errors="replace")


def _command_line(component: Component, port: int, ws_port: int, ca: Path) -> list[str]:
    """The component's console script's module with the options a test needs (loopback, free
    ports); the consumer groups stay the defaults, which the ACLs name."""
    # The console script's module (pyproject.toml [project.scripts]), as `python -m`.
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    module = scripts[component.script].split(":")[0].removesuffix(".__main__")
    line = [sys.executable, "-m", module]
    if component.role == "gateway":
        return [
            *line,
            "--host=127.0.0.1",
            f"--port={ws_port}",
            "--http-host=127.0.0.1",
            f"--http-port={port}",
            "--security-profile=0",
        ]
    if component.role == "api":
        return [*line, "--host=127.0.0.1", f"--port={port}"]
    line += ["--http-host=127.0.0.1", f"--http-port={port}", "--offset-reset=earliest"]
    if component.role == "signer":
        line += [f"--ca-cert={ca / 'ca.pem'}", f"--ca-key={ca / 'ca.key'}"]
    return line


def _dev_ca(workdir: Path) -> Path:
    ca = workdir / "ca"
    made = subprocess.run(
        [sys.executable, "-m", "services.certificates", "dev-ca", str(ca)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert made.returncode == 0, made.stderr
    return ca


def _start(
    component: Component, broker: AclBroker, workdir: Path, ws_port: int, ca: Path
) -> Running:
    """The component as its own Kafka user (its default consumer groups, which the ACLs name)."""
    port = free_port()
    log = workdir / f"{component.name}.log"
    env = {
        **os.environ,
        **broker.env(component.kafka_user),
        "PYTHONPATH": str(ROOT),
        "SESSIONS_UNKNOWN_STATIONS": "Accepted",
    }
    with log.open("wb") as out:
        process = subprocess.Popen(
            _command_line(component, port, ws_port, ca),
            env=env,
            cwd=workdir,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return Running(component, port, process, log)


async def _call(port: int, method: str, path: str, key: str, body: object = None) -> object:
    """An API call as the operator; retried while the API has not read the new key yet."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        method=method,
    )
    for _ in range(100):
        try:
            with await asyncio.to_thread(urllib.request.urlopen, request, timeout=60) as answer:
                return json.loads(answer.read() or b"null")
        except urllib.error.HTTPError as refused:
            if refused.code != 401:
                detail = f"{method} {path}: {refused.code} {refused.read()!r}"
                raise AssertionError(detail) from None
            await asyncio.sleep(0.1)
    raise AssertionError(f"{method} {path}: the key was never accepted")


async def _until_online(port: int, key: str, station_id: str) -> None:
    """Polls the sessions API until it shows the station online (the simulator's process
    connects it; the API reads its presence from the gateway's topic)."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/stations/{station_id}",
        headers={"Authorization": f"Bearer {key}"},
    )

    async def online() -> bool:
        try:
            with await asyncio.to_thread(urllib.request.urlopen, request, timeout=10) as answer:
                return bool(json.loads(answer.read()).get("online"))
        except urllib.error.HTTPError as refused:
            if refused.code not in (401, 404):  # the key or the station not read yet
                raise AssertionError(f"GET /stations/{station_id}: {refused.code}") from None
            return False

    await found(online, f"{station_id} online", limit_s=60)


async def _configure(running: dict[str, "Running"], key: str) -> None:
    """Through each API, so that each writes as its own user: the stations' card (sessions
    API), a tariff for every station (billing API), a site of both stations (load balancing)."""
    sessions, billing = running["sessions-api"].port, running["billing-api"].port
    await _call(
        sessions, "PUT", "/tokens/ACL-CARD", key, {"type": "ISO14443", "status": "Accepted"}
    )
    tariff = {
        "country_code": "NL",
        "party_id": "CBS",
        "currency": "EUR",
        "last_updated": "2026-11-26T00:00:00Z",
        "elements": [{"price_components": [{"type": "ENERGY", "price": 0.35, "step_size": 1}]}],
    }
    await _call(billing, "PUT", "/tariffs/ACL-AC", key, tariff)
    await _call(billing, "PUT", "/tariff-assignments/default", key, {"tariff_id": "ACL-AC"})
    site = {"capacity_a": 32, "phases": 3, "stations": ["ACL00001", "ACL00002"]}
    await _call(running["loadbalance-api"].port, "PUT", "/sites/ACL-SITE", key, site)


def _stations(ws_port: int) -> subprocess.Popen[bytes]:
    """Two simulated stations (1.6 and 2.0.1) that boot and charge short sessions for 25 s."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tools.simulator",
            f"--url=ws://127.0.0.1:{ws_port}/ocpp",
            "--stations=2",
            "--prefix=ACL",
            "--version=mixed",
            "--duration=25",
            "--session-length=3",
            "--meter-interval=1",
            "--idle=2",
            "--id-token=ACL-CARD",
            "--expect-accepted=all",
            "--quiet",
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


@asynccontextmanager
async def every_component(
    broker: AclBroker, workdir: Path
) -> AsyncIterator[tuple[dict[str, Running], int]]:
    """Every component as its own Kafka user, ready; and the gateway's WebSocket port."""
    ca = _dev_ca(workdir)
    ws_port = free_port()
    running: dict[str, Running] = {}
    try:
        for component in COMPONENTS:
            running[component.name] = _start(component, broker, workdir, ws_port, ca)
        deadline = time.monotonic() + 120
        waiting = set(running)
        while waiting and time.monotonic() < deadline:
            for name in list(waiting):
                assert running[name].process.poll() is None, running[name].text()[-3000:]
                if running[name].ready():
                    waiting.discard(name)
            await asyncio.sleep(0.5)
        assert not waiting, {name: running[name].text()[-2000:] for name in waiting}
        yield running, ws_port
    finally:
        for one in running.values():
            if one.process.poll() is None:
                one.process.terminate()
        for one in running.values():
            try:
                one.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                one.process.kill()


async def _records(broker: AclBroker, topic: str) -> list[tuple[str, str]]:
    """(key, event type) of every record of ``topic`` up to its end, read as the admin."""
    async with reader(broker.bootstrap, **broker.client_options(ADMIN)) as kafka:
        partitions = [TopicPartition(topic, p) for p in range(SPECS[Topic(topic)].partitions)]
        starts, ends = await everything(kafka, partitions)
        return [
            (decode(r.value).key, decode(r.value).event_type)
            async for _, records in read(kafka, starts, ends, timeout_ms=1000)
            for r in records
            if r.value is not None
        ]


def _api_key(broker: AclBroker) -> str:
    made = subprocess.run(
        [
            sys.executable,
            "-m",
            "services.sessions.api",
            "keys",
            "create",
            "acl-test",
            "--role",
            "operator",
        ],
        env={**os.environ, **broker.env(ADMIN), "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert made.returncode == 0, made.stderr
    return made.stdout.strip().splitlines()[-1]


async def test_every_component_works_with_exactly_its_acls(
    acl_broker: AclBroker, tmp_path: Path
) -> None:
    key = _api_key(acl_broker)
    async with every_component(acl_broker, tmp_path) as (running, ws_port):
        await _configure(running, key)
        station_run = _stations(ws_port)
        await _until_online(running["sessions-api"].port, key, "ACL00001")
        outcome = await _call(
            running["sessions-api"].port,
            "POST",
            "/stations/ACL00001/commands/TriggerMessage",
            key,
            {"message": "Heartbeat"},
        )
        assert isinstance(outcome, dict)
        assert outcome["outcome"] == "Answered", outcome
        out, _ = await asyncio.to_thread(station_run.communicate, timeout=60)
        assert station_run.returncode == 0, out.decode(errors="replace")[-3000:]
        await asyncio.sleep(3)  # the last CDRs
        for one in running.values():
            log = one.text()
            assert "AuthorizationFailed" not in log, f"{one.component.name}: {log[-3000:]}"
            assert "AuthorizationException" not in log, f"{one.component.name}: {log[-3000:]}"
            assert one.process.poll() is None, log[-3000:]
    sessions = await _records(acl_broker, Topic.SESSIONS)
    ended = [k for k, t in sessions if t == EventType.SESSION_ENDED]
    assert any(k.startswith("ACL") for k in ended), sorted({t for _, t in sessions})
    cdrs = await _records(acl_broker, Topic.CDRS)
    assert any(k.startswith("ACL") for k, _ in cdrs), cdrs
    limits = await _records(acl_broker, Topic.LIMITS)
    assert any(k == "ACL-SITE" for k, _ in limits), limits


async def test_a_user_is_refused_a_topic_it_has_no_acl_for(acl_broker: AclBroker) -> None:
    producer = reliable_producer(
        acl_broker.bootstrap, **acl_broker.client_options("chargebus-gateway")
    )
    await start_bounded(producer, acl_broker.bootstrap, 15)
    try:
        with pytest.raises(PublishFailed, match="TopicAuthorization"):
            await send_acknowledged(producer, Topic.SESSIONS, b"CS1", b"x", timeout_s=10)
    finally:
        await producer.stop()
