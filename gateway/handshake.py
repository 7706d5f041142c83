"""The WebSocket handshake: the station's path, authentication per security profile, the OCPP
subprotocol (I/O: reads the clock, verifies passwords in worker threads).

Refusals happen before the upgrade (docs/gateway.md, "Handshake"): 404 for a path that is not
ours, 401 (with WWW-Authenticate), 403, 404 or 429 (with Retry-After) per the security profile.
The decisions are pure (gateway/core/auth.py, limiter.py; gateway/tls.py for profile 3).
"""

import asyncio
import logging
import os
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from http import HTTPStatus

from websockets.asyncio.server import ServerConnection
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from gateway import metrics
from gateway.core.auth import (
    AuthResult,
    CredentialStore,
    SecurityProfile,
    check_basic_auth,
    station_id_from_path,
)
from gateway.core.limiter import FailureLimiter
from gateway.settings import Settings
from gateway.tls import check_client_certificate
from ocppj.versions import select_subprotocol

log = logging.getLogger("gateway")


def _remote(connection: ServerConnection) -> str:
    address = connection.remote_address
    return str(address[0]) if address else "?"


class Handshake:
    """Accepts or refuses upgrade requests, and picks the subprotocol."""

    def __init__(self, settings: Settings, credentials: CredentialStore | None) -> None:
        self.settings = settings
        self.credentials = credentials
        # Repeated failures are refused per station id, and per remote address with a higher
        # bound (many stations share one address behind carrier NAT).
        self.station_limiter = FailureLimiter()
        self.address_limiter = FailureLimiter(max_failures=50)
        self._verifiers = ThreadPoolExecutor(os.cpu_count() or 2, thread_name_prefix="argon2")

    def station_id_of(self, path: str) -> str | None:
        """The identity in a request path, or None if the path is not ours."""
        return station_id_from_path(path, self.settings.path_prefix)

    async def refusal(self, connection: ServerConnection, request: Request) -> Response | None:
        """The response that refuses this upgrade (unknown path 404, failed authentication
        401/403/404/429), or None to accept it."""
        station_id = self.station_id_of(request.path)
        if station_id is None:
            return connection.respond(HTTPStatus.NOT_FOUND, "not an OCPP endpoint\n")
        result = await self._authenticate(connection, request, station_id)
        if result.accepted:
            return None
        metrics.AUTH_FAILURES.labels(str(result)).inc()
        log.warning(
            "refused station: %s", result, extra={"station_id": station_id, "action": "handshake"}
        )
        response = connection.respond(result.http_status, f"{result}\n")
        if result.http_status == HTTPStatus.UNAUTHORIZED:
            response.headers["WWW-Authenticate"] = 'Basic realm="ocpp", charset="UTF-8"'
        if result is AuthResult.RATE_LIMITED:
            now, remote = time.monotonic(), _remote(connection)
            retry = max(
                self.station_limiter.retry_after(station_id, now),
                self.address_limiter.retry_after(remote, now),
            )
            response.headers["Retry-After"] = str(max(1, round(retry)))
        return response

    async def _authenticate(
        self, connection: ServerConnection, request: Request, station_id: str
    ) -> AuthResult:
        profile = self.settings.security_profile
        if profile == 0:
            return AuthResult.ACCEPTED_UNKNOWN
        if profile == SecurityProfile.TLS_CLIENT_CERTIFICATE:
            peercert = connection.transport.get_extra_info("peercert")
            by_identity = self.settings.client_cn == "identity"
            if not check_client_certificate(station_id, peercert, cn_is_identity=by_identity):
                return AuthResult.CERTIFICATE_MISMATCH
            return AuthResult.ACCEPTED
        assert self.credentials is not None
        now, remote = time.monotonic(), _remote(connection)
        if not (
            self.station_limiter.allow(station_id, now) and self.address_limiter.allow(remote, now)
        ):
            return AuthResult.RATE_LIMITED
        result = await asyncio.get_running_loop().run_in_executor(
            self._verifiers,  # argon2-cffi releases the GIL: one verify per core
            lambda: check_basic_auth(
                station_id,
                request.headers.get("Authorization"),
                self.credentials or CredentialStore(),
                profile=SecurityProfile(profile),
                accept_unknown=self.settings.accept_unknown_stations,
            ),
        )
        if result.is_failure:
            self.address_limiter.record_failure(remote, now)
            if result is not AuthResult.UNKNOWN_STATION:  # random ids must not fill the table
                self.station_limiter.record_failure(station_id, now)
        elif result.accepted:
            self.station_limiter.record_success(station_id)
        return result

    def select_subprotocol(
        self, connection: ServerConnection, offered: Sequence[Subprotocol]
    ) -> Subprotocol | None:
        """The server's preference among what the station offers; None completes the handshake
        without the header, and the handler closes at once (OCPP-J 1.6 §3.1.2, 2.0.1 §3.1.2)."""
        chosen = select_subprotocol(offered, self.settings.ocpp_versions)
        return None if chosen is None else Subprotocol(str(chosen))
