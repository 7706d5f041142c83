"""services/sessions/api/openapi.json against the aiohttp app and the documents it returns."""

from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp.test_utils import make_mocked_request
from jsonschema import Draft202012Validator
from prometheus_client import CollectorRegistry
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from contracts.envelope import Envelope
from contracts.events import EventType
from contracts.http_api import Query
from contracts.payloads.commands import CommandCompleted
from contracts.payloads.presence import PresenceView
from ocppj.commands.translate import ALIASES, COMMANDS, canonical
from runtime.api_keys import role_by_method
from services.sessions.api.app import SessionsApi
from services.sessions.api.core.outcomes import Job, http_status, result_json, timed_out
from services.sessions.api.core.queries import list_sessions, list_stations, list_tokens
from services.sessions.api.core.sessions import SessionsView
from services.sessions.api.core.stations import StationsView
from services.sessions.api.core.tokens import TokensView, parse_definition, token_json
from services.sessions.api.http import build_app, openapi_document
from services.sessions.api.settings import Settings
from tests.unit.ocppj.commands.test_translate import REFUSALS, TRANSLATIONS

SPEC = openapi_document()
REGISTRY: Registry[Any] = Registry().with_resource("urn:openapi", DRAFT202012.create_resource(SPEC))
T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
METHODS = {"get", "put", "post", "delete", "patch"}


def _pointer(*parts: str) -> str:
    return "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


def validate(instance: object, *parts: str) -> None:
    """Validate ``instance`` against the schema at SPEC/parts (refs resolve inside SPEC)."""
    schema = {"$ref": f"urn:openapi#/{_pointer(*parts)}"}
    Draft202012Validator(
        schema, registry=REGISTRY, format_checker=Draft202012Validator.FORMAT_CHECKER
    ).validate(instance)


def response(path: str, method: str, status: int, instance: object) -> None:
    validate(
        instance,
        "paths",
        path,
        method,
        "responses",
        str(status),
        "content",
        "application/json",
        "schema",
    )


def test_every_route_is_documented_and_every_documented_route_exists() -> None:
    api = SessionsApi(Settings(), CollectorRegistry())
    routes = {
        (route.method.lower(), route.resource.canonical)
        for route in build_app(api).router.routes()
        if route.method != "HEAD" and route.resource is not None
    }
    documented = {
        (method, path)
        for path, operations in SPEC["paths"].items()
        for method in operations
        if method in METHODS
    }
    assert routes == documented


def test_the_document_says_which_role_each_route_needs_as_the_api_decides_it() -> None:
    api = SessionsApi(Settings(), CollectorRegistry())
    for route in build_app(api).router.routes():
        if route.method == "HEAD" or route.resource is None:
            continue
        path = route.resource.canonical
        operation = SPEC["paths"][path][route.method.lower()]
        needed = role_by_method(make_mocked_request(route.method, path))
        if needed is None:
            assert operation["security"] == [], path
            assert "401" not in operation["responses"]
        else:
            assert "security" not in operation  # the document's default: the bearer key
            assert operation["x-required-role"] == needed, (route.method, path)
            assert {"401", "403"} <= set(operation["responses"])
    assert SPEC["security"] == [{"apiKey": []}]
    assert SPEC["components"]["securitySchemes"]["apiKey"]["scheme"] == "bearer"


def test_the_document_is_consistent() -> None:
    assert SPEC["openapi"].startswith("3.1")
    Draft202012Validator.check_schema({"$defs": SPEC["components"]["schemas"]})
    for path, operations in SPEC["paths"].items():
        templated = {part[1:-1] for part in path.split("/") if part.startswith("{")}
        for method, operation in operations.items():
            declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert declared == templated, (method, path)
            assert operation["responses"], (method, path)
            assert operation["operationId"]
    used = {ref.removeprefix("#/components/schemas/") for ref in _refs(SPEC)}
    assert used == set(SPEC["components"]["schemas"])  # nothing documented in vain


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if "$ref" in node else []
        return own + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def test_every_reference_resolves() -> None:
    resolver = REGISTRY.resolver("urn:openapi")
    for ref in set(_refs(SPEC)):
        assert ref.startswith("#/components/schemas/")
        resolver.lookup(f"urn:openapi{ref}")


def test_the_command_route_names_every_command_and_alias() -> None:
    [parameter] = [
        p
        for p in SPEC["paths"]["/stations/{station_id}/commands/{command}"]["post"]["parameters"]
        if p["name"] == "command"
    ]
    assert set(parameter["schema"]["enum"]) == set(COMMANDS) | set(ALIASES)


def test_each_command_documents_exactly_the_arguments_it_takes() -> None:
    taken: dict[str, set[str]] = {}
    for command, arguments, *_ in TRANSLATIONS:
        taken.setdefault(canonical(command), set()).update(arguments)
    for command, arguments, _, message in REFUSALS:
        if command in COMMANDS and "unknown field" not in message:
            taken.setdefault(command, set()).update(arguments)
    for command in COMMANDS:
        documented = set(SPEC["components"]["schemas"][f"{command}Arguments"]["properties"])
        assert documented == taken.get(command, set()), command


@pytest.mark.parametrize(("command", "arguments"), [(c, a) for c, a, *_ in TRANSLATIONS])
def test_command_bodies_match_their_schema(command: str, arguments: dict[str, Any]) -> None:
    body = {**arguments, "command_id": "c-1", "timeout_s": 10}
    name = canonical(command)
    schema = {
        "allOf": [
            {"$ref": "urn:openapi#/components/schemas/CommandControls"},
            {"$ref": f"urn:openapi#/components/schemas/{name}Arguments"},
        ],
        "unevaluatedProperties": False,
    }
    Draft202012Validator(schema, registry=REGISTRY).validate(body)
    route = "/stations/{station_id}/commands/{command}"
    validate(body, "paths", route, "post", "requestBody", "content", "application/json", "schema")


def test_a_misspelt_argument_does_not_match_the_schema() -> None:
    route = "/stations/{station_id}/commands/{command}"
    with pytest.raises(Exception, match="Unevaluated properties"):
        validate(
            {"id_tokn": "A"},
            "paths",
            route,
            "post",
            "requestBody",
            "content",
            "application/json",
            "schema",
        )


def _record(event_type: str, key: str, **payload: Any) -> Envelope:
    return Envelope(
        event_type=event_type, schema_version=1, key=key, payload=payload, occurred_at=T0
    )


def test_read_documents_match_the_schemas() -> None:
    presence, stations, sessions, tokens = (
        PresenceView(),
        StationsView(),
        SessionsView(),
        TokensView(),
    )
    presence.apply(
        _record(
            EventType.STATION_CONNECTED,
            "CS-1",
            station_id="CS-1",
            connection_id="c",
            gateway=2,
            gateway_boot="b",
            ocpp_version="ocpp1.6",
            connected_at=T0,
        )
    )
    stations.apply(
        _record(
            EventType.STATION_BOOTED,
            "CS-1",
            station_id="CS-1",
            vendor="V",
            model="M",
            serial_number=None,
            firmware_version="1",
            ocpp_version="ocpp1.6",
            boot_status="Accepted",
        )
    )
    stations.apply(
        _record(
            EventType.STATION_STATUS_CHANGED,
            "CS-1",
            station_id="CS-1",
            evse_id=1,
            connector_id=1,
            status="Available",
            error_code="NoError",
            at=T0,
        )
    )
    stations.apply(_record(EventType.STATION_BOOTED, "CS-2", station_id="CS-2"))
    sessions.apply(
        _record(
            EventType.SESSION_STARTED,
            "CS-1",
            station_id="CS-1",
            transaction_id="1",
            id_token="A",
            meter_start_wh=10,
            started_at=T0,
        )
    )
    sessions.apply(_record(EventType.SESSION_ENDED, "CS-1", station_id="CS-1", transaction_id="2"))
    token = parse_definition(
        "A", {"type": "ISO14443", "status": "Accepted", "expires_at": "2027-01-01T00:00:00Z"}
    )
    tokens.apply(token.envelope())
    tokens.apply(parse_definition("B", {"type": "Local", "status": "Blocked"}).envelope())

    page = list_stations(Query({}), presence, stations)
    assert page["total"] == 2
    response("/stations", "get", 200, page)
    response("/stations/{station_id}", "get", 200, page["items"][0])
    all_sessions = list_sessions(Query({}), sessions)
    response("/sessions", "get", 200, all_sessions)
    for session in all_sessions["items"]:
        response("/stations/{station_id}/sessions/{transaction_id}", "get", 200, session)
    all_tokens = list_tokens(Query({}), tokens)
    response("/tokens", "get", 200, all_tokens)
    response("/tokens/{id_token}", "get", 200, token_json(token))
    response("/tokens/{id_token}", "put", 201, token_json(token))
    validate(
        {"type": "ISO14443", "status": "Accepted", "expires_at": None},
        "components",
        "schemas",
        "TokenDefinition",
    )


def test_command_results_match_the_schemas() -> None:
    route = "/stations/{station_id}/commands/{command}"
    answered = CommandCompleted(
        command_id="c",
        station_id="CS-1",
        action="Reset",
        outcome="Answered",
        status="Accepted",
        response={"status": "Accepted"},
        gateway=1,
    )
    call_error = CommandCompleted(
        command_id="c",
        station_id="CS-1",
        action="Reset",
        outcome="CallError",
        error={"code": "NotSupported", "description": "", "details": {}},
        gateway=1,
    )
    offline = CommandCompleted(
        command_id="c", station_id="CS-1", action="Reset", outcome="StationOffline"
    )
    job = Job(
        station_id="CS-1",
        name="Reset",
        arguments={},
        command_id="c",
        deadline=T0,
        source="http",
    )
    not_here = CommandCompleted(
        command_id="c", station_id="CS-1", action="Reset", outcome="NotHere"
    )
    invalid = CommandCompleted(command_id="c", station_id="CS-1", action="Reset", outcome="Invalid")
    expired = CommandCompleted(command_id="c", station_id="CS-1", action="Reset", outcome="Expired")
    late = timed_out(job, "Reset", 1, 30.0)
    for result in (answered, call_error, offline, not_here, invalid, expired, late):
        response(route, "post", http_status(result), result_json(result))
        response("/commands/{command_id}", "get", 200, result_json(result))


def test_errors_and_health_match_the_schemas() -> None:
    error = {"error": "StationNotFound", "message": "no station 'X'"}
    for path, method, status in (
        ("/stations/{station_id}", "get", 404),
        ("/stations/{station_id}/commands/{command}", "post", 400),
        ("/stations/{station_id}/commands/{command}", "post", 503),
        ("/tokens/{id_token}", "put", 400),
        ("/tokens/{id_token}", "delete", 404),
    ):
        response(path, method, status, error)
    response("/readyz", "get", 503, {"status": "not ready", "detail": "waiting for x"})
    response("/healthz", "get", 200, {"status": "ok"})
