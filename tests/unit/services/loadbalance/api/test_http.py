"""The load balancing API without Kafka: its routes against openapi.json, refusals with their
reasons, and no bytes, path or query that gets a 5xx (a property test over real HTTP)."""

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
from contracts.payloads.sites import SiteDefined
from services.loadbalance.api.app import LoadbalanceApi
from services.loadbalance.api.http import build_app, openapi_document
from services.loadbalance.api.settings import Settings
from tests.support.api_server import JSON, Server

KEY = "cbk_test-loadbalance-admin"
OPERATIONS = {"/healthz", "/readyz", "/metrics", "/openapi.json"}


def _app() -> web.Application:
    api = LoadbalanceApi(Settings(), CollectorRegistry())
    key = ApiKey(name="admin", role=Role.ADMIN, key_hash=key_hash(KEY), issued_at=datetime.now(UTC))
    api.keys.apply(key.envelope())
    depot = {"capacity_a": 32, "phases": 3, "stations": ["CS-1", "CS-2"]}
    site = SiteDefined(site_id="DEPOT", stations=("CS-1", "CS-2"), capacity_a=32, document=depot)
    api.sites.apply("DEPOT", site.envelope())
    return build_app(api)


def _routes() -> set[tuple[str, str]]:
    return {
        (r.method, r.resource.canonical)
        for r in _app().router.routes()
        if r.method != "HEAD" and r.resource is not None
    }


def test_the_document_describes_exactly_the_routes_with_their_roles() -> None:
    document = openapi_document()
    documented = {
        (method.upper(), path) for path, ops in document["paths"].items() for method in ops
    }
    assert documented == _routes()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if path in OPERATIONS:
                assert operation["security"] == []
                continue
            assert operation["x-required-role"] == ("read" if method == "get" else "operator")
            assert {"401", "403"} <= set(operation["responses"])


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    with Server(_app, KEY) as running:
        yield running


def test_a_site_is_read_with_its_document(server: Server) -> None:
    status, answer = server.request("GET", "/sites/DEPOT", None)
    assert status == 200
    assert json.loads(answer)["document"]["stations"] == ["CS-1", "CS-2"]
    status, answer = server.request("GET", "/sites?limit=1", None)
    assert (status, json.loads(answer)["total"]) == (200, 1)


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "error", "says"),
    [
        ("PUT", "/sites/S2", {"capacity_a": -5, "stations": []}, 400, "InvalidSite", "capacity_a"),
        ("PUT", "/sites/S2", {"capacity_a": 32, "stations": ["CS-2"]}, 409,
         "StationInAnotherSite", "stations ['CS-2'] are in site 'DEPOT'"),
        ("PUT", "/sites/S2", {"capacity_a": 32, "stations": [
            {"station_id": "CS-9", "rated_a": 10, "min_a": 16}]}, 400, "InvalidSite", "min_a"),
        ("POST", "/sites/DEPOT/capacity", {"limit_a": "a lot"}, 400, "InvalidCapacity", "limit_a"),
        ("POST", "/sites/DEPOT/capacity", {"limit_a": 16, "source": "me"}, 400,
         "InvalidCapacity", "source"),
        ("POST", "/sites/NOPE/capacity", {"limit_a": 16}, 404, "SiteNotFound", "NOPE"),
        ("GET", "/sites/NOPE", None, 404, "SiteNotFound", "NOPE"),
        ("DELETE", "/sites/NOPE", None, 404, "SiteNotFound", "NOPE"),
    ],
)  # fmt: skip
def test_what_we_refuse_says_why(
    server: Server, method: str, path: str, body: object, status: int, error: str, says: str
) -> None:
    got, answer = server.request(method, path, None if body is None else json.dumps(body).encode())
    document = json.loads(answer)
    assert (got, document["error"]) == (status, error)
    assert says in document["message"]


ROUTES = sorted((m, p) for m, p in _routes() if p not in OPERATIONS)
BODIES = (
    st.binary(max_size=200)
    | JSON.map(lambda value: json.dumps(value).encode())
    | st.fixed_dictionaries(
        {},
        optional={
            "capacity_a": JSON,
            "phases": JSON,
            "groups": JSON,
            "stations": JSON,
            "limit_a": JSON,
            "valid_from": JSON,
            "source": JSON,
        },
    ).map(lambda value: json.dumps(value).encode())
)


@pytest.mark.parametrize(("method", "template"), ROUTES)
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=BODIES, segment=st.text(max_size=40), query=st.text(max_size=30))
def test_no_body_path_or_query_gets_a_5xx_but_for_kafka(
    server: Server, method: str, template: str, body: bytes, segment: str, query: str
) -> None:
    quoted = urllib.parse.quote(segment, safe="") or "x"
    path = template.replace("{site_id}", quoted)
    path = f"{path}?{urllib.parse.quote(query, safe='=&')}" if query else path
    status, answer = server.request(method, path, body)
    assert status < 500 or (status == 503 and method != "GET"), (method, path, answer[:300])
    if status >= 400:
        assert set(json.loads(answer)) == {"error", "message"}
