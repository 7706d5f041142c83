"""`chargebus credentials import` and `chargebus tail` against the real broker (subprocesses)."""

import json
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer

from contracts.codec import encode
from contracts.payloads.credentials import CredentialSet
from contracts.payloads.stations import StationStatusChanged
from contracts.topics import Topic
from gateway.core.auth import verify_password
from tests.support.gateway import TopicTail

ROOT = Path(__file__).resolve().parents[2]


def chargebus(bootstrap: str, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tools.cli", f"--bootstrap-servers={bootstrap}", *argv],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_credentials_import_hashes_every_row_and_never_prints_a_password(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    prefix = f"IMP-{uuid.uuid4().hex[:6]}"
    passwords = {f"{prefix}-{n:03d}": f"pw-{uuid.uuid4().hex}" for n in range(60)}
    csv = tmp_path / "stations.csv"
    csv.write_text(
        "station_id,password,allowed_profiles\n"
        + "".join(
            f"{sid},{pw},{'2' if n % 2 else ''}\n" for n, (sid, pw) in enumerate(passwords.items())
        )
    )
    async with TopicTail(kafka_bootstrap, Topic.CREDENTIALS) as tail:
        done = chargebus(kafka_bootstrap, "credentials", "import", str(csv))
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == "60 station credentials set on ocpp.credentials.v1"
        assert "60/60 stations" in done.stderr  # the progress, as lines off a terminal
        seen: dict[str, CredentialSet] = {}
        while len(seen) < len(passwords):
            record = await tail.next(lambda e: e.key.startswith(prefix), 20)
            credential = CredentialSet.parse(record.envelope)
            seen[credential.station_id] = credential
    for output in (done.stdout, done.stderr):
        assert not any(pw in output for pw in passwords.values())
    first, second = sorted(seen)[:2]
    assert verify_password(seen[first].password_hash, passwords[first].encode())
    assert seen[first].allowed_profiles is None
    assert seen[second].allowed_profiles == (2,)


async def test_a_bad_row_imports_nothing(kafka_bootstrap: str, tmp_path: Path) -> None:
    prefix = f"BAD-{uuid.uuid4().hex[:6]}"
    csv = tmp_path / "stations.csv"
    csv.write_text(f"station_id,password\n{prefix}-1,{'y' * 20}\n{prefix}-2,short\n")
    async with TopicTail(kafka_bootstrap, Topic.CREDENTIALS) as tail:
        done = chargebus(kafka_bootstrap, "credentials", "import", str(csv))
        assert done.returncode == 3
        assert f"line 3 ({prefix}-2)" in done.stderr
        assert "nothing was imported" in done.stderr
        with pytest.raises(TimeoutError):  # nothing of the file was written
            await tail.next(lambda e: e.key.startswith(prefix), 3)


async def test_tail_prints_a_stations_records_as_json_lines(kafka_bootstrap: str) -> None:
    station_id = f"TAIL-{uuid.uuid4().hex[:8]}"
    now = datetime.now(UTC)
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    try:
        for status in ("Available", "Faulted"):
            event = StationStatusChanged(
                station_id=station_id,
                evse_id=1,
                connector_id=1,
                status=status,
                error_code=None,
                at=now,
            ).event()
            await producer.send_and_wait(
                Topic.STATIONS, encode(event.envelope(occurred_at=now)), key=station_id.encode()
            )
    finally:
        await producer.stop()
    done = chargebus(
        kafka_bootstrap,
        "tail",
        "stations.v1",
        "--from-beginning",
        "--station",
        station_id,
        "--limit",
        "2",
    )
    assert done.returncode == 0, done.stderr
    printed = [json.loads(text) for text in done.stdout.splitlines()]
    assert [p["payload"]["status"] for p in printed] == ["Available", "Faulted"]
    assert {p["event_type"] for p in printed} == {"StationStatusChanged"}
    none = chargebus(
        kafka_bootstrap,
        "tail",
        "stations.v1",
        "--from-beginning",
        "--station",
        station_id,
        "--type",
        "StationBooted",
        "--idle",
        "2",
    )
    assert (none.returncode, none.stdout) == (0, "")
