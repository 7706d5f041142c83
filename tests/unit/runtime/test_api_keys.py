"""The authentication middleware over real HTTP (aiohttp on 127.0.0.1), and new keys."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer, make_mocked_request

from contracts.payloads.api_keys import PREFIX, ApiKey, KeyRing, Role, key_hash
from runtime.api_keys import API_KEY, authentication, new_key, role_by_method

Client = TestClient[Any, Any]
KEYS = {role: f"cbk_{role}-secret" for role in Role}


async def _who(request: web.Request) -> web.Response:
    return web.json_response({"name": request[API_KEY].name})


async def _open(_: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


@pytest_asyncio.fixture
async def ring() -> KeyRing:
    ring = KeyRing()
    for role, secret in KEYS.items():
        key = ApiKey(name=f"k-{role}", role=role, key_hash=key_hash(secret), issued_at=_t0())
        ring.apply(key.envelope())
    return ring


def _t0() -> datetime:
    return datetime(2026, 11, 26, tzinfo=UTC)


@pytest_asyncio.fixture
async def client(ring: KeyRing) -> AsyncIterator[Client]:
    app = web.Application(middlewares=[authentication(ring)])
    app.router.add_get("/stations", _who)
    app.router.add_post("/stations/{id}/commands/{command}", _who)
    app.router.add_get("/api-keys", _who)
    for path in ("/healthz", "/readyz", "/metrics", "/openapi.json"):
        app.router.add_get(path, _open)
    async with TestClient(TestServer(app, host="127.0.0.1", port=0)) as http:
        yield http


def _bearer(role: Role) -> dict[str, str]:
    return {"Authorization": f"Bearer {KEYS[role]}"}


async def test_without_a_key_401_with_the_error_body_and_a_challenge(client: Client) -> None:
    for headers in ({}, {"Authorization": "Basic dXNlcjpwdw=="}, {"Authorization": "Bearer "}):
        async with client.get("/stations", headers=headers) as answer:
            assert answer.status == 401
            assert answer.headers["WWW-Authenticate"] == 'Bearer realm="chargebus"'
            body = await answer.json()
            assert body["error"] == "Unauthorized"
            assert "Authorization: Bearer KEY" in body["message"]


async def test_an_unknown_key_is_401_and_never_quoted(client: Client) -> None:
    async with client.get("/stations", headers={"Authorization": "Bearer cbk_guess"}) as answer:
        assert answer.status == 401
        body = await answer.json()
    assert body == {"error": "Unauthorized", "message": "the API key is unknown or revoked"}


async def test_each_role_does_what_it_may_and_gets_403_beyond(client: Client) -> None:
    expected = {
        Role.READ: {
            "get /stations": 200,
            "post /stations/CS/commands/Reset": 403,
            "get /api-keys": 403,
        },
        Role.OPERATOR: {
            "get /stations": 200,
            "post /stations/CS/commands/Reset": 200,
            "get /api-keys": 403,
        },
        Role.ADMIN: {
            "get /stations": 200,
            "post /stations/CS/commands/Reset": 200,
            "get /api-keys": 200,
        },
    }
    for role, routes in expected.items():
        for route, status in routes.items():
            method, path = route.split(" ")
            async with client.request(method, path, headers=_bearer(role)) as answer:
                assert answer.status == status, (role, route)
                body = await answer.json()
            if status == 200:
                assert body == {"name": f"k-{role}"}  # the handler sees who called
            else:
                assert body["error"] == "Forbidden"
                assert f"has role {role}" in body["message"]
                assert KEYS[role] not in body["message"]


async def test_the_scheme_name_is_case_insensitive(client: Client) -> None:
    headers = {"Authorization": f"bearer {KEYS[Role.READ]}"}
    async with client.get("/stations", headers=headers) as answer:
        assert answer.status == 200


async def test_operations_and_the_document_stay_open(client: Client) -> None:
    for path in ("/healthz", "/readyz", "/metrics", "/openapi.json"):
        async with client.get(path) as answer:
            assert answer.status == 200, path


async def test_a_revoked_key_is_refused_at_once(client: Client, ring: KeyRing) -> None:
    async with client.get("/stations", headers=_bearer(Role.READ)) as answer:
        assert answer.status == 200
    ring.remove(f"k-{Role.READ}")
    async with client.get("/stations", headers=_bearer(Role.READ)) as answer:
        assert answer.status == 401


def test_new_keys_are_prefixed_random_and_long() -> None:
    keys = {new_key() for _ in range(100)}
    assert len(keys) == 100
    assert all(k.startswith(PREFIX) and len(k) == len(PREFIX) + 43 for k in keys)


@pytest.mark.parametrize(
    ("method", "path", "role"),
    [
        ("GET", "/healthz", None),
        ("GET", "/openapi.json", None),
        ("GET", "/tokens", Role.READ),
        ("HEAD", "/tokens", Role.READ),
        ("PUT", "/tokens/T", Role.OPERATOR),
        ("DELETE", "/tokens/T", Role.OPERATOR),
        ("GET", "/api-keys", Role.ADMIN),
        ("POST", "/api-keys/x", Role.ADMIN),
        ("GET", "/api-keysx", Role.READ),
    ],
)
def test_the_default_rule(method: str, path: str, role: Role | None) -> None:
    assert role_by_method(make_mocked_request(method, path)) == role
