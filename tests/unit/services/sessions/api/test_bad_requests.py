"""Whatever bytes reach the sessions API, no route answers 5xx (a property test over real HTTP).

The API runs on 127.0.0.1 in a thread of its own, not started (no Kafka: a request that would
need it gets 503, which the property excludes too, so every such body must be refused first).
"""

import json
import urllib.parse
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry

from contracts.payloads.api_keys import ApiKey, Role, key_hash
from services.sessions.api.app import SessionsApi
from services.sessions.api.http import build_app
from services.sessions.api.settings import Settings
from tests.support.api_server import JSON, Server

KEY = "cbk_test-admin-key"
DEEP = {
    "object": b'{"a":' * 5000 + b"1" + b"}" * 5000,
    "array": b"[" * 5000 + b"]" * 5000,
    "open": b'{"a":' * 3000,
}


def _sessions_app() -> web.Application:
    api = SessionsApi(Settings(), CollectorRegistry())
    key = ApiKey(name="admin", role=Role.ADMIN, key_hash=key_hash(KEY), issued_at=datetime.now(UTC))
    api.keys.apply(key.envelope())
    return build_app(api)


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    with Server(_sessions_app, KEY) as running:
        yield running


ROUTES = [
    ("GET", "/stations"),
    ("GET", "/stations/{station_id}"),
    ("GET", "/stations/{station_id}/device-model"),
    ("GET", "/stations/{station_id}/reports/{kind}"),
    ("GET", "/stations/{station_id}/events"),
    ("GET", "/console"),
    ("GET", "/console/{name}"),
    ("POST", "/stations/{station_id}/commands/{command}"),
    ("GET", "/stations/{station_id}/sessions/{transaction_id}"),
    ("GET", "/commands/{command_id}"),
    ("GET", "/sessions"),
    ("GET", "/alerts"),
    ("GET", "/tokens"),
    ("GET", "/tokens/{id_token}"),
    ("PUT", "/tokens/{id_token}"),
    ("DELETE", "/tokens/{id_token}"),
]


# GET /events streams until the client goes: its answer is never complete (test_live.py).
STREAMS = [("GET", "/events")]


def test_the_routes_here_are_every_route_of_the_api() -> None:
    api = SessionsApi(Settings(), CollectorRegistry())
    routes = {
        (r.method, r.resource.canonical)
        for r in build_app(api).router.routes()
        if r.method != "HEAD" and r.resource is not None
    }
    operations = {"/healthz", "/readyz", "/metrics", "/openapi.json"}
    assert {(m, p) for m, p in routes if p not in operations} == set(ROUTES) | set(STREAMS)


def _path(template: str, segment: str, query: str) -> str:
    quoted = urllib.parse.quote(segment, safe="") or "x"
    path = template
    names = ("station_id", "command", "transaction_id", "command_id", "id_token", "kind", "name")
    for name in names:
        path = path.replace("{" + name + "}", quoted)
    return f"{path}?{urllib.parse.quote(query, safe='=&')}" if query else path


BODIES = (
    st.binary(max_size=300)
    | JSON.map(lambda value: json.dumps(value).encode())
    | st.dictionaries(
        st.sampled_from(
            [
                "command_id",
                "timeout_s",
                "type",
                "status",
                "id_token",
                "evse_id",
                "expires_at",
                "group_id",
            ]
        ),
        JSON,
        max_size=5,
    ).map(lambda value: json.dumps(value).encode())
    | st.sampled_from([*DEEP.values(), b"\xff\xfe", b"NaN", b'{"a": NaN}', b"", b"   "])
)


@pytest.mark.parametrize(("method", "template"), ROUTES)
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=BODIES, segment=st.text(max_size=40), query=st.text(max_size=30))
def test_no_body_path_or_query_gets_a_5xx(
    server: Server, method: str, template: str, body: bytes, segment: str, query: str
) -> None:
    status, answer = server.request(method, _path(template, segment, query), body)
    assert status < 500, (method, template, body[:80], segment, query, answer[:300])
    if status >= 400:
        assert set(json.loads(answer)) == {"error", "message"}


@pytest.mark.parametrize("name", sorted(DEEP))
def test_deep_json_is_a_400_that_says_so(server: Server, name: str) -> None:
    status, answer = server.request("PUT", "/tokens/T-1", DEEP[name])
    assert status == 400
    document = json.loads(answer)
    assert document["error"] == "InvalidRequest"
    assert "nests too deep" in document["message"] or "not JSON" in document["message"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"\xff\xfe", "the body is not UTF-8: byte 0 is 0xff"),
        (b'{"a": NaN}', "NaN is not a JSON number"),
        (b"[1]", "the body must be a JSON object, got list"),
    ],
)
def test_bodies_that_are_not_json_objects_say_why(
    server: Server, body: bytes, message: str
) -> None:
    for method, path in (("PUT", "/tokens/T-1"), ("POST", "/stations/CS-1/commands/Reset")):
        status, answer = server.request(method, path, body)
        assert status == 400
        assert message in json.loads(answer)["message"]
