"""The billing API without Kafka: its routes against openapi.json, and no bytes, path or query
that gets a 5xx (a property test over real HTTP)."""

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
from services.billing.api.app import BillingApi
from services.billing.api.http import build_app, openapi_document
from services.billing.api.settings import Settings
from services.billing.core.ocpi_json import dumps
from tests.support.api_server import JSON, Server
from tests.unit.services.billing.core.tariffs import component, element, ocpi

KEY = "cbk_test-billing-admin"
OPERATIONS = {"/healthz", "/readyz", "/metrics", "/openapi.json"}


def _app() -> web.Application:
    api = BillingApi(Settings(), CollectorRegistry())
    key = ApiKey(name="admin", role=Role.ADMIN, key_hash=key_hash(KEY), issued_at=datetime.now(UTC))
    api.keys.apply(key.envelope())
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
        (method.upper(), path)
        for path, operations in document["paths"].items()
        for method in operations
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


ROUTES = sorted((m, p) for m, p in _routes() if p not in OPERATIONS)
BODIES = (
    st.binary(max_size=300)
    | JSON.map(lambda value: json.dumps(value).encode())
    | st.fixed_dictionaries(
        {},
        optional={
            "country_code": st.text(max_size=3),
            "party_id": st.text(max_size=4),
            "currency": st.sampled_from(["EUR", "XXX", "eur", ""]),
            "elements": JSON,
            "last_updated": st.text(max_size=25),
            "tariff_id": JSON,
            "tariff_ids": JSON,
            "time_zone": st.sampled_from(["Europe/Amsterdam", "Mars/Olympus", "", "../etc"]),
        },
    ).map(lambda value: json.dumps(value).encode())
    | st.sampled_from(
        [b"\xff\xfe", b"NaN", b'{"a": NaN}', b"", b"[1]", b'{"a":' * 3000, b'{"price": 1e400}']
    )
)


def _path(template: str, segment: str, query: str) -> str:
    quoted = urllib.parse.quote(segment, safe="") or "x"
    path = template
    for name in ("tariff_id", "station_id", "cdr_id"):
        path = path.replace("{" + name + "}", quoted)
    return f"{path}?{urllib.parse.quote(query, safe='=&')}" if query else path


@pytest.mark.parametrize(("method", "template"), ROUTES)
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=BODIES, segment=st.text(max_size=40), query=st.text(max_size=30))
def test_no_body_path_or_query_gets_a_5xx_but_for_kafka(
    server: Server, method: str, template: str, body: bytes, segment: str, query: str
) -> None:
    status, answer = server.request(method, _path(template, segment, query), body)
    assert status < 500 or (status == 503 and method != "GET"), (method, template, answer[:300])
    if status >= 400:
        assert set(json.loads(answer)) == {"error", "message"}


@pytest.mark.parametrize(
    ("body", "error", "says"),
    [
        (
            ocpi(element(component("ENERGY", "-1"))),
            "InvalidTariff",
            "elements[0].price_components[0].price: must not be negative",
        ),
        (ocpi(element(component("ENERGY", "1")), currency="EUX"), "InvalidTariff", "ISO 4217"),
        (
            ocpi(element(component("ENERGY", "1"), start_time="08:00", end_time="20:00")),
            "InvalidTariff",
            "no element applies on MONDAY at 00:00",
        ),
        (ocpi(element(component("ENERGY", "1")), id="OTHER"), "InvalidTariff", "is not the path's"),
    ],
)
def test_a_tariff_we_refuse_is_a_400_naming_the_field(
    server: Server, body: dict[str, object], error: str, says: str
) -> None:
    status, answer = server.request("PUT", "/tariffs/T1", dumps(body).encode())
    document = json.loads(answer)
    assert (status, document["error"]) == (400, error)
    assert says in document["message"]


def test_an_assignment_of_an_unknown_tariff_is_refused(server: Server) -> None:
    status, answer = server.request("PUT", "/tariff-assignments/default", b'{"tariff_id": "NOPE"}')
    assert status == 400
    assert "no tariff 'NOPE'" in json.loads(answer)["message"]


def test_the_daily_report_comes_as_a_png_and_only_by_day(server: Server) -> None:
    status, answer = server.request("GET", "/reports?by=day&format=png", None)
    assert status == 200
    assert answer.startswith(b"\x89PNG\r\n\x1a\n")
    status, answer = server.request("GET", "/reports?by=station&format=png", None)
    assert status == 400
    assert "use by=day" in json.loads(answer)["message"]


@pytest.mark.parametrize(
    ("path", "scope", "target"),
    [
        ("/tariff-assignments/sites/DEPOT", "site", "DEPOT"),
        ("/tariff-assignments/token-groups/FLEET-1", "token_group", "FLEET-1"),
        ("/tariff-assignments/stations/CS-1", "station", "CS-1"),
    ],
)
def test_assignments_of_every_scope_name_their_target(
    server: Server, path: str, scope: str, target: str
) -> None:
    """Without Kafka a PUT cannot be written (503); the path still names scope and target,
    which a GET of an assignment that does not exist yet says in its 404."""
    status, answer = server.request("GET", path, None)
    assert status == 404
    assert f"no {scope} assignment for {target!r}" in json.loads(answer)["message"]
