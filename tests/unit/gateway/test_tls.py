"""gateway.tls: contexts from a throwaway CA, CN checks, real TLS handshakes on 127.0.0.1."""

import asyncio
import ssl
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from gateway.tls import (
    check_client_certificate,
    peer_common_name,
    peer_organization,
    server_context,
)
from tests.support.certs import CA, TEST_ORGANIZATION, CertFiles, make_ca

TIMEOUT_S = 10.0

PEERCERT = {
    "subject": (
        (("countryName", "NL"),),
        (("organizationName", "Example CPO"),),
        (("commonName", "CS001"),),
    ),
    "issuer": ((("commonName", "Example CA"),),),
}


@pytest.fixture
def ca(tmp_path: Path) -> CA:
    return make_ca(tmp_path / "ca")


@pytest.fixture
def server_files(ca: CA, tmp_path: Path) -> CertFiles:
    return ca.issue_server(tmp_path / "server")


# --- CN and O extraction -----------------------------------------------------------------------


def test_peer_common_name_reads_the_subject() -> None:
    assert peer_common_name(PEERCERT) == "CS001"
    assert peer_organization(PEERCERT) == "Example CPO"


@pytest.mark.parametrize(
    "peercert",
    [
        None,
        {},  # what getpeercert() returns for a certificate that was not verified
        {"subject": "CN=CS001"},
        {"subject": ((("organizationName", "Example CPO"),),)},
        {"subject": ((("commonName", "CS001"),), (("commonName", "CS002"),))},  # ambiguous
        {"subject": ((("commonName", 1),), ("junk",), ((),))},
    ],
)
def test_peer_common_name_is_none_without_exactly_one_cn(peercert: dict[str, object]) -> None:
    assert peer_common_name(peercert) is None


def test_check_client_certificate_compares_cn_with_the_station_id() -> None:
    assert check_client_certificate("CS001", PEERCERT)
    assert not check_client_certificate("CS002", PEERCERT)
    assert not check_client_certificate("cs001", PEERCERT)  # identities are case-sensitive
    assert not check_client_certificate("CS001", {})
    assert not check_client_certificate("CS001", None)


def test_check_client_certificate_checks_the_organization_when_configured() -> None:
    # A00.FR.404: O must name the CPO (or an organization the CPO trusts).
    assert check_client_certificate("CS001", PEERCERT, organization="Example CPO")
    assert not check_client_certificate("CS001", PEERCERT, organization="Other CPO")


# --- contexts --------------------------------------------------------------------------------


def test_profile_2_context_requires_no_client_certificate(server_files: CertFiles) -> None:
    context = server_context(server_files.cert, server_files.key)
    assert context.verify_mode is ssl.CERT_NONE
    assert context.minimum_version is ssl.TLSVersion.TLSv1_2
    assert context.options & ssl.OP_NO_COMPRESSION  # A00.FR.320


def test_profile_3_context_requires_a_client_certificate(ca: CA, server_files: CertFiles) -> None:
    context = server_context(server_files.cert, server_files.key, client_ca=ca.cert)
    assert context.verify_mode is ssl.CERT_REQUIRED


def test_context_offers_the_cipher_suites_of_a00_fr_317(server_files: CertFiles) -> None:
    names = {c["name"] for c in server_context(server_files.cert, server_files.key).get_ciphers()}
    assert {
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        "ECDHE-ECDSA-AES256-GCM-SHA384",
        "AES128-GCM-SHA256",  # TLS_RSA_WITH_AES_128_GCM_SHA256
        "AES256-GCM-SHA384",
    } <= names
    assert not any("CBC" in n or n.endswith("-SHA") for n in names)


def test_a_key_that_does_not_match_the_certificate_is_refused(
    ca: CA, server_files: CertFiles, tmp_path: Path
) -> None:
    other = ca.issue_server(tmp_path / "other")
    with pytest.raises(ssl.SSLError):
        server_context(server_files.cert, other.key)


# --- real handshakes -------------------------------------------------------------------------

Exchange = Callable[[ssl.SSLContext], Awaitable[bytes]]


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[ssl.SSLContext], Awaitable[Exchange]]]:
    """Starts a TLS echo-the-CN server; returns a function that connects one client to it."""
    servers: list[asyncio.Server] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peercert = writer.get_extra_info("peercert")
        cipher = writer.get_extra_info("cipher")
        writer.write(f"{peer_common_name(peercert)} {cipher[0]}\n".encode())
        try:
            await writer.drain()
        finally:
            writer.close()
            await asyncio.gather(writer.wait_closed(), return_exceptions=True)

    async def start(context: ssl.SSLContext) -> Exchange:
        server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=context)
        servers.append(server)
        port = server.sockets[0].getsockname()[1]

        async def exchange(client: ssl.SSLContext) -> bytes:
            """The server's line, or b"" if the handshake or the connection failed."""
            async with asyncio.timeout(TIMEOUT_S):
                try:
                    reader, writer = await asyncio.open_connection(
                        "127.0.0.1", port, ssl=client, server_hostname="localhost"
                    )
                except (ssl.SSLError, ConnectionError):
                    return b""
                try:
                    return await reader.readline()
                except (ssl.SSLError, ConnectionError):
                    return b""  # TLS 1.3: the server's alert arrives after our handshake
                finally:
                    writer.close()
                    await asyncio.gather(writer.wait_closed(), return_exceptions=True)

        return exchange

    yield start
    for server in servers:
        server.close()
        await server.wait_closed()


def client_context(ca: CA, station: CertFiles | None = None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=ca.cert)
    if station is not None:
        context.load_cert_chain(station.cert, station.key)
    return context


async def test_mtls_accepts_a_station_certificate_from_the_ca(
    serve: Callable[[ssl.SSLContext], Awaitable[Exchange]],
    ca: CA,
    server_files: CertFiles,
    tmp_path: Path,
) -> None:
    exchange = await serve(server_context(server_files.cert, server_files.key, client_ca=ca.cert))
    station = ca.issue_client(tmp_path / "station", common_name="CS001")
    line = await exchange(client_context(ca, station))
    assert line.split()[0] == b"CS001"


async def test_the_peercert_of_a_verified_station_passes_check_client_certificate(
    ca: CA, server_files: CertFiles, tmp_path: Path
) -> None:
    seen: list[object] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append(writer.get_extra_info("peercert"))
        writer.close()
        await asyncio.gather(writer.wait_closed(), return_exceptions=True)

    context = server_context(server_files.cert, server_files.key, client_ca=ca.cert)
    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=context)
    port = server.sockets[0].getsockname()[1]
    station = ca.issue_client(tmp_path / "station", common_name="CS 7/ä")
    try:
        async with asyncio.timeout(TIMEOUT_S):
            reader, writer = await asyncio.open_connection(
                "127.0.0.1", port, ssl=client_context(ca, station), server_hostname="localhost"
            )
            await reader.read()
            writer.close()
            await asyncio.gather(writer.wait_closed(), return_exceptions=True)
    finally:
        server.close()
        await server.wait_closed()
    [peercert] = seen
    assert isinstance(peercert, dict)
    assert check_client_certificate("CS 7/ä", peercert, organization=TEST_ORGANIZATION)
    assert not check_client_certificate("CS001", peercert)


async def test_mtls_rejects_a_certificate_from_another_ca(
    serve: Callable[[ssl.SSLContext], Awaitable[Exchange]],
    ca: CA,
    server_files: CertFiles,
    tmp_path: Path,
) -> None:
    exchange = await serve(server_context(server_files.cert, server_files.key, client_ca=ca.cert))
    rogue = make_ca(tmp_path / "rogue").issue_client(tmp_path / "rogue", common_name="CS001")
    assert await exchange(client_context(ca, rogue)) == b""


async def test_mtls_rejects_a_station_without_a_certificate(
    serve: Callable[[ssl.SSLContext], Awaitable[Exchange]], ca: CA, server_files: CertFiles
) -> None:
    exchange = await serve(server_context(server_files.cert, server_files.key, client_ca=ca.cert))
    assert await exchange(client_context(ca)) == b""


async def test_mtls_rejects_an_expired_station_certificate(
    serve: Callable[[ssl.SSLContext], Awaitable[Exchange]],
    ca: CA,
    server_files: CertFiles,
    tmp_path: Path,
) -> None:
    # A00.FR.430 (2.0.1 errata) leaves expired certificates to the CSMS: we refuse them.
    exchange = await serve(server_context(server_files.cert, server_files.key, client_ca=ca.cert))
    expired = ca.issue_client(tmp_path / "station", common_name="CS001", valid_days=-1)
    assert await exchange(client_context(ca, expired)) == b""


async def test_profile_2_accepts_a_station_without_a_certificate(
    serve: Callable[[ssl.SSLContext], Awaitable[Exchange]], ca: CA, server_files: CertFiles
) -> None:
    exchange = await serve(server_context(server_files.cert, server_files.key))
    line = await exchange(client_context(ca))
    assert line.split()[0] == b"None"  # no client certificate, no CN


async def test_tls_below_1_2_is_refused(
    serve: Callable[[ssl.SSLContext], Awaitable[Exchange]], ca: CA, tmp_path: Path
) -> None:
    # A00.FR.312/314: TLS 1.2 or above; a station that only offers TLS 1.1 is disconnected.
    # (RSA, so that only the version differs from the next test, where the same client works.)
    rsa_files = ca.issue_server(tmp_path / "rsa", key_type="rsa")
    exchange = await serve(server_context(rsa_files.cert, rsa_files.key))
    assert await exchange(tls_1_1_client(ca)) == b""


async def test_a_lowered_minimum_admits_legacy_1_6_stations(
    serve: Callable[[ssl.SSLContext], Awaitable[Exchange]], ca: CA, tmp_path: Path
) -> None:
    # A00.FR.312/324: TLS 1.0/1.1 with TLS_RSA_WITH_AES_128_CBC_SHA for 1.6 stations only.
    rsa_files = ca.issue_server(tmp_path / "rsa", key_type="rsa")
    with pytest.warns(DeprecationWarning, match="TLSv1_1"):
        context = server_context(rsa_files.cert, rsa_files.key, min_version=ssl.TLSVersion.TLSv1_1)
    exchange = await serve(context)
    assert (await exchange(tls_1_1_client(ca))).split()[1] == b"AES128-SHA"


def tls_1_1_client(ca: CA) -> ssl.SSLContext:
    legacy = client_context(ca)
    legacy.set_ciphers("AES128-SHA:@SECLEVEL=0")  # OpenSSL 3 refuses TLS 1.1 otherwise
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # TLS 1.1 is this client's point
        legacy.minimum_version = ssl.TLSVersion.TLSv1_1
        legacy.maximum_version = ssl.TLSVersion.TLSv1_1
    return legacy


@pytest.mark.parametrize(
    ("client_cipher", "key_type"),
    [("ECDHE-ECDSA-AES128-GCM-SHA256", "ec"), ("AES128-GCM-SHA256", "rsa")],
)
async def test_an_rsa_and_an_ecdsa_certificate_serve_both_suite_families(
    serve: Callable[[ssl.SSLContext], Awaitable[Exchange]],
    ca: CA,
    tmp_path: Path,
    client_cipher: str,
    key_type: str,
) -> None:
    # A00.FR.317: "The Central System will have to provide 2 different certificates".
    rsa_files = ca.issue_server(tmp_path / "rsa", key_type="rsa")
    ec_files = ca.issue_server(tmp_path / "ec", key_type="ec")
    context = server_context(
        rsa_files.cert, rsa_files.key, extra_certificates=[(ec_files.cert, ec_files.key)]
    )
    exchange = await serve(context)
    client = client_context(ca)
    client.maximum_version = ssl.TLSVersion.TLSv1_2  # TLS 1.3 suites do not name the key type
    client.set_ciphers(client_cipher)
    line = await exchange(client)
    assert line.split()[1] == client_cipher.encode(), key_type
