"""Security profile 3 in band, end to end: a 2.0.1 station on mutual TLS whose certificate
expires soon is asked by the certificates service for a new CSR, gets it signed by the CA, and
reconnects with the new certificate (a real gateway, sessions worker, sessions API and
certificates service; the station is a plain WebSocket client that makes its own key)."""

import asyncio
import json
import signal
import ssl
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from contracts.payloads.presence import Presence
from contracts.topics import Topic
from ocppj.certificates import csr_for
from services.certificates.authority import Authority, write_dev_ca
from tests.support.apis import Client, serving_sessions_api
from tests.support.certs import make_ca
from tests.support.gateway import GatewayProcess, TopicTail, running_gateway
from tests.support.sessions import SessionsWorker, WorkerProcess

V201 = [Subprotocol("ocpp2.0.1")]


@pytest_asyncio.fixture
async def api(kafka_bootstrap: str) -> AsyncIterator[Client]:
    """The sessions API: it delivers the certificates service's commands (commands.v1)."""
    async with serving_sessions_api(kafka_bootstrap, "certificates") as http:
        yield http


@pytest.fixture
def dev_ca(tmp_path: Path) -> tuple[Path, Path]:
    return write_dev_ca(tmp_path / "station-ca", organization="chargebus dev")


@pytest_asyncio.fixture
async def certificates(
    kafka_bootstrap: str, dev_ca: tuple[Path, Path], tmp_path: Path
) -> AsyncIterator[WorkerProcess]:
    """`python -m services.certificates`, renewing what expires within 30 days, every second."""
    service = WorkerProcess(
        kafka_bootstrap,
        tmp_path / "certificates",
        module="services.certificates",
        inputs=(Topic.STATIONS,),
        extra_args=(
            f"--ca-cert={dev_ca[0]}",
            f"--ca-key={dev_ca[1]}",
            "--renew-before-days=30",
            "--check-interval=1",
        ),
    )
    service.start()
    try:
        await service.wait_ready()
        yield service
    finally:
        service.kill(signal.SIGTERM)


@pytest_asyncio.fixture
async def gateway(
    kafka_bootstrap: str, tmp_path: Path, dev_ca: tuple[Path, Path]
) -> AsyncIterator[GatewayProcess]:
    server_ca = make_ca(tmp_path / "server-ca")
    server = server_ca.issue_server(tmp_path / "server")
    (tmp_path / "server-ca.pem").write_bytes(server_ca.cert.read_bytes())
    async with running_gateway(
        kafka_bootstrap,
        tmp_path,
        "--security-profile=3",
        f"--tls-cert={server.cert}",
        f"--tls-key={server.key}",
        f"--tls-client-ca={dev_ca[0]}",
    ) as process:
        yield process


class Station:
    """A 2.0.1 station with its own key: it boots, answers the CSMS, and on a trigger makes a
    new key and CSR, and keeps the certificate it is sent."""

    def __init__(self, serial: str, directory: Path, server_ca: Path) -> None:
        self.serial, self.directory, self.server_ca = serial, directory, server_ca
        self.triggers = 0
        self.signed = asyncio.Event()
        self._pending_key: ec.EllipticCurvePrivateKey | None = None
        self._next = 0

    def files(self, name: str) -> tuple[Path, Path]:
        return self.directory / f"{name}.pem", self.directory / f"{name}.key"

    def keep(self, name: str, certificate_pem: str, key: ec.EllipticCurvePrivateKey) -> None:
        cert, keyfile = self.files(name)
        cert.write_text(certificate_pem)
        keyfile.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )

    def context(self, name: str) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=str(self.server_ca))
        cert, key = self.files(name)
        context.load_cert_chain(cert, key)
        return context

    async def call(self, ws: ClientConnection, action: str, payload: dict[str, Any]) -> None:
        self._next += 1
        await ws.send(json.dumps([2, f"s{self._next}", action, payload]))

    async def run(self, ws: ClientConnection) -> None:
        """Boot, then answer until the socket closes."""
        station = {"model": "M", "vendorName": "V", "serialNumber": self.serial}
        await self.call(ws, "BootNotification", {"reason": "PowerUp", "chargingStation": station})
        async for text in ws:
            frame = json.loads(text)
            if frame[0] != 2:
                continue
            _, unique_id, action, payload = frame
            if (
                action == "TriggerMessage"
                and payload["requestedMessage"] == "SignChargingStationCertificate"
            ):
                self.triggers += 1
                await ws.send(json.dumps([3, unique_id, {"status": "Accepted"}]))
                self._pending_key = ec.generate_private_key(ec.SECP256R1())
                csr = csr_for(self._pending_key, self.serial, "chargebus dev")
                pem = csr.public_bytes(serialization.Encoding.PEM).decode()
                await self.call(
                    ws,
                    "SignCertificate",
                    {"csr": pem, "certificateType": "ChargingStationCertificate"},
                )
            elif action == "CertificateSigned":
                assert self._pending_key is not None
                (leaf, *_) = x509.load_pem_x509_certificates(payload["certificateChain"].encode())
                assert leaf.public_key() == self._pending_key.public_key()
                self.keep("renewed", payload["certificateChain"], self._pending_key)
                await ws.send(json.dumps([3, unique_id, {"status": "Accepted"}]))
                self.signed.set()
            else:
                await ws.send(json.dumps([4, unique_id, "NotSupported", "", {}]))


def _first_certificate(
    dev_ca: tuple[Path, Path], serial: str, days: int
) -> tuple[str, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    authority = Authority.load(dev_ca[0], dev_ca[1], timedelta(days=days))
    csr = csr_for(key, serial, "chargebus dev").public_bytes(serialization.Encoding.PEM).decode()
    return authority.sign(csr, datetime.now(UTC)), key


async def test_a_station_whose_certificate_expires_soon_renews_it_and_reconnects_with_it(
    kafka_bootstrap: str,
    gateway: GatewayProcess,
    sessions: SessionsWorker,
    api: Client,
    certificates: WorkerProcess,
    dev_ca: tuple[Path, Path],
    tmp_path: Path,
) -> None:
    serial = f"SN{uuid.uuid4().hex[:10].upper()}"  # the identity, the serial number and the CN
    station = Station(serial, tmp_path, tmp_path / "server-ca.pem")
    first, key = _first_certificate(dev_ca, serial, days=10)  # inside the 30-day renewal window
    station.keep("first", first, key)
    url = f"{gateway.url}/{serial}"
    async with connect(url, subprotocols=V201, ssl=station.context("first")) as ws:
        running = asyncio.create_task(station.run(ws))
        try:
            await asyncio.wait_for(station.signed.wait(), 60)
        finally:
            running.cancel()
    assert station.triggers == 1
    renewed = x509.load_pem_x509_certificate(station.files("renewed")[0].read_bytes())
    assert renewed.not_valid_after_utc - datetime.now(UTC) > timedelta(days=360)
    renewed_context = station.context("renewed")
    async with (
        TopicTail(kafka_bootstrap, Topic.PRESENCE) as tail,
        connect(url, subprotocols=V201, ssl=renewed_context) as ws,
    ):
        running = asyncio.create_task(station.run(ws))
        try:
            connected = await tail.next(
                lambda e: e.key == serial and e.event_type == "StationConnected", 20
            )
            presence = Presence.parse(connected.envelope)
            assert presence is not None
            assert presence.certificate is not None
            assert presence.certificate.serial == format(renewed.serial_number, "x")
            await asyncio.sleep(3)  # three renewal rounds: a year's certificate is left alone
            assert station.triggers == 1
        finally:
            running.cancel()
