"""Operator API keys: issue and revoke on api.keys.v1, follow them, check requests, the CLI (I/O).

Every HTTP API of every service reads all of api.keys.v1 into a KeyRing and checks each request
with ``authentication``: ``Authorization: Bearer KEY``, 401 without a live key, 403 for a role
that may not do it, both with the usual error body. /healthz, /readyz, /metrics and
/openapi.json stay open. A revoked key stops working on every process as soon as it has read
the tombstone (the follower polls every 200 ms). Keys are never logged: only their names.
"""

import argparse
import asyncio
import logging
import os
import secrets
import sys
from collections.abc import Callable
from datetime import UTC, datetime

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from contracts import codec
from contracts.envelope import Envelope
from contracts.payloads.api_keys import (
    PREFIX,
    ApiKey,
    InvalidKeyName,
    KeyRing,
    Role,
    check_name,
    key_hash,
)
from contracts.topics import Topic
from runtime.follower import Follower
from runtime.kafka import DEFAULT_CONNECT_TIMEOUT_S, KafkaUnavailable, PublishFailed, publish_once
from runtime.settings import tool_arguments

log = logging.getLogger(__name__)

OPEN_PATHS = frozenset({"/healthz", "/readyz", "/metrics", "/openapi.json"})
# The operator console's page and scripts: they hold no data (every data route needs a key).
OPEN_PREFIX = "/console"
API_KEY = web.RequestKey("api_key", ApiKey)  # request[API_KEY]: who made an authenticated request

# The role a request needs; None: the route is open.
RoleRule = Callable[[web.Request], Role | None]


def role_by_method(request: web.Request) -> Role | None:
    """The default rule: open paths (and the console's static files) open, GET and HEAD
    ``read``, /api-keys ``admin``, else ``operator``."""
    if request.path in OPEN_PATHS or request.path.partition("?")[0] == OPEN_PREFIX:
        return None
    if request.path.startswith(OPEN_PREFIX + "/"):
        return None
    if request.path == "/api-keys" or request.path.startswith("/api-keys/"):
        return Role.ADMIN
    return Role.READ if request.method in ("GET", "HEAD") else Role.OPERATOR


def new_key() -> str:
    """A fresh key: the prefix and 256 random bits, URL-safe."""
    return PREFIX + secrets.token_urlsafe(32)


class KeyFollower(Follower):
    """Keeps a KeyRing equal to api.keys.v1: all of it, then live."""

    def __init__(
        self,
        bootstrap_servers: str,
        ring: KeyRing,
        *,
        connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S,
    ) -> None:
        super().__init__(
            bootstrap_servers,
            [Topic.API_KEYS],
            self._apply,
            connect_timeout_s=connect_timeout_s,
            describe=lambda: f"{Topic.API_KEYS}: {len(ring)} API keys",
        )
        self.ring = ring

    def _apply(self, _: str, name: str, envelope: Envelope | None) -> None:
        if envelope is None:
            self.ring.remove(name)
        else:
            self.ring.apply(envelope)  # an unreadable record revokes the name (RecordRejected)


def _denied(status: int, name: str, message: str) -> web.Response:
    headers = {"WWW-Authenticate": 'Bearer realm="chargebus"'} if status == 401 else {}
    return web.json_response({"error": name, "message": message}, status=status, headers=headers)


def authentication(ring: KeyRing, needs: RoleRule = role_by_method) -> Middleware:
    """An aiohttp middleware that lets a request through only with a key whose role suffices."""

    @web.middleware
    async def authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
        needed = needs(request)
        if needed is None:
            return await handler(request)
        scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not presented.strip():
            return _denied(401, "Unauthorized", "send an API key: Authorization: Bearer KEY")
        key = ring.authenticate(presented.strip())
        if key is None:
            return _denied(401, "Unauthorized", "the API key is unknown or revoked")
        if not key.role.permits(needed):
            message = (
                f"key {key.name!r} has role {key.role}; {request.method} {request.path} "
                f"needs {needed}"
            )
            return _denied(403, "Forbidden", message)
        request[API_KEY] = key
        return await handler(request)

    return authenticate


async def issue_key(
    bootstrap_servers: str, name: str, role: Role, *, timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S
) -> str:
    """Publish a new key under ``name`` (an older key of that name stops working); returns it.

    Raises:
        InvalidKeyName: before anything is sent.
        KafkaUnavailable, PublishFailed: the broker is away or did not acknowledge.
    """
    check_name(name)
    key = new_key()
    record = ApiKey(name=name, role=role, key_hash=key_hash(key), issued_at=datetime.now(UTC))
    await publish_once(
        bootstrap_servers, Topic.API_KEYS, name, codec.encode(record.envelope()), timeout_s
    )
    return key


async def revoke_key(
    bootstrap_servers: str, name: str, *, timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S
) -> None:
    """Publish a tombstone for ``name``: every API refuses its key once it has read it.

    Raises:
        InvalidKeyName, KafkaUnavailable, PublishFailed.
    """
    check_name(name)
    await publish_once(bootstrap_servers, Topic.API_KEYS, name, None, timeout_s)


async def read_keys(
    bootstrap_servers: str, *, timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S
) -> list[ApiKey]:
    """Every live key, read from the beginning of api.keys.v1. Raises: KafkaUnavailable."""
    ring = KeyRing()
    async with KeyFollower(bootstrap_servers, ring, connect_timeout_s=timeout_s) as follower:
        try:
            async with asyncio.timeout(timeout_s):
                await follower.ready.wait()
        except TimeoutError as exc:
            raise KafkaUnavailable(f"{Topic.API_KEYS} was not read within {timeout_s:g}s") from exc
    return ring.issued()


# --- CLI: python -m services.<name>.api keys {create,revoke,list} --------------------------------


def _parser(prog: str) -> argparse.ArgumentParser:
    common = tool_arguments(os.environ, DEFAULT_CONNECT_TIMEOUT_S)
    parser = argparse.ArgumentParser(
        prog=f"{prog} keys",
        description=f"Manage operator API keys on {Topic.API_KEYS}; every API of every service "
        "reads them. Roles: read (GET), operator (commands and writes), admin (also keys).",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser(
        "create",
        parents=[common],
        help="issue a key and print it once, as the last line",
        description="Issues a new key for NAME and prints it once, as the last line of the "
        "output; only its SHA-256 is stored. A NAME that has a key gets a new one and the old "
        "key stops working (rotation).",
    )
    create.add_argument("name", help="who or what uses the key, e.g. 'billing-team'")
    create.add_argument(
        "--role", type=Role, choices=list(Role), default=Role.READ, help="(default: %(default)s)"
    )
    revoke = commands.add_parser(
        "revoke", parents=[common], help="revoke NAME's key everywhere within seconds"
    )
    revoke.add_argument("name")
    commands.add_parser("list", parents=[common], help="every live key's name, role and date")
    return parser


def keys_main(argv: list[str], prog: str) -> int:
    """``PROG keys create|revoke|list``; returns the exit status (2: bad input or no Kafka)."""
    args = _parser(prog).parse_args(argv)
    out = sys.stdout
    try:
        if args.command == "create":
            key = asyncio.run(
                issue_key(args.bootstrap_servers, args.name, args.role, timeout_s=args.timeout)
            )
            out.write(f"issued API key {args.name!r} with role {args.role}; it is shown once:\n")
            out.write(f"{key}\n")
        elif args.command == "revoke":
            asyncio.run(revoke_key(args.bootstrap_servers, args.name, timeout_s=args.timeout))
            out.write(f"revoked API key {args.name!r}\n")
        else:
            for key_record in asyncio.run(
                read_keys(args.bootstrap_servers, timeout_s=args.timeout)
            ):
                issued = key_record.issued_at.isoformat(timespec="seconds")
                out.write(f"{key_record.name}\t{key_record.role}\t{issued}\n")
    except (InvalidKeyName, KafkaUnavailable) as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    except PublishFailed as exc:
        sys.stderr.write(f"error: the broker did not acknowledge: {exc}\n")
        return 1
    return 0
