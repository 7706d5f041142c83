"""The simulator against the in-process responder over real sockets on 127.0.0.1."""

import asyncio
import datetime
import ipaddress
import json
import ssl
import sys
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

from tools.simulator.frames import CallResult
from tools.simulator.processes import run_processes
from tools.simulator.report import Progress
from tools.simulator.responder import serve_responder
from tools.simulator.runner import SimulatorConfig, run
from tools.simulator.station import Behaviour

ROOT = Path(__file__).resolve().parents[2]
OCCURENCE_16 = "OccurenceConstraintViolation"  # sic: the 1.6 wire keeps the typo
IDLE = Behaviour(sessions=False)
FAST = Behaviour(session_length_s=1.0, meter_interval_s=0.3, idle_s=0.3, call_timeout_s=5.0)
STATION_ACTIONS = [
    "BootNotification",
    "Heartbeat",
    "StatusNotification",
    "Authorize",
    "StartTransaction",
    "MeterValues",
    "StopTransaction",
    "TransactionEvent",
]


async def test_fifty_mixed_stations_boot_charge_and_get_schema_valid_answers() -> None:
    async with serve_responder(heartbeat_interval_s=1) as responder:
        config = SimulatorConfig(
            url=responder.url,
            stations=50,
            version="mixed",
            connect_rate=500,
            duration_s=3.0,
            behaviour=FAST,
            validate=True,  # every answer checked against the OCA schemas
            expect_accepted=50,
        )
        summary = await run(config)
    tally = summary.tally
    assert summary.ok, summary.render()
    assert not tally.errors
    assert summary.accepted == 50
    assert summary.versions == {"1.6": 25, "2.0.1": 25}
    assert tally.answers["BootNotification"] == {"Accepted": 50}
    assert tally.connects == 50
    assert tally.reconnects == tally.disconnects == 0
    assert tally.sessions_started >= 50
    assert tally.sessions_ended >= 50
    assert tally.energy_wh > 0
    assert set(tally.answers["StartTransaction"]) == {"Accepted"}
    # Each StartTransaction received was answered Accepted, but for those the run's end cut off
    # before their answer came (one CALL in flight per station at most: OCPP-J §4.1.1).
    cut_off = responder.received["StartTransaction"] - tally.answers["StartTransaction"]["Accepted"]
    assert 0 <= cut_off <= summary.unanswered
    for action in STATION_ACTIONS:
        latency = tally.latency[action]
        assert latency.count > 0, action
        assert 0 < latency.quantile(0.5) <= latency.quantile(0.99) <= latency.max_s < 1.0
    assert summary.all_accepted_s is not None
    assert summary.all_accepted_s < 1.0
    # every CALL answered but at most one that the run's end cut off (1 run in 5 has one, and
    # the count of those in flight at the end races with their answers: seen both ways)
    assert 0 <= tally.sent - tally.received <= 1


async def test_a_reconnect_storm_reconnects_and_boots_every_station() -> None:
    async with serve_responder() as responder:
        config = SimulatorConfig(
            url=responder.url,
            stations=50,
            version="mixed",
            connect_rate=1000,
            duration_s=2.0,
            reconnect_storm_at_s=0.8,
            behaviour=IDLE,
            expect_accepted=50,
        )
        summary = await run(config)
    tally = summary.tally
    assert summary.ok, summary.render()
    assert (tally.drops, tally.reconnects, tally.connects, tally.disconnects) == (50, 50, 100, 0)
    assert tally.answers["BootNotification"] == {"Accepted": 100}
    assert responder.connections == 100


@pytest.mark.parametrize(
    ("station_id", "action", "payload", "station_action"),
    [
        ("SIM00001", "RemoteStartTransaction", {"idTag": "TAG-1"}, "StartTransaction"),  # 1.6
        (
            "SIM00002",  # 2.0.1
            "RequestStartTransaction",
            {"idToken": {"idToken": "TAG-1", "type": "ISO14443"}, "remoteStartId": 1},
            "TransactionEvent",
        ),
    ],
)
async def test_csms_calls_are_answered_over_the_socket(
    station_id: str, action: str, payload: dict[str, Any], station_action: str
) -> None:
    async with serve_responder() as responder:
        config = SimulatorConfig(
            url=responder.url, stations=2, version="mixed", duration_s=1.5, behaviour=IDLE
        )
        running = asyncio.create_task(run(config))
        async with asyncio.timeout(1.0):
            await responder.wait_for("StatusNotification", 2)  # both booted
        reply = await responder.call(station_id, action, payload)
        async with asyncio.timeout(1.0):
            await responder.wait_for(station_action, 1)
        summary = await running
    assert isinstance(reply, CallResult)
    assert reply.payload["status"] == "Accepted"
    assert summary.tally.handled == {action: {"Accepted": 1}}
    assert summary.tally.sessions_started == 1
    assert summary.ok, summary.render()


async def test_basic_auth_accepts_the_password_and_refuses_a_wrong_one() -> None:
    async with serve_responder(password="correct-horse-battery") as responder:
        good, bad = await asyncio.gather(
            run(
                SimulatorConfig(
                    url=responder.url,
                    stations=3,
                    duration_s=0.5,
                    behaviour=IDLE,
                    password="correct-horse-battery",
                    expect_accepted=3,
                )
            ),
            run(
                SimulatorConfig(
                    url=responder.url,
                    stations=3,
                    duration_s=0.5,
                    behaviour=IDLE,
                    password="wrong",
                    prefix="BAD",
                )
            ),
        )
    assert good.ok, good.render()
    assert bad.accepted == 0
    assert bad.tally.errors["Connect HTTP 401"] >= 3
    assert not bad.ok
    assert "correct-horse" not in good.render() + json.dumps(good.to_json())


def _certificate(
    name: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: tuple[x509.Name, ec.EllipticCurvePrivateKey] | None,
) -> x509.Certificate:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    issuer_name, issuer_key = issuer or (subject, key)
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=issuer is None, path_length=None), critical=True)
    )
    if issuer is not None:
        address = x509.IPAddress(ipaddress.ip_address("127.0.0.1"))
        builder = builder.add_extension(x509.SubjectAlternativeName([address]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def _write(
    path: Path, certificate: x509.Certificate, key: ec.EllipticCurvePrivateKey
) -> tuple[str, str]:
    path.with_suffix(".pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    path.with_suffix(".key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(path.with_suffix(".pem")), str(path.with_suffix(".key"))


async def test_security_profile_3_mutual_tls(tmp_path: Path) -> None:
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _certificate("Test CA", ca_key, None)
    ca_file, _ = _write(tmp_path / "ca", ca, ca_key)
    keys = {name: ec.generate_private_key(ec.SECP256R1()) for name in ("csms", "station")}
    files = {
        name: _write(tmp_path / name, _certificate(name, key, (ca.subject, ca_key)), key)
        for name, key in keys.items()
    }
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=ca_file)
    server.load_cert_chain(*files["csms"])
    server.verify_mode = ssl.CERT_REQUIRED
    async with serve_responder(ssl_context=server) as responder:
        url = f"wss://127.0.0.1:{responder.port}/ocpp"
        certfile, keyfile = files["station"]
        with_certificate = SimulatorConfig(
            url=url,
            stations=2,
            version="mixed",
            duration_s=0.5,
            behaviour=IDLE,
            cafile=ca_file,
            certfile=certfile,
            keyfile=keyfile,
            expect_accepted=2,
        )
        without = SimulatorConfig(
            url=url, stations=2, duration_s=0.5, behaviour=IDLE, cafile=ca_file, prefix="ANON"
        )
        good, refused = await asyncio.gather(run(with_certificate), run(without))
    assert good.ok, good.render()
    assert refused.accepted == 0
    assert not refused.ok


async def test_offered_load_is_paced_and_measured() -> None:
    async with serve_responder() as responder:
        config = SimulatorConfig(
            url=responder.url,
            stations=20,
            connect_rate=1000,
            duration_s=2.0,
            rate=200,
            behaviour=Behaviour(sessions=False, heartbeat_override_s=0),
        )
        summary = await run(config)
    tally = summary.tally
    assert summary.ok, summary.render()
    assert tally.load_skipped == 0
    assert 1.5 < summary.load_window_s < 2.0
    assert tally.load_offered == pytest.approx(200 * summary.load_window_s, rel=0.05)
    assert summary.load_rate_per_s() == pytest.approx(200, rel=0.1)
    answered = tally.latency["Heartbeat"].count + tally.latency["MeterValues"].count
    assert answered == pytest.approx(tally.load_offered, abs=5)
    assert tally.answers["Heartbeat"]["Result"] == pytest.approx(answered / 2, abs=5)


@pytest.mark.parametrize(("expect", "status"), [("all", 0), ("6", 1)])
async def test_the_command_line_prints_json_and_sets_the_exit_status(
    expect: str, status: int
) -> None:
    async with serve_responder() as responder:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tools.simulator", "--url", responder.url, "--stations", "5",
            "--duration", "0.7", "--json", "--quiet", "--expect-accepted", expect,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd=ROOT,
        )  # fmt: skip
        out, err = await process.communicate()
    assert process.returncode == status, err.decode()
    summary = json.loads(out)
    assert summary["accepted"] == 5
    assert summary["ok"] is (status == 0)


async def test_stations_spread_over_two_processes_add_up() -> None:
    seen: list[Progress] = []
    async with serve_responder() as responder:
        config = SimulatorConfig(
            url=responder.url,
            stations=6,
            version="mixed",
            duration_s=1.2,
            behaviour=IDLE,
            expect_accepted=6,
        )
        summary = await run_processes(config, 2, seen.append)
    assert summary.ok, summary.render()
    assert (summary.processes, summary.stations, summary.accepted) == (2, 6, 6)
    assert summary.versions == {"1.6": 3, "2.0.1": 3}
    assert responder.connections == 6
    assert seen
    assert seen[-1].connected == 6


@pytest.mark.parametrize("validate", ["ocpp", "chargebus"])
async def test_a_validating_responder_answers_valid_calls_and_refuses_an_invalid_one(
    validate: str,
) -> None:
    async with serve_responder(validate=validate) as responder:
        config = SimulatorConfig(
            url=responder.url,
            stations=10,
            version="mixed",
            connect_rate=500,
            duration_s=2.0,
            behaviour=FAST,
            expect_accepted=10,
        )
        summary = await run(config)
        assert summary.ok, summary.render()
        assert not summary.tally.errors
        assert responder.received["MeterValues"] + responder.received["TransactionEvent"] > 0
        async with connect(responder.url + "/CS-BAD", subprotocols=[Subprotocol("ocpp1.6")]) as ws:
            await ws.send(json.dumps([2, "bad-1", "BootNotification", {"chargePointModel": 5}]))
            answer = json.loads(await ws.recv())
    assert answer[:2] == [4, "bad-1"]
    # a number where 1.6 wants a string, and the required chargePointVendor missing
    assert answer[2] in ("FormationViolation", "TypeConstraintViolation", OCCURENCE_16)
